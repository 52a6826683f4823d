from celery import shared_task

from content import services


@shared_task(ignore_result=True)
def media_expire_pending() -> int:
    return services.media_expire_pending()
