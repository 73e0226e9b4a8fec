# The production image. One image runs every Python service of docker-compose.yml: gunicorn (web),
# the Celery worker and beat, and the one-shot migrate. Static files are collected here, at build
# time, and served by whitenoise; translations are compiled here too.
FROM python:3.11-slim

# pg_dump/pg_restore (manage.py backup/restore) must match the server's major version
# (docker-compose.yml runs postgres:16), and Debian ships another one: take PostgreSQL's own.
ARG PG_MAJOR=16

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    PRODUCTION=1 \
    VAR_DIR=/app/var

RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl gettext; \
    install -d /usr/share/postgresql-common/pgdg; \
    curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
        https://www.postgresql.org/media/keys/ACCC4CF8.asc; \
    . /etc/os-release; \
    echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" \
        > /etc/apt/sources.list.d/pgdg.list; \
    apt-get update; \
    apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}"; \
    apt-get purge -y --auto-remove curl; \
    rm -rf /var/lib/apt/lists/*; \
    groupadd --system app; \
    useradd --system --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .
# The key below exists only for these build steps (settings refuse to load without one when DEBUG
# is off); it is not kept in the image. The real one comes from .env at run time.
RUN set -eux; \
    export SECRET_KEY=build-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz; \
    python manage.py collectstatic --noinput --verbosity 0; \
    python manage.py compilemessages --verbosity 0; \
    mkdir -p var/media; \
    chown -R app:app var

USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
