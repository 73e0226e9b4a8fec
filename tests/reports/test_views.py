"""The report page and its downloads, as each persona uses them."""
import datetime as dt
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from reports import queries
from tests.base import PASSWORD
from tests.reports import data

D = dt.date
PARAMS = {"year": "2025", "as_of": "2025-09-19"}


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def two_departments(people):
    """dept: 3 solved, 1 planned (one co-handled by dept2); dept2: 2 for reference."""
    data.write(people, [data.replied("solved") for _ in range(3)] +
               [data.replied("planned", co=[people.dept2])] +
               [data.replied("for_reference", department=people.dept2) for _ in range(2)])


def download(client, name, params=PARAMS):
    r = client.get(reverse(name), params)
    assert r.status_code == 200, r.content[:300]
    return r, b"".join(r.streaming_content)


def test_it_sends_anonymous_users_to_login(client, people):
    for name in ("reports:annual", "reports:annual_xlsx", "reports:annual_docx"):
        r = client.get(reverse(name))
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


def test_it_refuses_users_without_a_role(client, people):
    get_user_model().objects.create_user("someone", "s@example.org", PASSWORD)
    client.login(username="someone", password=PASSWORD)
    for name in ("reports:annual", "reports:annual_xlsx", "reports:annual_docx"):
        assert client.get(reverse(name)).status_code == 403
    html = client.get(reverse("suggestions:dashboard")).content.decode()
    assert reverse("reports:annual") not in html  # no link to a page they may not open


@pytest.mark.parametrize("who", ["office", "liaison"])
def test_it_shows_the_office_the_whole_district(client, people, who):
    two_departments(people)
    r = login(client, getattr(people, who)).get(reverse("reports:annual"), PARAMS)
    assert r.status_code == 200
    report = r.context["report"]
    assert (report["total"], report["replied"], report["outcomes"]["solved"]["count"]) == (6, 6, 3)
    html = r.content.decode()
    assert r.context["paragraph"] in html
    assert "由区政府承办的 6 件区人大代表建议均在规定时间内办复" in html
    assert html.count('<svg class="chart"') == 3
    assert "<script" not in html and "cdn" not in html.lower() and "onclick" not in html  # CSP: no inline script
    assert f'href="{reverse("reports:annual")}"' in html  # in the navigation
    assert "css/report.css" in html
    assert "annual.xlsx?year=2025&amp;as_of=2025-09-19" in html


def test_it_shows_a_handler_their_departments_only(client, people):
    two_departments(people)
    r = login(client, people.handler).get(reverse("reports:annual"), PARAMS)
    assert r.status_code == 200
    report = r.context["report"]
    assert (report["total"], report["outcomes"]["for_reference"]["count"]) == (4, 0)
    assert [d["department"] for d in report["by_department"]] == [people.dept.name]
    assert r.context["scope_departments"] == [people.dept.name]
    r = login(client, people.leader2).get(reverse("reports:annual"), PARAMS)
    report = r.context["report"]
    assert (report["total"], report["outcomes"]["for_reference"]["count"]) == (3, 2)
    assert [(d["department"], d["lead"], d["co"]) for d in report["by_department"]] == [(people.dept2.name, 2, 1)]
    _, body = download(client, "reports:annual_xlsx")
    rows = list(load_workbook(io.BytesIO(body))["承办单位"].iter_rows(values_only=True))
    assert [row[:3] for row in rows[1:]] == [(people.dept2.name, 2, 1)]


@pytest.mark.parametrize("query", [{}, {"source": "community"}, {"year": "", "as_of": ""}])
def test_it_defaults_to_this_year_as_of_today(client, people, query):
    r = login(client, people.office).get(reverse("reports:annual"), query)
    assert r.status_code == 200
    params = r.context["params"]
    assert params.year == params.as_of.year and abs((params.as_of - dt.date.today()).days) <= 1
    assert params.source == (query.get("source") or None)


@pytest.mark.parametrize("bad", [{"year": "x"}, {"year": "2025", "lookback": "2024-2022"},
                                 {"year": "2025", "source": "nowhere"}, {"year": "2025", "as_of": "2025-13-01"}])
def test_it_refuses_bad_parameters(client, people, bad):
    login(client, people.office)
    r = client.get(reverse("reports:annual"), bad)
    assert r.status_code == 400 and "report" not in r.context
    for name in ("reports:annual_xlsx", "reports:annual_docx"):
        r = client.get(reverse(name), bad)
        assert r.status_code == 400 and r["Content-Type"].startswith("text/html") and r.context["form"].errors


def test_it_escapes_what_it_refuses(client, people):
    login(client, people.office)
    for name in ("reports:annual", "reports:annual_xlsx"):
        r = client.get(reverse(name), {"year": "2025", "source": "<script>alert(1)</script>"})
        assert r.status_code == 400
        assert "<script>alert(1)" not in r.content.decode() and "&lt;script&gt;" in r.content.decode()


def test_it_agrees_with_itself_on_the_page_in_excel_in_word_and_in_json(client, people, capsys):
    two_departments(people)
    data.write(people, [data.replied("planned", year=2023, replied_on=D(2023, 5, 1)),
                        data.Item(history=[(D(2023, 5, 1), "for_reference"), (D(2025, 6, 1), "solved")],
                                  year=2023, replied_on=D(2023, 5, 1))])
    params = {**PARAMS, "lookback": "2022-2024"}
    page = login(client, people.office).get(reverse("reports:annual"), params)
    figures = queries.as_json(page.context["report"])
    call_command("report", "--year", "2025", "--as-of", "2025-09-19", "--lookback", "2022-2024")
    assert json.loads(capsys.readouterr().out) == figures
    assert figures["lookback"] == {"years": [2022, 2024], "candidates": 2, "converted_to_solved": 1,
                                   "converted_percent": 50.0}

    _, body = download(client, "reports:annual_xlsx", params)
    wb = load_workbook(io.BytesIO(body))
    outcomes = {row[0]: row[1] for row in wb["办理结果"].iter_rows(min_row=2, values_only=True)}
    assert outcomes["已经解决"] == figures["outcomes"]["solved"]["count"] == 3
    assert outcomes["留作参考"] == figures["outcomes"]["for_reference"]["count"] == 2
    assert list(wb["回头看"].iter_rows(min_row=2, values_only=True))[0][1:3] == (2, 1)

    r, body = download(client, "reports:annual_docx", params)
    assert r["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    paragraphs = [p.text for p in Document(io.BytesIO(body)).paragraphs]
    assert page.context["paragraph"] in paragraphs
    assert "“已经解决”的 3 件，占比 50.0%" in page.context["paragraph"]


def test_it_renders_the_page_in_a_fixed_number_of_queries(client, people):
    login(client, people.office)

    def page_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("reports:annual"), {**PARAMS, "lookback": "2022-2024"}).status_code == 200
        return len(ctx)

    two_departments(people)
    small = page_queries()
    data.write(people, [data.replied(o, department=d, co=[people.dept3], street=people.street,
                                     ratings=[(D(2025, 5, 1), "satisfied", "no_opinion")])
                        for o in ("solved", "planned", "in_progress", "for_reference")
                        for d in (people.dept, people.dept2) for _ in range(10)])
    assert page_queries() == small
