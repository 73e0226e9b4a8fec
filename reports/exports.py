"""The report as documents: the statistics paragraph, an Excel workbook and a Word draft.

Their words are Chinese on purpose: they are the content of documents sent to the people's congress
(the paragraph reads like the seed's second paragraph) and of the office's spreadsheets, whose
headers are a format, as the import template's are. The figures all come from `queries.annual`, so
the page, the workbook, the draft and the JSON cannot disagree.
"""
import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from suggestions.choices import OUTCOME_LABELS_ZH, RATING_LABELS_ZH, SOURCE_ALIASES, Outcome

from .queries import OUTCOMES, RATINGS

SOURCE_LABELS_ZH = {}
for _label, _code in SOURCE_ALIASES.items():
    SOURCE_LABELS_ZH.setdefault(_code, _label)  # the first label of each source is the short one
ALL_SOURCES_ZH = "全部"
DASH = "—"
# The seed's words for the ways of re-checking (its third section: 明察暗访、电话回访和座谈交流).
RECHECK_METHODS_ZH = {"unannounced": "明察暗访", "phone": "电话回访", "meeting": "座谈", "site": "实地查看"}
PERCENT_FORMAT = "0.0%"
COUNT_FORMAT = "0"


# --- words ------------------------------------------------------------------------------------

def zh_date(day):
    return f"{day.year}年{day.month}月{day.day}日"


def zh_numeral(n):
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十 (the headings' numbers; below a hundred)."""
    digits = "零一二三四五六七八九"
    tens, ones = divmod(n, 10)
    return ((digits[tens] if tens > 1 else "") + ("十" if tens else "") + (digits[ones] if ones else "")) or digits[0]


def pct(value):
    """86.0 → "86.0%"; no rate (nothing to divide by) → "—"."""
    return DASH if value is None else f"{value}%"


def source_label(code):
    return SOURCE_LABELS_ZH.get(code, ALL_SOURCES_ZH)


def _noun(report):
    return "代表集中联系社区意见建议" if report["source"] == "community" else "区人大代表建议"


def title(report):
    suffix = "" if report["source"] == "all" else f"（{source_label(report['source'])}）"
    return f"{report['year']}年度区人大代表建议办理情况统计{suffix}"


def statistics_paragraph(report):
    """The statistics paragraph in the seed's wording, filled from the figures.

    Seed: 截至目前，由区政府承办的 172 件区人大代表建议均在规定时间内办复。其中，办理结果为“已经解决”的
    148 件，占比 86.0%；“正在解决”的 8 件，占比 4.6%；…  (the seed's 4.6 and 2.4 are miscomputed:
    the figures here are computed, so they read 4.7 and 2.3).
    """
    r = report
    noun = _noun(r)
    total, replied, on_time = r["total"], r["replied"], r["replied_on_time"]
    handled = f"截至{zh_date(r['as_of'])}，由区政府承办的 {total} 件{noun}"
    rate = pct(r["on_time_rate"])
    if not total:
        text = f"截至{zh_date(r['as_of'])}，区政府尚无承办的{noun}。"
    elif not replied:
        text = f"{handled}尚未办复。"
    elif replied == total and on_time == replied:
        text = f"{handled}均在规定时间内办复。"
    elif replied == total:
        text = f"{handled}均已办复，按期办复 {on_time} 件，按期办复率 {rate}。"
    else:
        text = f"{handled}已办复 {replied} 件，其中按期办复 {on_time} 件，按期办复率 {rate}。"
    if r["source"] == "community":
        text = _spread(r, noun) + text
    if replied:
        parts = [f"“{OUTCOME_LABELS_ZH[o]}”的 {r['outcomes'][o]['count']} 件，占比 {pct(r['outcomes'][o]['percent'])}"
                 for o in OUTCOMES]
        lead = "其中" if replied == total else f"已办复的 {replied} 件中"
        both = r["solved_or_in_progress"]
        text += (f"{lead}，办理结果为{'；'.join(parts)}。办理结果为“{OUTCOME_LABELS_ZH[Outcome.SOLVED]}”和"
                 f"“{OUTCOME_LABELS_ZH[Outcome.IN_PROGRESS]}”的共 {both['count']} 件，占比 {pct(both['percent'])}。")
    result, attitude = r["satisfaction"]["result"], r["satisfaction"]["attitude"]
    if result["satisfied_rate"] is not None or attitude["satisfied_rate"] is not None:
        text += (f"经征询代表意见，代表对办理结果的满意率为 {pct(result['satisfied_rate'])}，满意和基本满意率为 "
                 f"{pct(result['satisfied_or_basic_rate'])}；对办理态度的满意率为 {pct(attitude['satisfied_rate'])}，"
                 f"满意和基本满意率为 {pct(attitude['satisfied_or_basic_rate'])}。")
    if replied:
        text += f"已办复的建议中公开答复 {r['public']} 件，公开率 {pct(r['disclosure_rate'])}。"
    text += _supervision_sentences(r.get("supervision"), noun)
    lookback = r.get("lookback")
    if lookback and lookback["candidates"]:
        first, last = lookback["years"]
        years = f"{first}年" if first == last else f"{first}至{last}年"
        planned, reference = OUTCOME_LABELS_ZH[Outcome.PLANNED], OUTCOME_LABELS_ZH[Outcome.FOR_REFERENCE]
        text += (f"对{years}办理结果为“{planned}”和“{reference}”的 {lookback['candidates']} 件{noun}开展“回头看”，"
                 f"其中 {lookback['converted_to_solved']} 件转为“{OUTCOME_LABELS_ZH[Outcome.SOLVED]}”。")
    return text


def _spread(r, noun):
    """Where the community drive's items came from and who handles them.

    Seed: 区政府收到市、区人大代表集中联系社区意见建议共 44 件，涉及全区 11 个街镇，分别交由区建设管理委、
    区公安分局等 15 个部门负责办理。 The departments named are those leading the most items.
    """
    leads = sorted((d for d in r["by_department"] if d["lead"]), key=lambda d: -d["lead"])
    if not r["total"] or not r["by_street"] or not leads:
        return ""
    named = "、".join(d["department"] for d in leads[:2])
    if len(leads) > 2:
        named += f"等 {len(leads)} 个部门"
    handed = "分别交由" if len(leads) > 1 else "交由"
    return (f"区政府收到{noun}共 {r['total']} 件，涉及全区 {len(r['by_street'])} 个街镇，"
            f"{handed}{named}负责办理。")


def _supervision_sentences(supervision, noun):
    """The classes of similar suggestions and the sampled re-checks, in the seed's words, when there are any.

    Seed: 推动“解决一件事”升格为“解决一类事”。… 区政府办公室通过明察暗访、电话回访和座谈交流等方式，对已办结并
    标注为“已经解决”的意见建议开展抽样复查。
    """
    if not supervision:
        return ""
    text = ""
    classes = supervision["classes"]
    if classes["classes"]:
        text += (f"推动“解决一件事”升格为“解决一类事”，将 {classes['items']} 件相似{noun}归为 "
                 f"{classes['classes']} 类统筹办理。")
    c = supervision["rechecks"]
    if c["sampled"]:
        methods = "、".join(RECHECK_METHODS_ZH[m] for m, n in c["by_method"].items() if n)
        how = f"通过{methods}等方式，" if methods else ""
        text += (f"区政府办公室{how}对办理结果为“{OUTCOME_LABELS_ZH[Outcome.SOLVED]}”的 {c['sampled']} 件{noun}"
                 f"开展抽样复查")
        if c["checked"]:
            text += f"，已复查 {c['checked']} 件，其中 {c['confirmed']} 件得到有效落实"
            if c["not_done"] and c["reopened"] == c["not_done"]:
                text += f"，{c['not_done']} 件未落实并重新交办"
            elif c["not_done"]:
                text += f"，{c['not_done']} 件未落实"
                if c["reopened"]:
                    text += f"（其中重新交办 {c['reopened']} 件）"
        text += "。"
    return text


# --- the tables, once, for both documents ------------------------------------------------------
# Each table: (sheet title, headers, rows, formats); a format per column: "text", "count" or "percent".

def tables(report):
    r = report
    previous = r.get("previous_year")
    t = []
    summary_headers = ["指标", f"{r['year']}年"] + ([f"{previous['year']}年同期"] if previous else [])

    def both(get):
        return [get(r)] + ([get(previous)] if previous else [])

    figures = [
        ("统计截至", "text", lambda x: x["as_of"].isoformat()),
        ("来源", "text", lambda x: source_label(x["source"])),
        ("建议总数", "count", lambda x: x["total"]),
        ("已办复", "count", lambda x: x["replied"]),
        ("按期办复", "count", lambda x: x["replied_on_time"]),
        ("按期办复率", "percent", lambda x: x["on_time_rate"]),
        *[(f"“{OUTCOME_LABELS_ZH[o]}”件数", "count", lambda x, o=o: x["outcomes"][o]["count"]) for o in OUTCOMES],
        *[(f"“{OUTCOME_LABELS_ZH[o]}”占比", "percent", lambda x, o=o: x["outcomes"][o]["percent"])
          for o in OUTCOMES],
        ("已经解决和正在解决", "count", lambda x: x["solved_or_in_progress"]["count"]),
        ("已经解决和正在解决占比", "percent", lambda x: x["solved_or_in_progress"]["percent"]),
        ("办理结果满意率", "percent", lambda x: x["satisfaction"]["result"]["satisfied_rate"]),
        ("办理态度满意率", "percent", lambda x: x["satisfaction"]["attitude"]["satisfied_rate"]),
        ("重点建议", "count", lambda x: x["key_suggestions"]),
        ("公开答复", "count", lambda x: x["public"]),
        ("公开率", "percent", lambda x: x["disclosure_rate"]),
    ]
    summary = [[label, *both(get)] for label, _, get in figures]
    kinds = [kind for _, kind, _ in figures]
    t.append(("总体情况", summary_headers, summary, ["row", kinds]))

    outcome_rows = [[OUTCOME_LABELS_ZH[o], r["outcomes"][o]["count"], r["outcomes"][o]["percent"]] for o in OUTCOMES]
    both_ = r["solved_or_in_progress"]
    outcome_rows.append(["已经解决和正在解决", both_["count"], both_["percent"]])
    t.append(("办理结果", ["办理结果", "件数", "占已办复比例"], outcome_rows, ["text", "count", "percent"]))

    sat = r["satisfaction"]
    sat_rows = [[RATING_LABELS_ZH[x], sat["result"][x], sat["attitude"][x]] for x in RATINGS]
    sat_rows.append(["满意率", sat["result"]["satisfied_rate"], sat["attitude"]["satisfied_rate"]])
    sat_rows.append(["满意和基本满意率", sat["result"]["satisfied_or_basic_rate"],
                     sat["attitude"]["satisfied_or_basic_rate"]])
    t.append(("满意度", ["评价", "办理结果", "办理态度"], sat_rows,
              ["row", ["count"] * len(RATINGS) + ["percent", "percent"]]))

    t.append(("承办单位", ["承办单位", "主办件数", "会办件数", "已办复", "按期办复",
                       *[OUTCOME_LABELS_ZH[o] for o in OUTCOMES]],
              [[d["department"], d["lead"], d["co"], d["replied"], d["on_time"], *[d[o] for o in OUTCOMES]]
               for d in r["by_department"]], ["text"] + ["count"] * 8))
    for sheet, key, label in (("类别", "by_category", "category"), ("街镇", "by_street", "street")):
        t.append((sheet, [sheet, "件数", "已办复", "已经解决", "解决率"],
                  [[x[label], x["total"], x["replied"], x["solved"], x["solved_percent"]] for x in r[key]],
                  ["text", "count", "count", "count", "percent"]))
    t.append(("来源", ["来源", "件数", "已办复", "已经解决和正在解决", "占已办复比例"],
              [[source_label(x["source"]), x["total"], x["replied"], x["solved_or_in_progress"],
                x["solved_or_in_progress_percent"]] for x in r["by_source"]],
              ["text", "count", "count", "count", "percent"]))
    t.append(("月度办复", ["月份", "首次办复件数"], [[m["month"], m["replied"]] for m in r["by_month"]],
              ["text", "count"]))
    supervision = r.get("supervision")
    if supervision:
        c, classes = supervision["rechecks"], supervision["classes"]
        figures = [
            ("抽样复查件数", "count", c["sampled"]),
            ("已复查", "count", c["checked"]),
            ("得到有效落实", "count", c["confirmed"]),
            ("未落实", "count", c["not_done"]),
            ("重新交办", "count", c["reopened"]),
            ("落实率", "percent", c["confirmed_percent"]),
            *[(f"{label}（次）", "count", c["by_method"][m]) for m, label in RECHECK_METHODS_ZH.items()],
            ("一类事（类）", "count", classes["classes"]),
            ("归类建议（件）", "count", classes["items"]),
        ]
        t.append(("监督检查", ["监督检查", f"{r['year']}年"], [[label, value] for label, _, value in figures],
                  ["row", [kind for _, kind, _ in figures]]))
    lookback = r.get("lookback")
    if lookback and lookback["candidates"]:
        first, last = lookback["years"]
        t.append(("回头看", ["年度", "计划解决和留作参考", "转为已经解决", "转化率"],
                  [[f"{first}—{last}", lookback["candidates"], lookback["converted_to_solved"],
                    lookback["converted_percent"]]], ["text", "count", "count", "percent"]))
    return t


def _kind(formats, row_index, col_index):
    """The format of a cell: per column, or (["row", kinds]) per row for tables of figures by row."""
    if formats[0] == "row":
        return "text" if col_index == 0 else formats[1][row_index]
    return formats[col_index]


def _display(value, kind):
    if value is None:
        return DASH
    if kind == "percent":
        return pct(value)
    return str(value)


# --- Excel ------------------------------------------------------------------------------------

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="EEF2F7")


def _width(value):
    """Display width: a CJK character takes two columns."""
    text = str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def workbook(report):
    """The workbook as bytes: one sheet per table, Chinese headers, frozen header row, number formats."""
    wb = Workbook()
    wb.remove(wb.active)
    for sheet, headers, rows, formats in tables(report):
        ws = wb.create_sheet(sheet)
        ws.append(headers)
        for cell in ws[1]:
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            cell.alignment = Alignment(horizontal="center", vertical="center")
        widths = [_width(h) for h in headers]
        for i, row in enumerate(rows):
            values = []
            for j, value in enumerate(row):
                kind = _kind(formats, i, j)
                if value is None:
                    values.append(DASH)
                elif kind == "percent":
                    values.append(float(value / 100))  # Decimal first: 0.806, not 0.80599…
                else:
                    values.append(value)
                widths[j] = max(widths[j], _width(_display(value, kind)))
            ws.append(values)
            for j, cell in enumerate(ws[ws.max_row]):
                kind = _kind(formats, i, j)
                if kind == "percent" and row[j] is not None:
                    cell.number_format = PERCENT_FORMAT
                elif kind == "count":
                    cell.number_format = COUNT_FORMAT
                if kind != "text":
                    cell.alignment = Alignment(horizontal="right")
        ws.freeze_panes = "A2"
        for j, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 60)
    ws = wb.create_sheet("说明", 0)
    ws.append(["说明"])
    ws["A1"].font, ws["A1"].fill = HEADER_FONT, HEADER_FILL
    ws.append([title(report)])
    ws.append([statistics_paragraph(report)])
    ws["A3"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 100
    ws.row_dimensions[3].height = 180
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- Word -------------------------------------------------------------------------------------

BODY_FONT = "仿宋"
HEADING_FONT = "黑体"


def _font(style_or_run, name, size=None, bold=None):
    font = style_or_run.font
    font.name = name
    if size:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    # Word takes Chinese text's font from the East Asian slot, which `font.name` does not set.
    r_pr = style_or_run.element.get_or_add_rPr()
    r_fonts = r_pr.find(qn("w:rFonts"))
    if r_fonts is None:
        r_fonts = r_pr.makeelement(qn("w:rFonts"), {})
        r_pr.append(r_fonts)
    r_fonts.set(qn("w:eastAsia"), name)


def document(report):
    """The Word draft as bytes: a title, the statistics paragraph, then the tables."""
    doc = Document()
    _font(doc.styles["Normal"], BODY_FONT, 12)
    for level in (1, 2):
        _font(doc.styles[f"Heading {level}"], HEADING_FONT, 16 if level == 1 else 14, True)
    heading = doc.add_heading(title(report), level=1)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    meta = doc.add_paragraph(f"统计截至{zh_date(report['as_of'])}　来源：{source_label(report['source'])}")
    meta.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph = doc.add_paragraph(statistics_paragraph(report))
    paragraph.paragraph_format.first_line_indent = Pt(24)
    paragraph.paragraph_format.line_spacing = 1.5
    for n, (sheet, headers, rows, formats) in enumerate(tables(report), 1):
        doc.add_heading(f"{zh_numeral(n)}、{sheet}", level=2)
        table = doc.add_table(rows=1, cols=len(headers))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, headers, strict=True):
            cell.text = str(text)
            for run in cell.paragraphs[0].runs:
                run.font.bold = True
        for i, row in enumerate(rows):
            cells = table.add_row().cells
            for j, value in enumerate(row):
                kind = _kind(formats, i, j)
                cells[j].text = _display(value, kind)
                if kind != "text":
                    cells[j].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        if not rows:
            doc.add_paragraph("（无）")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def file_name(report, extension):
    return f"{title(report)}（截至{report['as_of'].isoformat()}）.{extension}"

