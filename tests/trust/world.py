"""Two departments' worlds side by side, for the trust tests: everything the product's URLs take,
once inside a user's scope and once outside it.

`mine` belongs to dept (handler, leader) and its lead deputy has a login (`deputy`); `theirs`
belongs to dept2 (handler2, leader2). Each holds a suggestion being handled, with a pending draft
reply (with an attachment) and a pending extension request, and a replied suggestion whose sent
reply has an attachment. Titles and draft texts carry a marker, so that a page or a file that
shows something of the other world is caught wherever the text appears.
"""
import datetime as dt
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile

from suggestions import spreadsheets, workflow
from suggestions.models import Deputy, ExportJob, ImportJob
from tests.base import make_user

PDF = b"%PDF-1.7\n%%EOF\n"
ON = dt.date(2025, 3, 3)


@dataclass
class Family:
    """One department's objects; `marker` appears in its titles, `draft_marker` in its draft only."""

    key: str
    marker: str
    draft_marker: str
    unpublished_marker: str  # in the title of the item not yet replied: never on the public pages
    suggestion: object
    assignment: object
    draft: object
    extension: object
    replied: object
    sent_reply: object
    handlers: frozenset   # persona names of the department (handler and leader)
    leaders: frozenset
    deputies: frozenset   # persona names of the lead deputy, when it has a login


@dataclass
class World:
    users: dict           # persona name -> user
    mine: Family
    theirs: Family
    import_job: object
    export_job: object    # a finished background export, handler's: only handler may open it
    office: dict          # the office's own objects (supervision campaigns …), by name
    phones: tuple         # the deputies' phone numbers: never on a public page

    def family(self, key):
        return self.mine if key == "mine" else self.theirs


def _family(people, key, dept, handler, leader, deputy, number):
    marker, draft_marker, unpublished = f"[{key}-7f3a]", f"[draft-{key}-c41e]", f"[unpublished-{key}-5d02]"

    def register(n, title, **fields):
        s = workflow.register(actor=people.office, year=2025, number=n, title=f"{title}{marker}",
                              lead_deputy=deputy, content="建议内容", category=people.category, street=people.street,
                              **fields)
        workflow.assign(s, actor=people.office, lead=[dept], assigned_on=ON)
        a = s.assignments.get()
        workflow.accept(a, actor=handler, accepted_on=ON)
        workflow.add_contact(a, actor=handler, method="phone", contacted_on=ON, participants=deputy.name,
                             summary="电话沟通")
        return s, a

    s, a = register(f"{number}1", f"关于宝山路沿线整体绿化改造的建议{unpublished}", is_key=True,
                    supervising_leader="张区长")
    draft = workflow.draft_reply(a, actor=handler, outcome="solved", body=f"草稿{draft_marker}",
                                 attachment=SimpleUploadedFile("draft.pdf", PDF))
    ext = workflow.request_extension(a, actor=leader, requested_due=dt.date(2025, 8, 29), reason="施工周期长")
    done, done_a = register(f"{number}2", "关于整治中医医院门口交通乱象的建议")
    sent = workflow.draft_reply(done_a, actor=handler, outcome="solved", body="已解决",
                                attachment=SimpleUploadedFile("sent.pdf", PDF))
    workflow.sign_reply(sent, actor=leader, reply_date=dt.date(2025, 4, 1), document_number=f"函〔2025〕{number}号")
    for obj in (s, a, draft, ext, done, sent):
        obj.refresh_from_db()
    return Family(key=key, marker=marker, draft_marker=draft_marker, unpublished_marker=unpublished, suggestion=s,
                  assignment=a, draft=draft, extension=ext, replied=done, sent_reply=sent,
                  handlers=frozenset({handler.username, leader.username}), leaders=frozenset({leader.username}),
                  deputies=frozenset({"deputy"}) if deputy.user_id else frozenset())


def _office_objects(people, mine, theirs):
    """Supervision's objects, when the app is there: a re-check of the solved items, a review, classes."""
    try:
        from supervision import actions
        from supervision.models import ReviewCampaign, ReviewItem
    except ImportError:
        return {}
    office = people.office
    recheck = actions.create_recheck(actor=office, title="抽样复查", replied_from=dt.date(2025, 1, 1),
                                     replied_to=dt.date(2025, 12, 31), size=2, seed=1)
    review = actions.create_review(actor=office, kind=ReviewCampaign.Kind.FOLLOWUP, year=2025, title="跟踪复查")
    item = ReviewItem.objects.create(campaign=review, suggestion=mine.replied, outcome_before="solved")
    classes = {f.key: actions.link_class([f.suggestion, f.replied], actor=office) for f in (mine, theirs)}
    return {"recheck": recheck, "sample": recheck.samples.order_by("pk").first(), "review": review,
            "review_item": item, "class_mine": classes["mine"], "class_theirs": classes["theirs"],
            "member_mine": classes["mine"].members.order_by("pk").first()}


def build(people, light=False):
    """Both worlds and the office's objects; `light`: only `mine`, for tests that act within one."""
    deputy_user = make_user("deputy")
    phones = ("13911112222", "13933334444")
    mine_deputy = Deputy.objects.create(name="甲代表", user=deputy_user, phone=phones[0])
    theirs_deputy = Deputy.objects.create(name="乙代表", phone=phones[1])
    users = {name: getattr(people, name) for name in ("office", "liaison", "handler", "leader", "handler2",
                                                       "leader2")}
    users["deputy"] = deputy_user
    mine = _family(people, "mine", people.dept, people.handler, people.leader, mine_deputy, "2025100")
    if light:
        return World(users=users, mine=mine, theirs=None, import_job=None, export_job=None, office={},
                     phones=phones)
    theirs = _family(people, "theirs", people.dept2, people.handler2, people.leader2, theirs_deputy, "2025200")
    return World(
        users=users, mine=mine, theirs=theirs,
        import_job=ImportJob.objects.create(file="imports/x.xlsx", original_name="x.xlsx",
                                            state=ImportJob.State.DONE, created_by=people.office),
        export_job=spreadsheets.run_export(ExportJob.objects.create(file_name="x.xlsx", created_by=people.handler).pk),
        office=_office_objects(people, mine, theirs), phones=phones,
    )
