"""The web container's command, run for real: gunicorn from docker-compose.yml with production
settings and the static files collected as the Dockerfile collects them, on this helper's port.
What a person behind the TLS proxy gets: the redirect to HTTPS, the security headers, hashed
static files from whitenoise, and the health probe the container runs."""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from urllib.parse import urlencode

import pytest
from django.conf import settings
from ruamel.yaml import YAML

from tests.ops.test_compose import argv, dockerfile_instructions
from tests.ops.utils import BASE_DIR, BIN, manage, production_env, run

PORT = 8018
HOST = "jianyi.test"


USER, PASSWORD = "opsadmin", "Ops-pass-2025-long"
SETUP = f"""
import django
django.setup()
from django.contrib.auth.models import User
User.objects.create_user({USER!r}, password={PASSWORD!r})
"""


def build_key():
    """The throw-away SECRET_KEY the Dockerfile's build step exports."""
    runs = " ".join(arguments for instruction, arguments in dockerfile_instructions() if instruction == "RUN")
    return re.search(r"export SECRET_KEY=(\S+?);", runs).group(1)


def request(path, headers=None, form=None):
    """GET `path` (POST `form`, URL-encoded) as the proxy would pass it; no redirect is followed."""
    headers = {"Host": HOST, **(headers or {})}
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    try:
        connection.request("GET" if form is None else "POST", path, body=form, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, migrated_sqlite):
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    shutil.copyfile(migrated_sqlite, tmp_path / "db.sqlite3")
    env = production_env(tmp_path, ALLOWED_HOSTS=HOST, WEB_CONCURRENCY="1")
    collected = manage("collectstatic", "--noinput", "-v0", env={**env, "SECRET_KEY": build_key()})
    assert collected.returncode == 0, collected.stderr
    prepared = run([sys.executable, "-c", SETUP], env=env)
    assert prepared.returncode == 0, prepared.stderr

    services = YAML(typ="safe").load((BASE_DIR / "docker-compose.yml").read_text())["services"]
    command = [f"127.0.0.1:{PORT}" if word == "0.0.0.0:8000" else word for word in argv(services["web"]["command"])]
    command[0] = str(BIN / command[0])
    process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL,
                               stderr=open(tmp_path / "gunicorn.log", "w"), start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                request("/healthz")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start:\n" + (tmp_path / "gunicorn.log").read_text())
                time.sleep(0.2)
        yield env
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_it_answers_the_containers_health_probe(server):
    result = run([sys.executable, "-m", "ops.probe", "--port", str(PORT)], env=server, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    status, headers, body = request("/healthz")
    assert status == 200 and json.loads(body) == {"database": "ok", "broker": "ok"}
    assert not re.search(r"\d", headers.get("Server", "")), "the Server header must not carry a version"


def test_it_sends_plain_http_to_https(server):
    status, headers, _ = request("/accounts/login/")
    assert status == 301
    assert headers["Location"] == f"https://{HOST}/accounts/login/"


def test_it_refuses_a_host_it_does_not_serve(server):
    status, _, _ = request("/accounts/login/", {"Host": "attacker.example", "X-Forwarded-Proto": "https"})
    assert status == 400


def test_it_hardens_every_page_behind_the_proxy(server):
    status, headers, body = request("/accounts/login/", {"X-Forwarded-Proto": "https"})
    assert status == 200
    hsts = headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts and "preload" in hsts
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    cookies = headers.get_all("Set-Cookie")
    csrf = next(cookie for cookie in cookies if cookie.startswith("csrftoken="))
    assert "Secure" in csrf and "HttpOnly" in csrf
    assert b"csrfmiddlewaretoken" in body


def test_it_logs_in_with_secure_http_only_session_cookies(server):
    https = {"X-Forwarded-Proto": "https"}
    _, headers, body = request("/accounts/login/", https)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    csrf_cookie = next(c for c in headers.get_all("Set-Cookie") if c.startswith("csrftoken=")).split(";")[0]
    status, headers, _ = request("/accounts/login/", {
        **https, "Cookie": csrf_cookie, "Origin": f"https://{HOST}", "Referer": f"https://{HOST}/accounts/login/",
    }, form=urlencode({"username": USER, "password": PASSWORD, "csrfmiddlewaretoken": token}))
    assert status == 302
    session = next(c for c in headers.get_all("Set-Cookie") if c.startswith("sessionid="))
    assert "Secure" in session and "HttpOnly" in session


def test_it_serves_hashed_static_files_from_the_image(server):
    _, _, body = request("/accounts/login/", {"X-Forwarded-Proto": "https"})
    stylesheet = re.search(rb'href="(/static/css/app\.[0-9a-f]{12}\.css)"', body)
    assert stylesheet, "the page must link the hashed stylesheet collected at build time"
    status, headers, css = request(stylesheet.group(1).decode(), {"X-Forwarded-Proto": "https"})
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert "immutable" in headers["Cache-Control"]
    assert css == (BASE_DIR / "static" / "css" / "app.css").read_bytes()
