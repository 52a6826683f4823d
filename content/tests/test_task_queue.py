"""Services queue content's tasks by name (csn.celery.task_queue): in eager mode (the embedded default)
they run in-process even in a process that never imported content.tasks; with a broker the message
names a task a worker has registered, and running it does the work."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from content.models import MediaAsset
from content.services.media import media_upload
from content.services.renditions import RENDITIONS_TASK
from csn.celery import app, task_queue
from testing.images import image_bytes

ROOT = Path(__file__).resolve().parents[2]

FRESH_PROCESS = """
import sys
import django

django.setup()
from content.services import renditions

ran = []
renditions.renditions_make = lambda *, asset_id: ran.append(asset_id)  # the work itself needs no database here
from csn.celery import app, task_queue

assert app.conf.task_always_eager, "embedded default: eager"
assert "content.tasks" not in sys.modules, "the service must not import the tasks module"
task_queue(renditions.RENDITIONS_TASK, 7)  # outside a transaction: queued (and so run) at once
print(ran)
"""


def test_a_fresh_embedded_process_runs_a_task_queued_by_name():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CSN_REQUIRE_SERVICES")}
    env["DJANGO_SETTINGS_MODULE"] = "csn.settings"
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[7]"


@pytest.fixture
def local_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    return tmp_path


def _upload(editor):
    return media_upload(actor=editor, file=SimpleUploadedFile("p.png", image_bytes(400, 300), content_type="image/png"))


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_tasks")
def test_eager_mode_runs_the_task_after_the_commit(local_storage, editor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        asset = _upload(editor)
    assert MediaAsset.objects.get(pk=asset.pk).status == "uploaded"  # nothing before the commit
    for callback in callbacks:
        callback()
    asset.refresh_from_db()
    assert asset.status == "ready" and asset.renditions.count() == 4


@pytest.fixture
def broker_mode(settings):
    """Tasks go to the broker, as with REDIS_URL set, whatever this run's mode."""
    saved = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = saved


@pytest.mark.django_db
@pytest.mark.usefixtures("broker_mode")
def test_with_a_broker_the_message_names_a_registered_task_that_does_the_work(
    local_storage, editor, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, kwargs=None, **options: sent.append((name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        asset = _upload(editor)
    assert sent == [(RENDITIONS_TASK, (asset.pk,))]
    assert MediaAsset.objects.get(pk=asset.pk).status == "uploaded"  # waiting for a worker
    name, args = sent[0]
    app.tasks[name].apply(args=args)  # what a worker does with the message
    asset.refresh_from_db()
    assert asset.status == "ready" and asset.renditions.count() == 4


def test_an_unknown_task_name_fails_when_queued_not_silently_later():
    with pytest.raises(LookupError):
        task_queue("content.tasks.no_such_task", 1)
