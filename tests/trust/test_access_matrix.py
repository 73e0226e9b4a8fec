"""The access matrix, generated from the URL configuration.

Every URL of the product, with GET and POST, is requested as an anonymous visitor and as each
persona (the office, the liaison office, a handler and a leader of each department, a deputy with
a login), on objects inside and outside the persona's scope. Expected: anonymous → the login page
(except public pages); out of scope → 404; in scope but read-only → 403; allowed → an answer
(200, a redirect, 400 for the empty form, or 405 for a method it does not take). Every page and
file a persona gets is also searched for the other department's titles and for drafts the persona
may not see.

`RULES` classifies each URL name. A URL that nobody classified fails `test_it_classifies_every_url`,
naming it: add it to `RULES` (see the kinds below) when you add the URL.
"""
import io
import zipfile
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.test import Client

from tests.base import make_user
from tests.trust import world as world_module
from tests.trust.urlmap import routes

PUBLIC = "public"            # no login: anonymous users get the page itself
LOGGED_IN = "logged_in"      # any logged-in user; the content is scoped
WORKERS = "workers"          # the office, the liaison office and departments; a deputy gets 403
COORDINATOR = "coordinator"  # the district office's coordinators only; everyone else 403
ADMIN = "admin"              # Django's admin: staff only; everyone else goes to the admin login
SCOPED = "scoped"            # one object, through the scope: out of scope 404, read-only 403

OFFICE, LIAISON, HANDLERS, LEADERS, DEPUTY = "office", "liaison", "handlers", "leaders", "deputy"
PERSONAS = ("office", "liaison", "handler", "leader", "handler2", "leader2", "deputy")


@dataclass(frozen=True)
class Probe:
    """One way to request a URL: on which object of a family, with which arguments.

    `level`: who sees the object: "suggestion" (office, liaison, the department, the deputy) or
    "assignment" (office, liaison, the department). `writers`: None for a page that only reads;
    otherwise who may use it (the others in scope get 403), relative to the family.
    """

    args: object = None          # Family -> kwargs for the URL
    level: str = "suggestion"
    writers: frozenset | None = None
    post_only: bool = False


@dataclass(frozen=True)
class Rule:
    kind: str
    probes: tuple = field(default=(Probe(),))
    post_only: bool = False
    args: object = None          # World -> kwargs, for unscoped URLs that take an argument


def _writers(*names):
    return frozenset(names)


def step(obj, name, level, *writers):
    return Probe(args=lambda f: {"pk": getattr(f, obj).pk, "step": name}, level=level, writers=_writers(*writers),
                 post_only=True)


RULES = {
    # public
    "healthz": Rule(PUBLIC),
    "login": Rule(PUBLIC),
    "logout": Rule(PUBLIC),  # POST only; logs out whoever asks, anonymous included
    "admin:logout": Rule(PUBLIC),
    "set_language": Rule(PUBLIC),
    "admin:login": Rule(PUBLIC),
    # any logged-in user, content scoped
    "password_change": Rule(LOGGED_IN),
    "password_change_done": Rule(LOGGED_IN),
    "suggestions:dashboard": Rule(LOGGED_IN),
    "suggestions:list": Rule(LOGGED_IN),
    "suggestions:notifications": Rule(LOGGED_IN),
    "suggestions:export": Rule(LOGGED_IN),
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
    # one object, through the scope
    "suggestions:detail": Rule(SCOPED, (Probe(args=lambda f: {"pk": f.suggestion.pk}),)),
    "suggestions:edit": Rule(SCOPED, (Probe(args=lambda f: {"pk": f.suggestion.pk}, writers=_writers(OFFICE)),)),
    "suggestions:suggestion_step": Rule(SCOPED, (
        step("suggestion", "withdraw", "suggestion", OFFICE),
        step("replied", "record_feedback", "suggestion", OFFICE, LIAISON, DEPUTY),
        step("suggestion", "no-such-step", "none"),
    )),
    "suggestions:assignment_step": Rule(SCOPED, (
        step("assignment", "add_progress", "assignment", HANDLERS),
        step("assignment", "accept", "assignment"),  # already accepted: nobody may
        step("assignment", "approve_return", "assignment"),
    )),
    "suggestions:reply_step": Rule(SCOPED, (
        step("draft", "sign_reply", "assignment", LEADERS),
        step("draft", "send_back_reply", "assignment", LEADERS),
    )),
    "suggestions:extension_step": Rule(SCOPED, (
        Probe(args=lambda f: {"pk": f.extension.pk}, level="assignment", writers=_writers(OFFICE), post_only=True),
    )),
    "suggestions:reply_attachment": Rule(SCOPED, (
        Probe(args=lambda f: {"pk": f.draft.pk}, level="assignment"),      # a draft: its department
        Probe(args=lambda f: {"pk": f.sent_reply.pk}, level="suggestion"),  # sent: whoever sees the suggestion
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


def _request(client, user, method, url):
    """One request whose effects are rolled back, so every request sees the same world."""
    session = client.cookies.get("sessionid")
    if user != getattr(client, "as_user", None) or (user is not None and not (session and session.value)):
        client.logout()
        if user is not None:
            client.force_login(user)
        client.as_user = user
    with transaction.atomic():
        response = client.get(url) if method == "GET" else client.post(url, {})
        body = _body(response) if response.status_code == 200 else ""
        transaction.set_rollback(True)
    return response, body


def _readers(w, family, level):
    if level == "none":
        return frozenset()
    everyone = {OFFICE, LIAISON} | family.handlers
    if level == "suggestion":
        everyone |= family.deputies
    return frozenset(everyone)


def _may_write(persona, family, writers):
    expanded = set()
    for w in writers:
        expanded |= {HANDLERS: family.handlers, LEADERS: family.leaders, DEPUTY: family.deputies}.get(w, {w})
    return persona in expanded


def _secrets(w, persona):
    """Text this persona must never receive: the other world's titles, drafts not theirs to see."""
    secrets = []
    for family in (w.mine, w.theirs):
        if persona not in _readers(w, family, "suggestion"):
            secrets.append(family.marker)
        if persona not in _readers(w, family, "assignment"):
            secrets.append(family.draft_marker)
    return secrets


def _expected(rule, probe, w, family, persona, method):
    """The set of acceptable status codes (the login redirect is checked apart)."""
    post_only = rule.post_only or probe.post_only
    if persona is None:
        return "login"
    if rule.kind == PUBLIC:
        return "public"
    if post_only and method == "GET":
        return {405}
    if rule.kind == LOGGED_IN:
        return OK
    if rule.kind == WORKERS:
        return {403} if persona == DEPUTY else OK
    if rule.kind == COORDINATOR:
        return OK if persona == OFFICE else {403}
    if persona not in _readers(w, family, probe.level):
        return {404}
    if probe.writers is not None and not _may_write(persona, family, probe.writers):
        return {403}
    return OK


def _cases(w, route, rule):
    """(label, url, probe, family) for each way the rule says to request this route."""
    if rule.kind != SCOPED:
        kwargs = rule.args(w) if rule.args else {}
        yield route.key, route.url(**kwargs), rule.probes[0], None
        return
    for i, probe in enumerate(rule.probes):
        for family in (w.mine, w.theirs):
            yield f"{route.key}#{i}/{family.key}", route.url(**probe.args(family)), probe, family


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
            for method in ("GET", "POST"):
                r, _ = _request(client, user, method, url)
                if not (r.status_code == 302 and r["Location"].startswith(ADMIN_LOGIN)):
                    failures.append(f"{method} {url} as {user or 'anonymous'}: {r.status_code} {r.get('Location', '')}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("route", [r for r in ROUTES if rule_for(r) and rule_for(r).kind != ADMIN],
                         ids=lambda r: r.key)
def test_it_enforces_the_matrix(world, route):
    rule = rule_for(route)
    client = Client()
    failures = []
    for label, url, probe, family in _cases(world, route, rule):
        for persona in (None, *PERSONAS):
            user = world.users.get(persona)
            for method in ("GET", "POST"):
                r, body = _request(client, user, method, url)
                want = _expected(rule, probe, world, family, persona, method)
                where = f"{method} {url} ({label}) as {persona or 'anonymous'}: {r.status_code}"
                location = r.get("Location", "")
                if r.status_code >= 500:
                    failures.append(f"{where}, a server error")
                elif want == "login":
                    if rule.kind == PUBLIC:
                        if r.status_code in (302, 303) and location.startswith(LOGIN) and url != "/accounts/logout/":
                            failures.append(f"{where}, sent a public page to login")
                    elif not (r.status_code == 302 and location.startswith(LOGIN)):
                        failures.append(f"{where} → {location}, expected the login page")
                elif want == "public":
                    if r.status_code in (403, 404):
                        failures.append(f"{where}, a public page refused")
                elif r.status_code not in want:
                    failures.append(f"{where}, expected {sorted(want)}")
                for secret in _secrets(world, persona) if persona else ():
                    if secret in body:
                        failures.append(f"{where}, shows {secret} it may not see")
    assert not failures, "\n".join(failures)
