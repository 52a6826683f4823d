import pytest

from streaming.tests.fixtures import _fast_password_hashing, other_client, other_user, published  # noqa: F401


@pytest.fixture(autouse=True)
def _finish_viewer_pushes():
    """A viewer-count push deferred to the end of its one-second window runs before the test ends."""
    yield
    from streaming.live_services import pending_pushes

    for timer in list(pending_pushes):
        timer.join(5)
    pending_pushes.clear()
