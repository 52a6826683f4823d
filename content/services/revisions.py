"""Revisions of content items (django-reversion): every write of an item through the services stores one;
two compare field by field; an old one is restored as a new revision, through the edit rules and audited.

The services call `revision_record` at the end of their transaction, with the saved row: a refused or
rolled-back write stores no revision. The fields kept are the ones an editor sets, the links, and the
workflow's (state, publication date), so a revision is the whole item as it was."""

from dataclasses import dataclass

import reversion
from django.utils import timezone
from reversion.models import Version

from content.models import Content, Game, Player, Team
from content.services.fields import EDITABLE_FIELDS, M2M_FIELDS

WORKFLOW_FIELDS = ("state", "published_at")


def restorable_fields() -> tuple[str, ...]:
    """What a restore may put back: the fields an editor sets and the links (content.services.editing)."""
    return (*EDITABLE_FIELDS, *M2M_FIELDS)


def revision_fields() -> tuple[str, ...]:
    """What a revision keeps: the restorable fields and the workflow's."""
    return (*restorable_fields(), *WORKFLOW_FIELDS)


def revisions_register() -> None:
    """Called once from ContentConfig.ready()."""
    if not reversion.is_registered(Content):
        reversion.register(Content, fields=list(revision_fields()))


def revision_record(*, content: Content, actor, comment: str) -> None:
    """Store the item as it is now (in the caller's transaction) as one revision by `actor`."""
    row = Content.objects.get(pk=content.pk)  # the stored row, links included, whatever the caller holds
    with reversion.create_revision(atomic=False):
        reversion.set_user(actor)
        reversion.set_comment(comment[:500])
        reversion.set_date_created(timezone.now())
        reversion.add_to_revision(row)


def content_revisions(*, content: Content):
    """The item's revisions, newest first, with their authors."""
    return (
        Version.objects.get_for_object(content)
        .select_related("revision__user")
        .order_by("-revision__date_created", "-pk")
    )


def access_revision(*, content: Content, version_id) -> Version:
    from csn.errors import NotFoundError

    version = content_revisions(content=content).filter(pk=version_id).first() if str(version_id).isdigit() else None
    if version is None:
        raise NotFoundError("No such revision of this item.", code="not_found")
    return version


def _display(name: str, value) -> str:
    if value in (None, "", []):
        return "—"
    if name == "game":
        game = Game.objects.select_related("home_team", "away_team").filter(pk=value).first()
        return str(game) if game else f"game {value} (deleted)"
    if name in ("teams", "players"):
        model = Team if name == "teams" else Player
        names = dict(model.objects.filter(pk__in=value).values_list("pk", "name"))
        return ", ".join(names.get(int(pk), f"#{pk} (deleted)") for pk in value)
    if name == "type":
        return Content.Type(value).label if value in Content.Type.values else value
    if name == "state":
        return Content.State(value).label if value in Content.State.values else value
    if name == "tags":
        return ", ".join(value)
    if name == "is_premium":
        return "Yes" if value else "No"
    if hasattr(value, "isoformat"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if hasattr(value, "tzinfo") else str(value)
    return str(getattr(value, "name", value))


def revision_values(version: Version) -> dict:
    data = version.field_dict
    values = {}
    for name in revision_fields():
        field = Content._meta.get_field(name)
        value = data.get(field.attname)
        if name in ("teams", "players"):
            value = sorted(int(pk) for pk in value or [])
        elif name == "thumbnail":
            value = getattr(value, "name", value) or ""
        values[name] = value
    return values


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


def revision_compare(*, older: Version, newer: Version) -> list[FieldChange]:
    """Every kept field of two revisions, by its label on the form, as the editor reads it."""
    before, after = revision_values(older), revision_values(newer)
    return [
        FieldChange(
            name=name,
            label=str(Content._meta.get_field(name).verbose_name).capitalize(),
            old=_display(name, before[name]),
            new=_display(name, after[name]),
        )
        for name in revision_fields()
    ]
