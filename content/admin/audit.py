"""The audit trail: read-only, on each item's page and as its own list."""

from django.contrib import admin

from content.models import ContentAuditLog


class AuditLogInline(admin.TabularInline):
    model = ContentAuditLog
    verbose_name_plural = "History"
    extra = 0
    can_delete = False
    fields = ["created_at", "actor", "action", "from_state", "to_state", "changed_fields", "note"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(ContentAuditLog)
class ContentAuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "content", "actor", "action", "from_state", "to_state", "changed", "note"]
    list_filter = ["action", "to_state"]
    search_fields = ["content__title", "actor__email", "note"]
    date_hierarchy = "created_at"
    list_select_related = ["content", "actor"]

    @admin.display(description="Changed fields")
    def changed(self, row):
        return ", ".join(row.changed_fields)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
