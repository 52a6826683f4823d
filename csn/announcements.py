"""Typed announcements: how a lower layer lets an upper one react without importing it.

The lower app declares what happened as a frozen dataclass and an `Announcement` of it; upper apps
subscribe in their `AppConfig.ready()`. Receivers run synchronously, in the announcer's transaction,
so what they write commits or rolls back with the use case. Django's model signals are not used for
business rules; this is the one mechanism for cross-layer reactions (docs/architecture.md).
"""

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Announcement(Generic[T]):
    def __init__(self, event_type: type[T]):
        self.event_type = event_type
        self._receivers: list[Callable[[T], None]] = []

    def subscribe(self, receiver: Callable[[T], None]) -> Callable[[T], None]:
        """Add a receiver (once, however often `ready()` runs); usable as a decorator."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def announce(self, event: T) -> None:
        if not isinstance(event, self.event_type):
            raise TypeError(f"expected {self.event_type.__name__}, got {type(event).__name__}")
        for receiver in self._receivers:
            receiver(event)
