"""A request the database fails under (its connection ended, PostgreSQL unreachable) answers 503 with a
code, not 500; any other unexpected error still answers 500 `server_error`."""

import pytest
from django.db import InterfaceError, OperationalError
from rest_framework.test import APIClient

from accounts import selectors


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (OperationalError("terminating connection due to administrator command"), 503, "database_unavailable"),
        (InterfaceError("connection already closed"), 503, "database_unavailable"),
        (RuntimeError("a bug"), 500, "server_error"),
    ],
)
@pytest.mark.django_db
def test_a_database_failure_under_a_request_is_a_503(user, monkeypatch, error, status, code):
    def fail(**kwargs):
        raise error

    monkeypatch.setattr(selectors, "user_with_account", fail)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user=user)

    response = client.get("/api/v1/me/")

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    if status == 503:
        assert response["Retry-After"] == "1"
