"""Worker processes for the ledger's multi-process tests.

As a script, a writer for ``test_ledger_processes``: threads creating events into one
ledger. Usage: ``python tests/ledger_worker.py DB ACCOUNT LOG GO TAG THREADS PER_THREAD``.

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
from typing import Any

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


def open_rounds(directory: str, rounds: int, barrier: Any, results: Any, worker: int) -> None:
    """For each round, wait at ``barrier`` with the other processes, then open (and close)
    the new ledger ``round<r>.sqlite`` in ``directory``; put ``(worker, round, outcome)`` on
    ``results``, the outcome being ``"ok"`` or the error's class and message."""
    for number in range(rounds):
        barrier.wait()
        try:
            path = Path(directory) / f"round{number}.sqlite"
            SeatLedger.open(path, account_id="a", busy_timeout=30).close()
            outcome = "ok"
        except Exception as error:  # reported to the test, which shows it
            outcome = f"{type(error).__name__}: {error}"
        results.put((worker, number, outcome))


if __name__ == "__main__":
    db, account, log_path, go, tag, threads, per_thread = sys.argv[1:8]
    main(db, account, log_path, go, tag, int(threads), int(per_thread))
