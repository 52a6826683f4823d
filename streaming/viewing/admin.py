"""Read-only views of viewer state for support staff; viewers change it through the API only."""

from django.contrib import admin

from streaming.viewing.models import MyListItem, Playlist, PlaylistItem, WatchProgress


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WatchProgress)
class WatchProgressAdmin(ReadOnlyAdmin):
    list_display = ["user", "content", "completion_percentage", "completed", "last_watched_at"]
    list_filter = ["completed"]
    search_fields = ["user__email", "content__title"]
    raw_id_fields = ["user", "content"]
    list_select_related = ["user", "content"]


@admin.register(MyListItem)
class MyListItemAdmin(ReadOnlyAdmin):
    list_display = ["user", "content", "created_at"]
    search_fields = ["user__email", "content__title"]
    raw_id_fields = ["user", "content"]
    list_select_related = ["user", "content"]


class PlaylistItemInline(admin.TabularInline):
    model = PlaylistItem
    raw_id_fields = ["content"]
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Playlist)
class PlaylistAdmin(ReadOnlyAdmin):
    list_display = ["title", "user", "is_shared", "updated_at"]
    search_fields = ["title", "user__email"]
    raw_id_fields = ["user"]
    exclude = ["share_token"]  # a live share link is the owner's secret
    inlines = [PlaylistItemInline]
