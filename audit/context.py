"""Who is acting, from which address and through which channel, for the current unit of work.

A context variable holds it: the middleware sets it for a request, the Celery signals for a task,
and code that writes on someone's behalf (an import run for a user) can say so with `acting()`.
Outside all of these the process itself is the channel: a management command, named from argv.
"""
import contextlib
import contextvars
import ipaddress
import os
import sys
from dataclasses import dataclass

from django.conf import settings

REQUEST, ADMIN, IMPORT, TASK, COMMAND = "request", "admin", "import", "task", "command"


@dataclass(frozen=True)
class Actor:
    """The current unit of work: a request (the user is read lazily: login changes it), a task, a command."""

    channel: str
    path: str = ""
    ip: str | None = None
    request: object = None
    user: object = None

    def current_user(self):
        user = self.user
        if user is None and self.request is not None:
            user = getattr(self.request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        return user


_current = contextvars.ContextVar("audit_actor", default=None)


def _process_default():
    """The channel when no request or task is running: the command this process was started for."""
    argv = sys.argv or [""]
    program = os.path.basename(argv[0])
    if program in ("manage.py", "django-admin") and len(argv) > 1:
        name = argv[1]
        return Actor(channel=IMPORT if name.startswith("import") else COMMAND, path=name)
    return Actor(channel=COMMAND, path=program)


def current():
    return _current.get() or _process_default()


@contextlib.contextmanager
def acting(*, channel, path="", user=None, ip=None, request=None):
    """Attribute the writes inside to `user` through `channel` (e.g. an import run for a user)."""
    token = _current.set(Actor(channel=channel, path=path[:255], ip=ip, request=request, user=user))
    try:
        yield
    finally:
        _current.reset(token)


def _valid_ip(value):
    try:
        return str(ipaddress.ip_address(value.strip()))
    except (ValueError, AttributeError):
        return None


def client_ip(request):
    """The client's address: REMOTE_ADDR, or the X-Forwarded-For entry written by the first of
    `TRUSTED_PROXY_COUNT` proxies of ours. With no trusted proxy the header is ignored, since any
    client can send it; the entries left of ours are ignored too, for the same reason.

    Also django-axes' `AXES_CLIENT_IP_CALLABLE`, so that throttling and the trail agree.
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [h for h in (p.strip() for p in forwarded.split(",")) if h]
        if len(hops) >= proxies:
            return _valid_ip(hops[-proxies]) or remote
    return remote


def attempted_username(request, credentials=None):
    """The user name a login attempt gave, as django-axes records it (`AXES_USERNAME_CALLABLE`): cut to
    the longest user name there can be, since axes keeps it in a column of 255 characters and a
    longer one (no account has it) would fail the request instead of counting as a failure."""
    from django.contrib.auth import get_user_model

    source = credentials if credentials else getattr(request, "POST", {})
    name = source.get("username") if source else None
    longest = get_user_model()._meta.get_field("username").max_length
    return name[:longest] if isinstance(name, str) else name
