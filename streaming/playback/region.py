"""Where a viewer is, for blackouts: the CDN's headers when configured (only the CDN in front of CSN
can set them; unconfigured, a client could send any, so none is read), else the location the account
verified, else unknown."""

import re
from dataclasses import dataclass

from django.conf import settings

from accounts.models import VerifiedLocation

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_SUBDIVISION = re.compile(r"^[A-Z0-9]{1,3}$")
_POSTAL = re.compile(r"^[A-Z0-9 -]{1,12}$")


@dataclass(frozen=True)
class Region:
    country: str
    subdivision: str = ""
    postal_code: str = ""
    source: str = "cdn"  # or "account"

    def data(self) -> dict:
        return {
            "country": self.country,
            "subdivision": self.subdivision,
            "postal_code": self.postal_code,
            "source": self.source,
        }


def _header(meta, name: str) -> str:
    if not name:
        return ""
    return str(meta.get("HTTP_" + name.upper().replace("-", "_"), "")).strip().upper()


def _clean(value: str, pattern: re.Pattern) -> str:
    return value if pattern.match(value) else ""


def region_from_headers(meta) -> Region | None:
    """The region the trusted CDN headers say (CSN_REGION_*_HEADER), or None when they are not
    configured or hold no valid country."""
    country = _clean(_header(meta, settings.CSN_REGION_COUNTRY_HEADER), _COUNTRY)
    if not country:
        return None
    subdivision = _clean(_header(meta, settings.CSN_REGION_SUBDIVISION_HEADER), _SUBDIVISION)
    postal = _clean(_header(meta, settings.CSN_REGION_POSTAL_HEADER), _POSTAL)
    return Region(country=country, subdivision=subdivision, postal_code=postal, source="cdn")


def viewer_region(*, meta, user) -> Region | None:
    """The trusted CDN's region, else the account's verified location, else None (unknown)."""
    region = region_from_headers(meta)
    if region is not None:
        return region
    location = VerifiedLocation.objects.filter(user_id=user.pk).first() if user.is_authenticated else None
    if location is None:
        return None
    return Region(
        country=location.country.upper(),
        subdivision=location.subdivision.upper(),
        postal_code=location.postal_code.upper(),
        source="account",
    )
