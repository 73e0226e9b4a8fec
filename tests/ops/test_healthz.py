"""/healthz: database and broker reachability, for anyone, in JSON, quickly, with nothing to leak."""
import json
import socket
import sys
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from tests.ops.utils import child_env, run

# Asks /healthz through Django's test client in a new process, so that settings come from the
# environment given, and reports the status, the body and the seconds the request took (the second
# one: the first also imports every view and middleware).
PROBE = """
import json, time, django
django.setup()
from django.test import Client
client = Client()
client.get("/healthz")
started = time.monotonic()
response = client.get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json(),
                  "seconds": time.monotonic() - started}))
"""


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthz_in_child(tmp_path, **env):
    result = run([sys.executable, "-c", PROBE], env=child_env(tmp_path, **env), timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_is_at_the_documented_path():
    assert reverse("healthz") == "/healthz"


@pytest.mark.django_db
def test_it_reports_database_and_broker_without_a_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_answers_head_but_refuses_changes(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_it_reports_an_unreachable_broker_within_seconds(tmp_path):
    answer = healthz_in_child(tmp_path, REDIS_URL=f"redis://127.0.0.1:{closed_port()}/8")
    assert answer["status"] == 503
    assert answer["body"] == {"database": "ok", "broker": "unavailable"}
    assert answer["seconds"] < 5


def test_it_reports_an_unreachable_database_without_an_error_page(tmp_path):
    answer = healthz_in_child(tmp_path, DATABASE_URL=f"postgres://nobody:secret@127.0.0.1:{closed_port()}/nothing")
    assert answer["status"] == 503
    # Only the verdicts: no host, port, version or error text in the answer.
    assert answer["body"] == {"database": "unavailable", "broker": "ok"}


def test_it_reaches_a_real_redis(require_redis, tmp_path):
    url = urlsplit(require_redis)._replace(path="/8").geturl()
    answer = healthz_in_child(tmp_path, REDIS_URL=url)
    assert answer["status"] == 200
    assert answer["body"] == {"database": "ok", "broker": "ok"}
