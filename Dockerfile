# Production image: slim, non-root, daphne entry point (see bin/serve for its limits).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CSN_PRODUCTION=1 CSN_HOST=0.0.0.0 CSN_PORT=8000 PYTHON=python

WORKDIR /app
COPY requirements.txt requirements-otel.txt ./
# OpenTelemetry is optional (CSN_OTEL=1 turns it on): build with --build-arg WITH_OTEL=1 to include it.
ARG WITH_OTEL=0
RUN pip install -r requirements.txt \
 && if [ "$WITH_OTEL" = "1" ]; then pip install -r requirements-otel.txt; fi

COPY . .
# collectstatic needs settings to load; these placeholders exist only for this build step.
RUN SECRET_KEY=build-only-build-only-build-only-build-only-build-only \
    ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 REDIS_URL=redis://build:6379/0 \
    python manage.py collectstatic --noinput \
 && useradd --system --uid 10001 --home /app csn \
 && chown -R csn /app

USER csn
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["./bin/serve"]
