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
