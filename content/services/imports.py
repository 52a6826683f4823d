"""Bulk imports from CSV: schedules (games) and rosters (players), idempotent by external id.

1. `import_start` stores the file and queues the check (a dry run): every row is read and validated,
   streamed from storage (bounded memory: one batch of rows at a time), with progress on the job; the
   first errors and rows are kept for the page (row numbers as a spreadsheet shows them, header = 1).
2. `import_commit` imports a checked file: all or nothing. The rows are read and checked again and
   written in batches inside one transaction (an insert or an update by `external_id`); any error
   rolls the whole file back. Importing the same file again updates the same rows, never duplicates.

Files must be UTF-8 (a BOM is fine) with a header row; extra columns are ignored. Exports of the same
columns escape cells a spreadsheet would run as formulas (`csv_safe`)."""

import codecs
import contextlib
import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from content.models import Game, ImportJob, Player, Sport, Team
from content.services.cache import catalogue_changed, families_of
from content.services.errors import field_error
from csn.celery import task_queue
from csn.errors import ApplicationError, ConflictError, PermissionDeniedError

logger = logging.getLogger(__name__)
# The tasks (content.tasks) that run the check and the import, queued by name.
CHECK_TASK = "content.tasks.import_check"
COMMIT_TASK = "content.tasks.import_commit"
Kind = ImportJob.Kind
Status = ImportJob.Status

# Columns by kind: the required ones, then the optional ones.
COLUMNS = {
    Kind.GAMES: (("external_id", "home_team", "away_team", "starts_at"), ("sport", "venue", "status")),
    Kind.PLAYERS: (("external_id", "team", "name"), ("number", "position")),
}
PERMISSIONS = {Kind.GAMES: ("content.add_game", "content.change_game"), Kind.PLAYERS: ("content.add_player",)}
IMPORTABLE_GAME_STATUSES = (Game.Status.SCHEDULED, Game.Status.POSTPONED)
SPORTS = frozenset(Sport.values)
PREVIEW_ROWS = 20
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class FileRefused(Exception):
    """The whole file is refused (encoding, header, size): nothing in it is imported."""


@dataclass
class Outcome:
    rows: int = 0
    created: int = 0
    updated: int = 0
    error_count: int = 0
    errors: list = field(default_factory=list)
    preview: list = field(default_factory=list)

    def error(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < settings.CSN_IMPORT_ERRORS_KEPT:
            self.errors.append({"row": row, "column": column, "message": message})


def csv_safe(value):
    """A cell as a spreadsheet should show it: text that would start a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# --- reading --------------------------------------------------------------------------------------


def _rows(job: ImportJob) -> Iterator[tuple[int, dict]]:
    """(spreadsheet row number, {column: stripped text}) for each data row, streamed from storage."""
    required, optional = COLUMNS[job.kind]
    with job.file.storage.open(job.file.name, "rb") as raw:
        text = codecs.getreader("utf-8-sig")(raw, errors="strict")
        reader = csv.reader(text)
        try:
            header = next(reader, None)
        except UnicodeDecodeError as exc:
            raise FileRefused("The file is not UTF-8 text: save it as “CSV UTF-8” and upload it again.") from exc
        except csv.Error as exc:
            raise FileRefused(f"The file is not CSV: {exc}.") from exc
        if not header or not any(cell.strip() for cell in header):
            raise FileRefused("The file is empty: the first row must name the columns.")
        names = [name.strip().lower() for name in header]
        missing = [name for name in required if name not in names]
        if missing:
            raise FileRefused(
                f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
                f"The first row must name the columns: {', '.join(required + optional)} (the last "
                f"{len(optional)} optional)."
            )
        positions = {name: names.index(name) for name in required + optional if name in names}
        number = 1
        try:
            for cells in reader:
                number += 1
                if not any(cell.strip() for cell in cells):
                    continue  # blank lines are skipped
                if number - 1 > settings.CSN_IMPORT_MAX_ROWS:
                    raise FileRefused(
                        f"The file has more than {settings.CSN_IMPORT_MAX_ROWS:,} rows: split it into smaller files."
                    )
                yield number, {name: (cells[at].strip() if at < len(cells) else "") for name, at in positions.items()}
        except UnicodeDecodeError as exc:
            raise FileRefused(
                f"The file is not UTF-8 text (after row {number}): save it as “CSV UTF-8” and upload it again."
            ) from exc
        except csv.Error as exc:
            raise FileRefused(f"Row {number + 1} is not valid CSV: {exc}.") from exc


def _batches(rows: Iterator, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- validating -----------------------------------------------------------------------------------


def _teams() -> dict[str, tuple[int, str]]:
    """Every team by slug: (id, sport). Teams are few (a league's worth), games and players many."""
    return {slug: (pk, sport) for pk, slug, sport in Team.objects.values_list("pk", "slug", "sport")}


def _external_id(number, row, seen: set, outcome: Outcome) -> str | None:
    value = row["external_id"]
    if not value:
        outcome.error(number, "external_id", "Required: the id this file gives the row.")
    elif len(value) > 64:
        outcome.error(number, "external_id", "At most 64 characters.")
    elif value in seen:
        outcome.error(number, "external_id", f"“{value}” appears twice in the file.")
    else:
        seen.add(value)
        return value
    return None


def _game(number, row, teams, now, outcome: Outcome) -> dict | None:
    errors_before = outcome.error_count
    home, away = teams.get(row["home_team"]), teams.get(row["away_team"])
    for column in ("home_team", "away_team"):
        if not row[column]:
            outcome.error(number, column, "Required: a team's slug.")
        elif teams.get(row[column]) is None:
            outcome.error(number, column, f"No team with slug “{row[column]}”.")
    if home and away and home[0] == away[0]:
        outcome.error(number, "away_team", "A team cannot play itself.")
    starts_at = None
    with contextlib.suppress(ValueError):
        starts_at = parse_datetime(row["starts_at"].replace(" ", "T", 1)) if row["starts_at"] else None
    if starts_at is None:
        outcome.error(number, "starts_at", "A date and time like 2026-03-01T19:30:00Z (no zone: UTC).")
    else:
        if timezone.is_naive(starts_at):
            starts_at = starts_at.replace(tzinfo=UTC)
        if starts_at <= now:
            outcome.error(number, "starts_at", "The game starts in the past: a schedule lists games to come.")
    sport = row.get("sport", "").lower() or (home[1] if home else "")
    if sport not in SPORTS:
        outcome.error(number, "sport", f"Unknown sport “{sport}”.")
    status = row.get("status", "").lower() or Game.Status.SCHEDULED
    if status not in IMPORTABLE_GAME_STATUSES:
        outcome.error(number, "status", "Either scheduled or postponed (what happens in a game is the scorekeeper's).")
    venue = row.get("venue", "")
    if len(venue) > 160:
        outcome.error(number, "venue", "At most 160 characters.")
    if outcome.error_count > errors_before:
        return None
    return {
        "home_team_id": home[0],
        "away_team_id": away[0],
        "starts_at": starts_at,
        "sport": sport,
        "venue": venue,
        "status": status,
    }


def _player(number, row, teams, now, outcome: Outcome) -> dict | None:
    errors_before = outcome.error_count
    team = teams.get(row["team"])
    if not row["team"]:
        outcome.error(number, "team", "Required: the team's slug.")
    elif team is None:
        outcome.error(number, "team", f"No team with slug “{row['team']}”.")
    name = row["name"]
    if not name:
        outcome.error(number, "name", "Required.")
    elif len(name) > 120:
        outcome.error(number, "name", "At most 120 characters.")
    shirt = None
    if row.get("number"):
        if not (row["number"].isascii() and row["number"].isdigit() and int(row["number"]) <= 32767):
            outcome.error(number, "number", "A shirt number: a whole number from 0 to 32767.")
        else:
            shirt = int(row["number"])
    position = row.get("position", "")
    if len(position) > 40:
        outcome.error(number, "position", "At most 40 characters.")
    if outcome.error_count > errors_before:
        return None
    return {"team_id": team[0], "name": name, "number": shirt, "position": position}


VALIDATORS = {Kind.GAMES: _game, Kind.PLAYERS: _player}
MODELS = {Kind.GAMES: Game, Kind.PLAYERS: Player}


def _checked_batches(job: ImportJob, outcome: Outcome, on_batch=None) -> Iterator[list[tuple[int, str, dict]]]:
    """Batches of valid rows as (row number, external id, model values); errors go to `outcome`."""
    teams, now, seen = _teams(), timezone.now(), set()
    validate = VALIDATORS[job.kind]
    for batch in _batches(_rows(job), settings.CSN_IMPORT_BATCH_ROWS):
        valid = []
        for number, row in batch:
            outcome.rows += 1
            external_id = _external_id(number, row, seen, outcome)
            values = validate(number, row, teams, now, outcome)
            if external_id is not None and values is not None:
                valid.append((number, external_id, values))
        yield valid
        if on_batch:
            on_batch(outcome)


# --- progress -------------------------------------------------------------------------------------


def _progress_key(job_id: int) -> str:
    return f"content:import:{job_id}:progress"


def import_progress(*, job: ImportJob) -> dict:
    """What the page's progress bar shows: the job's row, and while an import runs inside its
    transaction (invisible to other connections until it ends) the rows done so far, from the cache."""
    processed = job.processed_rows
    if job.status in (Status.CHECKING, Status.IMPORTING):
        processed = cache.get(_progress_key(job.pk), processed)
    return {
        "status": job.status,
        "status_label": job.get_status_display(),
        "total_rows": job.total_rows,
        "processed_rows": processed,
        "created": job.created_count,
        "updated": job.updated_count,
        "errors": job.error_count,
        "finished": job.status not in (Status.CHECKING, Status.IMPORTING),
    }


def _report(job: ImportJob):
    def report(outcome: Outcome) -> None:
        try:
            cache.set(_progress_key(job.pk), outcome.rows, 3600)
        except Exception:  # the cache is for the bar only; the import goes on
            logger.warning("import: progress of job %s not recorded", job.pk, exc_info=True)

    return report


# --- the use cases --------------------------------------------------------------------------------


def _check_rights(actor, kind: str) -> None:
    if not all(actor.has_perm(permission) for permission in PERMISSIONS[kind]):
        raise PermissionDeniedError("You may not import these rows.", code="not_allowed")


def import_start(*, actor, kind: str, file) -> ImportJob:
    """Store an uploaded CSV and queue its check (the dry run)."""
    if kind not in Kind.values:
        raise ApplicationError(
            "Import games or players.", code="invalid", fields=field_error("kind", "invalid", "Unknown kind.")
        )
    _check_rights(actor, kind)
    if file is None or not file.size:
        raise ApplicationError(
            "Choose a CSV file.", code="invalid", fields=field_error("file", "required", "Required.")
        )
    if file.size > settings.CSN_IMPORT_MAX_BYTES:
        raise ApplicationError(
            f"The file is larger than {settings.CSN_IMPORT_MAX_BYTES // 1024**2} MB: split it.",
            code="file_too_large",
            fields=field_error("file", "too_large", "Too large."),
        )
    job = ImportJob(kind=kind, original_name=(file.name or "")[:255], created_by=actor)
    job.file.save(f"{kind}.csv", file, save=False)
    job.save()
    task_queue(CHECK_TASK, job.pk)
    return job


def import_check(*, job_id: int) -> ImportJob:
    """The dry run: validate every row, count what would be created and updated, keep a preview."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status != Status.CHECKING:
        return job  # checked already (a task delivered twice)
    outcome = Outcome()
    model = MODELS[job.kind]
    team_names = dict(Team.objects.values_list("pk", "name"))
    try:
        for batch in _checked_batches(job, outcome, _report(job)):
            existing = set(
                model.objects.filter(external_id__in=[external_id for _, external_id, _ in batch]).values_list(
                    "external_id", flat=True
                )
            )
            for number, external_id, values in batch:
                action = "update" if external_id in existing else "create"
                outcome.updated += action == "update"
                outcome.created += action == "create"
                if len(outcome.preview) < PREVIEW_ROWS:
                    outcome.preview.append(_preview(number, action, external_id, values, team_names))
    except FileRefused as exc:
        return _finish(job, Status.INVALID, outcome, message=str(exc))
    if outcome.error_count:
        message = f"{outcome.error_count} row error(s): fix the file and upload it again; nothing was imported."
        return _finish(job, Status.INVALID, outcome, message=message)
    if not outcome.rows:
        return _finish(job, Status.INVALID, outcome, message="The file has no rows under its header.")
    message = f"{outcome.rows} rows checked: {outcome.created} to create, {outcome.updated} to update."
    return _finish(job, Status.CHECKED, outcome, message=message)


def _preview(number: int, action: str, external_id: str, values: dict, team_names: dict) -> dict:
    """One row as the editor reads it: labels for columns and choices, teams by name."""
    row = {"Row": number, "Action": "New" if action == "create" else "Update", "External id": external_id}
    if "starts_at" in values:
        row |= {
            "Home team": team_names.get(values["home_team_id"], ""),
            "Away team": team_names.get(values["away_team_id"], ""),
            "Starts at": timezone.localtime(values["starts_at"]).strftime("%Y-%m-%d %H:%M %Z"),
            "Sport": Sport(values["sport"]).label,
            "Venue": values["venue"],
            "Status": Game.Status(values["status"]).label,
        }
    else:
        number_text = "" if values["number"] is None else str(values["number"])
        row |= {"Team": team_names.get(values["team_id"], ""), "Name": values["name"], "Number": number_text}
        row["Position"] = values["position"]
    return row


def _finish(job: ImportJob, status: str, outcome: Outcome, *, message: str) -> ImportJob:
    job.status = status
    job.total_rows = job.processed_rows = outcome.rows
    job.created_count, job.updated_count = outcome.created, outcome.updated
    job.error_count, job.errors = outcome.error_count, outcome.errors
    if outcome.preview:
        job.preview = outcome.preview
    job.message = message
    job.save()
    cache.delete(_progress_key(job.pk))
    return job


def import_commit_request(*, job: ImportJob, actor) -> ImportJob:
    """The editor's "Import": a checked job moves to importing (once) and the import is queued."""
    _check_rights(actor, job.kind)
    moved = ImportJob.objects.filter(pk=job.pk, status=Status.CHECKED).update(
        status=Status.IMPORTING, updated_at=timezone.now()
    )
    if not moved:
        job.refresh_from_db()
        raise ConflictError(
            f"This import is {job.get_status_display().lower()}, not ready to import.", code="state_changed"
        )
    task_queue(COMMIT_TASK, job.pk)
    job.refresh_from_db()
    return job


class _RollBack(Exception):
    pass


def import_commit(*, job_id: int) -> ImportJob:
    """Write every row of a job that is importing, in one transaction: all rows or none."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status != Status.IMPORTING:
        return job
    outcome = Outcome()
    model = MODELS[job.kind]
    update_fields = (
        ["home_team", "away_team", "starts_at", "sport", "venue", "status", "updated_at"]
        if job.kind == Kind.GAMES
        else ["team", "name", "number", "position", "updated_at"]
    )
    try:
        with transaction.atomic():
            for batch in _checked_batches(job, outcome, _report(job)):
                if outcome.error_count:
                    raise _RollBack
                ids = [external_id for _, external_id, _ in batch]
                existing = set(model.objects.filter(external_id__in=ids).values_list("external_id", flat=True))
                if job.kind == Kind.GAMES:
                    # What happens in a game is the scorekeeper's: a game under way keeps its status.
                    started = set(
                        model.objects.filter(external_id__in=ids)
                        .exclude(status__in=IMPORTABLE_GAME_STATUSES)
                        .values_list("external_id", flat=True)
                    )
                    for number, external_id, _ in batch:
                        if external_id in started:
                            outcome.error(number, "external_id", "This game has started: it is the scorekeeper's now.")
                    if outcome.error_count:
                        raise _RollBack
                now = timezone.now()
                rows = [model(external_id=external_id, updated_at=now, **values) for _, external_id, values in batch]
                model.objects.bulk_create(
                    rows,
                    update_conflicts=True,
                    unique_fields=["external_id"],
                    update_fields=update_fields,
                )
                catalogue_changed(*families_of(model))  # bulk_create sends no post_save
                outcome.updated += len(existing)
                outcome.created += len(batch) - len(existing)
    except _RollBack:
        return _finish(job, Status.FAILED, outcome, message="Rows changed since the check: nothing was imported.")
    except FileRefused as exc:
        return _finish(job, Status.FAILED, outcome, message=f"{exc} Nothing was imported.")
    return _finish(
        job,
        Status.DONE,
        outcome,
        message=f"Imported {outcome.rows} rows: {outcome.created} created, {outcome.updated} updated.",
    )


# --- export ---------------------------------------------------------------------------------------


class _Echo:
    def write(self, value):
        return value


def csv_export(*, kind: str, queryset) -> Iterator[str]:
    """The rows of `queryset` as CSV lines in the import's columns (a file re-imports as it is, bar
    escaped formulas), streamed in chunks; cells that would start a formula are escaped."""
    writer = csv.writer(_Echo())
    required, optional = COLUMNS[kind]
    yield writer.writerow(required + optional)
    if kind == Kind.GAMES:
        queryset = queryset.select_related("home_team", "away_team")
        for game in queryset.iterator(chunk_size=1000):
            cells = [game.external_id or f"csn-{game.pk}", game.home_team.slug, game.away_team.slug]
            cells += [game.starts_at.isoformat(), game.sport, game.venue, game.status]
            yield writer.writerow([csv_safe(cell) for cell in cells])
    else:
        for player in queryset.select_related("team").iterator(chunk_size=1000):
            cells = [player.external_id or f"csn-{player.pk}", player.team.slug, player.name]
            cells += ["" if player.number is None else player.number, player.position]
            yield writer.writerow([csv_safe(cell) for cell in cells])
