"""Moderators' work on a chat: the review of held messages, viewers' reports and their queue, bans,
the banned-term list (with CSV import and export). Every action is audited (`audit_record`) in its
transaction; moderators' clients follow `mod:<game>` (held messages, reports, who resolved what).
"""

import csv
import io
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from analytics import events
from content.models import Game
from csn.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from csn.realtime.publish import publish, publish_many
from csn.realtime.sessions import user_sockets_notify
from streaming.live.models import BannedTerm, ChatBan, ChatMessage, ChatReport
from streaming.live.permissions import moderator_required
from streaming.live.representation import chat_message_data
from streaming.live.selectors import report_queue_item
from streaming.live.services.audit import audit_message_action, audit_record
from streaming.live.services.chat import chat_message_delete, chat_user_mute
from streaming.live.services.filters import term_pattern_check
from streaming.live.topics import chat_topic, mod_topic

# --- held messages ---------------------------------------------------------------------------------


@transaction.atomic
def chat_message_review(*, actor, message_id: int, approve: bool, reason: str = "") -> ChatMessage:
    """Approve (everyone gets it as `chat.message`) or reject a held message. The message row is locked:
    of two moderators acting at once one wins, the other is told `already_reviewed`. The author's
    sockets get `chat.approved` or `chat.rejected`; moderators `chat.reviewed`."""
    moderator_required(actor)
    message = ChatMessage.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        raise NotFoundError("No such message.", code="not_found")
    if message.status != ChatMessage.Status.HELD or message.deleted_at is not None:
        outcome = "deleted" if message.deleted_at is not None else message.status
        raise ConflictError(
            f"This message was already reviewed ({outcome}).", code="already_reviewed", fields={"status": outcome}
        )
    message.status = ChatMessage.Status.PUBLISHED if approve else ChatMessage.Status.REJECTED
    message.save(update_fields=["status"])
    if message.reply_to_id:
        message.reply_to = ChatMessage.objects.filter(pk=message.reply_to_id).first()
    frames = [(mod_topic(message.game_id), "chat.reviewed", {"id": message.pk, "status": message.status})]
    if approve:
        frames.append((chat_topic(message.game_id), "chat.message", chat_message_data(message)))
    publish_many(frames)
    user_sockets_notify(
        user_id=message.user_id,
        name="chat.approved" if approve else "chat.rejected",
        data={"game": message.game_id, "id": message.pk},
    )
    audit_message_action(
        actor=actor,
        action="message_approved" if approve else "message_rejected",
        message=message,
        reason=reason,
        held_reason=message.held_reason,
    )
    return message


# --- reports ----------------------------------------------------------------------------------------


def chat_message_report(*, user, message_id, reason, note: str = "") -> ChatReport:
    """A viewer reports a visible message with a reason (and a note). Reporting it again returns the
    first report; a user files at most LIVE_CHAT_REPORTS_PER_HOUR. Moderators get `chat.reported`."""
    if not user or not user.is_authenticated:
        raise PermissionDeniedError("Sign in to report.", code="auth_required")
    if reason not in ChatReport.Reason.values:
        raise ApplicationError(
            f"`reason` is one of {', '.join(ChatReport.Reason.values)}.", code="invalid_reason", fields={"reason": []}
        )
    if not isinstance(note, str) or len(note) > 280:
        raise ApplicationError("`note` is text of at most 280 characters.", code="invalid_message")
    if not isinstance(message_id, int) or isinstance(message_id, bool) or not 0 < message_id < 2**63:
        raise ApplicationError("`message` is a message id.", code="invalid_message")
    with transaction.atomic():
        message = (
            ChatMessage.objects.select_related("reply_to")
            .filter(pk=message_id, status=ChatMessage.Status.PUBLISHED, deleted_at=None)
            .first()
        )
        if message is None:
            raise NotFoundError("No such message.", code="not_found")
        if message.user_id == user.pk:
            raise ApplicationError("You cannot report your own message.", code="invalid_report")
        existing = ChatReport.objects.filter(message=message, reporter=user).first()
        if existing is not None:
            return existing
        since = timezone.now() - timedelta(hours=1)
        if (
            ChatReport.objects.filter(reporter=user, created_at__gte=since).count()
            >= settings.LIVE_CHAT_REPORTS_PER_HOUR
        ):
            raise ApplicationError("You have sent too many reports; try later.", code="rate_limited", status=429)
        report = ChatReport.objects.create(
            message=message, game_id=message.game_id, reporter=user, reason=reason, note=note.strip()
        )
        publish(topic=mod_topic(message.game_id), name="chat.reported", data=report_queue_item(report))
        events.chat_reported(user_id=user.pk, game_id=message.game_id, message_id=message.pk, reason=reason)
    return report


class ReportAction:
    DELETE = "delete"
    MUTE = "mute"
    BAN_GAME = "ban_game"
    BAN_ALL = "ban_all"
    DISMISS = "dismiss"
    ALL = (DELETE, MUTE, BAN_GAME, BAN_ALL, DISMISS)


@transaction.atomic
def chat_report_resolve(*, actor, report_id: int, action: str, reason: str = "", minutes: int = 10) -> ChatReport:
    """A moderator works a report: delete the message, mute its author (`minutes`), ban them from this
    game's chat or from every chat, or dismiss. Every open report of that message closes with it; one
    already closed is `already_resolved` (two moderators at once: one wins)."""
    moderator_required(actor)
    if action not in ReportAction.ALL:
        raise ApplicationError(f"`action` is one of {', '.join(ReportAction.ALL)}.", code="invalid_action")
    report = ChatReport.objects.select_for_update().select_related("message").filter(pk=report_id).first()
    if report is None:
        raise NotFoundError("No such report.", code="not_found")
    if report.status != ChatReport.Status.OPEN:
        raise ConflictError(
            f"This report was already resolved ({report.resolution}).",
            code="already_resolved",
            fields={"resolution": report.resolution},
        )
    message = report.message
    if action == ReportAction.DELETE:
        chat_message_delete(actor=actor, message_id=message.pk, reason=reason)
    elif action == ReportAction.MUTE:
        chat_user_mute(actor=actor, game_id=message.game_id, user_id=message.user_id, minutes=minutes, reason=reason)
    elif action in (ReportAction.BAN_GAME, ReportAction.BAN_ALL):
        game_id = message.game_id if action == ReportAction.BAN_GAME else None
        chat_user_ban(actor=actor, user_id=message.user_id, game_id=game_id, reason=reason)
    status = ChatReport.Status.DISMISSED if action == ReportAction.DISMISS else ChatReport.Status.ACTIONED
    now = timezone.now()
    closing = list(
        ChatReport.objects.select_for_update()
        .filter(message_id=message.pk, status=ChatReport.Status.OPEN)
        .values_list("pk", flat=True)
    )
    ChatReport.objects.filter(pk__in=closing).update(
        status=status, resolution=action, resolved_by=actor, resolved_at=now
    )
    report.refresh_from_db()
    publish(
        topic=mod_topic(message.game_id),
        name="chat.report_resolved",
        data={"reports": closing, "message": message.pk, "resolution": action, "by": actor.pk},
    )
    audit_message_action(
        actor=actor, action="report_resolved", message=message, reason=reason, resolution=action, reports=closing
    )
    return report


# --- bans -------------------------------------------------------------------------------------------


@transaction.atomic
def chat_user_ban(*, actor, user_id: int, game_id: int | None = None, reason: str = "") -> ChatBan:
    """Ban a user from one game's chat, or from every chat (`game_id` None), until lifted."""
    moderator_required(actor)
    target = get_user_model().objects.filter(pk=user_id).first()
    if target is None or (game_id is not None and not Game.objects.filter(pk=game_id).exists()):
        raise NotFoundError("No such game or user.", code="not_found")
    ban = ChatBan.objects.filter(user=target, game_id=game_id).first()
    if ban is None:
        ban = ChatBan.objects.create(user=target, game_id=game_id, reason=(reason or "")[:280], created_by=actor)
    user_sockets_notify(user_id=target.pk, name="chat.banned", data={"game": game_id})
    audit_record(actor=actor, action="user_banned", game_id=game_id, target_user_id=target.pk, reason=reason)
    return ban


@transaction.atomic
def chat_bans_lift(*, actor, bans) -> int:
    moderator_required(actor)
    bans = list(bans)
    ChatBan.objects.filter(pk__in=[ban.pk for ban in bans]).delete()
    for ban in bans:
        audit_record(actor=actor, action="ban_lifted", game_id=ban.game_id, target_user_id=ban.user_id)
    return len(bans)


# --- banned terms -----------------------------------------------------------------------------------


@transaction.atomic
def banned_term_save(*, actor, term: BannedTerm) -> BannedTerm:
    """Add or change a term (a pattern that does not compile or is too large is refused)."""
    moderator_required(actor)
    term_pattern_check(term=term.term, is_regex=term.is_regex)
    if term.action not in BannedTerm.Action.values:
        raise ApplicationError("`action` is block or hold.", code="invalid_term")
    created = term.pk is None
    if created:
        term.created_by = actor
    term.save()
    audit_record(
        actor=actor,
        action="term_added" if created else "term_changed",
        game_id=term.game_id,
        term=term.term,
        is_regex=term.is_regex,
        term_action=term.action,
    )
    return term


@transaction.atomic
def banned_terms_delete(*, actor, terms) -> int:
    moderator_required(actor)
    terms = list(terms)
    BannedTerm.objects.filter(pk__in=[term.pk for term in terms]).delete()
    for term in terms:
        audit_record(actor=actor, action="term_removed", game_id=term.game_id, term=term.term, is_regex=term.is_regex)
    return len(terms)


CSV_COLUMNS = ["term", "is_regex", "action", "game"]
CSV_MAX_ROWS = 10_000
_TRUE, _FALSE = {"1", "true", "yes", "y", "regex"}, {"", "0", "false", "no", "n", "word"}


def banned_terms_export(terms) -> str:
    """CSV with a header: term, is_regex (true/false), action (block/hold), game (an id, empty: every game)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for term in terms:
        writer.writerow([term.term, "true" if term.is_regex else "false", term.action, term.game_id or ""])
    return out.getvalue()


def _import_rows(text: str) -> list[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "term" not in reader.fieldnames:
        raise ApplicationError("The CSV needs a header with at least a `term` column.", code="invalid_csv")
    errors: dict[str, list] = {}
    rows: list[tuple[int, dict]] = []
    for line, row in enumerate(reader, start=2):
        if len(rows) >= CSV_MAX_ROWS:
            raise ApplicationError(f"At most {CSV_MAX_ROWS} terms per import.", code="invalid_csv")
        problems = []
        term = (row.get("term") or "").strip()
        regex_text = (row.get("is_regex") or "").strip().lower()
        action = (row.get("action") or BannedTerm.Action.BLOCK).strip().lower()
        game_text = (row.get("game") or "").strip()
        if regex_text not in _TRUE | _FALSE:
            problems.append("is_regex is true or false")
        if action not in BannedTerm.Action.values:
            problems.append("action is block or hold")
        if game_text and not (game_text.isascii() and game_text.isdigit() and len(game_text) < 19):
            problems.append("game is a game id or empty")
        is_regex = regex_text in _TRUE
        try:
            term_pattern_check(term=term, is_regex=is_regex)
        except ApplicationError as exc:
            problems.append(exc.message)
        if problems:
            errors[f"line {line}"] = [{"code": "invalid_term", "message": problem} for problem in problems]
            continue
        rows.append(
            (
                line,
                {
                    "term": term,
                    "is_regex": is_regex,
                    "action": action,
                    "game_id": int(game_text) if game_text else None,
                },
            )
        )
    if errors:
        raise ApplicationError("Some lines are not valid; nothing was imported.", code="invalid_csv", fields=errors)
    return rows


@transaction.atomic
def banned_terms_import(*, actor, text: str) -> dict:
    """Import terms from CSV (the export's columns). All lines are checked first: any bad line refuses
    the whole file, with each line's reason. A term already listed (same game, text, kind) takes the
    file's action. Returns the counts."""
    moderator_required(actor)
    rows = _import_rows(text)
    game_ids = {row["game_id"] for _, row in rows} - {None}
    missing = game_ids - set(Game.objects.filter(pk__in=game_ids).values_list("pk", flat=True))
    if missing:
        lines = {
            f"line {line}": [{"code": "not_found", "message": "no such game"}]
            for line, row in rows
            if row["game_id"] in missing
        }
        raise ApplicationError("Some lines name games that do not exist.", code="invalid_csv", fields=lines)
    existing = {(t.game_id, t.term.lower(), t.is_regex): t for t in BannedTerm.objects.all()}
    created, updated = [], []
    for _, row in rows:
        key = (row["game_id"], row["term"].lower(), row["is_regex"])
        term = existing.get(key)
        if term is None:
            term = BannedTerm(created_by=actor, **row)
            existing[key] = term
            created.append(term)
        elif term.action != row["action"]:
            term.action = row["action"]
            if term.pk is not None:
                updated.append(term)
    BannedTerm.objects.bulk_create(created)
    now = timezone.now()
    for term in updated:
        term.updated_at = now
    BannedTerm.objects.bulk_update(updated, ["action", "updated_at"])
    counts = {"created": len(created), "updated": len(updated), "unchanged": len(rows) - len(created) - len(updated)}
    audit_record(actor=actor, action="terms_imported", **counts)
    return counts
