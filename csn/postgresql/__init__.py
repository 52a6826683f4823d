"""Django's PostgreSQL backend with a connection pool that hands out live connections only (base.py)."""
