from django.contrib import admin, messages

from analytics.models import OutboxEvent
from analytics.services import intake


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    """The delivery queue: what is waiting, what keeps failing and why. Read-only; dead rows can be
    sent again once the cause is fixed."""

    list_display = ["name", "distinct_id", "status", "attempts", "next_attempt_at", "short_error", "timestamp"]
    list_filter = ["status", "name"]
    search_fields = ["uuid", "name", "distinct_id"]
    ordering = ["status", "next_attempt_at"]
    actions = ["retry_dead"]
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]

    @admin.display(description="last error")
    def short_error(self, obj):
        return obj.last_error[:120]

    @admin.action(description="Retry selected dead events", permissions=["retry"])
    def retry_dead(self, request, queryset):
        count = intake.outbox_retry_dead(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} dead event(s) queued for delivery again.", messages.SUCCESS)

    def has_retry_permission(self, request):
        # Rows are never edited by hand, but sending them again is a change to the queue.
        return request.user.has_perm("analytics.change_outboxevent")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
