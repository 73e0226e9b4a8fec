"""The Celery application: `celery -A config.celery_app worker`.

With REDIS_URL set, Redis is the broker. Without it, kombu's filesystem transport under var/ is
the broker, so `make run` needs no server installed.
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
