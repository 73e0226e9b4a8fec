"""The audit trail records every change with who, when, where from and what, and is never rewritten."""
import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.db import transaction
from django.urls import reverse

from audit import context
from audit.models import AppendOnly, AuditEntry
from suggestions import workflow
from suggestions.models import Category, Suggestion
from tests.base import PASSWORD


def entries(obj, **filters):
    return AuditEntry.objects.filter(model_label=obj._meta.label_lower, object_id=str(obj.pk),
                                     **filters).order_by("pk")


def test_it_records_a_step_taken_on_a_page_with_user_address_path_and_values(client, people):
    s = people.assigned()
    a = s.assignments.get()
    client.force_login(people.handler)
    url = reverse("suggestions:assignment_step", args=[a.pk, "accept"])
    assert client.post(url, REMOTE_ADDR="10.20.30.40").status_code == 302
    e = entries(a, action="change").get()
    assert (e.actor, e.actor_name, e.ip_address) == (people.handler, "handler", "10.20.30.40")
    assert (e.channel, e.path) == ("request", url)
    assert e.changes["state"] == {"old": "pending", "new": "handling"}
    assert e.changes["version"] == {"old": a.version, "new": a.version + 1}
    assert "accepted_at" in e.changes and e.changes["accepted_at"]["old"] is None
    # the suggestion's derived state changed in the same step, and is recorded with the same request
    s_entry = entries(s, action="change").last()
    assert s_entry.changes["state"] == {"old": "assigned", "new": "handling"} and s_entry.path == url


def test_it_records_creation_with_every_value_and_deletion_with_the_last_ones(client, people):
    people.office.is_staff = people.office.is_superuser = True
    people.office.save()
    client.force_login(people.office)
    r = client.post(reverse("admin:suggestions_category_add"), {"name": "美丽家园", "order": 3})
    assert r.status_code == 302
    c = Category.objects.get(name="美丽家园")
    created = entries(c, action="create").get()
    assert created.changes == {"name": {"old": None, "new": "美丽家园"}, "order": {"old": None, "new": 3}}
    assert (created.channel, created.actor) == ("admin", people.office)
    r = client.post(reverse("admin:suggestions_category_delete", args=[c.pk]), {"post": "yes"})
    assert r.status_code == 302 and not Category.objects.filter(pk=c.pk).exists()
    deleted = AuditEntry.objects.get(model_label="suggestions.category", object_id=str(c.pk), action="delete")
    assert deleted.changes["name"] == {"old": "美丽家园", "new": None}
    assert deleted.object_repr == "美丽家园" and deleted.actor_name == "office"


def test_it_records_links_added_and_removed_as_a_change_of_the_owner(people):
    s = people.suggestion()
    other = people.deputy.__class__.objects.create(name="李代表")
    s.co_deputies.add(people.deputy, other)
    s.co_deputies.remove(people.deputy)
    people.handler.groups.add(Group.objects.create(name="reviewers"))
    changes = [e.changes["co_deputies"] for e in entries(s, action="change") if "co_deputies" in e.changes]
    assert changes == [{"old": [], "new": sorted([people.deputy.pk, other.pk])},
                       {"old": sorted([people.deputy.pk, other.pk]), "new": [other.pk]}]
    assert entries(people.handler, action="change").last().changes["groups"]["new"] == [
        Group.objects.get(name="reviewers").pk]


def test_it_never_writes_a_password_hash_and_ignores_a_mere_login(client, people):
    before = AuditEntry.objects.count()
    assert client.login(username="handler", password=PASSWORD)  # updates last_login only
    assert AuditEntry.objects.count() == before
    people.handler.set_password("another-long-pass-2025")
    people.handler.save()
    e = entries(people.handler, action="change").last()
    assert e.changes == {"password": {"old": "***", "new": "***"}}
    assert people.handler.password not in str(AuditEntry.objects.values_list("changes", flat=True))


def test_it_skips_sessions_and_itself(client, people):
    client.force_login(people.office)
    client.get(reverse("suggestions:list"))
    assert Session.objects.exists()
    assert not AuditEntry.objects.filter(model_label__in=["sessions.session", "audit.auditentry"]).exists()


def test_it_leaves_no_entry_for_a_change_that_rolled_back(people):
    s = people.suggestion()
    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        workflow.update(s, actor=people.office, title="不会保存的标题")
        raise RuntimeError
    assert AuditEntry.objects.count() == before
    assert Suggestion.objects.get(pk=s.pk).title != "不会保存的标题"


def test_it_is_append_only_in_code_and_in_the_admin(client, people):
    people.suggestion()
    e = AuditEntry.objects.first()
    e.object_repr = "rewritten"
    with pytest.raises(AppendOnly):
        e.save()
    with pytest.raises(AppendOnly):
        e.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=e.pk).update(object_repr="rewritten")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=e.pk).object_repr != "rewritten"
    people.office.is_staff = people.office.is_superuser = True
    people.office.save()
    client.force_login(people.office)
    model_admin = admin.site._registry[AuditEntry]
    request = client.get(reverse("admin:index")).wsgi_request
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, e)
    assert not model_admin.has_delete_permission(request, e)
    assert client.get(reverse("admin:audit_auditentry_changelist")).status_code == 200
    assert client.post(reverse("admin:audit_auditentry_delete", args=[e.pk]), {"post": "yes"}).status_code == 403
    assert client.post(reverse("admin:audit_auditentry_add"), {}).status_code == 403
    assert AuditEntry.objects.filter(pk=e.pk).exists()


def test_it_keeps_the_entry_of_a_user_who_is_deleted(people):
    people.handler2.first_name = "二"
    people.handler2.save()
    with context.acting(channel=context.COMMAND, user=people.handler2):
        people.category.order = 9
        people.category.save()
    pk = people.handler2.pk
    people.handler2.delete()
    e = entries(people.category, action="change").get()
    assert e.actor_id == pk and e.actor_name == "handler2"


@pytest.mark.parametrize(("proxies", "forwarded", "expected"), [
    (0, "1.2.3.4", "10.0.0.9"),                 # no proxy of ours: the header is anyone's to forge
    (1, "1.2.3.4", "1.2.3.4"),                  # nginx in front: it wrote the client's address
    (1, "6.6.6.6, 1.2.3.4", "1.2.3.4"),         # what the client forged sits left of it
    (2, "6.6.6.6, 1.2.3.4, 10.0.0.2", "1.2.3.4"),
    (2, "1.2.3.4", "10.0.0.9"),                 # fewer hops than proxies: not trusted
    (1, "not-an-address", "10.0.0.9"),
])
def test_it_takes_the_address_from_x_forwarded_for_only_behind_trusted_proxies(client, people, settings,
                                                                                proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    s = people.suggestion()
    client.force_login(people.office)
    client.post(reverse("suggestions:edit", args=[s.pk]), {
        "title": f"新标题{proxies}", "source": "session", "lead_deputy_name": "王代表", "is_public": "on",
        "version": s.version}, REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert entries(s, action="change").last().ip_address == expected


def test_it_names_the_command_or_the_import_when_no_request_is_running(people, monkeypatch):
    monkeypatch.setattr("sys.argv", ["manage.py", "import_suggestions", "x.xlsx"])
    people.category.order = 5
    people.category.save()
    monkeypatch.setattr("sys.argv", ["manage.py", "seed_demo"])
    people.category.order = 6
    people.category.save()
    got = [(e.channel, e.path) for e in entries(people.category, action="change")]
    assert got == [("import", "import_suggestions"), ("command", "seed_demo")]


def test_it_names_the_task_for_writes_made_by_a_celery_task(people):
    from config.celery_app import app

    @app.task(name="suggestions.tasks.audit_probe")
    def probe(pk):
        c = Category.objects.get(pk=pk)
        c.order = 42
        c.save()

    probe.apply(args=[people.category.pk])
    e = entries(people.category, action="change").get()
    assert (e.channel, e.path, e.changes["order"]["new"]) == ("task", "suggestions.tasks.audit_probe", 42)
    assert context.current().channel != "task"  # reset once the task finished


def test_it_dates_entries_in_the_order_they_happen(people):
    s = people.suggestion()
    workflow.update(s, actor=people.office, title="第二个标题")
    times = list(entries(s).values_list("at", flat=True))
    assert times == sorted(times) and times[-1] - times[0] < dt.timedelta(minutes=1)


def test_it_diffs_against_the_stored_row_not_against_the_saving_copy(people):
    """A stale copy saved whole writes an older title back: the trail shows that overwrite."""
    s = people.suggestion(title="原标题")
    stale = Suggestion.objects.get(pk=s.pk)
    workflow.update(s, actor=people.office, title="新标题")
    stale.content = "补充内容"
    stale.save()
    e = entries(s, action="change").last()
    assert e.changes["title"] == {"old": "新标题", "new": "原标题"}
    assert e.changes["content"]["new"] == "补充内容"


def test_it_records_a_cleared_link_table(people):
    s = people.suggestion()
    s.co_deputies.add(people.deputy)
    s.co_deputies.clear()
    assert entries(s, action="change").last().changes == {"co_deputies": {"old": [people.deputy.pk], "new": []}}
