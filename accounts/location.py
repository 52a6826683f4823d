"""Where a viewer is, for blackouts. Only two sources are believed: the headers of the CDN in front of
CSN (named by CSN_REGION_*_HEADER; unconfigured, a client could send any, so none is read), and a
location the account verified by a device check-in through that CDN (or that staff set), while fresh.
Nothing a client writes in a body or an unconfigured header ever counts."""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import VerifiedLocation
from csn.errors import ApplicationError

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


def verified_region(*, user_id: int, now=None) -> Region | None:
    """The account's verified location while it is fresh, else None."""
    location = VerifiedLocation.objects.filter(user_id=user_id).first()
    if location is None or not location.is_fresh(now):
        return None
    return Region(
        country=location.country.upper(),
        subdivision=location.subdivision.upper(),
        postal_code=location.postal_code.upper(),
        source="account",
    )


def viewer_region(*, meta, user) -> Region | None:
    """The trusted CDN's region for this request, else the account's fresh verified location, else None."""
    region = region_from_headers(meta)
    if region is not None:
        return region
    if user is None or not user.is_authenticated:
        return None
    return verified_region(user_id=user.pk)


def location_of(*, user) -> VerifiedLocation | None:
    """The account's verified location, fresh or not (the check-in endpoint shows when it expires)."""
    return VerifiedLocation.objects.filter(user_id=user.pk).first()


def location_check_in(*, user, meta) -> VerifiedLocation:
    """A device check-in: the region the trusted CDN header of this request gives becomes the account's
    verified location for CSN_LOCATION_VERIFIED_DAYS (replacing any before, staff's too). Without such a
    header (none configured, or the CDN gave no valid country) nothing changes: 422 `region_unavailable`."""
    region = region_from_headers(meta)
    if region is None:
        raise ApplicationError(
            "CSN cannot tell where this request comes from; check in through the app over the CDN.",
            code="region_unavailable",
            status=422,
        )
    now = timezone.now()
    with transaction.atomic():
        location, _ = VerifiedLocation.objects.update_or_create(
            user_id=user.pk,
            defaults={
                "country": region.country,
                "subdivision": region.subdivision,
                "postal_code": region.postal_code,
                "source": VerifiedLocation.Source.CHECK_IN,
                "verified_at": now,
                "expires_at": now + timedelta(days=settings.CSN_LOCATION_VERIFIED_DAYS),
            },
        )
    return location


def location_clear(*, user) -> bool:
    """Forget the account's verified location (the user, or staff in admin); whether there was one."""
    deleted, _ = VerifiedLocation.objects.filter(user_id=user.pk).delete()
    return bool(deleted)
