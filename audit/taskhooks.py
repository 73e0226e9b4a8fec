"""Celery tasks write to the trail as channel "task" (or "import" for an import task), named by the task.

A task that acts for a user (an import started by the office) can say so inside with
`audit.context.acting(channel=..., user=...)`.
"""
from . import context

_tokens = {}


def _started(task_id=None, task=None, **kwargs):
    name = getattr(task, "name", "") or ""
    channel = context.IMPORT if "import" in name.rsplit(".", 1)[-1] else context.TASK
    outer = context._current.get()  # an eager task run inside a request keeps that request's user
    user, ip = (outer.current_user(), outer.ip) if outer else (None, None)
    _tokens[task_id] = context._current.set(context.Actor(channel=channel, path=name[:255], user=user, ip=ip))


def _finished(task_id=None, **kwargs):
    token = _tokens.pop(task_id, None)
    if token is not None:
        try:
            context._current.reset(token)
        except ValueError:  # finished in another context than it started: nothing left to undo there
            pass


def connect():
    try:
        from celery.signals import task_postrun, task_prerun
    except ImportError:  # pragma: no cover - celery is a dependency; the trail works without it
        return
    task_prerun.connect(_started, dispatch_uid="audit-task-started", weak=False)
    task_postrun.connect(_finished, dispatch_uid="audit-task-finished", weak=False)
