from celery import shared_task

from content.services import media


@shared_task(ignore_result=True)
def media_expire_pending() -> int:
    return media.media_expire_pending()
