"""Deleting old rows in bounded batches: the retention jobs' one way to delete (no long locks).

Each batch is one short statement on at most `RETENTION_BATCH_SIZE` rows, chosen by primary key, in its
own transaction (autocommit), so no lock is held for long and replicas keep up; a run stops after
`RETENTION_MAX_BATCHES` batches, and the next run (beat) goes on where it stopped.
"""

from django.conf import settings
from django.db import transaction

from csn import metrics


def delete_in_batches(queryset, *, what: str, batch_size: int | None = None, max_batches: int | None = None) -> int:
    """Delete the rows of `queryset` a batch at a time; returns how many were deleted in this run."""
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    max_batches = max_batches or settings.RETENTION_MAX_BATCHES
    model = queryset.model
    deleted = 0
    for _ in range(max_batches):
        ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            count = model._base_manager.filter(pk__in=ids).delete()[1].get(model._meta.label, 0)
        deleted += count
        if len(ids) < batch_size:
            break
    if deleted:
        metrics.retention_deleted.labels(what).inc(deleted)
    return deleted
