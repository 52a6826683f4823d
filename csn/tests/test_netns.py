"""Several hosts (bench/netns.py): the proxy, two web hosts, Redis and PostgreSQL in network namespaces
of their own; one web host's link is cut mid-stream; its clients reconnect through the proxy and resume
with `since`, and no client misses an event. Skipped where the machine does not allow it (not root, no
`ip netns`, no nginx or PostgreSQL server binaries)."""

import pytest

from bench import netns

pytestmark = pytest.mark.slow


def test_cutting_a_web_hosts_link_mid_stream_loses_no_event():
    reason = netns.unavailable()
    if reason:
        pytest.skip(reason)

    result = netns.run(clients=10, events=60)

    assert result["reconnected clients"] >= 1, result  # some followed the host that was cut off
    assert result["lost"] == 0, result
    assert (result["duplicates"], result["gaps seen"], result["snapshot resets"]) == (0, 0, 0), result
