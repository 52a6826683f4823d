"""The Celery app. Configured for at-least-once work: late acks, reject on worker loss."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csn.settings")

app = Celery("csn")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# streaming's tasks live in its parts (one app, several `tasks` modules).
app.autodiscover_tasks(["streaming.live"])
