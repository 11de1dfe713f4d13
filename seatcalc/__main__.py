"""``python -m seatcalc``: the ``seatcalc`` command."""

from __future__ import annotations

import sys

from seatcalc.cli import main

if __name__ == "__main__":
    sys.exit(main())
