"""Where delivered events go: PostHog's `/batch/` endpoint, or the log when no key is set."""

import logging
from urllib.parse import urlsplit

from django.conf import settings

event_log = logging.getLogger("analytics.events")


class DeliveryError(Exception):
    """PostHog did not accept a batch. `permanent` errors (400, 413) are about the batch's content;
    its rows are then sent one by one so a single bad event cannot hold back the others."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class LogSender:
    """Embedded default (no POSTHOG_API_KEY): events go to the log, so `make run` shows them."""

    def send(self, messages: list[dict]) -> None:
        for msg in messages:
            event_log.info(
                "analytics event %s distinct_id=%s uuid=%s timestamp=%s properties=%s",
                msg["event"],
                msg["distinct_id"],
                msg["uuid"],
                msg["timestamp"],
                msg["properties"],
            )


class PostHogSender:
    """Synchronous batch upload through the posthog SDK's `/batch/` call.

    The SDK's Client queue drops events when full and retries a few times on its own, and its
    sync_mode posts one event per request and swallows errors; `batch_post` sends a whole batch in
    one request and raises when PostHog refuses it, which is what a retrying outbox needs.
    """

    def __init__(self, *, api_key: str, host: str, timeout: float):
        self.api_key, self.host, self.timeout = api_key, host, timeout

    def send(self, messages: list[dict]) -> None:
        from posthog.request import APIError, batch_post

        try:
            batch_post(self.api_key, self.host, batch=messages, timeout=self.timeout, gzip=True)
        except APIError as exc:
            # 400/413 are about the batch's content; 401 (wrong key), 429, 5xx are not.
            permanent = exc.status in (400, 413)
            message = f"PostHog answered {exc.status}: {str(exc.message)[:200]}"
            raise DeliveryError(self._redact(message), permanent=permanent) from exc
        except Exception as exc:  # connection refused, timeout, DNS...
            raise DeliveryError(self._redact(f"{type(exc).__name__}: {str(exc)[:300]}")) from exc

    def _redact(self, message: str) -> str:
        """Errors are shown in admin: keep the host and key out of them."""
        host = urlsplit(self.host).hostname or self.host
        for secret in (self.api_key, self.host, host):
            if secret:
                message = message.replace(secret, "<posthog>")
        return message


def default_sender():
    if not settings.POSTHOG_API_KEY:
        return LogSender()
    return PostHogSender(
        api_key=settings.POSTHOG_API_KEY, host=settings.POSTHOG_HOST, timeout=settings.ANALYTICS_SEND_TIMEOUT_SECONDS
    )
