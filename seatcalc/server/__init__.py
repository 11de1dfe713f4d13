"""The HTTP API (SPEC §9): ``create_app(db)`` serves a ledger file; install ``seatcalc[server]``.

FastAPI is imported on first use, so ``seatcalc keys`` works without the extra.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["create_app"]


def create_app(db: str | os.PathLike[str] = "seatcalc.sqlite") -> FastAPI:
    """The ASGI app serving the ledger file ``db`` (created if missing): see
    :func:`seatcalc.server.app.create_app`."""
    from seatcalc.server.app import create_app as build

    return build(db)
