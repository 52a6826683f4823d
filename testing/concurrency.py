"""Running calls at the same moment in threads, for races (two publishers, two devices)."""

import functools
import threading
import time

from django.db import OperationalError, connection


def at_once(*calls) -> list:
    """Each call in its own thread, released together; what each returned or raised, in order.
    SQLite's in-memory test database (shared cache) reports a table lock at once instead of waiting
    like a file database's busy timeout: such a call waits and retries as that would."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            for _ in range(500):
                try:
                    results[index] = call()
                    return
                except OperationalError as exc:
                    if connection.vendor != "sqlite" or "locked" not in str(exc):
                        raise
                    time.sleep(0.01)
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def run_together(count, work) -> list:
    """`work(0)` ... `work(count - 1)` at the same moment (`at_once`); what each returned, in order.
    A call that raised fails the test with its exception."""
    results = at_once(*(functools.partial(work, index) for index in range(count)))
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results
