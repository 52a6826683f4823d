"""Celery entry points of the content app. Thin: each calls a service. Services queue these by name
(csn.celery.task_queue), never by importing this module."""

from celery import shared_task

from content.services import imports, media, presence, renditions, scheduling


@shared_task(ignore_result=True)
def media_expire_pending() -> int:
    return media.media_expire_pending()


@shared_task(ignore_result=True, name="content.tasks.schedule_run")
def schedule_run() -> dict:
    presence.editors_prune()
    return scheduling.schedule_run()


@shared_task(ignore_result=True, name=imports.CHECK_TASK)
def import_check_task(job_id: int) -> None:
    imports.import_check(job_id=job_id)


@shared_task(ignore_result=True, name=imports.COMMIT_TASK)
def import_commit_task(job_id: int) -> None:
    imports.import_commit(job_id=job_id)


@shared_task(ignore_result=True, name=renditions.RENDITIONS_TASK)
def media_renditions(asset_id: int) -> None:
    renditions.renditions_make(asset_id=asset_id)
