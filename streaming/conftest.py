import pytest


@pytest.fixture(autouse=True)
def _finish_viewer_pushes():
    """A viewer-count push deferred to the end of its one-second window runs before the test ends."""
    yield
    from streaming.live.services.presence import pending_pushes

    for timer in list(pending_pushes):
        timer.join(5)
    pending_pushes.clear()
