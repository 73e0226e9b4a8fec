"""Who may see and change what, decided once, as query filters.

Every list, detail, form, download and report starts from `suggestions(user)` or
`assignments(user)`. A row outside the scope is 404; a row inside it that the user may only read
is 403 (see `suggestions.views`). Office roles are Django groups named by the codes below, so the
administrator grants them in the admin; department roles are `Membership` rows.
"""
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.lookups import Overlap
from django.db import connections
from django.db.models import BigIntegerField, Exists, Expression, OuterRef, Q, Value

COORDINATOR = "coordinator"
LIAISON = "liaison"
OFFICE_GROUPS = (COORDINATOR, LIAISON)


@dataclass(frozen=True)
class Access:
    """What one user is, computed once per request and kept on the user object."""

    authenticated: bool = False
    coordinator: bool = False
    liaison: bool = False
    department_ids: frozenset = field(default_factory=frozenset)
    leader_department_ids: frozenset = field(default_factory=frozenset)
    deputy_id: int | None = None

    @property
    def sees_everything(self):
        return self.coordinator or self.liaison

    @property
    def is_department_user(self):
        return bool(self.department_ids)

    @property
    def role(self):
        """The main role code, for dashboards and the header."""
        if self.coordinator:
            return COORDINATOR
        if self.liaison:
            return LIAISON
        if self.leader_department_ids:
            return "leader"
        if self.department_ids:
            return "handler"
        if self.deputy_id:
            return "deputy"
        return "none"


def access(user):
    if user is None or not user.is_authenticated:
        return Access()
    cached = getattr(user, "_access", None)
    if cached is not None:
        return cached
    groups = set(user.groups.values_list("name", flat=True))
    memberships = list(user.memberships.values_list("department_id", "role"))
    deputy = apps.get_model("suggestions", "Deputy").objects.filter(user=user).values_list("pk", flat=True).first()
    result = Access(
        authenticated=True,
        coordinator=user.is_superuser or COORDINATOR in groups,
        liaison=LIAISON in groups,
        department_ids=frozenset(d for d, _ in memberships),
        leader_department_ids=frozenset(d for d, r in memberships if r == "leader"),
        deputy_id=deputy,
    )
    user._access = result
    return result


def suggestions(user, queryset=None):
    """The suggestions this user may see."""
    Suggestion = apps.get_model("suggestions", "Suggestion")
    qs = Suggestion.objects.all() if queryset is None else queryset
    a = access(user)
    if not a.authenticated:
        return qs.none()
    if a.sees_everything:
        return qs
    condition = Q(pk__in=[])
    if a.department_ids:
        condition |= _of_departments(qs, a.department_ids)
    if a.deputy_id:
        condition |= Q(lead_deputy_id=a.deputy_id) | Q(
            Exists(Suggestion.co_deputies.through.objects.filter(suggestion=OuterRef("pk"), deputy=a.deputy_id))
        )
    return qs.filter(condition)


class DepartmentIds(Expression):
    """PostgreSQL: the departments of a suggestion's assignments, a GIN-indexed column that triggers
    keep (migration suggestions 0007) and the model does not declare."""

    output_field = ArrayField(BigIntegerField())

    def as_sql(self, compiler, connection):
        return f"{compiler.quote_name_unless_alias(compiler.query.get_initial_alias())}.department_ids", []


def _of_departments(qs, department_ids):
    """The suggestions that any of these departments has (or had) an assignment of."""
    if connections[qs.db].vendor == "postgresql":
        return Q(Overlap(DepartmentIds(), Value(sorted(department_ids), output_field=DepartmentIds.output_field)))
    Assignment = apps.get_model("suggestions", "Assignment")
    return Q(Exists(Assignment.objects.filter(suggestion=OuterRef("pk"), department_id__in=department_ids)))


def assignments(user, queryset=None):
    """The assignments this user may see: all for the office, their departments' otherwise."""
    Assignment = apps.get_model("suggestions", "Assignment")
    qs = Assignment.objects.all() if queryset is None else queryset
    a = access(user)
    if not a.authenticated:
        return qs.none()
    if a.sees_everything:
        return qs
    return qs.filter(department_id__in=a.department_ids)


def departments(user):
    """The departments whose figures this user may see in reports."""
    Department = apps.get_model("departments", "Department")
    a = access(user)
    if a.sees_everything:
        return Department.objects.all()
    return Department.objects.filter(pk__in=a.department_ids)


def can_handle(user, assignment):
    """A handler or leader of the assignment's department may record its work."""
    return assignment.department_id in access(user).department_ids


def can_sign(user, assignment):
    """Only a leader of the department approves and signs its reply."""
    return assignment.department_id in access(user).leader_department_ids


def is_coordinator(user):
    return access(user).coordinator


def can_record_feedback(user, suggestion):
    a = access(user)
    return a.coordinator or a.liaison or (a.deputy_id is not None and suggestion.lead_deputy_id == a.deputy_id)
