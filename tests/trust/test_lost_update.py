"""No lost update: a step taken from a stale page is refused, the user is told and shown the change.
Nothing is hard-deleted through the product."""
import datetime as dt
import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from suggestions import workflow
from suggestions.models import Assignment, Deputy, Feedback, Reply, Suggestion
from tests.base import make_user


def page_version(client, s, prefix):
    """The hidden version the detail page put in the form of step `prefix`."""
    page = client.get(reverse("suggestions:detail", args=[s.pk])).content.decode()
    found = re.search(rf'name="{re.escape(prefix)}-version" value="(\d+)"', page)
    assert found, f"no version in the form {prefix}"
    return int(found.group(1))


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def test_it_refuses_a_step_from_a_page_older_than_the_assignment(people):
    s = people.assigned(on=dt.date(2025, 3, 3))
    a = s.assignments.get()
    workflow.accept(a, actor=people.handler)
    handler = client_for(people.handler)
    prefix = f"add_progress-{a.pk}"
    seen = page_version(handler, s, prefix)
    # meanwhile the leader asks for an extension and the office approves it: the deadline moves
    ext = workflow.request_extension(a, actor=people.leader, requested_due=dt.date(2025, 7, 31), reason="施工周期长")
    workflow.decide_extension(ext, actor=people.office, approve=True)
    r = handler.post(reverse("suggestions:assignment_step", args=[a.pk, "add_progress"]), {
        f"{prefix}-noted_on": "2025-04-01", f"{prefix}-text": "已现场查看", f"{prefix}-version": seen})
    assert r.status_code == 409
    body = r.content.decode()
    assert "2025-07-31" in body  # the other change, shown
    assert "已现场查看" in body   # the user's input, kept in the form
    assert not a.progress_notes.exists()
    # a second try from the page as it is now goes through
    r = handler.post(reverse("suggestions:assignment_step", args=[a.pk, "add_progress"]), {
        f"{prefix}-noted_on": "2025-04-01", f"{prefix}-text": "已现场查看",
        f"{prefix}-version": page_version(handler, s, prefix)})
    assert r.status_code == 302 and a.progress_notes.count() == 1


def test_it_tells_the_second_leader_the_reply_was_already_signed(people):
    s = people.assigned(on=dt.date(2025, 3, 3))
    a = s.assignments.get()
    workflow.accept(a, actor=people.handler)
    workflow.add_contact(a, actor=people.handler, method="phone", contacted_on=dt.date(2025, 3, 5),
                         participants="王代表", summary="电话")
    reply = workflow.draft_reply(a, actor=people.handler, outcome="solved", body="已解决")
    other_leader = make_user("leader-b", department=people.dept, role="leader")
    first, second = client_for(people.leader), client_for(other_leader)
    prefix = f"sign_reply-{reply.pk}"
    v1, v2 = page_version(first, s, prefix), page_version(second, s, f"send_back_reply-{reply.pk}")
    r = first.post(reverse("suggestions:reply_step", args=[reply.pk, "sign_reply"]), {
        f"{prefix}-reply_date": "2025-04-01", f"{prefix}-document_number": "静建函〔2025〕3号",
        f"{prefix}-version": v1})
    assert r.status_code == 302
    back = f"send_back_reply-{reply.pk}"
    r = second.post(reverse("suggestions:reply_step", args=[reply.pk, "send_back_reply"]), {
        f"{back}-reason": "请补充", f"{back}-version": v2})
    assert r.status_code == 409 and "静建函〔2025〕3号" in r.content.decode()
    reply.refresh_from_db()
    assert reply.state == "sent" and reply.sent_back_reason == ""


def test_it_refuses_a_stale_extension_decision(people):
    s = people.assigned(on=dt.date(2025, 3, 3))
    a = s.assignments.get()
    ext = workflow.request_extension(a, actor=people.leader, requested_due=dt.date(2025, 7, 31), reason="周期长")
    office = client_for(people.office)
    prefix = f"decide_extension-{ext.pk}"
    seen = page_version(office, s, prefix)
    workflow.accept(a, actor=people.handler)  # the assignment moved on meanwhile
    r = office.post(reverse("suggestions:extension_step", args=[ext.pk]), {
        f"{prefix}-approve": "1", f"{prefix}-version": seen})
    assert r.status_code == 409
    ext.refresh_from_db()
    assert ext.state == "pending"


def test_it_still_accepts_a_step_posted_without_a_version(people):
    """Scripts and older pages without the hidden field keep working: the check is opt-in per form."""
    s = people.assigned()
    a = s.assignments.get()
    r = client_for(people.handler).post(reverse("suggestions:assignment_step", args=[a.pk, "accept"]),
                                        {f"accept-{a.pk}-version": "not-a-number"})
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.state == "handling"


@pytest.mark.parametrize("fn", ["accept", "add_progress", "request_extension"])
def test_it_checks_the_version_in_the_workflow_itself(people, fn):
    s = people.assigned(on=dt.date(2025, 3, 3))
    a = s.assignments.get()
    if fn != "accept":
        workflow.accept(a, actor=people.handler)
        a.refresh_from_db()
    kwargs = {"accept": {}, "add_progress": {"text": "进展"},
              "request_extension": {"requested_due": dt.date(2025, 7, 1), "reason": "需要"}}[fn]
    actor = people.leader if fn == "request_extension" else people.handler
    with pytest.raises(workflow.StaleVersion, match="(?i)reload|刷新|重新"):
        getattr(workflow, fn)(a, actor=actor, expected_version=a.version - 1, **kwargs)
    getattr(workflow, fn)(a, actor=actor, expected_version=a.version, **kwargs)


def test_it_keeps_withdrawn_suggestions_and_counts_them(people):
    s = people.assigned()
    client = client_for(people.office)
    r = client.post(reverse("suggestions:suggestion_step", args=[s.pk, "withdraw"]), {"withdraw-reason": "代表撤回"})
    assert r.status_code == 302
    s.refresh_from_db()
    assert s.state == "withdrawn" and s.assignments.exists()
    listed = client.get(reverse("suggestions:list"), {"state": "withdrawn"}).context["page"]
    assert [x.pk for x in listed] == [s.pk]


PRODUCT_MODELS = [Suggestion, Assignment, Reply, Feedback, Deputy]


@pytest.mark.parametrize("model", PRODUCT_MODELS, ids=lambda m: m.__name__)
def test_it_offers_no_delete_in_the_admin(rf, people, model):
    """Suggestions and what hangs off them are never deleted through the admin, wherever they are registered."""
    people.office.is_superuser = people.office.is_staff = True
    request = rf.get("/admin/")
    request.user = people.office
    if model in admin.site._registry:
        assert not admin.site._registry[model].has_delete_permission(request)
    for model_admin in admin.site._registry.values():
        for inline in model_admin.get_inline_instances(request):
            if inline.model is model:
                deletes = inline.can_delete and inline.has_delete_permission(request)
                assert not deletes, f"{model_admin} inline {inline}"
