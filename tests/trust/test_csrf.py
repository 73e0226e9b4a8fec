"""CSRF on every form: a POST without the token is refused on every URL, before any view runs."""
import re
from pathlib import Path

from django.conf import settings
from django.test import Client

from tests.trust.urlmap import routes


def test_it_refuses_a_post_without_the_token_on_every_url(people):
    anonymous, office = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    office.force_login(people.office)
    failures = []
    for route in routes():
        url = route.url()
        for who, client in (("anonymous", anonymous), ("office", office)):
            r = client.post(url, {"username": "office", "password": "x", "reason": "x"})
            if r.status_code != 403 or b"CSRF" not in r.content:
                failures.append(f"POST {url} as {who}: {r.status_code}")
    assert not failures, "\n".join(failures)


def test_it_accepts_the_same_post_with_the_token(people):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    token = page.cookies["csrftoken"].value
    r = client.post("/accounts/login/", {"username": "office", "password": "test-pass-2025",
                                         "csrfmiddlewaretoken": token})
    assert r.status_code == 302


FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)


def test_it_puts_the_token_in_every_post_form_of_every_template():
    missing = []
    for folder in [*settings.TEMPLATES[0]["DIRS"], *Path(settings.BASE_DIR).glob("*/templates")]:
        for path in Path(folder).rglob("*.html"):
            for form in FORM.findall(path.read_text(encoding="utf-8")):
                opening = form.split(">", 1)[0].lower()
                if 'method="post"' in opening and "{% csrf_token %}" not in form:
                    missing.append(f"{path}: {opening}>")
    assert not missing, "\n".join(missing)
