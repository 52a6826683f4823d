"""The editors' CMS, one module per concern. Every content write and workflow move goes through the
services; importing the modules registers their admins (Django's autodiscovery imports this package)."""

from content.admin import audit, catalogue, editorial, imports, media

__all__ = ["audit", "catalogue", "editorial", "imports", "media"]
