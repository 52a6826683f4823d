import pytest


@pytest.fixture
def eager_tasks(settings):
    """Queued tasks run in-process at once, as in the embedded default (with REDIS_URL set they would
    wait for a worker)."""
    from csn.celery import app

    saved = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved
