"""The main journeys, each as its role, in a real browser against the demo district (issue 7).

The pages are in Chinese: elements are found by name, id, form action or CSS class, and the texts
compared are either what the journey typed or the product's own labels, translated here.
"""
import io
import re

import docx
import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone, translation

from suggestions import spreadsheets
from suggestions.choices import AssignmentState, SuggestionState
from suggestions.models import Deputy, Event, Notification, Suggestion

from .pages import DESKTOP, PHONE, UNLABELLED, do_step, finish, open_step, step_action

JIANSHE, GONGAN, MINZHENG = "区建设管理委", "区公安分局", "区民政局"


def zh(label):
    with translation.override("zh-hans"):
        return str(label)


def pk_in(url, prefix="/suggestions/"):
    return int(re.search(re.escape(prefix) + r"(\d+)/", url)[1])


def assignment_ids(page):
    """{department name: assignment pk} from a detail page's sections."""
    ids = {}
    for section in page.locator("section[id^='assignment-']").all():
        name = section.locator("h3").inner_text().split(" · ")[0].strip()
        ids[name] = int(section.get_attribute("id").split("-")[1])
    return ids


def badge(page):
    bell = page.locator("header .bell .badge")
    return int(bell.inner_text()) if bell.count() else 0


def download(page, link):
    with page.expect_download() as info:
        link.click()
    return info.value.suggested_filename, open(info.value.path(), "rb").read()


def overflow(page):
    """How many CSS pixels the page is wider than the window (0: no horizontal scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


# --- 1. one suggestion from registration to re-handling ----------------------------------------

def test_it_handles_one_suggestion_from_assignment_to_rehandling(open_page, server):
    today = timezone.localdate()
    title = "关于江宁路海防路口增设非机动车停放点的建议"
    office = open_page("office")
    office.goto(server.url("/suggestions/new/"))
    office.fill("[name=year]", str(today.year))
    office.fill("[name=number]", f"{today.year}901")
    office.fill("[name=title]", title)
    office.fill("[name=content]", "路口人行道上非机动车乱停，影响行人通行，建议增设停放点并加强管理。")
    office.fill("[name=lead_deputy_name]", "沈国华")
    office.fill("[name=co_deputy_names]", "顾晓梅、陆建平")
    office.select_option("[name=lead]", label=JIANSHE)
    office.select_option("[name=co]", label=GONGAN)
    with office.expect_navigation():
        office.click("main form button.primary")
    pk = pk_in(office.url)
    assert office.locator("h1").inner_text() == title
    ids = assignment_ids(office)
    assert set(ids) == {JIANSHE, GONGAN}
    lead, co = ids[JIANSHE], ids[GONGAN]
    detail = f"/suggestions/{pk}/"

    opinion = "建议在路口东北角设置非机动车停放区，我局将配合加强秩序管理。"
    handler2 = open_page("handler2")
    handler2.goto(server.url(detail))
    assert handler2.locator(f"form[action='/assignments/{lead}/accept/']").count() == 0  # not their department's
    do_step(handler2, f"/assignments/{co}/accept/")
    do_step(handler2, f"/assignments/{co}/send_opinion/", **{f"send_opinion-{co}-text": opinion})

    handler = open_page("handler")
    handler.goto(server.url(detail))
    do_step(handler, f"/assignments/{lead}/accept/")
    do_step(handler, f"/assignments/{lead}/add_contact/", **{
        f"add_contact-{lead}-method": "survey",
        f"add_contact-{lead}-participants": "沈国华代表、区建设管理委、江宁路街道",
        f"add_contact-{lead}-summary": "与代表现场踏勘，确定停放点位置。"})
    document = f"静建管复〔{today.year}〕901号"
    do_step(handler, f"/assignments/{lead}/draft_reply/", **{
        f"draft_reply-{lead}-outcome": "solved", f"draft_reply-{lead}-document_number": document,
        f"draft_reply-{lead}-body": "已在路口东北角施划非机动车停放区，并会同公安部门加强管理。"})

    leader = open_page("leader")
    leader.goto(server.url(detail))
    do_step(leader, step_action(leader, r"^/replies/\d+/sign_reply/$"))
    assert document in leader.locator(f"#assignment-{lead}").inner_text()

    comments = "停放区面积偏小，高峰时段仍有乱停现象。"
    liaison = open_page("liaison")
    liaison.goto(server.url(detail))
    do_step(liaison, f"/suggestions/{pk}/record_feedback/", **{
        "record_feedback-result": "dissatisfied", "record_feedback-attitude": "basically_satisfied",
        "record_feedback-comments": comments})

    reason = "代表对办理结果不满意，请扩大停放区并于一个月内重新答复。"
    office.goto(server.url(detail))
    do_step(office, f"/suggestions/{pk}/order_rehandling/", **{"order_rehandling-reason": reason})

    # The file tells the whole story, in order, with what each person wrote.
    timeline = office.locator("ol.timeline > li")
    kinds = [li.locator("b").first.inner_text() for li in timeline.all()]
    expected = [Event.Kind.REGISTERED, Event.Kind.ASSIGNED, Event.Kind.ACCEPTED, Event.Kind.OPINION,
                Event.Kind.ACCEPTED, Event.Kind.CONTACT, Event.Kind.REPLY_DRAFTED, Event.Kind.REPLY_SIGNED,
                Event.Kind.FEEDBACK, Event.Kind.REHANDLING]
    rest = iter(kinds)
    missing = [zh(k.label) for k in expected if zh(k.label) not in rest]  # an ordered subsequence
    assert not missing, f"timeline {kinds} lacks, in order, {missing}"
    story = office.locator("ol.timeline").inner_text()
    for text in (opinion, comments, reason, document):
        assert text in story
    assert zh(SuggestionState.REHANDLING.label) in office.locator("main > h1 + p").inner_text()
    assert zh(AssignmentState.REHANDLING.label) in office.locator(f"#assignment-{lead} h3").inner_text()
    assert comments in office.locator("main").inner_text()  # the feedback card

    # The lead department may reply again.
    handler.goto(server.url(detail))
    open_step(handler, f"/assignments/{lead}/draft_reply/")

    # Out of scope is 404: an item of another department, found in the office's list.
    office.goto(server.url("/suggestions/"))
    office.select_option("[name=department]", label=MINZHENG)
    with office.expect_navigation():
        office.click("form.filters button.primary")
    theirs = {pk_in(h) for h in office.locator("table a[href^='/suggestions/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")}
    handler2.goto(server.url(f"/suggestions/?department={office.locator('[name=department]').input_value()}"))
    mine = {pk_in(h) for h in handler2.locator("table a[href^='/suggestions/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")}
    others = sorted(theirs - mine)
    assert others, "the office's list shows no item of 区民政局 that 区公安分局 does not handle"
    assert handler2.goto(server.url(f"/suggestions/{others[0]}/")).status == 404
    assert handler2.goto(server.url(detail)).status == 200

    office.goto(server.url(detail))
    finish(office, "1-suggestion-rehandling")


# --- 2. an import with errors, then success, then the filtered export --------------------------

def _workbook(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["年度", "建议号", "标题", "内容", "领衔代表", "主办单位", "会办单位", "交办日期"])
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_it_imports_a_corrected_file_after_listing_its_errors(open_page, server, tmp_path):
    """Issue 3's "Done when": a 200-row assignment list with three mistakes, all three named by row and
    column; corrected, imported, found in the list and downloaded back from it."""
    today = timezone.localdate()
    year = today.year
    places = ["彭浦新村", "大宁路", "临汾路", "共和新路", "芷江西路", "宝山路", "天目西路", "北站"]
    matters = ["老旧小区加装电梯", "增设公交候车亭", "社区食堂延长供餐时间", "非机动车停放整治", "口袋公园建设"]
    good = []
    for i in range(1, 201):
        lead, co = [(MINZHENG, ""), (JIANSHE, GONGAN), (GONGAN, "")][i % 3]
        title = f"关于{places[i % len(places)]}{matters[i % len(matters)]}的建议（{i}）"
        good.append([year, f"DR{year}-{i:03d}", title, "", ["钱志刚", "孙美玲"][i % 2], lead, co, today.isoformat()])
    numbers = sorted(r[1] for r in good)
    bad = [list(r) for r in good]
    bad[9][2] = ""  # row 11: no title
    bad[99][5] = "区不存在局"  # row 101: an unknown lead department
    bad[199][7] = f"{year}年13月40日"  # row 201: not a date
    mistakes = {(11, "标题"), (101, "主办单位"), (201, "交办日期")}

    office = open_page("office")
    office.goto(server.url("/suggestions/import/"))
    office.set_input_files("input[name=file]", str(_workbook(tmp_path / "建议导入.xlsx", bad)))
    with office.expect_navigation():
        office.click("form[enctype] button.primary")
    assert "/suggestions/import/" in office.url and office.url.rstrip("/").split("/")[-1].isdigit()
    errors = office.locator("section.card ul.errorlist li").all_inner_texts()
    named = set()
    for text in errors:
        match = re.match(r"(?:row (\d+), column (\S+?):|第 (\d+) 行，列 (\S+?)：)", text)
        assert match, text
        named.add((int(match[1] or match[3]), match[2] or match[4]))
    assert named == mistakes, errors
    assert office.locator("form button.primary").count() == 0  # nothing to confirm

    office.goto(server.url("/suggestions/import/"))
    office.set_input_files("input[name=file]", str(_workbook(tmp_path / "建议导入（改）.xlsx", good)))
    with office.expect_navigation():
        office.click("form[enctype] button.primary")
    assert office.locator("ul.errorlist").count() == 0
    preview = office.locator("main table tbody tr td:nth-child(3)").all_inner_texts()
    assert sorted(preview) == numbers
    with office.expect_navigation():
        office.click("main form button.primary")  # confirm
    assert office.locator("p.msg.success").count() == 1

    # The list, filtered, and the export of exactly what it shows.
    office.goto(server.url("/suggestions/"))
    office.fill("[name=q]", f"DR{year}-")
    office.fill("[name=year]", str(year))
    with office.expect_navigation():
        office.click("form.filters button.primary")
    assert "200" in office.locator(".toolbar span").first.inner_text()
    listed = office.locator("main table tbody tr td:first-child").all_inner_texts()
    assert listed == numbers[:len(listed)] and len(listed) == 25
    name, data = download(office, office.locator(".toolbar a[href^='/suggestions/export.xlsx']"))
    assert name.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header[:len(spreadsheets.HEADERS)] == spreadsheets.HEADERS
    col = {h: header.index(h) for h in ("建议号", "标题", "主办单位", "会办单位")}
    exported = sorted((r[col["建议号"]], r[col["标题"]], r[col["主办单位"]], r[col["会办单位"]] or "") for r in rows)
    assert exported == sorted((r[1], r[2], r[5], r[6]) for r in good)
    finish(office, "2-import-export")


# --- 3. the annual report and its two files ----------------------------------------------------

def test_it_shows_the_report_and_downloads_both_files(open_page, server):
    office = open_page("office")
    office.goto(server.url("/reports/annual/"))
    total = int(office.locator(".stats .stat b").first.inner_text())
    assert total > 0
    paragraph = office.locator(".report-paragraph").inner_text().strip()
    assert str(total) in paragraph
    assert office.locator(".chart-wrap svg").count() >= 2

    name, data = download(office, office.locator("a[href^='/reports/annual.xlsx']"))
    assert name.endswith(".xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb["说明"]["A3"].value == paragraph
    summary = {row[0]: row[1] for row in wb["总体情况"].iter_rows(min_row=2, values_only=True)}
    assert summary["建议总数"] == total

    name, data = download(office, office.locator("a[href^='/reports/annual.docx']"))
    assert name.endswith(".docx")
    document = docx.Document(io.BytesIO(data))
    assert paragraph in [p.text for p in document.paragraphs]
    cells = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert cells["建议总数"] == str(total)
    finish(office, "3-annual-report")


# --- 4. the reminder digest -------------------------------------------------------------------

def _unread(server, username):
    user_table, note_table = get_user_model()._meta.db_table, Notification._meta.db_table
    return server.query(f"SELECT count(*) FROM {note_table} n JOIN {user_table} u ON u.id = n.recipient_id "
                        "WHERE u.username = ? AND n.read_at IS NULL", (username,))[0][0]


def test_it_shows_the_days_reminder_digest_in_the_notifications(open_page, server):
    handler = open_page("handler")
    handler.goto(server.url("/"))
    before = badge(handler)
    assert before == _unread(server, "handler")

    today = timezone.localdate().isoformat()
    server.manage("send_reminders", "--date", today)
    handler.reload()
    after = badge(handler)
    assert after == _unread(server, "handler") == before + 1  # one digest a day

    server.manage("send_reminders", "--date", today)  # never the same reminder twice
    handler.reload()
    assert badge(handler) == after

    handler.click("header .bell")
    handler.wait_for_url("**/notifications/")
    subject, body = server.query(
        f"SELECT n.text, n.body FROM {Notification._meta.db_table} n JOIN {get_user_model()._meta.db_table} u "
        "ON u.id = n.recipient_id WHERE u.username = 'handler' AND n.body != '' ORDER BY n.id DESC LIMIT 1")[0]
    assert today in subject
    newest = handler.locator("main ul.plain > li").first
    assert subject in newest.inner_text()
    assert "unread" in newest.get_attribute("class")
    listed = re.findall(r"^\d+\. (\S+) ", body, re.M)
    assert listed and all(number in newest.locator(".detail").inner_text() for number in listed)
    finish(handler, "4-reminder-digest")


# --- 5. the public page -----------------------------------------------------------------------

def test_it_publishes_replies_without_login_and_without_contact_data(open_page, server):
    visitor = open_page()
    assert visitor.goto(server.url("/public/")).status == 200
    assert visitor.url == server.url("/public/")  # no login asked
    published = server.query(f"SELECT count(*) FROM {Suggestion._meta.db_table} WHERE is_public = 1 "
                             "AND first_replied_on IS NOT NULL AND state != 'withdrawn'")[0][0]
    shown = int(re.search(r"\d+", visitor.locator("main > p.muted").first.inner_text())[0])
    assert shown == published > 0
    assert visitor.locator("article.card").count() == min(published, 20)
    phones = [p for (p,) in server.query(f"SELECT phone FROM {Deputy._meta.db_table} WHERE phone != ''")]
    assert phones, "the demo deputies have phone numbers to keep private"
    page_text = visitor.content()
    assert not [p for p in phones if p in page_text]

    title = visitor.locator("article.card h2 a").first.inner_text()
    visitor.fill("[name=q]", title)
    with visitor.expect_navigation():
        visitor.click("form[role=search] button.primary")
    assert title in visitor.locator("article.card h2").all_inner_texts()
    with visitor.expect_navigation():
        visitor.locator("article.card h2 a", has_text=title).first.click()
    assert re.search(r"/public/\d+/$", visitor.url)
    assert not [p for p in phones if p in visitor.content()]
    visitor.goto(server.url("/public/"))
    for language in ("en", "zh-hans"):  # the language menu: choose, then confirm (no script)
        visitor.select_option("#lang-select", language)
        with visitor.expect_navigation():
            visitor.click("form.lang button")
        assert visitor.locator("html").get_attribute("lang") == language
        assert visitor.url == server.url("/public/")
    finish(visitor, "5-public-replies")

    phone = open_page(viewport=PHONE)
    phone.goto(server.url("/public/"))
    assert overflow(phone) <= 1


# --- usable at 1366×768 and on a phone, with labels, from the keyboard -------------------------

def _a_detail_page(page, server):
    page.goto(server.url("/"))
    return page.locator("main section.card a[href^='/suggestions/']").first.get_attribute("href")


def test_it_fits_the_screen_and_labels_every_field(open_page, server):
    for role in ("office", "handler"):
        desktop = open_page(role)
        detail = _a_detail_page(desktop, server)
        for viewport in (DESKTOP, PHONE):
            page = desktop if viewport is DESKTOP else open_page(role, viewport=PHONE)
            for path in ("/", detail):
                page.goto(server.url(path))
                page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                assert overflow(page) <= 1, f"{role} {path} at {viewport}: {overflow(page)}px too wide"
                if path == detail:
                    assert page.locator("details.action form").count() > 0, f"{role} has no step on {detail}"
                    assert page.locator("body").evaluate(UNLABELLED) == [], f"{role} {path}"
            if viewport is PHONE:
                finish(page, f"phone-{role}-detail")
    office = open_page("office")
    office.goto(server.url("/suggestions/new/"))
    assert office.locator("body").evaluate(UNLABELLED) == []
    finish(office, "register-form")


# Every page of the menus, on a phone: no sideways scrolling (wide tables scroll inside their own box)
# and a label for every field.
MENU_PAGES = {
    "office": ["/suggestions/", "/suggestions/import/", f"/reports/annual/?year={timezone.localdate().year - 1}",
               "/supervision/", "/supervision/rechecks/", "/supervision/reviews/",
               "/supervision/classes/", "/reminders/", "/audit/", "/notifications/"],
    "handler": ["/suggestions/", "/reminders/", "/notifications/"],
    None: ["/public/"],
}


@pytest.mark.parametrize("role", list(MENU_PAGES))
def test_every_menu_page_fits_a_phone_and_labels_its_fields(open_page, server, role):
    page = open_page(role, viewport=PHONE)
    for path in MENU_PAGES[role]:
        response = page.goto(server.url(path))
        assert response.status == 200, path
        assert overflow(page) <= 1, f"{role} {path}: {overflow(page)}px too wide"
        assert page.locator("body").evaluate(UNLABELLED) == [], f"{role} {path}"


def test_it_reaches_the_navigation_from_the_keyboard(open_page, server):
    for viewport in (DESKTOP, PHONE):
        page = open_page("office", viewport=viewport)
        page.goto(server.url("/"))
        nav = page.locator("nav.nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert len(nav) >= 4
        page.keyboard.press("Tab")
        focused = page.evaluate("({cls: document.activeElement.className, "
                                "href: document.activeElement.getAttribute('href')})")
        assert focused == {"cls": "skip", "href": "#main"}
        box = page.locator("a.skip").bounding_box()
        assert box and box["x"] >= 0 and box["y"] >= 0, "the skip link stays off screen when focused"
        stops = []
        for _ in range(len(nav) + 1):
            page.keyboard.press("Tab")
            stops.append(page.evaluate("document.activeElement.closest('nav.nav') ? "
                                       "document.activeElement.getAttribute('href') : null"))
        if stops[0] is None:  # the brand link, before the navigation
            stops = stops[1:]
        assert stops[:len(nav)] == nav

        # The skip link leads past the navigation: the next Tab lands inside the page's content.
        page.goto(server.url("/"))
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('main')")


def test_a_step_is_done_from_the_keyboard_alone(open_page, server):
    """A handler records progress without the mouse: Tab to the step, Enter opens it, Tab through its
    labelled fields, Enter on the button."""
    from departments.models import Department
    from suggestions.models import Assignment

    suggestion, assignment = server.query(
        f"SELECT a.suggestion_id, a.id FROM {Assignment._meta.db_table} a "
        f"JOIN {Department._meta.db_table} d ON d.id = a.department_id "
        "WHERE d.name = ? AND a.state = ? ORDER BY a.id LIMIT 1", (JIANSHE, AssignmentState.HANDLING))[0]
    action = f"/assignments/{assignment}/add_progress/"
    page = open_page("handler")
    page.goto(server.url(f"/suggestions/{suggestion}/"))
    focused = "document.activeElement"

    def tab_to(test, limit=300):
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"(() => {{ const e = {focused}; return {test}; }})()"):
                return
        raise AssertionError(f"Tab never reached: {test}")

    tab_to(f"e.tagName === 'SUMMARY' && !!e.parentElement.querySelector(\"form[action='{action}']\")")
    page.keyboard.press("Enter")
    step = page.locator("details.action", has=page.locator(f"form[action='{action}']"))
    assert step.get_attribute("open") is not None
    tab_to("e.tagName === 'TEXTAREA'")
    assert page.evaluate(f"{focused}.labels.length") == 1
    page.keyboard.type("键盘录入的办理进展")
    tab_to("e.tagName === 'BUTTON'")
    assert page.evaluate(f"{focused}.form.getAttribute('action')") == action
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("li.msg.success").count() == 1
    assert "键盘录入的办理进展" in page.locator("main").inner_text()
