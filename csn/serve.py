"""The web process: daphne with a graceful drain on SIGTERM (`bin/serve` runs `python -m csn.serve`).

daphne (Twisted) stops at once on SIGTERM, cutting every websocket. Here SIGTERM drains instead
(csn.realtime.drain): the listening sockets close (the proxy sends new connections to the other
processes), `/readyz` answers 503, each websocket is told to reconnect (jittered) and closed, spread
over `CSN_LIVE_DRAIN_SECONDS`, and the process exits once its sockets are gone. A second SIGTERM, or
SIGINT, stops at once. The process also serves `/metrics` on `CSN_METRICS_PORT` when set.

The event loop's thread (the reactor: every socket, every refusal of csn.asgi_http) competes for the GIL
with the HTTP worker threads; each time it wakes it may wait a switch interval for a busy worker to let
go, and more behind several. `CSN_SWITCH_INTERVAL_US` sets that interval for the server process
(`tune_switch_interval`).
"""

import asyncio
import logging
import os
import signal
import sys

from daphne.cli import CommandLineInterface  # first: it installs Twisted's asyncio reactor
from daphne.server import Server
from twisted.internet import reactor

logger = logging.getLogger("csn.serve")


class DrainingServer(Server):
    def __init__(self, *args, **kwargs):
        kwargs["signal_handlers"] = False  # ours, below
        super().__init__(*args, **kwargs)
        self.ports = []
        self.draining = False

    def listen_success(self, port):
        self.ports.append(port)
        super().listen_success(port)

    def run(self):
        reactor.callWhenRunning(self._started)
        super().run()

    def _started(self):
        from django.conf import settings

        from csn import metrics

        loop = asyncio.get_event_loop()
        loop.add_signal_handler(signal.SIGTERM, self.drain)
        loop.add_signal_handler(signal.SIGINT, self.stop)
        metrics.serve_port(settings.METRICS_PORT, settings.METRICS_ADDR)

    def drain(self):
        if self.draining:  # asked twice: stop now
            self.stop()
            return
        self.draining = True
        from csn.realtime import drain

        logger.warning("SIGTERM: draining")
        for port in self.ports:
            port.stopListening()
        task = asyncio.ensure_future(drain.drain())
        task.add_done_callback(lambda _: self.stop())

    def stop(self):
        from csn import metrics

        metrics.process_exited()
        super().stop()


class DrainingCommandLineInterface(CommandLineInterface):
    server_class = DrainingServer


def tune_switch_interval() -> float:
    """Set this process's thread switch interval from settings; returns it, in seconds."""
    from django.conf import settings

    sys.setswitchinterval(settings.SERVER_SWITCH_INTERVAL_US / 1_000_000)
    return sys.getswitchinterval()


def main(argv=None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csn.settings")  # as csn.asgi, which daphne loads next
    tune_switch_interval()
    DrainingCommandLineInterface().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
