"""Calls started at the same instant, each in its own thread and database connection."""

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

from django.db import connection


def run_together(count, work):
    """Start `count` calls of work(i) at the same instant, each in its own thread and connection.

    The embedded SQLite test database is in memory with a shared cache, where a second writer fails at
    once ("table is locked") instead of waiting as it does on a file. There the threads take turns in
    whatever order they arrive, which still tests out-of-order readings; PostgreSQL (CI) runs them at once.
    """
    barrier = threading.Barrier(count)
    turns = threading.Lock() if connection.vendor == "sqlite" else nullcontext()

    def one(i):
        try:
            barrier.wait(timeout=10)
            with turns:
                return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))
