"""A writer process for ``test_ledger_processes``: threads creating events into one ledger.

Usage: ``python tests/ledger_worker.py DB ACCOUNT LOG GO TAG THREADS PER_THREAD``.

Prints ``ready`` once the ledger is open, waits for the file ``GO`` to exist (so every
process starts writing at once), then each thread creates ``PER_THREAD`` events. After a
``create()`` returns, the line ``<id> <customerEventId> <total>`` is appended to ``LOG``,
flushed and fsynced: a logged id is an id the ledger said it stored.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from seatcalc import SeatLedger


def main(db: str, account: str, log_path: str, go: str, tag: str, threads: int, per_thread: int) -> None:
    ledger = SeatLedger.open(db, account_id=account, busy_timeout=30)
    log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - closed below, shared by threads
    lock = threading.Lock()
    print("ready", flush=True)
    while not Path(go).exists():
        time.sleep(0.002)

    def work(thread: int) -> None:
        for i in range(per_thread):
            event = ledger.create(
                {
                    "customerEventId": f"{tag}-{thread}-{i}",
                    "customerAlias": f"{tag}-customer",
                    "seatType": f"seat-{thread}",
                    "eventTimestamp": f"2025-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
                    "total": i,
                }
            )
            with lock:
                log.write(f"{event.id} {event.customer_event_id} {event.total}\n")
                log.flush()
                os.fsync(log.fileno())

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    log.close()
    ledger.close()


if __name__ == "__main__":
    db, account, log_path, go, tag, threads, per_thread = sys.argv[1:8]
    main(db, account, log_path, go, tag, int(threads), int(per_thread))
