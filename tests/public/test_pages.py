"""The public replies page: anyone may read it; nothing unpublished, no phone number, no staff name."""
import datetime as dt

import pytest
from django.urls import reverse

from suggestions import workflow
from suggestions.models import Reply

PHONES = ["13912345678", "139 1234 5678", "021-62345678", "（021）6234 5678", "400-820-1234"]


def reply_with_contacts(people, number, **fields):
    s = people.replied(number, **fields)
    body = ("经实地调研，已完成标识更新。如有疑问请联系我局经办人 赵小明，电话 13912345678，"
            "或拨打 139 1234 5678、021-62345678、（021）6234 5678，服务热线400-820-1234。")
    Reply.objects.filter(assignment__suggestion=s).update(body=body)
    return s


def test_it_lists_published_replies_without_login(client, people):
    s = reply_with_contacts(people, "2025001")
    r = client.get(reverse("public:list"))
    assert r.status_code == 200
    page = r.content.decode()
    assert s.title in page and s.number in page and people.dept.name in page
    r = client.get(reverse("public:detail", args=[s.pk]))
    assert r.status_code == 200 and "已完成标识更新" in r.content.decode()
    page = r.content.decode()
    # Its own layout: none of the logged-in navigation.
    for url in (reverse("suggestions:list"), reverse("suggestions:notifications"), reverse("logout"),
                reverse("supervision:dashboard")):
        assert f'href="{url}"' not in page and f'action="{url}"' not in page


@pytest.mark.parametrize("url_name", ["public:list", "public:detail"])
def test_it_never_shows_a_phone_number_or_a_persons_name(client, people, url_name):
    s = reply_with_contacts(people, "2025001")
    args = [s.pk] if url_name == "public:detail" else []
    page = client.get(reverse(url_name, args=args)).content.decode()
    for phone in PHONES + [people.deputy.phone]:
        assert phone not in page
    assert "赵小明" not in page
    # Nor who drafted or signed it, nor the deputy.
    for user in (people.handler, people.leader):
        assert user.username not in page
    assert people.deputy.name not in page
    assert "已完成标识更新" in page  # the reply itself is there, only the numbers are gone


def test_it_never_shows_a_non_public_item(client, people):
    shown = people.replied("2025001", title="关于公开答复的建议")
    hidden = people.replied("2025002", title="关于不公开事项的建议")
    workflow.update(hidden, actor=people.office, is_public=False, not_public_reason="涉及个人隐私信息")
    draft = people.assigned("2025003", title="关于尚未答复事项的建议")
    a = draft.assignments.get()
    workflow.accept(a, actor=people.handler)
    workflow.draft_reply(a, actor=people.handler, outcome="solved", body="草稿内容不应公开", strict=False)
    withdrawn = people.replied("2025004", title="关于已撤回事项的建议")
    workflow.withdraw(withdrawn, actor=people.office, reason="代表撤回")

    for query in ({}, {"q": "事项"}, {"year": "2025"}, {"department": people.dept.pk}):
        page = client.get(reverse("public:list"), query).content.decode()
        for s in (hidden, draft, withdrawn):
            assert s.title not in page
        assert "草稿内容不应公开" not in page and "涉及个人隐私信息" not in page
    assert shown.title in client.get(reverse("public:list")).content.decode()
    for s in (hidden, draft, withdrawn):
        assert client.get(reverse("public:detail", args=[s.pk])).status_code == 404


def test_it_searches_and_filters_by_year_and_department(client, people):
    a = people.replied("2025001", title="关于南京西路出租车扬招点标识更新的建议")
    b = people.replied("2024001", year=2024, on=dt.date(2024, 3, 1), reply_on=dt.date(2024, 4, 1),
                       title="关于宝山路沿线整体绿化改造的建议")
    c = people.assigned("2025002", lead=people.dept2, title="关于整治中医医院门口交通乱象的建议")
    lead = c.assignments.get()
    workflow.accept(lead, actor=people.handler2)
    workflow.add_contact(lead, actor=people.handler2, method="phone", contacted_on=dt.date(2025, 3, 4),
                         participants="王代表", summary="电话沟通")
    r = workflow.draft_reply(lead, actor=people.handler2, outcome="solved", body="已加强巡逻管控")
    workflow.sign_reply(r, actor=people.leader2, document_number="静公函〔2025〕1号")

    def found(**query):
        return {s.pk for s in client.get(reverse("public:list"), query).context["page"]}

    assert found() == {a.pk, b.pk, c.pk}
    assert found(year=2024) == {b.pk}
    assert found(department=people.dept2.pk) == {c.pk}
    assert found(q="绿化") == {b.pk}
    assert found(q="巡逻") == {c.pk}  # the reply text is searched too
    assert found(q="2025001") == {a.pk}


def test_it_says_when_the_outcome_changed_after_the_reply(client, people):
    """A "for reference" letter whose matter a look-back found solved: the new outcome, and since when."""
    changed = people.replied("2025001", outcome="for_reference", title="关于回头看已解决事项的建议")
    unchanged = people.replied("2025002", outcome="for_reference", title="关于仍留作参考事项的建议")
    workflow.record_lookback_outcome(changed, actor=people.office, outcome="solved", effective_on=dt.date(2025, 9, 1),
                                     note="回头看：已完成")
    page = client.get(reverse("public:list")).content.decode()
    assert page.count("outcome-since") == 1 and "2025-09-01" in page
    for s, since in ((changed, True), (unchanged, False)):
        page = client.get(reverse("public:detail", args=[s.pk])).content.decode()
        assert ("outcome-since" in page) is since
    assert "2025-09-01" in client.get(reverse("public:detail", args=[changed.pk])).content.decode()
