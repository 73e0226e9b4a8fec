"""The suggestion pages, as each persona uses them; the other department always gets 404."""
import datetime as dt

import pytest
from django import forms
from django.db import connection
from django.http import QueryDict
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from departments.models import Department
from suggestions import filters, workflow
from suggestions.models import Deputy, Event, Suggestion
from tests.base import PASSWORD


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def detail(s):
    return reverse("suggestions:detail", args=[s.pk])


def test_it_sends_anonymous_users_to_login(client, people):
    s = people.assigned()
    for url in (reverse("suggestions:dashboard"), reverse("suggestions:list"), detail(s),
                reverse("suggestions:create")):
        r = client.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["office", "liaison", "handler", "leader", "handler2", "leader2"])
def test_it_shows_the_dashboard_to_every_role(client, people, who):
    people.assigned(co=[people.dept2])
    r = login(client, getattr(people, who)).get(reverse("suggestions:dashboard"))
    assert r.status_code == 200


def test_it_lists_only_the_departments_own_suggestions(client, people):
    mine = people.assigned("2025001")
    other = people.assigned("2025002", lead=people.dept2)
    r = login(client, people.handler).get(reverse("suggestions:list"))
    assert list(r.context["page"].object_list) == [mine]
    assert login(client, people.handler2).get(reverse("suggestions:list")).context["page"].paginator.count == 1
    r = login(client, people.office).get(reverse("suggestions:list"))
    assert {s.pk for s in r.context["page"]} == {mine.pk, other.pk}
    assert other.title in r.content.decode()


def test_it_gives_the_other_department_404_on_detail_and_every_step(client, people):
    s = people.assigned()
    a = s.assignments.get()
    login(client, people.handler2)
    assert client.get(detail(s)).status_code == 404
    assert client.get(reverse("suggestions:edit", args=[s.pk])).status_code == 404
    assert client.post(reverse("suggestions:assignment_step", args=[a.pk, "accept"])).status_code == 404
    assert client.post(reverse("suggestions:suggestion_step", args=[s.pk, "record_feedback"])).status_code == 404
    a.refresh_from_db()
    assert a.state == "pending"


def test_it_forbids_read_only_users_with_403(client, people):
    s = people.assigned()
    a = s.assignments.get()
    login(client, people.liaison)
    assert client.get(detail(s)).status_code == 200
    assert client.post(reverse("suggestions:assignment_step", args=[a.pk, "accept"])).status_code == 403
    assert client.get(reverse("suggestions:create")).status_code == 403
    assert client.get(reverse("suggestions:edit", args=[s.pk])).status_code == 403


def test_it_shows_a_co_handler_the_suggestion_it_shares(client, people):
    s = people.assigned(co=[people.dept2], on=timezone.localdate())
    r = login(client, people.handler2).get(detail(s))
    assert r.status_code == 200
    names = {x["name"] for a in r.context["assignments"] for x in a.actions}
    assert names == {"accept", "request_return"}
    old = people.assigned("2025002", co=[people.dept2], on=dt.date(2025, 3, 3))
    r = login(client, people.handler2).get(detail(old))
    assert {x["name"] for a in r.context["assignments"] for x in a.actions} == {"accept"}  # return window closed


def test_it_registers_and_assigns_from_one_form(client, people):
    login(client, people.office)
    r = client.post(reverse("suggestions:create"), {
        "year": 2025, "number": "2025100", "title": "关于宝山路沿线整体绿化改造的建议", "content": "…",
        "source": "session", "lead_deputy_name": "李代表", "co_deputy_names": "赵代表、钱代表",
        "category": people.category.pk, "street": people.street.pk, "is_public": "on",
        "lead": [people.dept.pk], "co": [people.dept2.pk], "assigned_on": "2025-03-03"})
    s = Suggestion.objects.get(number="2025100")
    assert r.status_code == 302 and r["Location"] == detail(s)
    assert s.state == "assigned" and s.lead_deputy.name == "李代表"
    assert sorted(d.name for d in s.co_deputies.all()) == ["赵代表", "钱代表"]
    assert {(a.department_id, a.role) for a in s.assignments.all()} == {(people.dept.pk, "lead"),
                                                                         (people.dept2.pk, "co")}


def test_it_explains_bad_registration_input_and_saves_nothing(client, people):
    people.suggestion("2025001")
    login(client, people.office)
    r = client.post(reverse("suggestions:create"), {
        "year": 2025, "number": "2025001", "title": "", "source": "session", "lead_deputy_name": "李代表",
        "is_key": "on", "lead": [people.dept.pk], "co": [people.dept.pk]})
    assert r.status_code == 400
    form = r.context["form"]
    assert "title" in form.errors and "supervising_leader" in form.errors
    assert Suggestion.objects.count() == 1
    r = client.post(reverse("suggestions:create"), {
        "year": 2025, "number": "2025001", "title": "重复", "source": "session", "lead_deputy_name": "李代表",
        "is_public": "on"})
    assert r.status_code == 400 and "2025001" in str(r.context["form"].errors["number"])
    assert Suggestion.objects.count() == 1


def test_a_name_given_twice_is_one_deputy_and_no_change(client, people):
    s = people.suggestion()
    login(client, people.office)
    data = {"title": s.title, "source": s.source, "lead_deputy_name": s.lead_deputy.name, "is_public": "on",
            "version": s.version, "content": s.content, "co_deputy_names": "李代表、李代表，李代表"}
    assert client.post(reverse("suggestions:edit", args=[s.pk]), data).status_code == 302
    s.refresh_from_db()
    assert [d.name for d in s.co_deputies.all()] == ["李代表"]
    data["version"] = s.version
    events = s.events.count()
    assert client.post(reverse("suggestions:edit", args=[s.pk]), data).status_code == 302
    s.refresh_from_db()
    assert s.events.count() == events and s.version == data["version"]  # the same list again changes nothing


def test_a_registration_the_workflow_refuses_leaves_no_new_deputy(client, people):
    login(client, people.office)
    before = (Suggestion.objects.count(), Deputy.objects.count(), Event.objects.count(), AuditEntry.objects.count())
    r = client.post(reverse("suggestions:create"), {
        "year": 2025, "number": "2025009", "title": "完善路灯", "source": "session", "is_public": "on",
        "lead_deputy_name": "新代表甲", "co_deputy_names": "新代表乙", "assigned_on": "2025-03-03",
        "lead": [people.dept.pk], "co": [people.dept.pk]})  # the form is valid; the workflow refuses
    assert r.status_code == 400
    assert "既主办又会办" in r.content.decode()
    assert (Suggestion.objects.count(), Deputy.objects.count(), Event.objects.count(),
            AuditEntry.objects.count()) == before


def test_it_takes_a_suggestion_through_the_whole_handling_in_the_browser(client, people):
    s = people.assigned(co=[people.dept2], on=dt.date(2025, 3, 3))
    lead = s.assignments.get(role="lead")
    co = s.assignments.get(role="co")

    def post(user, url, data=None):
        login(client, user)
        return client.post(url, data or {})

    step = lambda a, name: reverse("suggestions:assignment_step", args=[a.pk, name])  # noqa: E731
    assert post(people.handler, step(lead, "accept")).status_code == 302
    assert post(people.handler2, step(co, "accept")).status_code == 302
    r = post(people.handler2, step(co, "send_opinion"), {f"send_opinion-{co.pk}-text": "同意主办意见"})
    assert r.status_code == 302
    r = post(people.handler, step(lead, "add_contact"), {
        f"add_contact-{lead.pk}-method": "visit", f"add_contact-{lead.pk}-contacted_on": "2025-03-20",
        f"add_contact-{lead.pk}-participants": "王代表", f"add_contact-{lead.pk}-summary": "实地走访"})
    assert r.status_code == 302
    r = post(people.handler, step(lead, "draft_reply"), {
        f"draft_reply-{lead.pk}-outcome": "solved", f"draft_reply-{lead.pk}-body": "已更新标识",
        f"draft_reply-{lead.pk}-document_number": "静建函〔2025〕8号"})
    assert r.status_code == 302
    reply = lead.replies.get()
    r = post(people.handler, reverse("suggestions:reply_step", args=[reply.pk, "sign_reply"]))
    assert r.status_code == 403  # a handler does not sign
    r = post(people.leader, reverse("suggestions:reply_step", args=[reply.pk, "sign_reply"]),
             {f"sign_reply-{reply.pk}-reply_date": "2025-04-02"})
    assert r.status_code == 302
    r = post(people.liaison, reverse("suggestions:suggestion_step", args=[s.pk, "record_feedback"]), {
        "record_feedback-result": "dissatisfied", "record_feedback-attitude": "satisfied",
        "record_feedback-comments": "", "record_feedback-recorded_on": "2025-04-10"})
    assert r.status_code == 400  # 不满意 without comments
    r = post(people.liaison, reverse("suggestions:suggestion_step", args=[s.pk, "record_feedback"]), {
        "record_feedback-result": "dissatisfied", "record_feedback-attitude": "satisfied",
        "record_feedback-comments": "标识仍不清楚", "record_feedback-recorded_on": "2025-04-10"})
    assert r.status_code == 302
    r = post(people.office, reverse("suggestions:suggestion_step", args=[s.pk, "order_rehandling"]), {
        "order_rehandling-reason": "代表不满意", "order_rehandling-ordered_on": "2025-04-11"})
    assert r.status_code == 302
    s.refresh_from_db()
    assert s.state == "rehandling"
    kinds = list(s.events.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["registered", "assigned", "assigned", "accepted", "accepted", "opinion", "contact",
                     "reply_drafted", "reply_signed", "feedback", "rehandling"]
    page = login(client, people.office).get(detail(s)).content.decode()
    for text in ("同意主办意见", "实地走访", "静建函〔2025〕8号", "标识仍不清楚", "代表不满意"):
        assert text in page


def test_it_shows_a_workflow_refusal_as_a_message_and_changes_nothing(client, people):
    s = people.assigned()
    a = s.assignments.get()
    workflow.accept(a, actor=people.handler)
    login(client, people.handler)
    before = Event.objects.count()
    r = client.post(reverse("suggestions:assignment_step", args=[a.pk, "draft_reply"]), {
        f"draft_reply-{a.pk}-outcome": "solved", f"draft_reply-{a.pk}-body": "答复"})
    assert r.status_code == 400
    assert "contact" in r.content.decode().lower() or "面商" in r.content.decode() or "联系" in r.content.decode()
    assert Event.objects.count() == before and not a.replies.exists()


def test_it_refuses_an_edit_from_a_stale_page(client, people):
    s = people.suggestion()
    login(client, people.office)
    data = {"title": "新标题", "source": "session", "lead_deputy_name": "王代表", "is_public": "on",
            "version": s.version, "content": ""}
    assert client.post(reverse("suggestions:edit", args=[s.pk]), data).status_code == 302
    data["title"] = "另一个标题"
    data.update(title="另一个标题", lead_deputy_name="从未见过的代表")
    deputies = Deputy.objects.count()
    r = client.post(reverse("suggestions:edit", args=[s.pk]), data)  # same, now stale, version
    assert r.status_code == 409
    s.refresh_from_db()
    assert s.title == "新标题"
    assert Deputy.objects.count() == deputies
    # The page shows what the other person saved beside what this one typed, which it keeps.
    assert r.context["differences"] == [("标题", "新标题", "另一个标题"), ("领衔代表", "王代表", "从未见过的代表")]
    page = r.content.decode()
    assert "新标题" in page and 'value="另一个标题"' in page


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["office", "handler"])
def test_it_keeps_the_list_and_dashboard_queries_constant(client, people, who):
    for i in range(3):
        people.replied(f"2025{i:03d}")
    login(client, getattr(people, who))
    for n in ("suggestions:list", "suggestions:dashboard"):
        _queries(client, reverse(n))  # the first view fills the caches (the filter form's choices, the calendar)
    small = [_queries(client, reverse(n)) for n in ("suggestions:list", "suggestions:dashboard")]
    for i in range(3, 30):
        people.assigned(f"2025{i:03d}", co=[people.dept2])
    large = [_queries(client, reverse(n)) for n in ("suggestions:list", "suggestions:dashboard")]
    assert small == large


def test_the_filter_form_shows_a_department_added_after_its_choices_were_cached(client, people):
    login(client, people.office)
    assert "区财政局" not in client.get(reverse("suggestions:list")).content.decode()
    Department.objects.create(name="区财政局")
    assert "区财政局" in client.get(reverse("suggestions:list")).content.decode()
    Department.objects.filter(name="区财政局").update(name="区财政局（改名）")  # no signal: the cache may lag…
    Department.objects.get(name="区财政局（改名）").save()  # …until the next save through the model
    assert "区财政局（改名）" in client.get(reverse("suggestions:list")).content.decode()


def test_the_filter_form_writes_the_markup_django_would(people):
    """The list's selects and inputs are written in Python (`filters.QuickSelect`, `QuickInputMixin`),
    from cached and escaped choices: the same elements, attributes, options and selection as Django's
    own rendering of the same widgets."""
    Department.objects.create(name='<区>财政局 & "审计"')

    data = QueryDict(mutable=True)
    data.update({"q": '整治 & <b>"', "year": "2025", "state": "replied", "department": str(people.dept2.pk)})
    for query in (None, data):
        for _ in range(2):  # the choices read, then from the cache
            form = filters.for_user(people.office, query).form
            for bound in form:
                attrs = bound.build_widget_attrs({"id": bound.auto_id})
                ours = bound.field.widget.render(bound.html_name, bound.value(), attrs)
                djangos = forms.Widget.render(bound.field.widget, bound.html_name, bound.value(), attrs)
                assert parse_html(ours) == parse_html(djangos), bound.name  # attributes in any order
            assert "&lt;区&gt;财政局 &amp; &quot;审计&quot;" in str(form["department"])
    assert f'<option value="{people.dept2.pk}" selected>' in str(form["department"])


def test_the_filter_form_speaks_each_requests_language(client, people):
    """Its form class is made once (`SuggestionFilter.get_form_class`): its labels stay lazy, each page
    in the language it is asked in."""
    login(client, people.office)
    for language, words in (("zh-hans", ["状态", "全部", "已超期"]), ("en", ["State", "All", "Overdue"]),
                            ("zh-hans", ["状态", "全部", "已超期"])):
        page = client.get(reverse("suggestions:list"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        form = page[page.index('<form method="get" class="card filters"'):]
        form = form[:form.index("</form>")]
        for word in words:
            assert f">{word}<" in form, (language, word)


def test_it_keeps_the_detail_queries_constant(client, people):
    s = people.replied("2025001")
    login(client, people.office)
    _queries(client, detail(s))  # the first view fills per-process caches (the working-day calendar)
    small = _queries(client, detail(s))
    a = s.assignments.get()
    for i in range(10):
        workflow.add_progress(a, actor=people.handler, text=f"进展 {i}")
        workflow.add_contact(a, actor=people.handler, method="phone", contacted_on=dt.date(2025, 4, 2),
                             participants="王代表", summary="回访")
    assert _queries(client, detail(s)) == small


def test_it_records_an_admin_edit_on_the_timeline(client, people):
    s = people.suggestion()
    people.office.is_staff = people.office.is_superuser = True
    people.office.save()
    login(client, people.office)
    url = reverse("admin:suggestions_suggestion_change", args=[s.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = {"year": s.year, "number": s.number, "title": "管理员修改的标题", "content": s.content, "source": s.source,
            "lead_deputy": s.lead_deputy_id, "category": s.category_id, "street": s.street_id,
            "supervising_leader": "", "is_public": "on", "not_public_reason": "",
            "assignments-TOTAL_FORMS": 0, "assignments-INITIAL_FORMS": 0,
            "events-TOTAL_FORMS": 1, "events-INITIAL_FORMS": 1}
    r = client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    s.refresh_from_db()
    assert s.title == "管理员修改的标题"
    e = s.events.order_by("pk").last()
    assert e.kind == "updated" and e.actor == people.office and e.data["changes"]["title"][1] == "管理员修改的标题"


def test_the_rows_labels_are_djangos_in_either_language():
    """Suggestion's own get_state_display and get_outcome_display (cheap on a list of rows) say what
    Django's generic ones say, for every value, in both languages, and nothing for no outcome."""
    from django.db.models import Model
    from django.utils import translation

    from suggestions.choices import Outcome, SuggestionState

    state, outcome = Suggestion._meta.get_field("state"), Suggestion._meta.get_field("outcome")
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for value in [*SuggestionState.values, "unknown"]:
                s = Suggestion(state=value)
                assert s.get_state_display() == Model._get_FIELD_display(s, state)
            for value in [*Outcome.values, ""]:
                s = Suggestion(outcome=value)
                assert s.get_outcome_display() == Model._get_FIELD_display(s, outcome)
    with translation.override("zh-hans"):
        assert Suggestion(outcome=Outcome.SOLVED).get_outcome_display() != Outcome.SOLVED
    assert Suggestion(outcome="").get_outcome_display() == ""


def test_the_list_shows_each_rows_lead_departments_and_their_open_deadlines(client, people):
    open_item = people.assigned("2025001", co=[people.dept2])
    replied = people.replied("2025002")
    html = login(client, people.office).get(reverse("suggestions:list")).content.decode()
    rows = {s: html.split(f'href="{detail(s)}"')[1].split("</tr>")[0] for s in (open_item, replied)}
    open_due = open_item.assignments.get(department=people.dept).due_date
    # The lead department and its deadline, marked overdue (March 2025 is long past); the
    # co-handling department is not a lead.
    assert people.dept.name in rows[open_item] and people.dept2.name not in rows[open_item]
    assert open_due.isoformat() in rows[open_item] and "已超期" in rows[open_item]
    # A replied lead: its department, no deadline, the outcome's label.
    assert people.dept.name in rows[replied] and "已超期" not in rows[replied]
    assert replied.assignments.get().due_date.isoformat() not in rows[replied]
    assert "已经解决" in rows[replied] and "已答复" in rows[replied]
