"""Admin for chat moderators: banned terms (CSV import and export), the report queue, bans, the audit;
and for editors, the reaction spikes of each game (suggested key moments).

Every change goes through the moderation services, so rules, broadcasts and the audit are the same as
from the API.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from csn.errors import ApplicationError
from streaming.live import selectors
from streaming.live.models import BannedTerm, ChatBan, ChatReport, ModerationAction, ReactionSecond
from streaming.live.permissions import can_moderate
from streaming.live.services import moderation


class ReadOnly:
    """Rows written only by the services: nobody adds, changes or deletes them here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ModeratorsOnly:
    """Moderators (and superusers) see and work these pages, whatever their model permissions."""

    def has_module_permission(self, request):
        return can_moderate(request.user)

    def has_view_permission(self, request, obj=None):
        return can_moderate(request.user)

    def has_add_permission(self, request):
        return can_moderate(request.user)

    def has_change_permission(self, request, obj=None):
        return can_moderate(request.user)

    def has_delete_permission(self, request, obj=None):
        return can_moderate(request.user)


class TermsImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with a header: term, is_regex (true/false), action (block/hold), game (id)")


@admin.register(BannedTerm)
class BannedTermAdmin(ModeratorsOnly, admin.ModelAdmin):
    fields = ["term", "is_regex", "action", "game"]  # the model's clean() checks the pattern
    list_display = ["term", "is_regex", "action", "game", "updated_at"]
    list_filter = ["action", "is_regex", ("game", admin.EmptyFieldListFilter)]
    search_fields = ["term"]
    raw_id_fields = ["game"]
    actions = ["export_csv"]
    change_list_template = "admin/streaming/bannedterm/change_list.html"

    def save_model(self, request, obj, form, change):
        moderation.banned_term_save(actor=request.user, term=obj)

    def delete_model(self, request, obj):
        moderation.banned_terms_delete(actor=request.user, terms=[obj])

    def delete_queryset(self, request, queryset):
        moderation.banned_terms_delete(actor=request.user, terms=queryset)

    @admin.action(description="Export selected terms as CSV")
    def export_csv(self, request, queryset):
        return self._csv(queryset)

    @staticmethod
    def _csv(queryset) -> HttpResponse:
        response = HttpResponse(moderation.banned_terms_export(queryset), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="banned-terms.csv"'
        return response

    def get_urls(self):
        own = [
            path("import/", self.admin_site.admin_view(self.import_view), name="streaming_bannedterm_import"),
            path("export/", self.admin_site.admin_view(self.export_view), name="streaming_bannedterm_export"),
        ]
        return own + super().get_urls()

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return self._csv(BannedTerm.objects.order_by("game_id", "term", "id"))

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = TermsImportForm(request.POST or None, request.FILES or None)
        problems = None
        if request.method == "POST" and form.is_valid():
            raw = form.cleaned_data["file"].read(2 * 1024 * 1024 + 1)
            try:
                if len(raw) > 2 * 1024 * 1024:
                    raise ApplicationError("The file is larger than 2 MiB.", code="invalid_csv")
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                problems = {"file": [{"message": "The file is not UTF-8 text."}]}
            except ApplicationError as exc:
                problems = {"file": [{"message": exc.message}]}
            else:
                try:
                    counts = moderation.banned_terms_import(actor=request.user, text=text)
                except ApplicationError as exc:
                    messages.error(request, exc.message)
                    problems = exc.fields
                else:
                    messages.success(
                        request,
                        f"Imported: {counts['created']} new, {counts['updated']} changed, "
                        f"{counts['unchanged']} unchanged.",
                    )
                    return HttpResponseRedirect(reverse("admin:streaming_bannedterm_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import banned terms",
            "form": form,
            "problems": sorted((problems or {}).items()),
        }
        return TemplateResponse(request, "admin/streaming/bannedterm/import.html", context)


class ReportResolveForm(forms.Form):
    reason = forms.CharField(max_length=280, required=False)
    minutes = forms.IntegerField(min_value=1, max_value=1440, initial=10, required=False)


@admin.register(ChatReport)
class ChatReportAdmin(ReadOnly, ModeratorsOnly, admin.ModelAdmin):
    """The moderators' queue: open reports first, oldest first; act on the selected ones."""

    list_display = ["created_at", "game", "reason", "reported_text", "reported_author", "reporter", "status"]
    list_filter = ["status", "reason"]
    list_select_related = ["message", "reporter", "game__home_team", "game__away_team"]
    search_fields = ["message__text", "message__user_name", "note"]
    ordering = ["status", "created_at", "id"]
    fields = ["reason", "note", "status", "resolution", "resolved_by", "resolved_at", "queue_item"]
    readonly_fields = fields
    actions = ["delete_message", "mute_author", "ban_author_here", "ban_author_everywhere", "dismiss"]

    def get_changelist(self, request, **kwargs):
        if "status__exact" not in request.GET and request.GET.get("all") is None:
            request.GET = request.GET.copy()
            request.GET["status__exact"] = ChatReport.Status.OPEN  # the queue opens on what is left to do
        return super().get_changelist(request, **kwargs)

    @admin.display(description="message")
    def reported_text(self, report):
        return report.message.text[:80]

    @admin.display(description="author")
    def reported_author(self, report):
        return report.message.user_name

    @admin.display(description="message, context and reporter")
    def queue_item(self, report):
        item = selectors.report_queue_item(report)
        context = format_html_join("", "<li>{}: {}</li>", ((m["user"]["name"], m["text"]) for m in item["context"]))
        reporter = item["reporter"]
        return format_html(
            "<p><b>{}</b>: {}{}</p><p>Before it:</p><ul>{}</ul>"
            "<p>Reporter {}: {} reports, {} acted upon, {} dismissed.</p>",
            item["message"]["user"]["name"],
            item["message"]["text"],
            " (deleted)" if item["message"]["deleted"] else "",
            context,
            reporter["name"],
            reporter["total"],
            reporter["actioned"],
            reporter["dismissed"],
        )

    def _resolve(self, request, queryset, action):
        form = ReportResolveForm(request.POST)
        reason, minutes = "", 10
        if form.is_valid():
            reason, minutes = form.cleaned_data["reason"], form.cleaned_data["minutes"] or 10
        done, failed = 0, []
        for report in queryset:
            try:
                moderation.chat_report_resolve(
                    actor=request.user, report_id=report.pk, action=action, reason=reason, minutes=minutes
                )
                done += 1
            except ApplicationError as exc:
                failed.append(f"report {report.pk}: {exc.message}")
        if done:
            self.message_user(request, f"{done} report(s) resolved ({action}).")
        for failure in failed:
            self.message_user(request, failure, level=messages.WARNING)

    @admin.action(description="Delete the reported message")
    def delete_message(self, request, queryset):
        self._resolve(request, queryset, moderation.ReportAction.DELETE)

    @admin.action(description="Mute the author in this game (10 minutes)")
    def mute_author(self, request, queryset):
        self._resolve(request, queryset, moderation.ReportAction.MUTE)

    @admin.action(description="Ban the author from this game's chat")
    def ban_author_here(self, request, queryset):
        self._resolve(request, queryset, moderation.ReportAction.BAN_GAME)

    @admin.action(description="Ban the author from every chat")
    def ban_author_everywhere(self, request, queryset):
        self._resolve(request, queryset, moderation.ReportAction.BAN_ALL)

    @admin.action(description="Dismiss")
    def dismiss(self, request, queryset):
        self._resolve(request, queryset, moderation.ReportAction.DISMISS)


@admin.register(ChatBan)
class ChatBanAdmin(ModeratorsOnly, admin.ModelAdmin):
    list_display = ["user", "game", "reason", "created_by", "created_at"]
    list_filter = [("game", admin.EmptyFieldListFilter)]
    raw_id_fields = ["game", "user"]
    fields = ["user", "game", "reason"]

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = moderation.chat_user_ban(
            actor=request.user, user_id=obj.user_id, game_id=obj.game_id, reason=obj.reason
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        moderation.chat_bans_lift(actor=request.user, bans=[obj])

    def delete_queryset(self, request, queryset):
        moderation.chat_bans_lift(actor=request.user, bans=queryset)


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnly, ModeratorsOnly, admin.ModelAdmin):
    """The audit: read-only, filterable by action, moderator, game and date."""

    list_display = ["created_at", "actor", "action", "game", "target_user", "message", "reason"]
    list_filter = ["action", ("actor", admin.RelatedOnlyFieldListFilter), "created_at"]
    list_select_related = ["actor", "target_user", "game__home_team", "game__away_team", "message"]
    search_fields = ["reason", "actor__email", "target_user__email"]
    date_hierarchy = "created_at"
    raw_id_fields = ["game"]

    def get_list_filter(self, request):
        return [*self.list_filter, ("game", admin.RelatedOnlyFieldListFilter)]


@admin.register(ReactionSecond)
class ReactionSpikeAdmin(ReadOnly, admin.ModelAdmin):
    """Seconds of a game with the most reactions first: suggested key moments for editors (staff)."""

    list_display = ["game", "second", "total", "counts"]
    list_filter = [("game", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["game__home_team", "game__away_team"]
    ordering = ["-total", "second"]
    date_hierarchy = "second"

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff
