"""Run against a served app with the client openapi-python-client generated from its schema (on
PYTHONPATH as `csn_client`): sign in, list content, write progress, read an error code. Prints JSON."""

import datetime as dt
import json
import sys

from csn_client import AuthenticatedClient, Client
from csn_client.api.auth import sign_in
from csn_client.api.content import list_content
from csn_client.api.progress import get_progress, record_progress
from csn_client.models import ProgressInputRequest, TokenInputRequest
from csn_client.models.list_content_ordering import ListContentOrdering

base, email, password = sys.argv[1:4]
anonymous = Client(base_url=base, raise_on_unexpected_status=True)

signed_in = sign_in.sync(client=anonymous, body=TokenInputRequest(email=email, password=password))
client = AuthenticatedClient(base_url=base, token=signed_in.token, prefix="Token", raise_on_unexpected_status=True)
page = list_content.sync(client=anonymous, ordering=ListContentOrdering("-published_at"), premium=False)
item = page.results[0]
reading = ProgressInputRequest(position_seconds=120.0, duration_seconds=600.0, recorded_at=dt.datetime.now(dt.UTC))
progress = record_progress.sync(item.id, client=client, body=reading)
missing = get_progress.sync(999999999, client=client)
refused = sign_in.sync(client=anonymous, body=TokenInputRequest(email=email, password="wrong password"))

print(
    json.dumps(
        {
            "token": bool(signed_in.token),
            "titles": [row.title for row in page.results],
            "progress": [progress.content_id, progress.completion_percentage, progress.applied],
            "missing": [missing.status, missing.code],
            "refused": [refused.status, refused.code, refused.detail],
        }
    )
)
