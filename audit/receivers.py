"""Signal receivers writing the audit trail for the models of `settings.AUDITED_APPS`.

Receivers are connected per model (not to every sender), so models outside the trail keep
Django's fast paths, e.g. a bulk delete of sessions. What the trail does not see, by design:
`bulk_create`, `QuerySet.update()` and `QuerySet.delete()` of a fast-deletable model fire no
signal; the product's own changes go through `suggestions.workflow`, which saves row by row or, for
the new rows of an imported list, writes their entries itself with `record_created`, and the other
bulk paths (`seed_bench`, notifications) are data that is either synthetic or not the product's
record. An entry is written in the same transaction as the change: a rolled-back change leaves none.
"""
import datetime as dt
import decimal
import functools
import uuid

from django.apps import apps
from django.conf import settings
from django.db import connections, models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.utils import timezone

from . import context
from .models import AuditEntry

# Always out: sessions change on every request, and the trail does not record itself.
ALWAYS_SKIPPED = {"sessions.session", "audit.auditentry"}
# Out by default: the workflow's own append-only timeline (each of its lines follows a change
# that is recorded here) and per-user notices that are not the product's record.
DEFAULT_SKIPPED = {"suggestions.event", "suggestions.notification"}
# Fields whose change alone is noise, not a change of the record.
IGNORED_FIELDS = {"auth.user": {"last_login"}, "suggestions.importjob": {"processed_rows"},
                  "suggestions.exportjob": {"processed_rows"}}
# Values never written to the trail, only the fact that they changed.
SECRET_FIELDS = {"password"}
REDACTED = "***"
MAX_VALUE_CHARS = 20000


def audited_models():
    """The models whose rows are recorded, auto-created many-to-many tables included."""
    skipped = ALWAYS_SKIPPED | set(getattr(settings, "AUDIT_SKIPPED_MODELS", DEFAULT_SKIPPED))
    found = []
    for label in getattr(settings, "AUDITED_APPS", []):
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue  # an app named before it exists (settings are shared by apps still being built)
        found += [m for m in config.get_models(include_auto_created=True) if m._meta.label_lower not in skipped]
    return found


@functools.cache
def _fields(model):
    """The fields the trail compares; timestamps Django sets itself say no more than the entry's time."""
    ignored = IGNORED_FIELDS.get(model._meta.label_lower, set())
    return tuple(f for f in model._meta.concrete_fields
                 if f.name not in ignored and not f.primary_key
                 and not getattr(f, "auto_now", False) and not getattr(f, "auto_now_add", False))


def _plain(value):
    """A JSON-ready, comparable form of a field value."""
    if value is None or isinstance(value, bool | int | float | str):
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            return value[:MAX_VALUE_CHARS] + "…"
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    if isinstance(value, dict | list):
        return value
    return str(value)


def _values(instance, fields):
    return {f.attname: _plain(f.value_from_object(instance)) for f in fields}


def _shown(name, value):
    return REDACTED if name in SECRET_FIELDS and value not in (None, "") else value


# The trail writes one row per change and reads the stored values before each update: on an
# import of 10,000 suggestions that is tens of thousands of statements. Through the ORM each costs
# about 0.4–0.9 ms of Python on top of the database's own work; compiled once and run directly,
# about 0.05 ms. What is cached is only the SQL text and the value converters Django itself uses,
# on the connection object (one per thread and alias) they were compiled for.
_INSERT_FIELDS = ("at", "actor", "actor_name", "ip_address", "action", "model_label", "object_id", "object_repr",
                  "changes", "channel", "path")
_INSERTS = {}


def _stored_row(model, fields, pk, using):
    """The stored values of `fields` of row `pk`, converted as the ORM would; None when it is gone."""
    connection = connections[using]
    cache = connection.__dict__.setdefault("_audit_selects", {})
    key = (model, tuple(f.attname for f in fields))
    prepared = cache.get(key)
    if prepared is None:
        qs = model._base_manager.using(using).filter(pk=pk).order_by().values_list(*key[1])
        compiler = qs.query.get_compiler(using)
        sql, _params = compiler.as_sql()
        converters = compiler.get_converters([expression for expression, _sql, _alias in compiler.select])
        prepared = cache[key] = (sql, compiler, converters)
    sql, compiler, converters = prepared
    param = model._meta.pk.get_db_prep_value(model._meta.pk.get_prep_value(pk), connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [param])
        row = cursor.fetchone()
    if row is None:
        return None
    if converters:
        row = next(iter(compiler.apply_converters([row], converters)))
    return dict(zip(key[1], row, strict=True))


def _insert(using, **values):
    connection = connections[using]
    sql = _INSERTS.get(using)
    fields = [AuditEntry._meta.get_field(name) for name in _INSERT_FIELDS]
    if sql is None:
        table = connection.ops.quote_name(AuditEntry._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        sql = _INSERTS[using] = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    params = [f.get_db_prep_save(values[f.attname], connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _entry_values(instance, action, changes):
    actor = context.current()
    user = actor.current_user()
    return dict(at=timezone.now(), actor_id=user.pk if user else None,
                actor_name=user.get_username() if user else "", ip_address=actor.ip, action=action,
                model_label=instance._meta.label_lower, object_id=str(instance.pk)[:64], object_repr=_repr(instance),
                changes=changes, channel=actor.channel, path=actor.path[:255])


def _write(instance, action, changes, using):
    _insert(using, **_entry_values(instance, action, changes))


def _created(instance):
    """The changes of a new row: every field that has a value."""
    new = _values(instance, _fields(type(instance)))
    return {k: {"old": None, "new": _shown(k, v)} for k, v in new.items() if v not in (None, "")}


def record_created(instances, links=None, using="default"):
    """The "create" entries of rows written with bulk_create, which fires no signal: the same entry
    `record_save` writes for each, in one INSERT. `links`: {instance: {field: [linked pks]}}, the
    many-to-many links the rows were created with, shown as part of their creation."""
    links = links or {}
    entries = []
    for instance in instances:
        changes = _created(instance)
        for name, pks in links.get(instance, {}).items():
            if pks:
                changes[name] = {"old": None, "new": sorted(pks)}
        entries.append(AuditEntry(**_entry_values(instance, AuditEntry.Action.CREATE, changes)))
    AuditEntry.objects.using(using).bulk_create(entries, batch_size=1000)


def _repr(instance):
    try:
        return str(instance)[:200]
    except Exception:  # a __str__ that needs a deleted relation must not block the change itself
        return f"{instance._meta.label} #{instance.pk}"


def remember_old_values(sender, instance, raw=False, update_fields=None, **kwargs):
    """pre_save: the stored values of the fields being saved, to diff against after the save."""
    instance._audit_old = None
    if raw or instance._state.adding or instance.pk is None:
        return
    fields = _fields(sender)
    if update_fields is not None:
        fields = [f for f in fields if f.name in update_fields or f.attname in update_fields]
        if not fields:
            return
    row = _stored_row(sender, fields, instance.pk, kwargs.get("using") or instance._state.db or "default")
    if row is not None:
        instance._audit_old = ({f.attname: _plain(row[f.attname]) for f in fields}, fields)


def record_save(sender, instance, created, raw=False, using="default", **kwargs):
    if raw:
        return  # fixtures loading: not a change made by anyone
    if created:
        _write(instance, AuditEntry.Action.CREATE, _created(instance), using)
        return
    remembered = getattr(instance, "_audit_old", None)
    instance._audit_old = None
    if remembered is None:
        return
    old, fields = remembered
    new = _values(instance, fields)
    changes = {k: {"old": _shown(k, old[k]), "new": _shown(k, new[k])} for k in new if old[k] != new[k]}
    if changes:
        _write(instance, AuditEntry.Action.CHANGE, changes, using)


def record_delete(sender, instance, using="default", **kwargs):
    old = _values(instance, _fields(sender))
    _write(instance, AuditEntry.Action.DELETE,
           {k: {"old": _shown(k, v), "new": None} for k, v in old.items() if v not in (None, "")}, using)


def _m2m_field_name(sender, instance):
    """The name of the many-to-many field (or reverse accessor) of `instance` stored in `sender`."""
    for field in instance._meta.get_fields():
        if not field.many_to_many:
            continue
        if field.concrete and field.remote_field.through is sender:
            return field.name
        if not field.concrete and getattr(field, "through", None) is sender:
            return field.get_accessor_name()
    return "related"


def record_m2m(sender, instance, action, model, pk_set, using="default", **kwargs):
    """Links added or removed (co-signing deputies, a user's groups) as a change of the owner's field."""
    if action == "pre_clear":
        instance._audit_m2m_before = _linked(sender, instance, model)
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    after = _linked(sender, instance, model)
    if action == "post_add":
        before = sorted(set(after) - set(pk_set or ()))
    elif action == "post_remove":
        before = sorted(set(after) | set(pk_set or ()))
    else:
        before = getattr(instance, "_audit_m2m_before", [])
    if before != after:
        _write(instance, AuditEntry.Action.CHANGE,
               {_m2m_field_name(sender, instance): {"old": before, "new": after}}, using)


def _linked(sender, instance, model):
    """The primary keys linked to `instance` through the `sender` table, read from that table."""
    own, other = None, None
    for f in sender._meta.concrete_fields:
        if not f.is_relation:
            continue
        if f.related_model is type(instance) and own is None:
            own = f
        elif f.related_model is model:
            other = f
    if own is None or other is None:
        return []
    return sorted(sender._base_manager.filter(**{own.attname: instance.pk}).values_list(other.attname, flat=True))


def connect():
    """Connect the receivers to each audited model; called once from AuditConfig.ready()."""
    for model in audited_models():
        uid = f"audit:{model._meta.label_lower}"
        m2m_changed.connect(record_m2m, sender=model, dispatch_uid=uid)  # fires only for link tables
        if model._meta.auto_created:
            continue
        pre_save.connect(remember_old_values, sender=model, dispatch_uid=uid)
        post_save.connect(record_save, sender=model, dispatch_uid=uid)
        post_delete.connect(record_delete, sender=model, dispatch_uid=uid)
