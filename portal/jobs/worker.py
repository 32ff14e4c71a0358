"""`flask portal worker`: the process that runs jobs and owns the search index writer.

One worker runs beside the web server on the embedded default (make run / make serve start it);
in production it is its own service (deploy/). It runs Huey's consumer (WORKER_THREADS threads
for jobs, and the minute's sweep) and, in a thread of its own, the search indexer, the only
code that writes the Whoosh index (portal/search/indexer.py).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from portal.jobs.queue import get_queue

log = logging.getLogger(__name__)


def run_worker(app: Flask, threads: int | None = None) -> None:
    """Run until SIGINT/SIGTERM (Huey's consumer handles them and stops gracefully)."""
    # Imported here: the indexer belongs to the search package, which the jobs package must not
    # import at module level (search imports nothing of jobs, and jobs stays usable without it).
    from portal.jobs.services import sweep
    from portal.search.indexer import run_indexer

    with app.app_context():
        queue = get_queue()
        sweep()
    stop = threading.Event()
    indexer = threading.Thread(
        target=run_indexer, args=(app, stop), name="search-indexer", daemon=True
    )
    indexer.start()
    consumer = queue.huey.create_consumer(
        workers=threads or app.config["WORKER_THREADS"],
        worker_type="thread",
        periodic=True,
        # An idle consumer polls the SQLite queue ever less often, up to Huey's default of 10 s:
        # a person waiting for an export would wait that long. Redis's queue blocks instead.
        max_delay=1.0,
    )
    log.info("worker started: %s job threads and the search indexer", consumer.workers)
    try:
        consumer.run()
    finally:
        stop.set()
        indexer.join(timeout=30)
