"""The audit trail: read-only, on each item's page and as its own list."""

from django.contrib import admin

from content.models import Content, ContentAuditLog


@admin.display(description="Who")
def who(row: ContentAuditLog) -> str:
    return row.actor_name()


@admin.display(description="What")
def what(row: ContentAuditLog) -> str:
    return row.summary()


class ReachedStateFilter(admin.SimpleListFilter):
    """The state a transition moved the item to, by its label (the column holds the code)."""

    title = "moved to"
    parameter_name = "to_state"

    def lookups(self, request, model_admin):
        return Content.State.choices

    def queryset(self, request, queryset):
        return queryset.filter(to_state=self.value()) if self.value() else queryset


class AuditLogInline(admin.TabularInline):
    model = ContentAuditLog
    verbose_name_plural = "History"
    extra = 0
    can_delete = False
    fields = ["created_at", who, what, "note"]
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
    list_display = ["created_at", "content", who, what, "note"]
    fields = readonly_fields = list_display
    list_filter = ["action", ReachedStateFilter]
    search_fields = ["content__title", "actor__email", "note"]
    date_hierarchy = "created_at"
    list_select_related = ["content", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
