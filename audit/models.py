"""The audit trail's one model. Rows are written by `audit.receivers` and never changed or deleted."""
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnly(Exception):
    """An attempt to change or delete a recorded audit entry."""


class UnicodeJSONEncoder(DjangoJSONEncoder):
    """Chinese text stored as itself, so the text filter finds 南京西路 in the changes on SQLite too."""

    def __init__(self, *args, **kwargs):
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("audit entries are never changed")

    def delete(self):
        raise AppendOnly("audit entries are never deleted")


class AuditEntry(models.Model):
    """One row created, changed or deleted: by whom, when, from which address, through which channel,
    and each changed field's old and new value. Append-only.

    `actor` keeps the user's id without a database constraint, so that a deleted user neither
    blocks nor rewrites the record; `actor_name` keeps the name as it was.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        CHANGE = "change", _("Changed")
        DELETE = "delete", _("Deleted")

    class Channel(models.TextChoices):
        REQUEST = "request", _("Web page")
        ADMIN = "admin", _("Administration")
        IMPORT = "import", _("Import")
        TASK = "task", _("Background task")
        COMMAND = "command", _("Command")

    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True,
                              on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    actor_name = models.CharField(_("user name"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=6, choices=Action.choices)
    model_label = models.CharField(_("record type"), max_length=100)
    object_id = models.CharField(_("record id"), max_length=64)
    object_repr = models.CharField(_("record"), max_length=200, blank=True)
    changes = models.JSONField(_("changed fields"), default=dict, blank=True, encoder=UnicodeJSONEncoder)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    path = models.CharField(_("request path, task or command"), max_length=255, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        indexes = [
            models.Index(fields=["at"]),
            models.Index(fields=["model_label", "object_id"]),
            models.Index(fields=["actor", "at"]),
        ]
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or '—'} {self.action} {self.model_label} #{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise AppendOnly("audit entries are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("audit entries are never deleted")
