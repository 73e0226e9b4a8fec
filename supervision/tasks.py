"""Celery tasks of the supervision app (autodiscovered by config.celery_app)."""
from celery import shared_task

from . import similarity


@shared_task(name="supervision.index_similar", ignore_result=True, acks_late=True)
def index_similar(pks):
    """Score the suggestions saved in one transaction against the others, after it committed."""
    similarity.index_many(pks)


@shared_task(name="supervision.index_missing", ignore_result=True)
def index_missing():
    """Nightly: index what no worker indexed (a broker unreachable when the suggestions were saved)."""
    similarity.index_missing()
