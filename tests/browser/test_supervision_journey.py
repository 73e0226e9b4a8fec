"""Issue 6's "Done when", as the district office does it in a browser on the demo district: a 10%
re-check of last year's solved items with one item reopened, a look-back of last year with two
items converted to solved, three similar suggestions linked as one class, and all of it in the
annual report and, for published replies, on the public page.

The journey reads the report's figures before and after and checks that they moved by exactly what
it did. It leaves alone what the other journeys use: it reopens or re-assigns no item of the two
departments that have demo users (区建设管理委, 区公安分局), and moves no figure they assert.
"""
import re
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from django.utils.translation import gettext

from suggestions.choices import AssignmentState, Outcome, SuggestionState
from suggestions.models import Assignment, Deputy, Event
from supervision import views as supervision_views
from supervision.models import RecheckMethod, RecheckResult, ReviewCampaign

from .pages import do_step, finish, screenshot
from .test_journeys import GONGAN, JIANSHE, assignment_ids, pk_in, zh

SEED = 20250601  # a stored seed: the same demo data draws the same sample
PERCENT = 10
DEMO_USERS_DEPARTMENTS = {JIANSHE, GONGAN}  # the other journeys' handlers: their items stay as they are


def t(msgid, **values):
    """A message of the product's templates and views, in Chinese (zh() is for choice labels)."""
    with translation.override("zh-hans"):
        text = gettext(msgid)
    return text % values if values else text


def number(text):
    return int(re.match(r"\s*(\d+)", text)[1])


def message(page):
    success = page.locator("li.msg.success")
    assert success.count() == 1, f"no confirmation on {page.url}: {page.locator('main').inner_text()[:400]}"
    return success.inner_text().strip()


def submit(page, form):
    with page.expect_navigation():
        form.locator("button.primary").click()
    errors = page.locator(".error[role=alert], ul.errorlist").all_inner_texts()
    assert not errors, f"{page.url}: {errors}"


def table(page, scope="main table"):
    """The rows of a table as lists of cell texts."""
    return page.locator(f"{scope} tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")


# --- the annual report's figures ---------------------------------------------------------------

def open_report(page, server, year, lookback=""):
    """The report page for `year`, asked through its form as a person does."""
    page.goto(server.url("/reports/annual/"))
    form = page.locator("form.report-form")
    form.locator("[name=year]").fill(str(year))
    form.locator("[name=lookback]").fill(lookback)
    submit(page, form)
    assert page.locator(".report-paragraph").count() == 1, f"no report for {year} on {page.url}"


def report_card(page, heading):
    """A report card's label → text pairs, from its table rows or its facts list."""
    card = page.locator("section.report-section").filter(has=page.get_by_role("heading", name=heading, exact=True))
    assert card.count() == 1, f"no card {heading!r} on {page.url}"
    pairs = card.locator("tr").evaluate_all("rows => rows.map(r => [r.cells[0].innerText, r.cells[1].innerText])")
    pairs += card.locator("dt").evaluate_all("dts => dts.map(d => [d.innerText, d.nextElementSibling.innerText])")
    return {label.strip(): text.strip() for label, text in pairs}


def report_figures(page, server, year, lookback=""):
    """What the report shows for `year` about re-checks, classes and (with `lookback`) the look-back."""
    open_report(page, server, year, lookback)
    rechecks = report_card(page, t("Sampled re-checks"))
    classes = report_card(page, t("Classes of similar suggestions"))
    by_phone = t("Findings by %(label)s", label=zh(RecheckMethod.PHONE.label))
    figures = {
        "sampled": number(rechecks[t("Solved items drawn for a re-check")]),
        "checked": number(rechecks[t("Checked")]),
        "not_done": number(rechecks[t("Not done")]),
        "reopened": number(rechecks[t("Reopened for re-handling")]),
        "by_phone": number(rechecks[by_phone]),
        "classes": number(classes[t("Classes linked")]),
        "class_items": number(classes[t("This year's suggestions in them")]),
    }
    if lookback:
        looked = report_card(page, t("Look-back"))
        figures["lookback_candidates"] = number(looked[t("Planned or for reference at the end of the previous year")])
        figures["converted"] = number(looked[t("Solved since")])
    return figures


def moved(before, after):
    return {key: after[key] - before[key] for key in before if after[key] != before[key]}


# --- the journey -------------------------------------------------------------------------------

def test_it_rechecks_looks_back_links_a_class_and_reports_it(open_page, server):
    today = timezone.localdate()
    this_year, last_year = today.year, today.year - 1
    lookback = f"{last_year}-{last_year}"
    office = open_page("office")
    before = {last_year: report_figures(office, server, last_year),
              this_year: report_figures(office, server, this_year, lookback)}

    # 1. A 10% re-check of last year's solved items: the form proposes exactly that.
    office.goto(server.url("/supervision/rechecks/"))
    draw = office.locator("form[action='/supervision/rechecks/new/']")
    assert draw.locator("[name=replied_from]").input_value() == f"{last_year}-01-01"
    assert draw.locator("[name=replied_to]").input_value() == f"{last_year}-12-31"
    assert draw.locator("[name=percent]").input_value() == str(PERCENT)
    draw.locator("[name=seed]").fill(str(SEED))
    submit(office, draw)
    recheck_url = office.url
    assert re.search(r"/supervision/rechecks/\d+/$", recheck_url)
    sample = office.locator("dl.facts dt", has_text=t("Sample")).locator("xpath=following-sibling::dd[1]")
    drawn, population = sorted(int(n) for n in re.findall(r"\d+", sample.inner_text().split("·", 1)[1]))
    expected = int((Decimal(population) * PERCENT / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    rows = table(office)
    assert drawn == len(rows) == max(expected, 1), (sample.inner_text(), len(rows))
    assert sample.inner_text().startswith(f"{PERCENT}%")
    assert t("%(n)s items drawn.", n=drawn) == message(office)
    assert f"{SEED}" in office.locator("dl.facts").inner_text()
    sampled_numbers = {row[1].split("·")[1].strip() for row in rows}

    # Send the office's own checker to the first item not of a department the other journeys use.
    target = next(row for row in rows if not set(row[3].split("、")) & DEMO_USERS_DEPARTMENTS)
    target_number, target_title = target[1].split("·")[1].strip(), target[2]
    row = office.locator("main table tbody tr", has_text=target_number)
    row.locator("input[name=samples]").check()
    checker = server.query(f"SELECT id FROM {get_user_model()._meta.db_table} WHERE username = 'office'")[0][0]
    office.select_option("[name=checkers]", str(checker))
    submit(office, office.locator("main form[method=post]").last)
    assert t("Checkers assigned.") == message(office)
    assert office.locator("main table tbody tr", has_text=target_number).locator("td").nth(4).inner_text() != "—"

    # The phone follow-up finds it not done: it is reopened.
    finding = "电话回访领衔代表：沿街立面和店招整治未完成，居民仍有反映。"
    with office.expect_navigation():
        office.locator("main table tbody tr", has_text=target_number).get_by_role("link", name=target_title).click()
    assert zh(Outcome.SOLVED.label) in office.locator("main > h1 + p").inner_text()  # drawn as solved
    record = office.locator("main form[method=post]")
    record.locator("[name=method]").select_option(RecheckMethod.PHONE)
    assert record.locator("[name=checked_on]").input_value() == today.isoformat()
    record.locator(f"[name=result][value={RecheckResult.NOT_DONE}]").check()
    record.locator("[name=text]").fill(finding)
    submit(office, record)
    assert office.url == recheck_url
    assert t("Finding recorded.") == message(office)
    result = office.locator("main table tbody tr", has_text=target_number).locator("td").last.inner_text()
    assert zh(RecheckResult.NOT_DONE.label) in result and t("reopened") in result

    # The item's file: re-handling, a new deadline, and the re-check on the timeline.
    with office.expect_navigation():
        office.locator("main table tbody tr", has_text=target_number).get_by_role("link", name=target_title).click()
    with office.expect_navigation():
        office.get_by_role("link", name=t("The whole file")).click()
    assert zh(SuggestionState.REHANDLING.label) in office.locator("main > h1 + p").inner_text()
    leads = {name: pk for name, pk in assignment_ids(office).items()
             if zh(AssignmentState.REHANDLING.label) in office.locator(f"#assignment-{pk} h3").inner_text()}
    assert leads, "no lead department is re-handling the reopened item"
    for pk in leads.values():
        due = office.locator(f"#assignment-{pk} > dl.facts dd b").first.inner_text()
        assert due > today.isoformat()
        assert today.isoformat() in office.locator(f"#assignment-{pk} > dl.facts").inner_text()  # its basis
        assert server.query(f"SELECT due_date FROM {Assignment._meta.db_table} WHERE id = ?", (pk,))[0][0] == due
    last_line = office.locator("ol.timeline > li").last
    assert last_line.locator("b").inner_text() == zh(Event.Kind.REHANDLING.label)
    assert finding in last_line.inner_text() and due in last_line.inner_text()

    # 2. A look-back of last year's items still planned or for reference at the end of last year.
    office.goto(server.url("/supervision/reviews/"))
    review = office.locator("form[action='/supervision/reviews/new/']")
    assert review.locator("[name=year]").input_value() == str(this_year)
    review.locator("[name=kind]").select_option(ReviewCampaign.Kind.LOOKBACK)
    review.locator("[name=title]").fill(f"{last_year} 年度建议回头看")
    review.locator("[name=first_year]").fill(str(last_year))
    review.locator("[name=last_year]").fill(str(last_year))
    submit(office, review)
    review_url = office.url
    candidates = before[this_year]["lookback_candidates"]
    assert t("%(n)s candidates listed.", n=candidates) == message(office)  # the report's own candidates
    assert number(office.locator(".stats .stat b").first.inner_text()) == candidates
    assert len(table(office)) == min(candidates, supervision_views.PAGE_SIZE)

    chosen = [row for row in table(office) if not set(row[2].split("、")) & DEMO_USERS_DEPARTMENTS
              and row[5] == "—"][:2]
    assert len(chosen) == 2, "the look-back lists fewer than two items to convert"
    converted = []
    for n, row in enumerate(chosen):
        item_number, title = row[0].split("·")[1].strip(), row[1]
        office.goto(review_url)
        with office.expect_navigation():
            office.get_by_role("link", name=title).click()
        item = re.search(r"/supervision/reviews/items/(\d+)/$", office.url)[1]
        if n == 0:  # the first goes back to its department, which reports it done
            do_step(office, f"/supervision/reviews/items/{item}/reassign/",
                    **{"reassign-note": "请原主办单位结合今年计划重新研究办理。"})
        note = f"{title.removeprefix('关于').removesuffix('的建议')}已完成，代表实地查看后认可。"
        do_step(office, f"/supervision/reviews/items/{item}/outcome/",
                **{"outcome-outcome": Outcome.SOLVED, "outcome-effective_on": today.isoformat(), "outcome-note": note})
        history = office.locator("section.card", has=office.get_by_role("heading", name=t("Outcome history")))
        assert f"{today.isoformat()} {zh(Outcome.SOLVED.label)}" in history.inner_text()
        with office.expect_navigation():
            office.get_by_role("link", name=t("The whole file")).click()
        facts = office.locator("dl.facts").first
        public = facts.locator("dt", has_text=t("Published")).locator("xpath=following-sibling::dd[1]").inner_text()
        converted.append({"number": item_number, "title": title, "public": public == t("Yes"), "note": note})
        assert zh(Outcome.SOLVED.label) in office.locator("main > h1 + p").inner_text()
        assert note in office.locator("ol.timeline > li").last.inner_text()
    office.goto(review_url)
    stats = [number(b) for b in office.locator(".stats .stat b").all_inner_texts()]
    assert stats == [candidates, 1, 2, 2]  # candidates, re-assigned, new outcome recorded, now solved

    # 3. Three similar suggestions linked as one class, from this year's item that has two unlinked ones.
    touched = sampled_numbers | {c["number"] for c in converted}
    office.goto(server.url(f"/suggestions/?year={this_year}"))
    items = office.locator("main table a[href^='/suggestions/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
    start = similar = None
    for href in items[:20]:
        office.goto(server.url(href))
        if office.locator("main > p.muted").first.inner_text().rsplit(" ", 1)[-1] in touched:
            continue
        free = [r for r in office.locator("#similar tbody tr").all()
                if r.locator("input[type=checkbox]:not([disabled])").count()
                and r.locator("td").nth(2).inner_text() not in touched]
        if len(free) >= 2:
            start, similar = href, free[:2]
            break
    assert start, "no suggestion of this year has two similar ones to link"
    # The report counts an item from its assignment on, until it is withdrawn.
    uncounted = {zh(SuggestionState.REGISTERED.label), zh(SuggestionState.WITHDRAWN.label)}
    members = {pk_in(start): (this_year, office.locator("main > p.muted").first.inner_text().rsplit(" ", 1)[-1],
                              not set(office.locator("main > h1 + p .tag").all_inner_texts()) & uncounted)}
    for r in similar:
        r.locator("input[type=checkbox]").check()
        cells = r.locator("td").all_inner_texts()
        pk = pk_in(r.locator("a").first.get_attribute("href"))
        members[pk] = (int(cells[1]), cells[2], cells[5] not in uncounted)
    class_name = f"{office.locator('main > h1').inner_text().removeprefix('关于').removesuffix('的建议')}等一类事"
    office.fill("#class-name", class_name)
    submit(office, office.locator("#similar form"))
    assert t("Linked as one class.") == message(office)
    class_url = office.url
    class_path = class_url.removeprefix(server.url(""))
    assert office.locator("main > h1").inner_text() == class_name
    listed = sorted(row[1] for row in table(office))
    assert listed == sorted(n for _year, n, _counted in members.values())
    for pk in members:
        office.goto(server.url(f"/suggestions/{pk}/"))
        link = office.locator("#similar p a").first
        assert link.inner_text() == class_name and link.get_attribute("href") == class_path
        for row in office.locator("#similar tbody tr").all():  # the other members it lists are in the class
            if pk_in(row.locator("a[href^='/suggestions/']").first.get_attribute("href")) in members:
                assert row.locator(f"a.tag[href='{class_path}']").count() == 1
        line = office.locator("ol.timeline > li", has_text=t("Linked as one class")).last
        assert class_name in line.inner_text()

    # 4. The report moved by exactly what was done.
    after = {last_year: report_figures(office, server, last_year)}
    screenshot(office, "6-supervision-report-last-year")
    after[this_year] = report_figures(office, server, this_year, lookback)
    in_class = {year: sum(1 for y, _n, counted in members.values() if y == year and counted)
                for year in (last_year, this_year)}
    expect = {last_year: {"sampled": drawn, "checked": 1, "not_done": 1, "reopened": 1, "by_phone": 1},
              this_year: {"converted": 2}}
    for year, counts in in_class.items():
        if counts:
            expect[year].update(classes=1, class_items=counts)
    assert {year: moved(before[year], after[year]) for year in before} == expect
    finish(office, "6-supervision-report")

    # 5. The public page: the published replies of the converted items, now solved, and no phone number.
    phones = [p for (p,) in server.query(f"SELECT phone FROM {Deputy._meta.db_table} WHERE phone != ''")]
    visitor = open_page()
    published = [c for c in converted if c["public"]]
    assert published, "neither converted item is published"
    for c in converted:
        visitor.goto(server.url("/public/"))
        visitor.fill("[name=q]", c["number"])
        with visitor.expect_navigation():
            visitor.click("form[role=search] button.primary")
        cards = visitor.locator("article.card")
        if not c["public"]:
            assert cards.count() == 0
            continue
        assert cards.count() == 1
        assert cards.locator("h2").inner_text() == c["title"]
        assert zh(Outcome.SOLVED.label) in cards.locator(f".tag.{Outcome.SOLVED}").inner_text()
        assert cards.locator(".outcome-since").inner_text() == t("updated on %(day)s", day=today.isoformat())
        assert cards.locator("p.detail").count() >= 1  # the reply's text
        assert not [p for p in phones if p in visitor.content()]
        with visitor.expect_navigation():
            cards.locator("h2 a").click()
        assert not [p for p in phones if p in visitor.content()]
    visitor.goto(server.url("/public/"))
    visitor.fill("[name=q]", published[0]["number"])
    with visitor.expect_navigation():
        visitor.click("form[role=search] button.primary")
    assert not [p for p in phones if p in visitor.content()]
    finish(visitor, "6-supervision-public")
