"""``seatcalc serve`` and ``seatcalc keys create|list|revoke``."""

from __future__ import annotations

import argparse
import copy
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from seatcalc.errors import SeatcalcError

__all__ = ["add_commands"]

DEFAULT_DB = "seatcalc.sqlite"


def _records(db: str, *, create_missing: bool = True) -> Any:
    from seatcalc.server.records import Records

    return Records(Path(db), create_missing=create_missing)


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn
        from uvicorn.config import LOGGING_CONFIG
    except ImportError:
        raise SeatcalcError("serve needs the server extra: pip install 'seatcalc[server]'") from None
    from seatcalc.server.app import DB_ENV

    if args.workers < 1 or not 0 <= args.port <= 65535:
        raise SeatcalcError("--workers must be ≥ 1 and --port within 0–65535")
    _records(args.db).close()  # set the file up once, before any worker starts
    os.environ[DB_ENV] = str(Path(args.db).resolve())
    log_config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    log_config["loggers"]["seatcalc.server"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    uvicorn.run(
        "seatcalc.server.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        log_config=log_config,
        timeout_graceful_shutdown=30,
    )
    return 0


def _when(seconds: int | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _keys_create(args: argparse.Namespace) -> int:
    records = _records(args.db)
    try:
        key = records.create_key(args.account)
    finally:
        records.close()
    if args.json:
        print(
            json.dumps(
                {"clientId": key.client_id, "clientSecret": key.client_secret, "accountId": key.account_id}
            )
        )
    else:
        print(f"clientId:     {key.client_id}")
        print(f"clientSecret: {key.client_secret}")
        print(f"accountId:    {key.account_id}")
        print("the secret is shown only now; it is stored as a hash")
    return 0


def _keys_list(args: argparse.Namespace) -> int:
    records = _records(args.db, create_missing=False)
    try:
        keys = records.keys()
    finally:
        records.close()
    rows = [
        {
            "clientId": k.client_id,
            "accountId": k.account_id,
            "createdAt": _when(k.created_at),
            "revokedAt": _when(k.revoked_at),
        }
        for k in keys
    ]
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            state = f"revoked {row['revokedAt']}" if row["revokedAt"] else "active"
            print(f"{row['clientId']}  {row['accountId']}  created {row['createdAt']}  {state}")
    return 0


def _keys_revoke(args: argparse.Namespace) -> int:
    records = _records(args.db, create_missing=False)
    try:
        done = records.revoke(args.client_id)
    finally:
        records.close()
    if not done:
        raise SeatcalcError(f"no active key {args.client_id!r} in {args.db}; see `seatcalc keys list`")
    print(f"revoked {args.client_id}")
    return 0


def add_commands(commands: Any) -> None:
    """Register ``serve`` and ``keys`` on the ``seatcalc`` sub-command parsers."""
    serve = commands.add_parser("serve", help="serve a ledger file over HTTP (needs seatcalc[server])")
    serve.add_argument(
        "--db", default=DEFAULT_DB, help=f"ledger file, created if missing (default {DEFAULT_DB})"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes (default 1)")
    serve.set_defaults(handler=_serve)

    keys = commands.add_parser("keys", help="API keys of a ledger file: create, list, revoke")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="a new key of one account; prints its secret once")
    create.add_argument("--db", default=DEFAULT_DB, help="ledger file (created if missing)")
    create.add_argument("--account", required=True, help="the sequenceAccountId the key reads and writes")
    create.add_argument("--json", action="store_true", help='print {"clientId", "clientSecret", "accountId"}')
    create.set_defaults(handler=_keys_create)
    listing = actions.add_parser("list", help="every key (never a secret)")
    listing.add_argument("--db", default=DEFAULT_DB, help="ledger file")
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.set_defaults(handler=_keys_list)
    revoke = actions.add_parser("revoke", help="revoke a key: it authenticates nothing from now on")
    revoke.add_argument("client_id", metavar="CLIENT_ID")
    revoke.add_argument("--db", default=DEFAULT_DB, help="ledger file")
    revoke.set_defaults(handler=_keys_revoke)
