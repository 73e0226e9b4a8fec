"""The supervision pages, as each persona uses them; another department always gets 404."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from suggestions import workflow
from suggestions.models import Suggestion
from supervision import actions
from supervision.models import (
    KeyProgressReport,
    RecheckCampaign,
    RecheckSample,
    ReviewCampaign,
    SimilarClass,
    SimilarClassMember,
)
from tests.base import PASSWORD

THIS_YEAR = timezone.localdate().year
LAST_YEAR = THIS_YEAR - 1


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def world(people):
    """A key item of dept, a solved item drawn for a re-check, a look-back, and a class of two."""
    key = people.assigned("2025001", is_key=True, supervising_leader="区政府副区长 陈立新")
    workflow.accept(key.assignments.get(), actor=people.handler)
    solved = people.replied("2025002")
    recheck = actions.create_recheck(actor=people.office, title="复查", replied_from=dt.date(2025, 1, 1),
                                     replied_to=dt.date(2025, 12, 31), size=1)
    planned = people.replied(f"{LAST_YEAR}101", year=LAST_YEAR, outcome="planned", on=dt.date(LAST_YEAR, 3, 3),
                             reply_on=dt.date(LAST_YEAR, 4, 1))
    review = actions.create_review(actor=people.office, kind=ReviewCampaign.Kind.LOOKBACK, year=THIS_YEAR,
                                   first_year=LAST_YEAR, last_year=LAST_YEAR, title="回头看")
    klass = actions.link_class([key, solved], actor=people.office, name="出租车扬招点")
    return {"key": key, "solved": solved, "recheck": recheck, "sample": recheck.samples.get(), "planned": planned,
            "review": review, "item": review.items.get(), "class": klass}


def pages(w):
    return [
        reverse("supervision:key_detail", args=[w["key"].pk]),
        reverse("supervision:recheck_list"),
        reverse("supervision:recheck_detail", args=[w["recheck"].pk]),
        reverse("supervision:sample_detail", args=[w["sample"].pk]),
        reverse("supervision:review_list"),
        reverse("supervision:review_detail", args=[w["review"].pk]),
        reverse("supervision:review_item", args=[w["item"].pk]),
        reverse("supervision:class_detail", args=[w["class"].pk]),
    ]


def test_it_sends_anonymous_users_to_login(client, world):
    for url in [reverse("supervision:dashboard"), reverse("supervision:class_list")] + pages(world):
        r = client.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/"), url


@pytest.mark.parametrize("who", ["office", "liaison"])
def test_it_shows_every_page_to_the_office(client, people, world, who):
    login(client, getattr(people, who))
    for url in [reverse("supervision:dashboard"), reverse("supervision:class_list")] + pages(world):
        assert client.get(url).status_code == 200, url


def test_it_gives_another_department_404(client, people, world):
    login(client, people.handler2)
    for url in pages(world):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("supervision:review_item_step", args=[world["item"].pk, "outcome"]), {
        "outcome-outcome": "solved", "outcome-effective_on": timezone.localdate().isoformat(),
        "outcome-note": "x"}).status_code == 404
    assert client.post(reverse("supervision:sample_detail", args=[world["sample"].pk]), {
        "method": "phone", "checked_on": "2025-10-09", "result": "not_done", "text": "x"}).status_code == 404
    assert client.post(reverse("supervision:key_detail", args=[world["key"].pk]), {"text": "x"}).status_code == 404
    assert KeyProgressReport.objects.count() == 0
    assert Suggestion.objects.get(pk=world["solved"].pk).state == "replied"
    # Their dashboard and class list are theirs: empty.
    assert list(client.get(reverse("supervision:dashboard")).context["page"]) == []
    assert list(client.get(reverse("supervision:class_list")).context["page"]) == []


def test_it_lets_the_department_see_its_own_key_item_and_class_but_not_the_offices_campaigns(client, people, world):
    login(client, people.handler)
    assert client.get(reverse("supervision:key_detail", args=[world["key"].pk])).status_code == 200
    assert client.get(reverse("supervision:class_detail", args=[world["class"].pk])).status_code == 200
    assert [s.pk for s in client.get(reverse("supervision:dashboard")).context["page"]] == [world["key"].pk]
    for url in pages(world)[1:7]:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("supervision:class_link"), {"suggestions": [world["key"].pk]}).status_code == 404


def test_it_takes_a_key_report_once_per_period_from_the_lead_department(client, people, world):
    url = reverse("supervision:key_detail", args=[world["key"].pk])
    r = login(client, people.handler).post(url, {"text": "已完成现场踏勘"})
    assert r.status_code == 302
    report = KeyProgressReport.objects.get()
    assert report.period_end - report.period_start == dt.timedelta(days=6)
    assert report.period_start <= timezone.localdate() <= report.period_end
    assert world["key"].events.filter(kind="progress", detail="已完成现场踏勘").exists()
    r = client.post(url, {"text": "再报一次"})
    assert r.status_code == 400 and KeyProgressReport.objects.count() == 1
    assert client.get(reverse("supervision:dashboard")).context["counts"]["reported"] == 1
    # The office reads, and may not report for the department.
    assert login(client, people.office).post(url, {"text": "x"}).status_code == 403


def test_it_runs_a_recheck_through_the_pages(client, people, world):
    login(client, people.office)
    r = client.post(reverse("supervision:recheck_create"), {
        "title": "2025年度抽样复查", "replied_from": "2025-01-01", "replied_to": "2025-12-31", "percent": "10"})
    campaign = RecheckCampaign.objects.get(title="2025年度抽样复查")
    assert r.status_code == 302 and r["Location"] == reverse("supervision:recheck_detail", args=[campaign.pk])
    sample = campaign.samples.get()
    r = client.post(reverse("supervision:recheck_detail", args=[campaign.pk]),
                    {"samples": [sample.pk], "checkers": [people.office.pk, people.liaison.pk]})
    assert r.status_code == 302 and set(sample.checkers.all()) == {people.office, people.liaison}
    r = client.post(reverse("supervision:sample_detail", args=[sample.pk]), {
        "method": "unannounced", "checked_on": "2025-10-09", "result": "not_done", "text": "现场未整改"})
    assert r.status_code == 302
    s = Suggestion.objects.get(pk=sample.suggestion_id)
    assert s.state == "rehandling"
    page = client.get(reverse("suggestions:detail", args=[s.pk])).content.decode()
    assert "现场未整改" in page  # on the item's timeline
    # The liaison office reads the re-check but does not record findings.
    login(client, people.liaison)
    assert client.post(reverse("supervision:sample_detail", args=[sample.pk]), {
        "method": "phone", "checked_on": "2025-10-10", "result": "done", "text": "x"}).status_code == 403
    assert RecheckSample.objects.get(pk=sample.pk).findings.count() == 1


def test_it_runs_a_lookback_through_the_pages(client, people, world):
    login(client, people.office)
    r = client.post(reverse("supervision:review_create"), {
        "kind": "lookback", "title": "回头看二", "year": THIS_YEAR, "first_year": LAST_YEAR, "last_year": LAST_YEAR})
    campaign = ReviewCampaign.objects.get(title="回头看二")
    assert r.status_code == 302 and campaign.items.count() == 1
    item = campaign.items.get()
    today = timezone.localdate().isoformat()
    r = client.post(reverse("supervision:review_item_step", args=[item.pk, "reassign"]), {
        "reassign-department": people.dept2.pk, "reassign-assigned_on": today, "reassign-note": "改由公安分局办理"})
    assert r.status_code == 302
    assert world["planned"].assignments.filter(department=people.dept2, role="lead").exists()
    r = client.post(reverse("supervision:review_item_step", args=[item.pk, "outcome"]), {
        "outcome-outcome": "planned", "outcome-effective_on": today, "outcome-note": "x"})
    assert r.status_code == 400  # planned needs its date
    r = client.post(reverse("supervision:review_item_step", args=[item.pk, "outcome"]), {
        "outcome-outcome": "solved", "outcome-effective_on": today, "outcome-note": "已解决"})
    assert r.status_code == 302
    assert Suggestion.objects.get(pk=world["planned"].pk).outcome == "solved"
    assert client.get(reverse("supervision:review_detail", args=[campaign.pk])).context["counts"]["solved"] == 1


def test_it_links_similar_suggestions_from_the_detail_page_and_handles_them_together(client, people):
    a = people.suggestion("2025001", title="关于南京西路青海路口出租车扬招点标识更新的建议")
    b = people.suggestion("2024001", year=2024, title="关于南京西路出租车扬招点标识更新的建议")
    c = people.suggestion("2025002", title="关于更新南京西路青海路口出租车扬招站标识的建议")
    login(client, people.office)
    page = client.get(reverse("suggestions:detail", args=[a.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="similar"' in html and b.title in html and c.title in html
    r = client.post(reverse("supervision:class_link"), {"suggestions": [a.pk, b.pk, c.pk], "name": "扬招点标识",
                                                        "back": a.pk})
    klass = SimilarClass.objects.get()
    assert r.status_code == 302 and klass.name == "扬招点标识" and klass.members.count() == 3
    r = client.post(reverse("supervision:class_together", args=[klass.pk]), {
        "note": "三件建议并案办理，由区建设管理委统一更新标识", "lead": [people.dept.pk],
        "assigned_on": "2025-03-03"})
    assert r.status_code == 302
    for s in (a, b, c):
        s.refresh_from_db()
        assert s.state == "assigned" and s.assignments.get().department == people.dept
        assert s.events.filter(data__supervision="class").count() == 2  # linked, handled together
    # The handler sees the class of its items, and the similar list on the detail page.
    login(client, people.handler)
    assert client.get(reverse("supervision:class_detail", args=[klass.pk])).status_code == 200
    assert b.title in client.get(reverse("suggestions:detail", args=[a.pk])).content.decode()
    login(client, people.handler2)
    assert client.get(reverse("supervision:class_detail", args=[klass.pk])).status_code == 404
    # Unlinking the last members removes the class.
    login(client, people.office)
    for m in list(SimilarClassMember.objects.all()):
        client.post(reverse("supervision:class_unlink", args=[m.pk]))
    assert not SimilarClass.objects.exists()
