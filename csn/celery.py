"""The Celery app. Configured for at-least-once work: late acks, reject on worker loss."""

import os

from celery import Celery
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csn.settings")


class RedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, surviving the broker's loss.

    When the worker loses Redis it collects the broken connection, which detaches the transport from
    it (`transport.client = None`), then closes it; closing the channel restores its unacknowledged
    messages and, with the pool already dropped, builds a new one from `connection.client.hostname`:
    `AttributeError`, not a connection error, so the worker's restart loop does not catch it and the
    worker exits ("Unrecoverable error", kombu 5.7.0, the newest release). Here it is a connection
    error: the close gives up on Redis (the unacked messages stay in Redis and come back after the
    visibility timeout) and the worker reconnects.
    """

    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise RedisConnectionError("the broker connection is closed")
        return super()._connparams(asynchronous=asynchronous)


class RedisTransport(kombu_redis.Transport):
    """`CELERY_BROKER_TRANSPORT` with Redis: kombu's transport with the channel above."""

    Channel = RedisChannel


app = Celery("csn")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# streaming's tasks live in its parts (one app, several `tasks` modules).
app.autodiscover_tasks(["streaming.live"])
