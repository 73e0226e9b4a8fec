"""Bad input everywhere: every filter parameter and every form field of the product's pages gets
random and hostile strings (SQL and HTML fragments, control characters, very long and non-BMP
text, malformed dates and ids). Never a 500 (the test client re-raises any error of a view), and
never stored markup that comes back as HTML: after each step the detail and list pages are read
and must not contain the markup unescaped.

Fields are found from the forms themselves (the page's FilterSet or form, each workflow step's
form class), so a field added later is attacked too. Each example runs in a rolled-back
savepoint: every example meets the same objects in the same states.
"""
import datetime as dt
import io

import pytest
from django.contrib.auth.forms import AuthenticationForm
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.forms import (
    BooleanField,
    ChoiceField,
    DateField,
    FileField,
    IntegerField,
    ModelChoiceField,
    ModelMultipleChoiceField,
    MultipleChoiceField,
)
from django.test import Client
from django.urls import NoReverseMatch, resolve, reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from suggestions import spreadsheets, tasks, views, workflow
from suggestions.forms import RegisterForm, SuggestionForm
from suggestions.models import ImportJob, Suggestion
from tests.base import PASSWORD, make_user
from tests.trust import world as world_module

SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'
MARKUP = (SCRIPT, IMG)
HOSTILE = [
    SCRIPT, IMG, f"标题{SCRIPT}", "' OR 1=1 --", "'; DROP TABLE suggestions_suggestion; --", '" OR ""="',
    "1; SELECT pg_sleep(5)", "%", "_", "\\", "\x00", "\x00abc", "a\x1b[31mred", "\r\n\t\x0b\x0c", "\u202e\u200b",
    "𠀀😀", "𠀀" * 400, "x" * 301, "长" * 5001, "9" * 400, "-1", "0", "1.5", "1e309", "NaN", "[]", "{}",
    "2025-02-30", "2025-13-01", "0000-00-00", "9999-12-31", "0001-01-01", "2025/3/15", "2025年3月15日",
    "99999999999999999999999", "../../etc/passwd", "{{ 7*7 }}", "{% debug %}", "$(rm -rf /)", "=1+1",
    "@SUM(A1)", " ", "",
]

hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=120),
    st.text(st.characters(min_codepoint=0x10000, max_codepoint=0x1FFFF), min_size=1, max_size=20),
)
EXAMPLES = settings(max_examples=30, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
# Files (xlsx, docx) cost a whole document per example: fewer of them, the same strategies.
FILE_EXAMPLES = settings(EXAMPLES, max_examples=10)


def _valid(field):
    """A value the field accepts, so that hostile text in the other fields reaches the database."""
    today = timezone.localdate()
    if isinstance(field, ModelMultipleChoiceField):
        return [str(pk) for pk in field.queryset.values_list("pk", flat=True)[:2]]
    if isinstance(field, ModelChoiceField):
        pk = field.queryset.values_list("pk", flat=True).first()
        return str(pk) if pk is not None else ""
    if isinstance(field, MultipleChoiceField):
        return [str(c) for c, _ in field.choices if c != ""][:1]
    if isinstance(field, ChoiceField):
        choices = [str(c) for c, _ in field.choices if c != ""]
        return choices[0] if choices else ""
    if isinstance(field, DateField):
        return (today - dt.timedelta(days=1)).isoformat()
    if isinstance(field, IntegerField):
        return str(today.year)
    if isinstance(field, BooleanField):
        return "on"
    return "正常的文字"


def _field_strategy(field):
    valid = _valid(field)
    if isinstance(field, ModelMultipleChoiceField | MultipleChoiceField):
        return st.one_of(st.just(valid), st.lists(hostile_text, max_size=3))
    if isinstance(field, ChoiceField):  # valid choices too, so that the form often passes
        choices = [str(c) for c, _ in field.choices if c != ""]
        return st.one_of(st.sampled_from(choices or [""]), hostile_text)
    return st.one_of(st.just(valid), hostile_text)


def form_data(form, extra=None):
    """A strategy of request data for every field of `form` (with its prefix), plus `extra` keys."""
    parts = {form.add_prefix(name): _field_strategy(field) for name, field in form.fields.items()
             if not isinstance(field, FileField)}
    for key in extra or ():
        parts[key] = st.one_of(st.just("1"), hostile_text)
    return st.fixed_dictionaries(parts)


# Tried in every field, one field at a time, before the random examples: the values that most often
# break a parser (an id too large for the database, a digit that isdigit() accepts and int() refuses,
# a day that does not exist, the last day of year 9999) and the markup that must never come back raw.
SHARP = [SCRIPT, "9" * 30, "²", "-1", "\x00", "2025-02-30", "9999-12-31"]
SHARP_TEXT, SHARP_DATE = [SCRIPT, "\x00"], [SCRIPT, "2025-02-30", "9999-12-31", "0001-01-01"]
SHARP_NUMBER = [SCRIPT, "9" * 30, "²", "-1"]


def _sharp_for(field):
    """The sharp values worth trying in a field of this kind (all of them in an unknown one)."""
    if field is None:
        return SHARP
    if isinstance(field, DateField):
        return SHARP_DATE
    if isinstance(field, ChoiceField | IntegerField | ModelChoiceField | MultipleChoiceField):
        return SHARP_NUMBER
    return SHARP_TEXT


def one_field_at_a_time(form, extra=()):
    """Valid data with one sharp value in one field at a time: the sure way to catch a field that
    is echoed raw or parsed carelessly, whatever the random examples happen to draw."""
    fields = {form.add_prefix(n): f for n, f in form.fields.items() if not isinstance(f, FileField)} if form else {}
    valid = {key: _valid(f) for key, f in fields.items()}
    for key in [*fields, *extra]:
        for value in _sharp_for(fields.get(key)):
            yield {**valid, key: value}


def check(response):
    """No markup echoed unescaped (the client has already re-raised any error of the view)."""
    assert response.status_code < 500
    if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
        return
    body = response.content.decode("utf-8", "replace")
    for markup in MARKUP:
        assert markup not in body, f"unescaped {markup!r} in {response.request['PATH_INFO']}"


def rolled_back(fn):
    with transaction.atomic():
        result = fn()
        transaction.set_rollback(True)
    return result


@pytest.fixture
def world(people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return world_module.build(people)


@pytest.fixture
def small_world(people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return world_module.build(people, light=True)


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


# --- filters of the list pages and their exports ---------------------------------------------

def _page_form(client, name):
    context = client.get(reverse(name)).context
    found = context.get("filter") or context.get("form")
    return found.form if hasattr(found, "form") else found


def _existing(*names):
    found = []
    for name in names:
        try:
            reverse(name)
        except NoReverseMatch:
            continue
        found.append(name)
    return found


FILTER_PAGES = [  # (the page whose form names the parameters, a URL that reads them)
    ("suggestions:list", "suggestions:list"), ("suggestions:list", "suggestions:export"),
    ("audit:list", "audit:list"), ("audit:list", "audit:export"),
    ("reports:annual", "reports:annual"), ("reports:annual", "reports:annual_xlsx"),
    ("reports:annual", "reports:annual_docx"),
    ("public:list", "public:list"),
]
FILES = {"suggestions:export", "audit:export", "reports:annual_xlsx", "reports:annual_docx"}


@pytest.mark.parametrize(("page", "url"), [p for p in FILTER_PAGES if _existing(*p) == list(p)],
                         ids=[p[1] for p in FILTER_PAGES if _existing(*p) == list(p)])
def test_it_survives_hostile_filter_parameters(world, page, url):
    client = logged_in(world.users["office"])
    form = _page_form(client, page)
    assert form is not None and form.fields, f"{page} shows no form to read its parameters from"

    for data in one_field_at_a_time(form, extra=["page"]):
        check(client.get(reverse(url), data))

    @(FILE_EXAMPLES if url in FILES else EXAMPLES)
    @given(data=form_data(form, extra=["page"]))
    def run(data):
        check(client.get(reverse(url), data))

    run()


def test_it_survives_hostile_filters_as_a_department_user(world):
    client = logged_in(world.users["handler2"])
    form = _page_form(client, "suggestions:list")

    @EXAMPLES
    @given(data=form_data(form, extra=["page"]))
    def run(data):
        r = client.get(reverse("suggestions:list"), data)
        check(r)
        assert world.mine.marker not in r.content.decode()

    run()


# --- every workflow step's form --------------------------------------------------------------

def _stages(people, w):
    """Objects in the state each step needs, all of dept (handler, leader) or shared with dept2."""
    today = timezone.localdate()
    office = people.office

    def fresh(number, co=()):
        s = workflow.register(actor=office, year=2025, number=number, title="关于宝山路沿线整体绿化改造的建议",
                              lead_deputy=w.mine.suggestion.lead_deputy)
        workflow.assign(s, actor=office, lead=[people.dept], co=list(co), assigned_on=today)
        return s, s.assignments.get(department=people.dept)

    registered = workflow.register(actor=office, year=2025, number="2025901", title="待交办",
                                   lead_deputy=w.mine.suggestion.lead_deputy)
    pending_s, pending = fresh("2025902")
    returning_s, returning = fresh("2025903")
    workflow.request_return(returning, actor=people.handler, reason="不属于本部门职责")
    co_s, _ = fresh("2025904", co=[people.dept2])
    co = co_s.assignments.get(department=people.dept2)
    workflow.accept(co, actor=people.handler2)
    working_s, working = fresh("2025905")
    workflow.accept(working, actor=people.handler)
    workflow.add_contact(working, actor=people.handler, method="phone", contacted_on=today, participants="甲代表",
                         summary="电话沟通")
    for obj in (pending, returning, co, working):
        obj.refresh_from_db()
    replied = w.mine.replied.assignments.get()
    return {
        "assign": (registered, office), "withdraw": (w.mine.suggestion, office),
        "record_feedback": (w.mine.replied, people.liaison), "order_rehandling": (w.mine.replied, office),
        "accept": (pending, people.handler), "request_return": (pending, people.handler),
        "approve_return": (returning, office), "refuse_return": (returning, office),
        "add_progress": (working, people.handler), "add_contact": (working, people.handler),
        "send_opinion": (co, people.handler2), "draft_reply": (working, people.handler),
        "request_extension": (working, people.leader), "change_outcome": (replied, people.leader),
        "sign_reply": (w.mine.draft, people.leader), "send_back_reply": (w.mine.draft, people.leader),
        "decide_extension": (w.mine.extension, office),
    }


STEPS = [(name, form, "suggestion_step") for name, (form, _) in views.SUGGESTION_STEPS.items()] + [
    (name, form, "assignment_step") for name, (form, _) in views.ASSIGNMENT_STEPS.items()] + [
    (name, form, "reply_step") for name, (form, _) in views.REPLY_STEPS.items()] + [
    (name, form, "extension_step") for name, (form, _) in views.EXTENSION_STEPS.items()]


def _suggestion_of(obj):
    for path in ("assignment.suggestion", "suggestion"):
        target = obj
        try:
            for part in path.split("."):
                target = getattr(target, part)
        except AttributeError:
            continue
        return target
    return obj


@pytest.mark.parametrize(("name", "form_class", "url_name"), STEPS, ids=[s[0] for s in STEPS])
def test_it_survives_hostile_input_in_every_step(small_world, people, name, form_class, url_name):
    stages = _stages(people, small_world)
    assert name in stages, f"no object prepared for the step {name}: add it to _stages()"
    obj, user = stages[name]
    prefix = name if url_name == "suggestion_step" else f"{name}-{obj.pk}"
    args = [obj.pk] if url_name == "extension_step" else [obj.pk, name]
    url = reverse(f"suggestions:{url_name}", args=args)
    detail = reverse("suggestions:detail", args=[_suggestion_of(obj).pk])
    form = form_class(prefix=prefix) if form_class else None
    client = logged_in(user)
    strategy = form_data(form, extra=[f"{prefix}-version"]) if form else st.fixed_dictionaries(
        {f"{prefix}-version": st.one_of(st.just("1"), hostile_text)})
    reached = []

    def attempt(data):
        r = client.post(url, data)
        check(r)  # a refusal shows the detail page again: checked here
        reached.append(r.status_code)
        if r.status_code == 302:  # stored: read it back where it is shown
            check(client.get(detail))
            check(client.get(reverse("suggestions:list")))

    for data in one_field_at_a_time(form, extra=[f"{prefix}-version"]):
        rolled_back(lambda data=data: attempt(data))

    @EXAMPLES
    @given(data=strategy)
    def run(data):
        rolled_back(lambda: attempt(data))

    run()
    assert 403 not in reached and 404 not in reached, f"{name}: the prepared object does not allow the step"


# --- registering and editing -----------------------------------------------------------------

@pytest.mark.parametrize("form_name", ["create", "edit"])
def test_it_survives_hostile_input_when_registering_and_editing(small_world, people, form_name):
    client = logged_in(people.office)
    s = small_world.mine.suggestion
    if form_name == "create":
        url, form = reverse("suggestions:create"), RegisterForm()
    else:
        url, form = reverse("suggestions:edit", args=[s.pk]), SuggestionForm(instance=s)

    def attempt(data):
        r = client.post(url, data)
        check(r)
        if r.status_code == 302:
            check(client.get(r["Location"]))
            check(client.get(reverse("suggestions:list")))

    for data in one_field_at_a_time(form):
        rolled_back(lambda data=data: attempt(data))

    @EXAMPLES
    @given(data=form_data(form))
    def run(data):
        rolled_back(lambda: attempt(data))

    run()


def test_it_escapes_stored_markup_on_every_page_that_shows_it(people, settings, tmp_path):
    """The markup, stored on purpose in every text a user can type, comes back escaped."""
    settings.MEDIA_ROOT = tmp_path
    deputy_user = make_user("deputy")
    s = people.replied(title=f"标题{SCRIPT}")
    a = s.assignments.get()
    s.lead_deputy.name, s.lead_deputy.user = f"代表{IMG}", deputy_user
    s.lead_deputy.save()
    workflow.add_progress(a, actor=people.handler, text=f"进展{SCRIPT}")
    workflow.record_feedback(s, actor=people.liaison, result="dissatisfied", attitude="satisfied",
                             comments=f"意见{IMG}")
    for user in (people.office, people.handler, people.liaison, deputy_user):
        client = logged_in(user)
        for name, args in (("suggestions:detail", [s.pk]), ("suggestions:list", []), ("suggestions:dashboard", []),
                           ("suggestions:notifications", [])):
            r = client.get(reverse(name, args=args))
            assert r.status_code == 200
            check(r)
        body = client.get(reverse("suggestions:detail", args=[s.pk])).content.decode()
        assert "&lt;script&gt;" in body  # shown, as text


# --- the office's supervision pages and the other query parameters ------------------------------

def _supervision_forms(w, people):
    """(url, form, user) for every form of the supervision pages, when the app is there."""
    try:
        from supervision import forms as sf
    except ImportError:
        return []
    o = w.office
    return [
        (reverse("supervision:recheck_create"), sf.RecheckForm(), people.office),
        (reverse("supervision:recheck_detail", args=[o["recheck"].pk]), sf.CheckersForm(campaign=o["recheck"]),
         people.office),
        (reverse("supervision:sample_detail", args=[o["sample"].pk]), sf.FindingForm(), people.office),
        (reverse("supervision:review_create"), sf.ReviewForm(), people.office),
        (reverse("supervision:review_item_step", args=[o["review_item"].pk, "reassign"]),
         sf.ReassignForm(prefix="reassign"), people.office),
        (reverse("supervision:review_item_step", args=[o["review_item"].pk, "outcome"]),
         sf.ReviewOutcomeForm(prefix="outcome"), people.office),
        (reverse("supervision:review_item_step", args=[o["review_item"].pk, "note"]),
         sf.ReviewNoteForm(prefix="note"), people.office),
        (reverse("supervision:key_detail", args=[w.mine.suggestion.pk]), sf.KeyReportForm(), people.handler),
        (reverse("supervision:class_together", args=[o["class_mine"].pk]), sf.HandleTogetherForm(), people.office),
        (reverse("supervision:class_link"), sf.ClassNameForm(), people.office),
    ]


def test_it_survives_hostile_input_in_the_supervision_forms(world, people):
    cases = _supervision_forms(world, people)
    assert cases, "the supervision forms were not found"
    failures = []
    for url, form, user in cases:  # every form is attacked, and every failure named at the end
        try:
            _attack_form(logged_in(user), url, form, ["suggestions", "back"] if url.endswith("/link/") else [])
        except Exception as e:  # noqa: BLE001 - collected, then reported together
            failures.append(f"{url} ({type(form).__name__}): {type(e).__name__}: {str(e)[:300]}")
    assert not failures, "\n".join(failures)


def _attack_form(client, url, form, extra):
    def attempt(data):
        r = client.post(url, data)
        check(r)
        if r.status_code == 302:
            check(client.get(r["Location"]))

    for data in one_field_at_a_time(form, extra=extra):
        rolled_back(lambda data=data: attempt(data))

    @settings(EXAMPLES, max_examples=15)  # ten forms in one test: fewer each
    @given(data=form_data(form, extra=extra))
    def run(data):
        rolled_back(lambda: attempt(data))

    run()


QUERY_PAGES = [  # pages that read query parameters without a form to name them
    ("supervision:dashboard", None, ["year", "leader", "page"]),
    ("supervision:class_list", None, ["page"]),
    ("supervision:review_detail", "review", ["page"]),
    ("suggestions:reminders", None, ["date", "page"]),
    ("suggestions:notifications", None, ["page"]),
]


@pytest.mark.parametrize(("name", "obj", "keys"), QUERY_PAGES, ids=[p[0] for p in QUERY_PAGES])
def test_it_survives_hostile_query_parameters(world, name, obj, keys):
    url = reverse(name, args=[world.office[obj].pk] if obj else [])
    client = logged_in(world.users["office"])
    for key in keys:
        for value in SHARP:
            check(client.get(url, {key: value}))

    @EXAMPLES
    @given(data=st.fixed_dictionaries({k: hostile_text for k in keys}))
    def run(data):
        check(client.get(url, data))

    run()


def test_it_ignores_ids_no_column_can_hold_in_a_choice_of_many(people):
    """`pk__in` with a 30-digit id (a multiple choice posted by hand) finds nothing instead of failing."""
    from suggestions.models import Suggestion

    s = people.suggestion()
    assert list(Suggestion.objects.filter(pk__in=[10**30, s.pk])) == [s]
    assert not Suggestion.objects.filter(pk__in=[10**30, -(10**30)]).exists()
    form = RegisterForm({"lead": ["9" * 30]})
    assert not form.is_valid() and "lead" in form.errors


# --- logging in and changing one's password -----------------------------------------------------

def test_it_survives_hostile_input_when_logging_in(people, settings):
    """The login form, throttled as in production: a lockout (429) is an answer, a 500 is not, and
    the user name typed comes back escaped on the form and on the lockout page alike."""
    from axes.utils import reset

    settings.AXES_ENABLED, settings.AXES_FAILURE_LIMIT = True, 5
    url = reverse("login")
    reached = []

    def attempt(data):
        r = Client().post(url, data, REMOTE_ADDR="10.9.9.9")
        check(r)
        reached.append(r.status_code)

    # Not rolled back: the failures add up, so that the later sharp values meet the lockout page.
    for data in one_field_at_a_time(AuthenticationForm(), extra=["next"]):
        attempt(data)
    assert 429 in reached, "the sharp values never met the lockout"
    reset()
    reached.clear()

    @EXAMPLES
    @given(data=st.fixed_dictionaries({"username": st.one_of(st.just("handler"), hostile_text),
                                       "password": st.one_of(st.just(PASSWORD), hostile_text),
                                       "next": st.one_of(st.just("/"), hostile_text)}))
    def run(data):
        rolled_back(lambda: attempt(data))  # the attempts roll back too: every example meets the form

    run()
    assert 200 in reached, "no example reached the login form itself"


NEW_PASSWORD = "换一个新的密码-2025"


@st.composite
def password_changes(draw):
    new = draw(st.one_of(st.just(NEW_PASSWORD), hostile_text))
    return {"old_password": draw(st.one_of(st.just(PASSWORD), hostile_text)), "new_password1": new,
            "new_password2": draw(st.one_of(st.just(new), hostile_text))}


def test_it_survives_hostile_input_when_changing_a_password(people):
    """Never a 500, and the password changes exactly when the form said yes."""
    url, done = reverse("password_change"), reverse("password_change_done")
    user = people.handler

    def attempt(data):
        user.refresh_from_db()  # the password as rolled back
        r = logged_in(user).post(url, data)  # a new session each time: a change ends the old ones
        check(r)
        user.refresh_from_db()
        if r.status_code == 302:
            assert r["Location"] == done and user.check_password(data["new_password1"])
        else:
            assert r.status_code == 200 and user.check_password(PASSWORD)
        return r.status_code

    valid = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert rolled_back(lambda: attempt(valid)) == 302, "the valid change was refused"
    for key in valid:
        for value in SHARP:
            rolled_back(lambda key=key, value=value: attempt({**valid, key: value}))

    @EXAMPLES
    @given(data=password_changes())
    def run(data):
        rolled_back(lambda: attempt(data))

    run()


# --- the import, the export's confirmation, the notifications and the reminders ---------------------

@pytest.fixture
def nothing_queued(monkeypatch):
    """A task sent to a broker is recorded instead: nothing leaves the test."""
    sent = []
    for task in (spreadsheets.run_import_job, spreadsheets.run_export_job, tasks.send_reminders):
        monkeypatch.setattr(task, "apply_async", lambda *args, **kw: sent.append(args))
    return sent


IMPORT_ROW = {"年度": 2024, "建议号": "2024001", "标题": "关于宝山路沿线整体绿化改造的建议", "领衔代表": "王代表",
              "主办单位": "区建设管理委", "交办日期": dt.date(2024, 3, 4)}

IMPORT_DATES = {"交办日期", "办复期限", "答复日期", "结果更新日期"}
IMPORT_IDS = {"年度", "建议号"}


def _cell(value):
    """A control character no workbook can hold is written as Excel spells it (_x001B_), as text."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    return value


def _xlsx(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(spreadsheets.HEADERS)
    for r in rows:
        ws.append([_cell(r.get(h)) for h in spreadsheets.HEADERS])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _import(client, rows, name="交办清单.xlsx"):
    """Upload, read the job's page, confirm when the check passed, then read every page that shows
    what was created. Returns the job (None when the upload itself was refused)."""
    before = set(Suggestion.objects.values_list("pk", flat=True))
    r = client.post(reverse("suggestions:import"), {"file": SimpleUploadedFile(name, _xlsx(rows))})
    check(r)
    if r.status_code != 302:
        assert r.status_code == 400
        return None
    job = ImportJob.objects.get(pk=resolve(r["Location"]).kwargs["pk"])
    check(client.get(r["Location"]))
    # FAILED on a check means an error the import caught and hid: the 500 of a background job.
    assert job.state in (ImportJob.State.CHECKED, ImportJob.State.REJECTED), (job.state, job.errors)
    if job.state == ImportJob.State.CHECKED:
        confirmed = client.post(r["Location"])
        assert confirmed.status_code == 302
        job.refresh_from_db()
        assert job.state == ImportJob.State.DONE, (job.state, job.errors)  # the dry run promised it
        check(client.get(r["Location"]))
        for pk in Suggestion.objects.exclude(pk__in=before).values_list("pk", flat=True):
            check(client.get(reverse("suggestions:detail", args=[pk])))
        check(client.get(reverse("suggestions:list")))
    return job


def _import_rows(draw):
    count = draw(st.integers(1, 3))
    rows = []
    for i in range(count):
        hostile = draw(st.dictionaries(st.sampled_from(spreadsheets.HEADERS), hostile_text, max_size=4))
        rows.append({**IMPORT_ROW, "建议号": f"202400{i + 1}", **hostile})
    return rows


def test_it_survives_hostile_cells_in_an_import(people, settings, tmp_path, nothing_queued):
    settings.MEDIA_ROOT = tmp_path
    client = logged_in(people.office)

    marked = {**IMPORT_ROW, "标题": f"标题{SCRIPT}", "内容": IMG, "领衔代表": f"代表{IMG}",
              "附议代表": f"{SCRIPT}、李代表"}

    def shown_escaped():
        job = _import(client, [marked], name=f"清单{IMG}.xlsx")
        assert job is not None and job.state == ImportJob.State.DONE, "the marked row was not imported"
        s = Suggestion.objects.get(year=2024, number="2024001")
        body = client.get(reverse("suggestions:detail", args=[s.pk])).content.decode()
        assert "标题&lt;script&gt;" in body and "代表&lt;img" in body  # shown, as text

    rolled_back(shown_escaped)
    for header in spreadsheets.HEADERS:  # every column, one at a time
        for value in SHARP_DATE if header in IMPORT_DATES else SHARP_NUMBER if header in IMPORT_IDS else [SCRIPT]:
            rolled_back(lambda header=header, value=value: _import(client, [{**IMPORT_ROW, header: value}]))

    @FILE_EXAMPLES
    @given(data=st.data())
    def run(data):
        rows = _import_rows(data.draw)
        rolled_back(lambda: _import(client, rows))

    run()


def some_of(strategy):
    """The dictionaries of `strategy` with some of their keys only."""
    return strategy.flatmap(lambda d: st.sets(st.sampled_from(sorted(d))).map(lambda keys: {k: d[k] for k in keys}))


def test_it_survives_hostile_filters_when_confirming_a_large_export(small_world, people, settings, nothing_queued):
    """The confirming POST of a large export: hostile filters in its query string (what it reads)
    and in its body (what it ignores). A job is created, or the file answers, never a 500."""
    settings.EXPORT_BACKGROUND_ROWS = 0  # every export with a row is a large one
    client = logged_in(people.office)
    form = _page_form(client, "suggestions:list")
    url = reverse("suggestions:export")
    reached = []

    def attempt(query, body):
        r = client.post(url, body, query_params=query)
        check(r)
        reached.append(r.status_code)
        if r.status_code == 302:
            assert resolve(r["Location"]).url_name == "export_job"
            check(client.get(r["Location"]))

    rolled_back(lambda: attempt({}, {}))
    assert reached == [302], "an export of the whole list did not go to the background"
    for key, field in form.fields.items():  # alone: with every other filter set, nothing is left to export
        for value in _sharp_for(field):
            rolled_back(lambda key=key, value=value: attempt({key: value}, {key: value}))

    @FILE_EXAMPLES
    @given(query=some_of(form_data(form, extra=["page"])), body=form_data(form, extra=["page"]))
    def run(query, body):
        rolled_back(lambda: attempt(query, body))

    run()
    assert 302 in reached, "no example reached the background export"


EXTRA_FIELDS = ["page", "date", "next", "version", "id", "csrfmiddlewaretoken"]
extra_fields = st.tuples(
    st.fixed_dictionaries({k: st.one_of(st.just("1"), hostile_text) for k in EXTRA_FIELDS}),
    st.dictionaries(hostile_text, hostile_text, max_size=3),
).map(lambda parts: {**parts[1], **parts[0]})


@pytest.mark.parametrize("name", ["suggestions:notifications", "suggestions:reminders"])
def test_it_survives_hostile_fields_posted_to_notifications_and_reminders(people, name, nothing_queued):
    """Marking every notification read, asking for today's reminder scan: extra fields are ignored."""
    client = logged_in(people.office)
    url = reverse(name)
    reached = []

    def attempt(query, body):
        r = client.post(url, body, query_params=query)
        check(r)
        reached.append(r.status_code)
        if r.status_code == 302:
            assert r["Location"] == url
        else:  # a NUL character is refused by ops.middleware before any view
            assert r.status_code == 400 and "\x00" in "".join([*query, *query.values(), *body.values()])
        check(client.get(url))

    for key in EXTRA_FIELDS:
        for value in SHARP:
            rolled_back(lambda key=key, value=value: attempt({key: value}, {key: value}))

    @EXAMPLES
    @given(query=extra_fields, body=extra_fields)
    def run(query, body):
        rolled_back(lambda: attempt(query, body))

    run()
    assert 302 in reached
