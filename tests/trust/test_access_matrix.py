"""The access matrix, generated from the URL configuration.

Every URL of the product, with GET, HEAD and POST (and PUT, PATCH, DELETE, OPTIONS and TRACE, which
every URL refuses with 405), is requested as an anonymous visitor and as each
persona (the office, the liaison office, a handler and a leader of each department, a deputy with
a login), on objects inside and outside the persona's scope. Expected: anonymous → the login page
(except public pages); out of scope → 404; in scope but read-only → 403; allowed → an answer
(200, a redirect, 400 for the empty form, or 405 for a method it does not take). Every page and
file a persona gets is also searched for the other department's titles, for drafts the persona
may not see and, on public pages, for the deputies' phone numbers.

`RULES` classifies each URL name. A URL that nobody classified fails `test_it_classifies_every_url`,
naming it: add it to `RULES` (see the kinds below) when you add the URL. The admin site is
classified as a whole (staff only) by `test_it_keeps_the_admin_for_staff_only`.
"""
import io
import zipfile
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from suggestions import views as suggestion_views
from suggestions import workflow
from tests.base import make_user
from tests.trust import world as world_module
from tests.trust.urlmap import routes

# Kinds of URL.
PUBLIC = "public"            # no login: anonymous users get the page itself
PUBLISHED = "published"      # one published item, no login: published → shown to all, else 404 to all
LOGGED_IN = "logged_in"      # any logged-in user; the content is scoped
WORKERS = "workers"          # the office, the liaison office and departments; a deputy gets 403
COORDINATOR = "coordinator"  # the district office's coordinators only; everyone else 403
OFFICE = "office"            # the office's own pages: coordinators and liaison read; anyone else 404
SCOPED = "scoped"            # one object, through the scope: out of scope 404, read-only 403
OWNER = "owner"              # one person's own object (`args` names it, `owner` its persona): anyone else 404
ADMIN = "admin"              # Django's admin: staff only; everyone else goes to the admin login

# Who, in `writers` (relative to the object's department where it has one).
COORD, LIAISON, HANDLERS, LEADERS, DEPUTY = "office", "liaison", "handlers", "leaders", "deputy"
PERSONAS = ("office", "liaison", "handler", "leader", "handler2", "leader2", "deputy")


@dataclass(frozen=True)
class Probe:
    """One way to request a URL: with which arguments, on which object of a department's world.

    `args(family, world)` gives the URL's arguments. `level`: who sees the object: "suggestion"
    (office, liaison, the department, the deputy), "assignment" (office, liaison, the department)
    or "none". `writers`: None for a page that only reads; otherwise who may use it (others who
    see the object get 403). `post_only`: the writers' part is only the POST (the page is readable).
    """

    args: object = None
    level: str = "suggestion"
    writers: frozenset | None = None
    post_only: bool = False
    published: bool = True   # PUBLISHED kind: whether the item is on the public pages


@dataclass(frozen=True)
class Rule:
    kind: str
    probes: tuple = field(default=(Probe(),))
    writers: frozenset | None = None   # unscoped kinds: who may POST (the others get 403)
    post_only: bool = False            # the URL takes POST only (GET: 405)
    get_only: bool = False             # the URL takes GET only (POST: 404 or 405)
    args: object = None                # world -> kwargs, for unscoped URLs that take an argument
    owner: str = ""                    # OWNER kind: the persona whose object it is


def _w(*names):
    return frozenset(names)


def step(obj, name, level, *writers):
    return Probe(args=lambda f, w: {"pk": getattr(f, obj).pk, "step": name}, level=level, writers=_w(*writers))


def office_obj(name, **extra):
    return lambda w: {"pk": w.office[name].pk, **extra}


RULES = {
    # public
    "healthz": Rule(PUBLIC),
    "login": Rule(PUBLIC),
    "logout": Rule(PUBLIC),  # POST only; logs out whoever asks, anonymous included
    "set_language": Rule(PUBLIC),
    "admin:login": Rule(PUBLIC),
    "admin:logout": Rule(PUBLIC),
    "public:list": Rule(PUBLIC),
    "public:detail": Rule(PUBLISHED, (
        Probe(args=lambda f, w: {"pk": f.replied.pk}, published=True),
        Probe(args=lambda f, w: {"pk": f.suggestion.pk}, published=False),  # not replied yet
    )),
    # any logged-in user, content scoped
    "password_change": Rule(LOGGED_IN),
    "password_change_done": Rule(LOGGED_IN),
    "suggestions:dashboard": Rule(LOGGED_IN),
    "suggestions:list": Rule(LOGGED_IN),
    "suggestions:notifications": Rule(LOGGED_IN),
    "suggestions:export": Rule(LOGGED_IN),
    "suggestions:reminders": Rule(LOGGED_IN, writers=_w(COORD)),  # POST runs today's scan
    "supervision:dashboard": Rule(LOGGED_IN),
    "supervision:class_list": Rule(LOGGED_IN),
    # the people who work on suggestions
    "reports:annual": Rule(WORKERS),
    "reports:annual_xlsx": Rule(WORKERS),
    "reports:annual_docx": Rule(WORKERS),
    # the office only
    "suggestions:create": Rule(COORDINATOR),
    "suggestions:import": Rule(COORDINATOR),
    "suggestions:import_template": Rule(COORDINATOR),
    "suggestions:import_job": Rule(COORDINATOR, args=lambda w: {"pk": w.import_job.pk}),
    "audit:list": Rule(COORDINATOR),
    "audit:export": Rule(COORDINATOR),
    # one person's own: a background export is its owner's alone, whoever else asks (the office too)
    "suggestions:export_job": Rule(OWNER, owner="handler", get_only=True, args=lambda w: {"pk": w.export_job.pk}),
    "suggestions:export_file": Rule(OWNER, owner="handler", get_only=True, args=lambda w: {"pk": w.export_job.pk}),
    # the office's supervision pages: the liaison office reads them, departments do not see them
    "supervision:recheck_list": Rule(OFFICE),
    "supervision:recheck_create": Rule(OFFICE, writers=_w(COORD), post_only=True),
    "supervision:recheck_detail": Rule(OFFICE, writers=_w(COORD), args=office_obj("recheck")),
    "supervision:sample_detail": Rule(OFFICE, writers=_w(COORD), args=office_obj("sample")),
    "supervision:review_list": Rule(OFFICE),
    "supervision:review_create": Rule(OFFICE, writers=_w(COORD), post_only=True),
    "supervision:review_detail": Rule(OFFICE, args=office_obj("review")),
    "supervision:review_item": Rule(OFFICE, get_only=True, args=office_obj("review_item")),  # steps post below
    "supervision:review_item_step": Rule(OFFICE, writers=_w(COORD), args=office_obj("review_item", step="note")),
    "supervision:class_link": Rule(OFFICE, writers=_w(COORD), post_only=True),
    "supervision:class_together": Rule(OFFICE, writers=_w(COORD), post_only=True, args=office_obj("class_mine")),
    "supervision:class_unlink": Rule(OFFICE, writers=_w(COORD), post_only=True, args=office_obj("member_mine")),
    # one object, through the scope
    "suggestions:detail": Rule(SCOPED, (Probe(args=lambda f, w: {"pk": f.suggestion.pk}),)),
    "suggestions:edit": Rule(SCOPED, (Probe(args=lambda f, w: {"pk": f.suggestion.pk}, writers=_w(COORD)),)),
    "suggestions:suggestion_step": Rule(SCOPED, (
        step("suggestion", "withdraw", "suggestion", COORD),
        step("replied", "record_feedback", "suggestion", COORD, LIAISON, DEPUTY),
        step("suggestion", "no-such-step", "none"),
    ), post_only=True),
    "suggestions:assignment_step": Rule(SCOPED, (
        step("assignment", "add_progress", "assignment", HANDLERS),
        step("assignment", "accept", "assignment"),  # already accepted: nobody may
        step("assignment", "approve_return", "assignment"),
    ), post_only=True),
    "suggestions:reply_step": Rule(SCOPED, (
        step("draft", "sign_reply", "assignment", LEADERS),
        step("draft", "send_back_reply", "assignment", LEADERS),
    ), post_only=True),
    "suggestions:extension_step": Rule(SCOPED, (
        Probe(args=lambda f, w: {"pk": f.extension.pk}, level="assignment", writers=_w(COORD)),
    ), post_only=True),
    "suggestions:reply_attachment": Rule(SCOPED, (
        Probe(args=lambda f, w: {"pk": f.draft.pk}, level="assignment"),      # a draft: its department
        Probe(args=lambda f, w: {"pk": f.sent_reply.pk}, level="suggestion"),  # sent: whoever sees the suggestion
    )),
    "supervision:key_detail": Rule(SCOPED, (  # the lead department reports progress on a key suggestion
        Probe(args=lambda f, w: {"pk": f.suggestion.pk}, writers=_w(HANDLERS), post_only=True),
    )),
    "supervision:class_detail": Rule(SCOPED, (  # a class: seen by whoever sees one of its members
        Probe(args=lambda f, w: {"pk": w.office[f"class_{f.key}"].pk}),
    )),
}


def rule_for(route):
    if route.key in RULES:
        return RULES[route.key]
    if route.key.startswith("admin:") or route.route.startswith("admin/"):
        return Rule(ADMIN)  # the whole admin site is behind one guard: staff only
    return None


ROUTES = routes()
LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
OK = {200, 302, 400, 405}  # 405: a method the page does not take, refused before anything is read
# What no page takes (ops.middleware.PageMethodsMiddleware): 405 everywhere, for everyone.
OTHER_METHODS = ("PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def test_it_classifies_every_url():
    missing = [r.key for r in ROUTES if rule_for(r) is None]
    assert not missing, (
        f"URLs nobody classified for the access matrix: {', '.join(missing)}. "
        "Add each to RULES in tests/trust/test_access_matrix.py.")


def test_it_walks_included_url_configurations_too():
    keys = {r.key for r in ROUTES}
    assert {"suggestions:detail", "audit:list", "admin:index", "login"} <= keys


@pytest.fixture
def world(people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return world_module.build(people)


def _body(response):
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    if raw.startswith(b"PK\x03\x04"):  # xlsx and docx: search the text inside
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    return raw.decode("utf-8", "replace")


# The product's records: no page may delete one (withdrawn suggestions are marked, not deleted).
PRODUCT_RECORDS = ["suggestions.suggestion", "suggestions.assignment", "suggestions.reply", "suggestions.feedback",
                   "suggestions.outcomerecord", "suggestions.progressnote", "suggestions.contact",
                   "suggestions.coopinion", "suggestions.extensionrequest", "suggestions.deputy"]


def _request(client, user, method, url):
    """One request whose effects are rolled back, so every request sees the same world.
    The audit trail tells whether it deleted a product record: that fails whoever asked."""
    session = client.cookies.get("sessionid")
    if user != getattr(client, "as_user", None) or (user is not None and not (session and session.value)):
        client.logout()
        if user is not None:
            client.force_login(user)
        client.as_user = user
    with transaction.atomic():
        last = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        response = client.post(url, {}) if method == "POST" else client.generic(method, url)
        body = _body(response) if response.status_code == 200 else ""
        deleted = list(AuditEntry.objects.filter(pk__gt=last, action="delete", model_label__in=PRODUCT_RECORDS)
                       .values_list("model_label", "object_id"))
        transaction.set_rollback(True)
    assert not deleted, f"{method} {url} as {user}: deleted {deleted}"
    return response, body


def _readers(family, level):
    if level == "none":
        return frozenset()
    everyone = {COORD, LIAISON} | family.handlers
    if level == "suggestion":
        everyone |= family.deputies
    return frozenset(everyone)


def _may(persona, family, writers):
    expanded = set()
    for w in writers:
        if family is None:
            expanded.add(w)
        else:
            expanded |= {HANDLERS: family.handlers, LEADERS: family.leaders, DEPUTY: family.deputies}.get(w, {w})
    return persona in expanded


def _secrets(w, persona, rule):
    """Text this persona must never receive: the other world's titles, drafts not theirs to see.
    On the public pages (published titles are everyone's): drafts, items not published, phones."""
    if persona is None or rule.kind in (PUBLIC, PUBLISHED):
        return [x for f in (w.mine, w.theirs) for x in (f.draft_marker, f.unpublished_marker)] + list(w.phones)
    secrets = []
    for family in (w.mine, w.theirs):
        if persona not in _readers(family, "suggestion"):
            secrets.append(family.marker)
        if persona not in _readers(family, "assignment"):
            secrets.append(family.draft_marker)
    return secrets


def _expected(rule, probe, family, persona, method):
    """The acceptable status codes, or "login" / "public" for the checks made apart."""
    if method in OTHER_METHODS:
        return {405}
    if method == "HEAD":  # a GET without its body
        method = "GET"
    if rule.kind == PUBLISHED:
        return OK if probe.published else {404}
    if rule.kind == PUBLIC:
        return "public"
    if persona is None:
        return "login"
    if rule.post_only and method == "GET":
        return {405}
    if rule.get_only and method == "POST":
        return {404, 405}
    if rule.kind == LOGGED_IN:
        return {403} if rule.writers is not None and method == "POST" and not _may(persona, None, rule.writers) else OK
    if rule.kind == WORKERS:
        return {403} if persona == DEPUTY else OK
    if rule.kind == COORDINATOR:
        return OK if persona == COORD else {403}
    if rule.kind == OWNER:
        return OK if persona == rule.owner else {404}
    if rule.kind == OFFICE:
        if persona not in (COORD, LIAISON):
            return {404}
        return {403} if rule.writers is not None and method == "POST" and persona not in rule.writers else OK
    # SCOPED
    if persona not in _readers(family, probe.level):
        return {404}
    if probe.writers is not None and (method == "POST" or not probe.post_only) and not _may(
            persona, family, probe.writers):
        return {403}
    return OK


def _cases(w, route, rule):
    """(label, url, probe, family) for each way the rule says to request this route."""
    if rule.kind not in (SCOPED, PUBLISHED):
        kwargs = rule.args(w) if rule.args else {}
        yield route.key, route.url(**kwargs), rule.probes[0], None
        return
    for i, probe in enumerate(rule.probes):
        for family in (w.mine, w.theirs):
            yield f"{route.key}#{i}/{family.key}", route.url(**probe.args(family, w)), probe, family


def _check(route, rule, url, label, probe, family, persona, method, r, body, world):
    where = f"{method} {url} ({label}) as {persona or 'anonymous'}: {r.status_code}"
    want = _expected(rule, probe, family, persona, method)
    location = r.get("Location", "")
    problems = []
    if r.status_code >= 500:
        problems.append(f"{where}, a server error")
    elif want == "login":
        if not (r.status_code == 302 and location.startswith(LOGIN)):
            problems.append(f"{where} → {location}, expected the login page")
    elif want == "public":
        if r.status_code in (403, 404) or (location.startswith(LOGIN) and url != "/accounts/logout/"):
            problems.append(f"{where} → {location}, a public page refused")
    elif r.status_code not in want:
        problems.append(f"{where}, expected {sorted(want)}")
    for secret in _secrets(world, persona, rule):
        if secret in body:
            problems.append(f"{where}, shows {secret} it may not see")
    return problems


@pytest.mark.parametrize("route", [r for r in ROUTES if rule_for(r) and rule_for(r).kind != ADMIN],
                         ids=lambda r: r.key)
def test_it_enforces_the_matrix(world, route):
    rule = rule_for(route)
    client = Client()
    failures = []
    for label, url, probe, family in _cases(world, route, rule):
        for persona in (None, *PERSONAS):
            for method in ("GET", "HEAD", "POST", *OTHER_METHODS):
                if method in OTHER_METHODS and persona not in (None, "office", "handler2"):
                    continue  # refused before any user is read: three kinds of visitor suffice
                r, body = _request(client, world.users.get(persona), method, url)
                failures += _check(route, rule, url, label, probe, family, persona, method, r, body, world)
    assert not failures, "\n".join(failures)


def test_it_keeps_the_admin_for_staff_only(people):
    """Every admin URL, as anonymous and as users who are not staff (a coordinator among them)."""
    deputy = make_user("deputy")
    client = Client()
    failures = []
    for route in ROUTES:
        rule = rule_for(route)
        if rule is None or rule.kind != ADMIN:
            continue
        url = route.url()
        for user in (None, people.office, deputy):
            for method in ("GET", "POST", "DELETE"):
                r, _ = _request(client, user, method, url)
                if method == "DELETE":
                    if r.status_code != 405:
                        failures.append(f"{method} {url} as {user or 'anonymous'}: {r.status_code}")
                elif not (r.status_code == 302 and r["Location"].startswith(ADMIN_LOGIN)):
                    failures.append(f"{method} {url} as {user or 'anonymous'}: {r.status_code} {r.get('Location', '')}")
    assert not failures, "\n".join(failures)


def _step_writers(name, family):
    """Who may take a workflow step on this department's object, from the move's `who`
    (the state decides apart: `workflow.allowed` with no user)."""
    who = workflow.TRANSITIONS[name].who
    if who == workflow.OFFICE:
        return {COORD}
    if who == workflow.HANDLER:
        return set(family.handlers)
    if who == workflow.LEADER:
        return set(family.leaders) | ({COORD} if name == "change_outcome" else set())
    return {COORD, LIAISON} | set(family.deputies)  # the ratings: the office, the liaison office, the deputy


def _step_cases(family):
    """(URL, step, the object whose state decides, level) for every step of every step URL."""
    views = suggestion_views
    for name in views.SUGGESTION_STEPS:
        for s in (family.suggestion, family.replied):
            yield reverse("suggestions:suggestion_step", args=[s.pk, name]), name, s, "suggestion"
    for name in views.ASSIGNMENT_STEPS:
        for a in (family.assignment, family.sent_reply.assignment):
            yield reverse("suggestions:assignment_step", args=[a.pk, name]), name, a, "assignment"
    for name in views.REPLY_STEPS:
        url = reverse("suggestions:reply_step", args=[family.draft.pk, name])
        yield url, name, family.draft.assignment, "assignment"
    yield (reverse("suggestions:extension_step", args=[family.extension.pk]), "decide_extension",
           family.extension.assignment, "assignment")


def test_every_workflow_step_is_scoped_and_refused_to_whom_it_is_not_given(world):
    """Each step of each step URL (the matrix above probes a few), POSTed by everyone on both
    departments' objects: out of scope 404; in scope, 403 unless the move is the persona's and the
    object's state allows it."""
    client = Client()
    failures = []
    for family in (world.mine, world.theirs):
        for url, name, obj, level in _step_cases(family):
            possible = workflow.allowed(None, name, obj)
            for persona in (None, *PERSONAS):
                r, _ = _request(client, world.users.get(persona), "POST", url)
                if persona is None:
                    ok = r.status_code == 302 and r["Location"].startswith(LOGIN)
                    want = "the login page"
                else:
                    if persona not in _readers(family, level):
                        want = {404}
                    elif persona in _step_writers(name, family) and possible:
                        want = {200, 302, 400}
                    else:
                        want = {403}
                    ok = r.status_code in want
                if not ok:
                    failures.append(f"POST {url} ({family.key}) as {persona or 'anonymous'}: {r.status_code}, "
                                    f"expected {want}")
    assert not failures, "\n".join(failures)
