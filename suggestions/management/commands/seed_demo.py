"""`seed_demo [--password P] [--if-empty]`: a realistic Jing'an district, run through the workflow.

Two years of suggestions: last year's fully handled (every outcome and rating, a re-handling,
follow-up changes, key and unpublished items, a withdrawal), this year's in every state. Every
step goes through `suggestions.workflow` with an explicit date, so each item has a real timeline;
this year's items are dated back from today so that, today, open assignments are overdue, due
today, and due in 2, 5 and 10 working days (what the reminder scan looks for).

The district is the same on every run of the same day (`random.Random(2025)`).
"""
import datetime as dt
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from departments.models import Membership
from departments.scoping import COORDINATOR, LIAISON
from suggestions import deadlines, demo, notifications, workflow
from suggestions.choices import (
    OUTCOMES_NEEDING_DATE,
    AssignmentRole,
    AssignmentState,
    ContactMethod,
    DeputyLevel,
    ExtensionState,
    Outcome,
    Rating,
    ReplyState,
    Source,
)
from suggestions.models import Assignment, Deputy, ExtensionRequest, Reply, Suggestion

DEFAULT_PASSWORD = "demo-pass-2025"
A = AssignmentState
JIANSHE, GONGAN, LVHUA, MINZHENG, WEIJIAN, FANGGUAN = (
    "区建设管理委", "区公安分局", "区绿化市容局", "区民政局", "区卫生健康委", "区房管局")
NANJINGXILU = demo.street_office("南京西路街道")

# username, name, office group, department, membership role
USERS = [
    ("admin", "系统管理员", None, None, None),
    ("office", "张伟", COORDINATOR, None, None),
    ("liaison", "赵敏", LIAISON, None, None),
    ("handler", "李娜", None, JIANSHE, Membership.Role.HANDLER),
    ("leader", "王强", None, JIANSHE, Membership.Role.LEADER),
    ("handler2", "刘洋", None, GONGAN, Membership.Role.HANDLER),
    ("leader2", "陈静", None, GONGAN, Membership.Role.LEADER),
    ("mz_handler", "孙丽", None, MINZHENG, Membership.Role.HANDLER),
    ("mz_leader", "周建国", None, MINZHENG, Membership.Role.LEADER),
    ("lh_handler", "徐磊", None, LVHUA, Membership.Role.HANDLER),
    ("lh_leader", "马超", None, LVHUA, Membership.Role.LEADER),
    ("wj_handler", "吴婷", None, WEIJIAN, Membership.Role.HANDLER),
    ("wj_leader", "郑涛", None, WEIJIAN, Membership.Role.LEADER),
    ("njxl_handler", "朱琳", None, NANJINGXILU, Membership.Role.HANDLER),
    ("njxl_leader", "胡军", None, NANJINGXILU, Membership.Role.LEADER),
    ("deputy", None, None, None, None),  # the login of one deputy: named after them below
]
SATISFIED = (Rating.SATISFIED, Rating.SATISFIED, "")
BASIC = (Rating.BASICALLY_SATISFIED, Rating.SATISFIED, "")
NO_OPINION = (Rating.NO_OPINION, Rating.NO_OPINION, "")


class Command(BaseCommand):
    help = "Load a realistic demo district (two years of suggestions in every state) and its demo users."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="password of every demo user")
        parser.add_argument("--if-empty", action="store_true",
                            help="do nothing when the database already holds suggestions")

    def handle(self, *args, password, if_empty, **options):
        if Suggestion.objects.exists():
            if if_empty:
                self.stdout.write("Suggestions already exist: demo data not loaded.")
                return
            hashed, users = make_password(password), get_user_model().objects.filter(username__in=[u[0] for u in USERS])
            for user in users:  # saved one by one, so that the audit trail records each change
                user.password = hashed
                user.save(update_fields=["password"])
            self.stdout.write(f"Demo data already exists: not loaded again; password reset for {len(users)} "
                              "demo users.")
            return
        started = timezone.now()
        with transaction.atomic(), workflow.quietly():
            district = District(password, self.stdout)
            district.build()
        # The history above is news to nobody; tell the users what awaits them today.
        district.notify_open_work()
        seconds = (timezone.now() - started).total_seconds()
        district.summary(seconds)


def shift(day, n):
    """`n` working days after `day` (before it when `n` is negative)."""
    if n >= 0:
        return deadlines.add_workdays(day, n)
    while n < 0:
        day -= dt.timedelta(days=1)
        if deadlines.is_workday(day):
            n += 1
    return day


@dataclass
class Case:
    """One suggestion to be: its registration data and the script of its life."""

    year: int
    registered_on: dt.date
    title: str
    content: str
    source: str
    category: str
    street: str
    lead: list
    co: list
    script: object
    fields: dict = field(default_factory=dict)


class Story:
    """One suggestion's life through the workflow. A step dated after today is not taken, nor any after it."""

    def __init__(self, district, suggestion, lead, co):
        self.d, self.s, self.lead, self.co = district, suggestion, lead, co
        self.stopped = False

    def _go(self, on):
        if self.stopped or on > self.d.today:
            self.stopped = True
        return not self.stopped

    def active(self, role=None, department=None, states=None):
        qs = self.s.assignments.exclude(state=A.RETURNED).select_related("department").order_by("pk")
        if role:
            qs = qs.filter(role=role)
        if department:
            qs = qs.filter(department__name=department)
        if states:
            qs = qs.filter(state__in=states)
        return list(qs)

    def due(self, department=None):
        return self.active(AssignmentRole.LEAD, department)[0].due_date

    def assign(self, on, lead=None, co=None):
        if self._go(on):
            workflow.assign(self.s, actor=self.d.office, lead=lead or self.lead,
                            co=self.co if co is None else co, assigned_on=on)

    def accept(self, on, role=None, department=None):
        if self._go(on):
            for a in self.active(role, department, [A.PENDING]):
                workflow.accept(a, actor=self.d.handler_of(a), accepted_on=on)

    def opinions(self, on, department=None):
        if self._go(on):
            for a in self.active(AssignmentRole.CO, department, [A.HANDLING]):
                workflow.send_opinion(a, actor=self.d.handler_of(a), text=self.d.rng.choice(demo.OPINION_TEXTS),
                                      sent_on=on)

    def progress(self, on, department=None, role=AssignmentRole.LEAD):
        if self._go(on):
            for a in self.active(role, department, [A.HANDLING, A.REHANDLING]):
                workflow.add_progress(a, actor=self.d.handler_of(a), text=self.d.rng.choice(demo.PROGRESS_NOTES),
                                      noted_on=on)

    def contact(self, on, department=None):
        if self._go(on):
            for a in self.active(AssignmentRole.LEAD, department, [A.HANDLING, A.REHANDLING]):
                workflow.add_contact(a, actor=self.d.handler_of(a), method=self.d.rng.choice(ContactMethod.values),
                                     contacted_on=on, summary=self.d.rng.choice(demo.CONTACT_SUMMARIES),
                                     participants=f"{self.s.lead_deputy.name}代表、{a.department.name}")

    def draft(self, on, outcome, department=None):
        """The handler's draft, awaiting the leader: [(assignment, reply)] of each lead concerned."""
        if not self._go(on):
            return []
        drafts = []
        for a in self.active(AssignmentRole.LEAD, department, [A.HANDLING, A.REHANDLING]):
            completion = (on + dt.timedelta(days=self.d.rng.randint(60, 300))
                          if outcome in OUTCOMES_NEEDING_DATE else None)
            drafts.append((a, workflow.draft_reply(a, actor=self.d.handler_of(a), outcome=outcome, drafted_on=on,
                                                   body=demo.REPLY_TEXTS[outcome], completion_date=completion)))
        return drafts

    def reply(self, on, outcome, department=None):
        """Drafted a working day or two before, then signed and sent on `on`."""
        drafts = self.draft(shift(on, -self.d.rng.randint(1, 2)), outcome, department)
        if self._go(on):
            for a, r in drafts:
                workflow.sign_reply(r, actor=self.d.leader_of(a), reply_date=on,
                                    document_number=self.d.letter_number(a.department, on.year))

    def send_back(self, reason="答复未写明完成时限，请补充具体工作计划后重新报审。"):
        if not self.stopped:
            for r in Reply.objects.filter(assignment__suggestion=self.s, state=ReplyState.PENDING):
                workflow.send_back_reply(r, actor=self.d.leader_of(r.assignment), reason=reason)

    def feedback(self, on, rating):
        result, attitude, comments = rating
        if self._go(on):
            workflow.record_feedback(self.s, actor=self.d.liaison, result=result, attitude=attitude,
                                     comments=comments, recorded_on=on)

    def rehandle(self, on, reason="代表对办理结果不满意，经区政府办公室研究，交承办单位重新办理。"):
        if self._go(on):
            workflow.order_rehandling(self.s, actor=self.d.office, reason=reason, ordered_on=on)

    def change_outcome(self, on, outcome, department=None):
        if self._go(on):
            for a in self.active(AssignmentRole.LEAD, department, [A.REPLIED]):
                completion = on + dt.timedelta(days=120) if outcome in OUTCOMES_NEEDING_DATE else None
                note = ("跟踪督办：相关工程已完工，经现场核实，问题已经解决。" if outcome == Outcome.SOLVED
                        else "跟踪督办：已落实资金并启动实施。")
                workflow.change_outcome(a, actor=self.d.leader_of(a), outcome=outcome, effective_on=on,
                                        completion_date=completion, note=note)

    def request_return(self, on, department):
        if self._go(on):
            for a in self.active(department=department):
                workflow.request_return(a, actor=self.d.handler_of(a), reason=self.d.rng.choice(demo.RETURN_REASONS),
                                        requested_on=on)

    def decide_return(self, on, department, reassign_to=None):
        if self._go(on):
            for a in self.active(department=department, states=[A.RETURN_REQUESTED]):
                if reassign_to is None:
                    workflow.refuse_return(a, actor=self.d.office, decided_on=on,
                                           reason="经研究，该事项属你单位职责范围，请按要求办理。")
                else:
                    workflow.approve_return(a, actor=self.d.office, decided_on=on,
                                            reassign_to=[self.d.departments[reassign_to]])

    def request_extension(self, new_due, approve=None):
        """Asked (and decided) today: the workflow dates these steps itself."""
        if self.stopped:
            return
        a = self.active(AssignmentRole.LEAD)[0]
        ext = workflow.request_extension(a, actor=self.d.leader_of(a), requested_due=new_due,
                                         reason="涉及多个产权单位协调，需补充现场勘察和方案论证，申请延期答复。")
        if approve is not None:
            workflow.decide_extension(ext, actor=self.d.office, approve=approve, deputy_notified_on=self.d.today,
                                      note="同意延期，已告知代表。" if approve else "")

    def withdraw(self, on):
        if self._go(on):
            workflow.withdraw(self.s, actor=self.d.office, withdrawn_on=on,
                              reason="领衔代表来函申请撤回，所提问题已通过12345热线解决。")


class District:
    """Builds the demo district: reference data, users, deputies and two years of suggestions."""

    def __init__(self, password, stdout):
        self.password, self.stdout = password, stdout
        self.rng = random.Random(2025)
        self.today = timezone.localdate()
        self.year, self.last_year = self.today.year, self.today.year - 1
        self.cases = defaultdict(list)
        self.titles = set()
        self.letters = Counter()
        self.members = {}

    # --- reference data and people --------------------------------------------------------------

    def build(self):
        self.reference_data()
        self.people()
        self.plan_last_year()
        self.plan_this_year()
        for year in (self.last_year, self.year):
            cases = sorted(self.cases[year], key=lambda c: c.registered_on)
            for number, case in enumerate(cases, 1):
                self.run(case, f"{year}{number:03d}")

    def reference_data(self):
        self.streets, self.departments, self.categories = demo.reference_data()

    def people(self):
        names = demo.person_names(self.rng, 60, taken=[u[1] for u in USERS])
        streets = list(self.streets)
        self.deputies = Deputy.objects.bulk_create([
            Deputy(name=name, level=DeputyLevel.CITY if i % 8 == 0 else DeputyLevel.DISTRICT,
                   delegation=streets[i % len(streets)], phone=f"139{self.rng.randint(10000000, 99999999)}")
            for i, name in enumerate(names)])
        hashed = make_password(self.password)  # hashed once: the same password for every demo user
        User = get_user_model()
        groups = {name: Group.objects.get_or_create(name=name)[0] for name in (COORDINATOR, LIAISON)}
        for username, name, group, department, role in USERS:
            deputy = self.deputies[0] if username == "deputy" else None
            user, _ = User.objects.get_or_create(username=username, defaults={
                "first_name": name or deputy.name, "email": f"{username}@jingan.example",
                "is_staff": username in ("admin", "office"), "is_superuser": username == "admin"})
            user.password = hashed
            user.save(update_fields=["password"])
            if group:
                user.groups.add(groups[group])
            if department:
                dept = self.departments[department]
                Membership.objects.get_or_create(user=user, department=dept, defaults={"role": role})
                self.members.setdefault((dept.pk, role), user)
            if deputy:
                deputy.user = user
                deputy.save(update_fields=["user"])
            setattr(self, username, user)

    def handler_of(self, assignment):
        d = assignment.department_id
        return self.members.get((d, Membership.Role.HANDLER)) or self.members.get((d, Membership.Role.LEADER))

    def leader_of(self, assignment):
        return self.members.get((assignment.department_id, Membership.Role.LEADER))

    def letter_number(self, department, year):
        self.letters[department.pk, year] += 1
        return f"{demo.letter_prefix(department.name)}〔{year}〕{self.letters[department.pk, year]}号"

    # --- planning ------------------------------------------------------------------------------

    def plan(self, year, registered_on, script, *, source=Source.SESSION, lead=None, co=None, street=None,
             seed=None, **fields):
        """Choose a matter, a place and departments fitting `lead`, and queue the case."""
        rng = self.rng
        if seed:
            template, street, place = seed
            matter = demo.MATTERS_BY_TITLE[template]
        else:
            options = [m for m in demo.MATTERS if lead is None or lead[0] in m.leads
                       or (demo.STREET in m.leads and lead[0].endswith(("办事处", "人民政府")))]
            given = street
            for _ in range(50):  # one matter per place and year
                matter = rng.choice(options)
                street = given or rng.choice(demo.STREETS)
                place = demo.place_for(rng, matter, street)
                if (year, demo.title_for(matter, place)) not in self.titles:
                    break
        title = demo.title_for(matter, place)
        self.titles.add((year, title))

        def resolve(names):
            return [self.departments[demo.street_office(street) if n == demo.STREET else n] for n in names]

        leads = resolve(lead or matter.leads[:1])
        if co is None:
            co = rng.sample(list(matter.co), min(len(matter.co), rng.choice([0, 0, 1, 1, 2])))
        cos = [d for d in resolve(co) if d not in leads]
        self.cases[year].append(Case(year, registered_on, title, demo.content_for(rng, matter, place), source,
                                     matter.category, street, leads, cos, script, fields))

    def run(self, case, number):
        rng = self.rng
        lead_deputy = rng.choice(self.deputies)
        co_deputies = [d for d in rng.sample(self.deputies, rng.choice([0, 0, 1, 2, 3])) if d != lead_deputy]
        s = workflow.register(actor=self.office, year=case.year, number=number, title=case.title,
                              lead_deputy=lead_deputy, co_deputies=co_deputies, registered_on=case.registered_on,
                              content=case.content, source=case.source, category=self.categories[case.category],
                              street=self.streets[case.street], **case.fields)
        case.script(Story(self, s, case.lead, case.co))

    def handled(self, assigned_on, outcome, rating=SATISFIED, *, late=False, follow_up=None, rehandle=None,
                split=None):
        """The script of a suggestion handled by the book: accepted, opinions, contact, reply, feedback.

        `outcome` may be a tuple, one per lead department (分办); `rehandle` is (outcome, rating) of a
        second round after a dissatisfied first one; `follow_up` the outcome a later check found.
        """
        rng = self.rng
        w = {k: rng.randint(lo, hi) for k, (lo, hi) in dict(
            accept=(1, 3), opinion=(6, 14), progress=(8, 16), contact=(15, 20), reply=(24, 52), late=(3, 7),
            feedback=(5, 15), follow=(50, 100), order=(2, 5), reply2=(10, 18)).items()}
        noted = rng.random() < 0.4 or outcome != Outcome.SOLVED

        def script(st):
            st.assign(assigned_on)
            st.accept(shift(assigned_on, w["accept"]))
            st.opinions(shift(assigned_on, w["opinion"]))
            if noted:
                st.progress(shift(assigned_on, w["progress"]))
            st.contact(shift(assigned_on, w["contact"]))
            if st.stopped:
                return
            reply_on = shift(st.due(), w["late"]) if late else shift(assigned_on, w["reply"])
            outcomes = outcome if isinstance(outcome, tuple) else (outcome,) * len(st.lead)
            for department, each in zip(st.lead, outcomes, strict=True):
                st.reply(reply_on, each, department.name)
                reply_on = shift(reply_on, 2)
            if rating:
                feedback_on = shift(reply_on, w["feedback"])
                st.feedback(feedback_on, rating)
                if rehandle:
                    ordered_on = shift(feedback_on, w["order"])
                    st.rehandle(ordered_on)
                    again = shift(ordered_on, w["reply2"])
                    st.progress(shift(ordered_on, 3))
                    st.reply(again, rehandle[0])
                    st.feedback(shift(again, w["feedback"]), rehandle[1])
            if follow_up:
                st.change_outcome(min(shift(reply_on, w["follow"]), self.today), follow_up)

        return script

    def outcomes(self, solved, in_progress, planned, for_reference):
        seq = ([Outcome.SOLVED] * solved + [Outcome.IN_PROGRESS] * in_progress + [Outcome.PLANNED] * planned
               + [Outcome.FOR_REFERENCE] * for_reference)
        self.rng.shuffle(seq)
        return seq

    def ratings(self, n):
        seq = [SATISFIED] * n
        for i in range(n):
            roll = self.rng.random()
            if roll < 0.18:
                seq[i] = BASIC
            elif roll < 0.22:
                seq[i] = (Rating.SATISFIED, Rating.BASICALLY_SATISFIED, "")
            elif roll < 0.26:
                seq[i] = NO_OPINION
        return seq

    def plan_last_year(self):
        """Last year, fully handled: the session's items, the recess's, and the community drive's 44."""
        y, rng = self.last_year, self.rng
        registered = deadlines.next_workday(dt.date(y, 1, 20))
        assigned = shift(registered, 12)
        # The seed report's four examples come first, with the fates the report tells.
        seeds = [(Outcome.SOLVED, None), (Outcome.SOLVED, None), (Outcome.PLANNED, Outcome.SOLVED),
                 (Outcome.FOR_REFERENCE, Outcome.SOLVED)]
        for (template, street, place), (outcome, later) in zip(demo.SEED_TITLES, seeds, strict=True):
            self.plan(y, registered, self.handled(assigned, outcome, follow_up=later), seed=(template, street, place))
        outcomes = self.outcomes(24, 4, 3, 4)
        ratings = self.ratings(len(outcomes))
        for i, (outcome, rating) in enumerate(zip(outcomes, ratings, strict=True)):
            fields, kwargs, lead = {}, {}, None
            if i < 3:
                fields = {"is_key": True, "supervising_leader": demo.SUPERVISING_LEADERS[i]}
            if i in (5, 11, 17):
                fields = {"is_public": False, "not_public_reason": demo.NOT_PUBLIC_REASONS[(5, 11, 17).index(i)]}
            if i in (4, 9) and outcome != Outcome.SOLVED:
                kwargs["follow_up"] = Outcome.SOLVED
            if i == 6:  # dissatisfied, re-handled, then satisfied
                rating = (Rating.DISSATISFIED, Rating.BASICALLY_SATISFIED, demo.DISSATISFIED_COMMENTS[0])
                kwargs["rehandle"] = (Outcome.SOLVED, BASIC)
            if i == 7:  # dissatisfied with the attitude only; explained, not re-handled
                rating = (Rating.BASICALLY_SATISFIED, Rating.DISSATISFIED, demo.DISSATISFIED_COMMENTS[2])
            if i == 8:
                kwargs["late"] = True
            if i in (12, 13):  # two lead departments (分办), each answering its part
                lead, outcome = [JIANSHE, LVHUA], (Outcome.SOLVED, Outcome.IN_PROGRESS)
            on = shift(assigned, rng.randint(0, 3))
            self.plan(y, shift(registered, rng.randint(0, 3)), self.handled(on, outcome, rating, **kwargs),
                      lead=lead, **fields)
        self.plan(y, shift(registered, 1), self.returned_then_reassigned(assigned, y))
        self.plan(y, registered, lambda st: st.withdraw(shift(registered, 8)))
        for k, outcome in enumerate(self.outcomes(4, 1, 0, 1)):
            on = shift(deadlines.next_workday(dt.date(y, 3, 10)), 25 * k + rng.randint(0, 5))
            self.plan(y, shift(on, -3), self.handled(on, outcome, rng.choice([SATISFIED, BASIC]), late=k == 4),
                      source=Source.RECESS)
        self.community(y, deadlines.next_workday(dt.date(y, 7, 8)), self.outcomes(29, 6, 4, 5))

    def community(self, year, received, outcomes):
        """The deputies' community-contact drive: a block of items from 11 streets, handled together."""
        streets = demo.STREETS[:11]
        ratings = self.ratings(len(outcomes))
        for i, (outcome, rating) in enumerate(zip(outcomes, ratings, strict=True)):
            self.plan(year, received, self.handled(shift(received, 3 + i % 3), outcome, rating),
                      source=Source.COMMUNITY, street=streets[i % len(streets)])

    def returned_then_reassigned(self, assigned, year):
        """Wrongly assigned to the construction committee, returned, and given to the street office."""
        def script(st):
            st.assign(assigned, lead=[self.departments[JIANSHE]], co=[])
            st.request_return(shift(assigned, 3), JIANSHE)
            st.decide_return(shift(assigned, 5), JIANSHE, NANJINGXILU)
            st.accept(shift(assigned, 6))
            st.progress(shift(assigned, 15))
            st.contact(shift(assigned, 20))
            st.reply(shift(assigned, 35), Outcome.SOLVED)
            st.feedback(shift(assigned, 45), SATISFIED)
        return script

    # --- this year -----------------------------------------------------------------------------

    def back(self, n):
        return shift(self.today, -n)

    def ahead(self, n):
        return shift(self.today, n)

    def assigned_for(self, due, months=None):
        """The latest working day on or before today whose deadline (`months` later) is `due`."""
        months = settings.REPLY_MONTHS if months is None else months
        guess = deadlines.add_months(due, -months)
        best = None
        for k in range(-8, 8):
            day = guess + dt.timedelta(days=k)
            if day > self.today:
                break
            got = deadlines.months_after(day, months, "").date
            rank = (got != due, abs((got - due).days), not deadlines.is_workday(day), -k)
            if best is None or rank < best[0]:
                best = (rank, day)
        return best[1]

    def plan_this_year(self):
        y, rng = self.year, self.rng
        registered = min(deadlines.next_workday(dt.date(y, 1, 20)), self.today)
        assigned = shift(registered, 12)
        outcomes = self.outcomes(14, 3, 2, 3)
        ratings = self.ratings(len(outcomes))
        for i, (outcome, rating) in enumerate(zip(outcomes, ratings, strict=True)):
            kwargs, fields = {}, {}
            if i in (0, 1):
                fields = {"is_key": True, "supervising_leader": demo.SUPERVISING_LEADERS[i + 1]}
            if i == 2:
                fields = {"is_public": False, "not_public_reason": demo.NOT_PUBLIC_REASONS[0]}
            if i == 3:
                rating = (Rating.DISSATISFIED, Rating.SATISFIED, demo.DISSATISFIED_COMMENTS[1])
                kwargs["rehandle"] = (Outcome.SOLVED, SATISFIED)
            if i == 4 and outcome in OUTCOMES_NEEDING_DATE:
                kwargs["follow_up"] = Outcome.SOLVED
            if i >= 18:
                rating = None  # the deputy has not answered yet
            lead = [JIANSHE] if i % 4 == 0 else None
            self.plan(y, shift(registered, rng.randint(0, 3)),
                      self.handled(shift(assigned, rng.randint(0, 3)), outcome, rating, **kwargs), lead=lead, **fields)
        for k, outcome in enumerate(self.outcomes(3, 1, 0, 0)):
            on = min(shift(assigned, 25 + 12 * k), self.back(70 - 5 * k))
            self.plan(y, shift(on, -3), self.handled(on, outcome, rng.choice([SATISFIED, BASIC, None])),
                      source=Source.RECESS)
        received = min(deadlines.next_workday(dt.date(y, 7, 8)), self.back(60))
        self.community(y, received, self.outcomes(3, 1, 0, 1))
        self.plan_open_work()

    def plan_open_work(self):
        """This year's items still open today, dated back from today: every state, every deadline."""
        y = self.year
        back, ahead = self.back, self.ahead

        def open_item(lead, due=None, *, assigned_on=None, co=(), opinion=True, contact=True, script=None, **fields):
            """Assigned so that the lead's reply is `due` (or on `assigned_on`), accepted and being handled."""
            assigned_on = assigned_on or self.assigned_for(due)

            def run(st):
                st.assign(assigned_on)
                st.accept(shift(assigned_on, 2))
                if opinion:
                    st.opinions(shift(assigned_on, 8))
                st.progress(min(shift(assigned_on, 10), self.today))
                if contact:
                    st.contact(min(shift(assigned_on, 15), self.today))
                if script:
                    script(st)
            self.plan(y, shift(assigned_on, -3), run, source=Source.RECESS, lead=[lead], co=list(co), **fields)

        # The construction committee (handler, leader): every assignment state, every deadline.
        self.plan(y, back(3), lambda st: st.assign(back(1)), source=Source.RECESS, lead=[JIANSHE], co=[GONGAN])
        self.plan(y, back(4), lambda st: st.assign(back(2)), source=Source.RECESS, lead=[JIANSHE], co=[],
                  is_key=True, supervising_leader=demo.SUPERVISING_LEADERS[0])

        def return_requested(st):
            st.assign(back(5))
            st.request_return(back(3), JIANSHE)
        self.plan(y, back(7), return_requested, source=Source.RECESS, lead=[JIANSHE], co=[])

        def returned(st):
            st.assign(back(30))
            st.request_return(back(27), JIANSHE)
            st.decide_return(back(25), JIANSHE, FANGGUAN)
            st.accept(back(23))
            st.progress(back(15))
        self.plan(y, back(33), returned, source=Source.RECESS, lead=[JIANSHE], co=[])

        def refused(st):
            st.request_return(back(36), JIANSHE)
            st.decide_return(back(34), JIANSHE)
        open_item(JIANSHE, assigned_on=back(40), script=refused)

        for n, co, opinion in ((-25, (), False), (-6, (GONGAN,), True), (0, (), False), (2, (GONGAN,), False),
                               (5, (), False), (10, (GONGAN,), True), (18, (), False), (35, (LVHUA,), False)):
            open_item(JIANSHE, shift(self.today, n), co=co, opinion=opinion, contact=n % 2 == 0)
        # Assigned recently: the co-handler's opinion is awaited and not yet due, so no reply yet.
        open_item(JIANSHE, assigned_on=back(12), co=[GONGAN], opinion=False)

        def draft(st):
            st.draft(back(1), Outcome.SOLVED)
        open_item(JIANSHE, ahead(12), co=[GONGAN], script=draft)
        open_item(JIANSHE, ahead(20), script=lambda st: st.draft(self.today, Outcome.IN_PROGRESS))

        def sent_back(st):
            st.draft(back(3), Outcome.PLANNED)
            st.send_back()
        open_item(JIANSHE, ahead(8), script=sent_back)

        def sent_back_and_redrafted(st):
            sent_back(st)
            st.draft(self.today, Outcome.PLANNED)
        open_item(JIANSHE, ahead(15), script=sent_back_and_redrafted)
        open_item(JIANSHE, ahead(4), script=lambda st: st.request_extension(ahead(30)))
        open_item(JIANSHE, ahead(3), script=lambda st: st.request_extension(ahead(25), approve=True))

        def replied(outcome, on, rating=None):
            def script(st):
                st.reply(on, outcome)
                if rating:
                    st.feedback(shift(on, 8), rating)
            return script
        open_item(JIANSHE, assigned_on=back(70), co=[GONGAN], script=replied(Outcome.SOLVED, back(8)))
        open_item(JIANSHE, assigned_on=back(65), script=replied(Outcome.IN_PROGRESS, back(5)))
        open_item(JIANSHE, assigned_on=back(90), script=replied(Outcome.SOLVED, back(40), SATISFIED))

        def rehandling(st):
            st.reply(back(45), Outcome.PLANNED)
            st.feedback(back(38), (Rating.DISSATISFIED, Rating.BASICALLY_SATISFIED, demo.DISSATISFIED_COMMENTS[1]))
            st.rehandle(back(18))
            st.progress(back(10))
        open_item(JIANSHE, assigned_on=back(100), script=rehandling)

        # The committee as co-handler: opinion sent, not yet accepted, and awaited with a deadline.
        open_item(GONGAN, assigned_on=back(25), co=[JIANSHE])
        self.plan(y, back(4), lambda st: st.assign(back(2)), source=Source.RECESS, lead=[LVHUA], co=[JIANSHE])
        on = self.assigned_for(ahead(5), settings.CO_OPINION_MONTHS)

        def awaited(st):
            st.assign(on)
            st.accept(shift(on, 2))
            st.progress(shift(on, 6))
        self.plan(y, shift(on, -3), awaited, source=Source.RECESS, lead=[GONGAN], co=[JIANSHE])

        def split(st):  # two lead departments: the committee has replied, the other not yet
            st.assign(back(60))
            st.accept(back(58))
            st.contact(back(30), JIANSHE)
            st.reply(back(10), Outcome.SOLVED, JIANSHE)
            st.progress(back(5), LVHUA)
        self.plan(y, back(63), split, source=Source.RECESS, lead=[JIANSHE, LVHUA], co=[])

        # The police (handler2, leader2): their own items and their share of the committee's.
        open_item(GONGAN, self.today, co=[JIANSHE])
        open_item(GONGAN, back(4))
        open_item(GONGAN, ahead(5), co=[JIANSHE])
        open_item(GONGAN, assigned_on=back(60), script=replied(Outcome.SOLVED, back(6)))
        open_item(GONGAN, assigned_on=back(40), script=lambda st: st.draft(back(2), Outcome.SOLVED))

        # A few other departments with demo users, and one without.
        open_item(MINZHENG, ahead(2))
        open_item(WEIJIAN, back(10))
        open_item(LVHUA, ahead(10))
        open_item(NANJINGXILU, ahead(5), co=[JIANSHE])
        self.plan(y, back(3), lambda st: st.assign(back(1)), source=Source.RECESS, lead=[FANGGUAN])
        for n in (2, 1, 0):  # registered, not yet assigned
            self.plan(y, back(n), lambda st: None, source=Source.RECESS)

    # --- after the commit ----------------------------------------------------------------------

    def notify_open_work(self):
        """The in-app notes a user would still have unread today: what awaits them."""
        open_items = Assignment.objects.filter(suggestion__year=self.year)
        notifications.enqueue("assigned", assignment_ids=list(
            open_items.filter(state=A.PENDING).values_list("pk", flat=True)))
        notifications.enqueue("return_requested", assignment_ids=list(
            open_items.filter(state=A.RETURN_REQUESTED).values_list("pk", flat=True)))
        notifications.enqueue("rehandling", assignment_ids=list(
            open_items.filter(state=A.REHANDLING).values_list("pk", flat=True)))
        notifications.enqueue("reply_drafted", reply_ids=list(
            Reply.objects.filter(state=ReplyState.PENDING).values_list("pk", flat=True)))
        notifications.enqueue("extension_requested", extension_ids=list(
            ExtensionRequest.objects.filter(state=ExtensionState.PENDING).values_list("pk", flat=True)))

    def summary(self, seconds):
        for year in (self.last_year, self.year):
            states = Counter(Suggestion.objects.filter(year=year).values_list("state", flat=True))
            self.stdout.write(f"{year}: {sum(states.values())} suggestions "
                              + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
        self.stdout.write(f"{len(self.departments)} departments, {len(self.streets)} streets and towns, "
                          f"{len(self.deputies)} deputies, in {seconds:.1f} s.")
        self.stdout.write("Users: " + ", ".join(u[0] for u in USERS) + f" (password {self.password}).")
