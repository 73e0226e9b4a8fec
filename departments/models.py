"""Reference data about who handles suggestions: streets/towns, departments and memberships."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Street(models.Model):
    """A street (街道) or town (镇) of the district: where a suggestion's matter lies."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("street or town")
        verbose_name_plural = _("streets and towns")

    def __str__(self):
        return self.name


class Department(models.Model):
    """A handling unit: a government body (委办局) or a street/town office."""

    class Kind(models.TextChoices):
        BODY = "body", _("Government body")
        STREET = "street", _("Street or town office")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.BODY)
    street = models.OneToOneField(
        Street, verbose_name=_("street or town"), null=True, blank=True, on_delete=models.PROTECT
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A user's place in a department: a case officer (handler) or a leader who signs replies."""

    class Role(models.TextChoices):
        HANDLER = "handler", _("Case officer")
        LEADER = "leader", _("Department leader")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.HANDLER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "department"], name="one_membership_per_department")]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self):
        return f"{self.user} @ {self.department} ({self.get_role_display()})"
