"""Production hardening: a default key stops the start, `check --deploy` is silent, and every page
carries a Content-Security-Policy that it keeps."""
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import config.settings
from tests.ops.utils import child_env, manage, production_env


@pytest.mark.parametrize("key, reason", [
    (None, "SECRET_KEY must be set"),
    (config.settings._DEV_SECRET, "development default"),
    ("too-short-to-be-random", "at least 50 random characters"),
    ("django-insecure-" + "x7Kq2mP9vR4tW8yZ3bN6cF1hJ5lD0sG" * 2, None),
    ("a" * 60, "at least 50 random characters"),
])
def test_it_refuses_to_start_in_production_with_a_default_or_weak_key(tmp_path, key, reason):
    result = manage("check", env=production_env(tmp_path, SECRET_KEY=key))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert (reason or "SECRET_KEY") in result.stderr


@pytest.mark.parametrize("debug", ["1", "true"])
def test_it_refuses_to_start_in_production_with_debug_on(tmp_path, debug):
    result = manage("check", env=production_env(tmp_path, DEBUG=debug))
    assert result.returncode != 0
    assert "DEBUG cannot be on in production" in result.stderr


def test_debug_is_off_in_production_unless_asked(tmp_path):
    result = manage("shell", "-c", "from django.conf import settings; print(settings.DEBUG)",
                    env=production_env(tmp_path, DEBUG=None))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False"


def test_it_starts_in_development_without_a_key(tmp_path):
    result = manage("check", env=child_env(tmp_path, DEBUG="1"))
    assert result.returncode == 0, result.stderr


def test_it_passes_the_deployment_checklist_without_a_warning(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr
    assert "no issues" in result.stdout


def directives(policy):
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = set(sources)
    return parsed


@pytest.mark.django_db
def test_it_sends_the_content_security_policy_with_every_page(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == {"'self'"}
    assert policy["script-src"] == {"'self'"}
    assert policy["style-src"] == {"'self'"}
    assert policy["img-src"] == {"'self'", "data:"}
    assert policy["frame-ancestors"] == {"'none'"}
    assert policy["form-action"] == {"'self'"}
    assert policy["base-uri"] == {"'self'"}


@pytest.mark.django_db
def test_it_leaves_a_header_a_view_set_itself(rf):
    from django.http import HttpResponse

    from ops.middleware import ContentSecurityPolicyMiddleware

    def view(request):
        response = HttpResponse("embedded")
        response["Content-Security-Policy"] = "frame-ancestors 'self'"
        return response

    assert ContentSecurityPolicyMiddleware(view)(rf.get("/"))["Content-Security-Policy"] == "frame-ancestors 'self'"


class PolicyViolations(HTMLParser):
    """What `script-src 'self'; style-src 'self'` and friends would block in a page's HTML."""

    DATA_SCRIPTS = {"application/json", "application/ld+json"}

    def __init__(self):
        super().__init__()
        self.found = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src") and attrs.get("type") not in self.DATA_SCRIPTS:
            self.found.add("inline <script>")
        if tag == "style":
            self.found.add("inline <style>")
        for name, value in attrs.items():
            value = (value or "").strip().lower()
            if name == "style":
                self.found.add(f"style attribute on <{tag}>")
            elif name.startswith("on"):
                self.found.add(f"{name} handler on <{tag}>")
            elif name in ("href", "src", "action") and value.startswith("javascript:"):
                self.found.add(f"javascript: URL on <{tag}>")
            elif name in ("src", "action") and value.startswith(("http:", "https:", "//")):
                self.found.add(f"external {name} on <{tag}>")
            elif tag == "link" and name == "href" and value.startswith(("http:", "https:", "//")):
                self.found.add("external stylesheet")


def product_pages(patterns=None, prefix="/"):
    """Every page of the product's URL configuration that takes no argument (the admin aside)."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = str(entry.pattern)
        if getattr(entry.pattern, "converters", None) or "(" in route or route.startswith("admin/"):
            continue
        if isinstance(entry, URLResolver):
            yield from product_pages(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            yield prefix + route


@pytest.mark.django_db
def test_it_keeps_every_page_within_the_policy(client, people):
    office = people.office
    office.is_staff = office.is_superuser = True
    office.save()
    suggestion = people.assigned(co=[people.dept2])
    violations = set()

    def scan(path, user=None):
        client.logout()
        if user:
            client.force_login(user)
        response = client.get(path)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            parser = PolicyViolations()
            parser.feed(response.content.decode())
            violations.update(f"{path} ({user or 'anonymous'}): {found}" for found in parser.found)
        return response

    assert scan(reverse("login")).status_code == 200
    for path in product_pages():
        scan(path, office)
    detail = reverse("suggestions:detail", args=[suggestion.pk])
    for user in (office, people.handler, people.handler2, people.liaison):
        scan(detail, user)
    assert scan(reverse("admin:index"), office).status_code == 200
    assert not violations, "\n".join(sorted(violations))


def test_it_applies_the_policy_in_development_too():
    # Developers and the browser tests see a blocked inline script before production does.
    assert "ops.middleware.ContentSecurityPolicyMiddleware" in settings.MIDDLEWARE
