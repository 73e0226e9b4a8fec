"""The report's supervision figures: sampled re-checks (抽样复查) and classes of similar suggestions (一类事).

The expectations are read from the records each test creates, not typed from a data set.
"""
import datetime as dt
import io
import itertools
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from docx import Document
from openpyxl import load_workbook

from reports import exports, queries
from reports.queries import Params
from supervision import actions
from supervision.models import RecheckCampaign, RecheckFinding, SimilarClassMember
from tests.base import PASSWORD

D = dt.date
DRAWN_ON = D(2025, 10, 1)
CHECKED_ON = D(2025, 10, 9)
LINKED_ON = D(2025, 10, 15)
YEAR_END = D(2025, 12, 31)


def on(day):
    """A moment of `day` in the district's time, for the records stamped when they are made."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def report(user=None, as_of=YEAR_END, year=2025, source=None):
    return queries.annual(user, Params(year, as_of, source))


def rechecked(people, n=6, size=4):
    """`n` items replied as solved in 2025, a re-check of `size` of them drawn on 1 October, and findings
    on three: one "not done" by unannounced visit (the item is reopened), one "done" by phone, and one
    "done" by phone and then by a meeting."""
    for i in range(1, n + 1):
        people.replied(f"2025{i:03d}", reply_on=D(2025, 4, 1))
    campaign = actions.create_recheck(actor=people.office, title="2025年度抽样复查", replied_from=D(2025, 1, 1),
                                      replied_to=D(2025, 12, 31), size=size, seed=11)
    RecheckCampaign.objects.filter(pk=campaign.pk).update(created_at=on(DRAWN_ON))
    bad, good, twice, *_rest = campaign.samples.order_by("pk")
    actions.record_finding(bad, actor=people.office, method="unannounced", checked_on=CHECKED_ON, result="not_done",
                           text="现场标识仍未更新")
    actions.record_finding(good, actor=people.office, method="phone", checked_on=CHECKED_ON, result="done",
                           text="代表确认已更新")
    actions.record_finding(twice, actor=people.office, method="phone", checked_on=CHECKED_ON, result="done",
                           text="电话确认")
    actions.record_finding(twice, actor=people.office, method="meeting", checked_on=D(2025, 10, 20), result="done",
                           text="座谈确认")
    return campaign


def linked(people, *suggestions, day=LINKED_ON):
    klass = actions.link_class(suggestions, actor=people.office, name="出租车扬招点标识")
    SimilarClassMember.objects.filter(klass=klass).update(added_at=on(day))
    return klass


def test_it_counts_a_recheck_that_found_an_item_not_done(people):
    campaign = rechecked(people)
    r = report()["supervision"]["rechecks"]
    findings = RecheckFinding.objects.filter(sample__campaign=campaign)
    latest = {f.sample_id: f.result for f in findings.order_by("checked_on", "pk")}
    assert r["sampled"] == campaign.samples.count() == 4
    assert r["checked"] == len(latest) == 3
    assert r["confirmed"] == Counter(latest.values())["done"] == 2
    assert r["not_done"] == Counter(latest.values())["not_done"] == 1
    assert r["reopened"] == campaign.samples.filter(reopened=True).count() == 1
    assert r["by_method"] == {**dict.fromkeys(["unannounced", "phone", "meeting", "site"], 0),
                              **Counter(findings.values_list("method", flat=True))}
    assert str(r["confirmed_percent"]) == "66.7"
    assert r["campaigns"] == 1


def test_it_counts_nothing_of_a_recheck_before_it_happened(people):
    rechecked(people)
    before = report(as_of=D(2025, 9, 30))["supervision"]["rechecks"]
    assert (before["sampled"], before["checked"], before["by_method"]["phone"]) == (0, 0, 0)
    drawn = report(as_of=D(2025, 10, 8))["supervision"]["rechecks"]
    assert (drawn["sampled"], drawn["checked"], drawn["not_done"], drawn["reopened"]) == (4, 0, 0, 0)
    assert drawn["confirmed_percent"] is None
    checked = report(as_of=CHECKED_ON)["supervision"]["rechecks"]
    assert (checked["checked"], checked["not_done"], checked["reopened"]) == (3, 1, 1)
    assert checked["by_method"] == {"unannounced": 1, "phone": 2, "meeting": 0, "site": 0}  # the meeting came later


def test_it_counts_a_sample_checked_before_its_recheck_was_recorded(people):
    """A finding recorded after the fact dates the sample: it was drawn by the day it was checked."""
    campaign = rechecked(people)
    RecheckCampaign.objects.filter(pk=campaign.pk).update(created_at=on(D(2025, 11, 1)))
    r = report(as_of=CHECKED_ON)["supervision"]["rechecks"]
    assert (r["sampled"], r["checked"]) == (3, 3)
    assert report(as_of=D(2025, 11, 1))["supervision"]["rechecks"]["sampled"] == 4


def test_it_counts_a_class_of_three_similar_suggestions(people):
    a, b = people.replied("2025001"), people.replied("2025002")
    earlier = people.replied("2024001", year=2024, on=D(2024, 3, 1), reply_on=D(2024, 4, 1))
    people.replied("2025003")  # in no class
    klass = linked(people, a, b, earlier)
    members = klass.members.count()
    of_2025 = klass.members.filter(suggestion__year=2025).count()
    assert report()["supervision"]["classes"] == {"classes": 1, "items": of_2025, "members": members}
    assert (of_2025, members) == (2, 3)
    assert report(year=2024, as_of=YEAR_END)["supervision"]["classes"] == {
        "classes": 1, "items": members - of_2025, "members": members}
    # Before the link, no class; a class of one is not a class.
    assert report(as_of=LINKED_ON - dt.timedelta(days=1))["supervision"]["classes"] == {
        "classes": 0, "items": 0, "members": 0}
    actions.unlink_class(klass.members.get(suggestion=a), actor=people.office)
    actions.unlink_class(klass.members.get(suggestion=b), actor=people.office)
    assert report()["supervision"]["classes"]["classes"] == 0


def test_it_counts_supervision_within_the_source_and_the_scope(people):
    campaign = rechecked(people, n=4, size=4)
    community = people.replied("2025101", source="community")
    session = people.replied("2025102")
    linked(people, community, session)
    assert report(source="community")["supervision"]["rechecks"]["sampled"] == 0
    assert report(source="session")["supervision"]["rechecks"]["sampled"] == campaign.samples.count()
    assert report(source="community")["supervision"]["classes"] == {"classes": 1, "items": 1, "members": 2}
    assert report(people.handler)["supervision"]["rechecks"]["sampled"] == 4
    theirs = report(people.handler2)["supervision"]
    assert theirs["rechecks"]["sampled"] == 0 and theirs["classes"]["classes"] == 0


def test_it_keeps_the_query_count_fixed_with_supervision_records(people):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            queries.annual(people.office, Params(2025, YEAR_END, None, (2022, 2024)))
        return len(ctx)

    rechecked(people, n=4, size=3)
    queries.annual(people.office, Params(2025, YEAR_END))  # the user's scope is looked up once
    small = count()
    campaign = actions.create_recheck(actor=people.office, title="再次复查", replied_from=D(2025, 1, 1),
                                      replied_to=D(2025, 12, 31), size=4, seed=5)
    methods = itertools.cycle(["site", "phone", "meeting", "unannounced"])
    for sample in campaign.samples.all():
        actions.record_finding(sample, actor=people.office, method=next(methods), checked_on=CHECKED_ON,
                               result="done", text="已落实")
    suggestions = [people.replied(f"2025{n:03d}") for n in range(201, 207)]
    linked(people, *suggestions[:3])
    linked(people, *suggestions[3:])
    assert count() == small


# --- the documents ------------------------------------------------------------------------------

@pytest.fixture
def supervised(people):
    rechecked(people)
    linked(people, people.replied("2025101"), people.replied("2025102"), people.replied("2025103"))
    return report()


def test_it_writes_the_supervision_sheet(supervised):
    s = supervised["supervision"]
    wb = load_workbook(io.BytesIO(exports.workbook(supervised)))
    assert "监督检查" in wb.sheetnames
    rows = {row[0]: row[1] for row in wb["监督检查"].iter_rows(values_only=True)}
    assert rows["抽样复查件数"] == s["rechecks"]["sampled"] == 4
    assert rows["已复查"] == 3 and rows["得到有效落实"] == 2 and rows["未落实"] == 1 and rows["重新交办"] == 1
    assert round(rows["落实率"] * 100, 1) == 66.7
    assert (rows["明察暗访（次）"], rows["电话回访（次）"], rows["座谈（次）"], rows["实地查看（次）"]) == (1, 2, 1, 0)
    assert (rows["一类事（类）"], rows["归类建议（件）"]) == (1, 3)


def test_it_mentions_rechecks_and_classes_in_the_word_paragraph(supervised):
    paragraph = exports.statistics_paragraph(supervised)
    assert "推动“解决一件事”升格为“解决一类事”，将 3 件相似区人大代表建议归为 1 类统筹办理。" in paragraph
    assert ("区政府办公室通过明察暗访、电话回访、座谈等方式，对办理结果为“已经解决”的 4 件区人大代表建议开展抽样复查，"
            "已复查 3 件，其中 2 件得到有效落实，1 件未落实并重新交办。") in paragraph
    doc = Document(io.BytesIO(exports.document(supervised)))
    assert paragraph in [p.text for p in doc.paragraphs]
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "监督检查")
    assert ["抽样复查件数", "4"] in [[c.text for c in row.cells] for row in table.rows]


def test_it_leaves_them_out_of_the_paragraph_when_there_are_none(people):
    people.replied("2025001")
    paragraph = exports.statistics_paragraph(report())
    assert "抽样复查" not in paragraph and "一类事" not in paragraph


def test_it_shows_them_on_the_report_page(client, people, supervised):
    assert client.login(username="office", password=PASSWORD)
    page = client.get(reverse("reports:annual"), {"year": "2025", "as_of": "2025-12-31"}).content.decode()
    for words in ("抽样复查", "一类事", "重新交办", "明察暗访（次）", exports.statistics_paragraph(supervised)):
        assert words in page
    assert client.login(username="handler2", password=PASSWORD)
    theirs = client.get(reverse("reports:annual"), {"year": "2025", "as_of": "2025-12-31"}).context["report"]
    assert theirs["supervision"]["rechecks"]["sampled"] == 0
