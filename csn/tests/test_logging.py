"""The console log: one line per event, in one format."""

import pytest

from csn.tests.test_settings import run_python

REQUESTS = """
import django
django.setup()
from django.test import Client
client = Client()
assert client.get("/nowhere/").status_code == 404
assert client.get("/api/v1/me/").status_code == 401
"""


@pytest.mark.parametrize("debug", ["1", "0"])
def test_each_4xx_is_logged_once_in_the_project_format(tmp_path, debug):
    result = run_python(REQUESTS, {"DEBUG": debug}, tmp_path)

    assert result.returncode == 0, result.stderr
    for line in ("Not Found: /nowhere/", "Unauthorized: /api/v1/me/"):
        printed = [entry for entry in result.stderr.splitlines() if line in entry]
        assert len(printed) == 1, result.stderr
        assert " WARNING django.request [" in printed[0]  # the root handler's format, with the request id
