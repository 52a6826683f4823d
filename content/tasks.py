from celery import shared_task

from content.services import media


@shared_task(ignore_result=True)
def media_expire_pending() -> int:
    return media.media_expire_pending()


@shared_task(ignore_result=True, name="content.tasks.schedule_run")
def schedule_run() -> dict:
    from content.services.presence import editors_prune
    from content.services.scheduling import schedule_run as run

    editors_prune()
    return run()


@shared_task(ignore_result=True, name="content.tasks.import_check")
def import_check_task(job_id: int) -> None:
    from content.services.imports import import_check

    import_check(job_id=job_id)


@shared_task(ignore_result=True, name="content.tasks.import_commit")
def import_commit_task(job_id: int) -> None:
    from content.services.imports import import_commit

    import_commit(job_id=job_id)


@shared_task(ignore_result=True, name="content.tasks.media_renditions")
def media_renditions(asset_id: int) -> None:
    from content.services.renditions import renditions_make

    renditions_make(asset_id=asset_id)
