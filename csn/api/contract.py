"""The committed API contract: docs/openapi.yaml is the schema the app serves, and docs/changelog.md
records the digest of each version of it (`make schema` writes both the file and the digest to copy).

The digest is of the schema's content (sorted-key JSON), so formatting does not change it."""

import hashlib
import json
import re
from pathlib import Path

import yaml
from django.conf import settings

SCHEMA_FILE = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
CHANGELOG_FILE = Path(settings.BASE_DIR) / "docs" / "changelog.md"
DIGEST_PATTERN = re.compile(r"Schema digest: `sha256:([0-9a-f]{64})`")


def schema_digest(document: dict) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def committed_schema() -> dict:
    return yaml.safe_load(SCHEMA_FILE.read_text())


def changelog_digests() -> list[str]:
    """Every schema digest the changelog records, newest (topmost) first."""
    return DIGEST_PATTERN.findall(CHANGELOG_FILE.read_text())
