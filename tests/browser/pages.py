"""What the journeys do on a page: drive a step form of the detail page, finish with a screenshot.

Shared by conftest.py (which saves a failing test's pages) and test_journeys.py.
"""
import re
from pathlib import Path

from django.conf import settings

SCREENSHOTS = Path(settings.BASE_DIR) / "build" / "screenshots"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

saved_screenshots = []


def screenshot(page, name):
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    saved_screenshots.append(path)
    return path


def watch(page):
    """Collect what the page itself reports as broken: uncaught script errors and CSP refusals."""
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"script error: {error}"))
    page.on("console", lambda msg: page.problems.append(f"console: {msg.text}")
            if msg.type == "error" and "Content Security Policy" in msg.text else None)
    page.on("response", lambda response: page.problems.append(f"{response.status}: {response.url}")
            if "/static/" in response.url and response.status >= 400 else None)
    return page


def finish(page, name):
    """A journey's last page: nothing broken on it, and its picture kept under build/screenshots/."""
    assert not page.problems, "\n".join(page.problems)
    return screenshot(page, name)


# Every visible field under an element (`root`) that has no label: label[for], a wrapping label or aria-label.
UNLABELLED = """root => [...root.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && e.getClientRects().length > 0)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
  .map(e => e.outerHTML.slice(0, 120))"""


# --- the detail page's step forms ------------------------------------------------------------

def open_step(page, action):
    """The form posting to `action`, its <details class="action"> opened as a person would."""
    form = page.locator(f"form[action='{action}']")
    assert form.count() == 1, f"no step form posting to {action} on {page.url}"
    details = page.locator("details.action", has=form)
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return form


def do_step(page, action, **fields):
    """Fill a step's fields (named `<prefix>-<field>`), submit it, and check it was done."""
    form = open_step(page, action)
    assert form.evaluate(UNLABELLED) == [], f"{action}: fields without a label"
    for name, value in fields.items():
        field = form.locator(f"[name='{name}']")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    with page.expect_navigation():
        form.locator("button.primary").click()
    errors = page.locator("li.msg.error, .error[role=alert], ul.errorlist").all_inner_texts()
    assert not errors, f"{action}: {errors}"
    assert page.locator("li.msg.success").count() == 1, f"{action}: no confirmation on {page.url}"


def step_action(page, pattern):
    """The action URL of the one step form whose action matches `pattern` (a regular expression)."""
    actions = [a for a in page.locator("form").evaluate_all("fs => fs.map(f => f.getAttribute('action'))")
               if a and re.search(pattern, a)]
    assert len(actions) == 1, f"{pattern}: {actions} on {page.url}"
    return actions[0]


