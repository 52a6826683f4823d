"""Django's PostgreSQL backend, whose connection pool hands out live connections only.

When PostgreSQL ends backends (a restart, a failover, `pg_terminate_backend`), the connections idle in
the pool are dead, and the requests that got them answered 500. psycopg_pool's own `check` (Django turns
it on with CONN_HEALTH_CHECKS) costs a round trip per checkout and, after a connection fails it, waits
1 s, then 2 s, before trying the next: after a mass termination requests waited out the pool timeout and
failed anyway.

Here a connection leaving the pool is looked at first: a healthy idle connection has nothing to read,
while one whose backend ended has PostgreSQL's goodbye waiting (a FATAL message, then end of stream). So
the usual cost is one poll() with no round trip; a connection with something to read is tried with an
empty query, and a dead one goes back to the pool (which closes it and opens a replacement) and the next
one is taken at once. A connection that dies while a request uses it still fails that request, which
answers 503 `database_unavailable` (csn.api.errors.json_500).
"""

import select

from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool


def connection_alive(connection) -> bool:
    """An idle connection is alive if it has nothing to read, or else answers an empty query."""
    try:
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN)
        if not poller.poll(0):
            return True
        ConnectionPool.check_connection(connection)
    except Exception:  # closed, or the backend is gone
        return False
    return True


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        pool = self.pool
        if pool is None:
            return connection
        for _ in range(pool.max_size):  # at worst every pooled connection is dead
            if connection_alive(connection):
                break
            pool.putconn(connection)  # the pool discards a closed connection and opens a new one
            connection = super().get_new_connection(conn_params)
        return connection
