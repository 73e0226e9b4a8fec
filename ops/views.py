"""/healthz: is this process able to serve? Database and broker reachability, nothing else.

No login (load balancers and the container runtime ask it), and nothing that helps an attacker:
no versions, host names or error texts in the answer; the reason for a failure goes to the log.
"""
import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.celery_app import app as celery_app

logger = logging.getLogger(__name__)

OK = "ok"
UNAVAILABLE = "unavailable"


def database_status():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        # Any failure, not only DatabaseError: a probe must answer 503, never 500.
        logger.warning("healthz: database unavailable", exc_info=True)
        return UNAVAILABLE
    return OK


def broker_status():
    try:
        # No retry: the broker's own connect timeout (CELERY_BROKER_TRANSPORT_OPTIONS) bounds the
        # wait, so a dead broker costs a probe seconds, not the minutes of Celery's retry policy.
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0)
    except Exception:
        logger.warning("healthz: broker unavailable", exc_info=True)
        return UNAVAILABLE
    return OK


@never_cache
@require_safe
def healthz(request):
    checks = {"database": database_status(), "broker": broker_status()}
    healthy = all(value == OK for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)
