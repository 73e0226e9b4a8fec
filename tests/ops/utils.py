"""Running manage.py and friends in a child process, with an environment of the test's choosing:
settings are read once per process, so production values can only be tried in a new one."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
BIN = Path(sys.executable).parent


def child_env(tmp_path, **values):
    """The current environment without the servers' URLs, with its own VAR_DIR and SQLite file;
    `values` override (None removes a variable)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG",
                                                             "PRODUCTION", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE")}
    env.update(VAR_DIR=str(tmp_path / "var"), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
               DJANGO_SETTINGS_MODULE="config.settings", PYTHONPATH=str(BASE_DIR))
    for key, value in values.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def production_env(tmp_path, **values):
    """What the image and .env.example give: PRODUCTION, DEBUG off, a random 50+ character key, a host name."""
    return child_env(tmp_path, **{"PRODUCTION": "1", "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50),
                                  "ALLOWED_HOSTS": "jianyi.test", **values})


def run(args, env, timeout=120, **kwargs):
    return subprocess.run(args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout, **kwargs)


def manage(*args, env, timeout=120):
    return run([sys.executable, "manage.py", *args], env=env, timeout=timeout)
