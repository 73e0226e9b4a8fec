"""The browser journeys' world: a real server with the demo district, and Debian's chromium.

The server is `manage.py runserver` in a child process on port 8021, on its own SQLite file in a
temporary folder (migrated and seeded with `seed_demo` once), so that the journeys see what people
see: real HTTP, real sessions and CSRF, a database other processes (`send_reminders`) can share.
Everything here is package-scoped: the server is stopped and Playwright's event loop closed as soon
as the last browser test has run, before the rest of the suite uses the ORM again.

Chromium is the system's (`apt-get install chromium fonts-wqy-microhei`), never a download of
Playwright's own: without it the journeys skip, except under REQUIRE_SERVICES=1 (CI), where they fail.
"""
import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from .pages import DESKTOP, SCREENSHOTS, saved_screenshots, screenshot, watch

BASE_DIR = Path(settings.BASE_DIR)
PORT = 8021
BASE_URL = f"http://127.0.0.1:{PORT}"
PASSWORD = "demo-pass-2025"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
INSTALL_HINT = "apt-get install chromium fonts-wqy-microhei"
# Variables of the calling environment that would point the server elsewhere (CI's PostgreSQL and Redis).
NOT_INHERITED = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "PRODUCTION", "ALLOWED_HOSTS",
                 "DJANGO_SETTINGS_MODULE", "MEDIA_ROOT", "EMAIL_HOST", "EMAIL_URL", "SITE_URL",
                 "CELERY_TASK_ALWAYS_EAGER")

def _unavailable(message):
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="package")
def chromium():
    """The path of Debian's chromium, and Playwright importable."""
    path = shutil.which("chromium")
    if not path:
        _unavailable(f"chromium is not installed: {INSTALL_HINT}")
    # Without a CJK font the pages' Chinese renders as empty boxes, and the screenshots show nothing.
    if shutil.which("fc-list"):
        fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
        if not fonts.strip():
            _unavailable(f"no Chinese font is installed: {INSTALL_HINT}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("playwright is not installed: pip install -r requirements.txt")
    return path


# --- the server --------------------------------------------------------------------------------

class DemoServer:
    """The running server and its database, for the journeys' checks and commands."""

    def __init__(self, folder):
        self.folder = folder
        self.db_path = folder / "db.sqlite3"
        self.env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
        self.env.update(VAR_DIR=str(folder / "var"), DATABASE_URL=f"sqlite:///{self.db_path}", DEBUG="1",
                        DJANGO_SETTINGS_MODULE="config.settings", SITE_URL=BASE_URL, PYTHONUNBUFFERED="1",
                        # No worker runs beside this server: a task sent in a request runs in it.
                        CELERY_TASK_ALWAYS_EAGER="1")
        self.process = None
        self.log = folder / "server.log"
        self.log_file = None

    def url(self, path):
        return BASE_URL + path

    def manage(self, *args, timeout=180):
        """Run a management command against the server's database; its output, failing loudly."""
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=self.env,
                                capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def query(self, sql, params=()):
        """Rows of a read-only query on the server's database (this process's ORM is on the test database)."""
        with contextlib.closing(sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=20)) as db:
            return db.execute(sql, params).fetchall()

    def start(self):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", PORT), timeout=1):
            pytest.fail(f"port {PORT} is already in use: the browser journeys need it for their server")
        self.log_file = open(self.log, "w")  # noqa: SIM115  (the child writes to it until stop())
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
            cwd=BASE_DIR, env=self.env, stdout=self.log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url("/accounts/login/"), timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        pytest.fail(f"the server did not start on port {PORT}:\n{self.log_tail()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log_file:
            self.log_file.close()
            self.log_file = None

    def log_tail(self, lines=60):
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""


@pytest.fixture(scope="package")
def server(chromium, tmp_path_factory):
    """migrate, seed_demo, runserver: once for all the journeys."""
    s = DemoServer(tmp_path_factory.mktemp("browser"))
    s.manage("migrate", "--noinput", "-v0")
    s.manage("seed_demo")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    s.start()
    yield s
    s.stop()


# --- the browser -------------------------------------------------------------------------------

@pytest.fixture(scope="package")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="package")
def _sessions():
    """Each role's cookies after one login, so that a journey does not pay a password hash per page."""
    return {}


@pytest.fixture
def open_page(server, browser, _sessions, request):
    """open_page(role=None, viewport=DESKTOP): a new page in Chinese, logged in as `role` (a demo user)."""
    contexts = []

    def open_(role=None, viewport=DESKTOP):
        if role and role not in _sessions:
            context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=DESKTOP)
            page = context.new_page()
            page.goto(server.url("/accounts/login/"))
            page.fill("#id_username", role)
            page.fill("#id_password", PASSWORD)
            with page.expect_navigation():
                page.click("form button.primary")
            assert "/accounts/login/" not in page.url, f"{role} could not log in"
            _sessions[role] = context.storage_state()
            context.close()
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport,
                                      storage_state=_sessions.get(role), accept_downloads=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return watch(context.new_page())

    yield open_
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        print(f"--- the server's log ({server.log}), last lines ---\n{server.log_tail()}")
    for n, context in enumerate(contexts):
        if failed:
            for m, page in enumerate(context.pages):
                with contextlib.suppress(Exception):
                    screenshot(page, f"FAILED-{request.node.name}-{n}-{m}")
        context.close()


# --- reporting ---------------------------------------------------------------------------------

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_terminal_summary(terminalreporter):
    if saved_screenshots:
        terminalreporter.write_line(f"screenshots: {SCREENSHOTS.resolve()}")
