from django.contrib import admin

from streaming.fans import services
from streaming.fans.models import Announcement, Notification


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    """The staff broadcast page: adding an announcement notifies every user who has not opted out."""

    list_display = ["title", "sender", "recipient_count", "created_at"]
    readonly_fields = ["sender", "recipient_count", "created_at"]
    fields = ["title", "body", "sender", "recipient_count", "created_at"]
    search_fields = ["title"]

    def has_change_permission(self, request, obj=None):
        return False  # sent is sent; a correction is a new announcement

    def save_model(self, request, obj, form, change):
        # The broadcast service creates the row; admin's object takes its identity for the log and redirect.
        announcement = services.notify_announcement(title=obj.title, body=obj.body, sender=request.user)
        obj.pk, obj.sender, obj.recipient_count, obj.created_at = (
            announcement.pk,
            announcement.sender,
            announcement.recipient_count,
            announcement.created_at,
        )
        self.message_user(request, f"Announcement sent to {announcement.recipient_count} users.")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "title", "read_at", "created_at"]
    list_filter = ["kind"]
    search_fields = ["user__email", "title"]
    raw_id_fields = ["user"]
    readonly_fields = ["user", "kind", "title", "body", "data", "dedupe_key", "read_at", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
