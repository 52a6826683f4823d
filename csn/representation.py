"""How values look to clients, the same in API responses and live events."""

from rest_framework.fields import DateTimeField

# DRF's rendering of datetimes (RFC 3339, UTC as `Z`, microseconds kept): what every API response
# carries, so live events match the API to the byte.
datetime_text = DateTimeField().to_representation
