import threading

import pytest

from streaming.live.services.presence import TRAILING_PUSH_THREAD


@pytest.fixture(autouse=True)
def _finish_viewer_pushes():
    """A viewer-count push deferred to the end of its one-second window runs before the test ends
    (before the test database goes away under it)."""
    yield
    for thread in threading.enumerate():
        if thread.name == TRAILING_PUSH_THREAD:
            thread.join(5)
