"""OpenTelemetry tracing: off by default, on with `CSN_OTEL=1` (and requirements-otel.txt installed).

Spans of Django requests, psycopg queries, Redis commands and Celery tasks (the instrumentations
OpenTelemetry maintains), exported by OTLP over HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT`; the SDK reads its
usual environment (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, ...).
Called by the web server (csn/asgi.py) and by each Celery worker process (csn/celery.py).
"""

import logging

from django.conf import settings

logger = logging.getLogger(__name__)

_done = False


def setup(*, celery: bool = False, exporter=None) -> bool:
    """Install the tracer provider and the instrumentations once per process; True when tracing is on.
    `exporter` replaces the OTLP exporter (tests give an in-memory one)."""
    global _done
    if _done or not settings.OTEL_ENABLED:
        return _done
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.django import DjangoInstrumentor
        from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
        from opentelemetry.instrumentation.redis import RedisInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        logger.error("CSN_OTEL=1 but OpenTelemetry is not installed (pip install -r requirements-otel.txt)")
        return False
    provider = TracerProvider(resource=Resource.create({"service.name": "csn"}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()
    PsycopgInstrumentor().instrument(enable_commenter=False)
    RedisInstrumentor().instrument()
    if celery:
        from opentelemetry.instrumentation.celery import CeleryInstrumentor

        CeleryInstrumentor().instrument()
    _done = True
    logger.info("OpenTelemetry tracing on")
    return True
