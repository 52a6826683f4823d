"""Database at scale: the read replica router with read-your-writes, and the PgBouncer mode."""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.db import transaction
from django.test import RequestFactory

from bench.common import free_port
from csn import db
from csn.tests.test_settings import run_python
from testing.factories import TeamFactory

# Not in a test transaction: inside one every read is the primary's (read_alias).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def replica_on(monkeypatch, settings):
    monkeypatch.setattr(db, "replica_configured", lambda: True)
    settings.DATABASE_REPLICA_STICKY_SECONDS = 5
    settings.DATABASE_ROUTERS = ["csn.db.ReplicaRouter"]
    token = db._wrote.set(False)  # the factories of earlier tests wrote in this thread
    yield
    db._wrote.reset(token)


def _through_middleware(request, view):
    return db.ReadYourWritesMiddleware(view)(request)


def test_reads_go_to_the_replica_unless_in_a_transaction_or_after_a_write(replica_on):
    assert db.read_alias() == "replica"
    with transaction.atomic():
        assert db.read_alias() == "default"

    seen = []

    def view(request):
        seen.append(db.read_alias())
        TeamFactory()  # a write: the router marks the request
        seen.append(db.read_alias())
        return "response"

    request = RequestFactory().post("/", HTTP_AUTHORIZATION="Token abc")
    assert _through_middleware(request, view) == "response"
    assert seen == ["replica", "default"]
    assert db.read_alias() == "replica"  # the mark ends with the request


def test_a_client_that_wrote_reads_the_primary_for_a_while_others_the_replica(replica_on):
    from django.core.cache import cache

    def writes(request):
        TeamFactory()
        return "ok"

    def reads(request):
        return db.read_alias()

    factory = RequestFactory()
    _through_middleware(factory.post("/", HTTP_AUTHORIZATION="Token writer"), writes)

    assert _through_middleware(factory.get("/", HTTP_AUTHORIZATION="Token writer"), reads) == "default"
    assert _through_middleware(factory.get("/", HTTP_AUTHORIZATION="Token someone-else"), reads) == "replica"
    assert _through_middleware(factory.get("/"), reads) == "replica"  # anonymous: nothing to remember
    cache.clear()  # the sticky window (DATABASE_REPLICA_STICKY_SECONDS) is over
    assert _through_middleware(factory.get("/", HTTP_AUTHORIZATION="Token writer"), reads) == "replica"


def test_without_a_replica_everything_reads_the_primary():
    assert db.read_alias() == "default"


def test_the_replica_is_never_migrated_and_relations_cross_aliases():
    router = db.ReplicaRouter()
    assert router.allow_migrate("default", "content") is True
    assert router.allow_migrate("replica", "content") is False
    assert router.db_for_write(object) == "default"


REPLICA_SCRIPT = """
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
call_command("migrate", verbosity=0)
assert "replica" in settings.DATABASES and settings.DATABASE_ROUTERS == ["csn.db.ReplicaRouter"]
with CaptureQueriesContext(connections["replica"]) as on_replica:
    with CaptureQueriesContext(connections["default"]) as on_primary:
        assert Client().get("/api/v1/games/").status_code == 200
print(len(on_replica), sum("content_game" in q["sql"] for q in on_primary.captured_queries))
"""


def test_with_a_replica_url_the_catalogue_reads_the_replica(tmp_path):
    url = f"sqlite:///{tmp_path}/db.sqlite3"
    result = run_python(REPLICA_SCRIPT, {"DATABASE_URL": url, "DATABASE_REPLICA_URL": url, "DEBUG": "1"}, tmp_path)

    assert result.returncode == 0, result.stderr
    replica_queries, primary_game_queries = map(int, result.stdout.split())
    assert replica_queries >= 1 and primary_game_queries == 0


PGBOUNCER_SCRIPT = """
import django
django.setup()
from django.conf import settings
from django.db import connection, transaction
from content.models import Team
assert settings.DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] is True
assert settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"] is None
for n in range(20):  # the same statement again and again: psycopg would prepare it after 5
    list(Team.objects.filter(name=f"team {n}"))
with transaction.atomic():
    team = Team.objects.create(name="through pgbouncer", slug="through-pgbouncer", sport="football")
print(sum(1 for _ in Team.objects.all().iterator(chunk_size=2)) >= 1)
Team.objects.filter(pk=team.pk).delete()
print("ok")
"""


@pytest.mark.slow
def test_the_application_runs_behind_pgbouncer_in_transaction_pooling(tmp_path):
    from django.conf import settings

    pgbouncer = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
    default = settings.DATABASES["default"]
    if pgbouncer is None:
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    if not default["ENGINE"].endswith("postgresql"):
        pytest.skip("PgBouncer pools PostgreSQL: DATABASE_URL is not PostgreSQL")
    port = free_port()
    name, user = default["NAME"], default["USER"] or "postgres"
    # pgbouncer refuses to run as root: it runs as postgres, in a folder it may read and write.
    folder = Path(tempfile.mkdtemp(prefix="csn-pgbouncer-"))
    folder.chmod(0o777)
    (folder / "users.txt").write_text(f'"{user}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        f"[databases]\n{name} = host={default['HOST'] or '127.0.0.1'} port={default['PORT'] or 5432} dbname={name}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nauth_type = trust\n"
        f"auth_file = {folder}/users.txt\npool_mode = transaction\ndefault_pool_size = 2\n"
        f"unix_socket_dir =\nlogfile = {folder}/pgbouncer.log\npidfile = {folder}/pgbouncer.pid\n"
    )
    for path in folder.iterdir():
        path.chmod(0o644)
    proc = subprocess.Popen(
        [pgbouncer, str(folder / "pgbouncer.ini")] + (["-u", "postgres"] if os.geteuid() == 0 else [])
    )
    try:
        time.sleep(1)
        assert proc.poll() is None, "pgbouncer did not start"
        url = f"postgres://{user}@127.0.0.1:{port}/{name}"
        result = run_python(PGBOUNCER_SCRIPT, {"DATABASE_URL": url, "CSN_DB_PGBOUNCER": "1"}, tmp_path)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "ok"]
