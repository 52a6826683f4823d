"""App configs the project swaps in for Django's own."""

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin on the project's site: the same admin, with a throttled login."""

    default_site = "csn.admin.AdminSite"
