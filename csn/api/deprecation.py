"""Deprecation signals (docs/api.md "Deprecation policy"): an answer that used something deprecated
carries `Deprecation` (RFC 9745: when it was deprecated, `@<unix time>`), `Sunset` (RFC 8594: the HTTP
date after which it may stop working) and a `Link` to the changelog entry (`rel="deprecation"`).

Dates live in settings (`API_DEPRECATIONS`), one entry a deprecated thing, so docs/changelog.md and the
headers say the same."""

import datetime as dt

from django.conf import settings
from django.utils.http import http_date


def _unix(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp())


def deprecation_headers(name: str) -> dict[str, str]:
    """The headers for deprecated thing `name` (a key of settings.API_DEPRECATIONS)."""
    entry = settings.API_DEPRECATIONS[name]
    return {
        "Deprecation": f"@{_unix(entry['deprecated'])}",
        "Sunset": http_date(_unix(entry["sunset"])),
        "Link": f'<{entry["link"]}>; rel="deprecation"',
    }


class DeprecatedParametersMixin:
    """A DRF view whose query parameters were renamed: `deprecated_parameters = {"old": "new"}`. The
    filter takes both names (the FilterSet declares the old one as an alias); an answer to a request that
    used an old name carries the deprecation headers."""

    deprecated_parameters: dict[str, str] = {}

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        for old in self.deprecated_parameters:
            if old in request.query_params:
                for header, value in deprecation_headers(f"query:{old}").items():
                    response[header] = value
                break
        return response
