"""`seed_bench --suggestions N [--seed S]`: volume data for benchmarks, bulk-inserted.

Ten years (today's year and the nine before) of suggestions shaped like the workflow's output:
about 2.5 assignments, 11 events, a reply and a feedback per suggestion, the outcome history that
as-of reports read, 300 departments and a few bench users. Every row is built in memory from dates
drawn per suggestion and written with `bulk_create`, a chunk per transaction: no workflow call and
so no signal, no audit entry, no notification. The derived fields (state, outcome, first reply,
on time, awaiting feedback, due dates) are worked out by the same rules the workflow applies, so
that pages and reports show real figures. Re-running adds more suggestions, numbered after the
existing ones.

The rows are written in bulk, never one by one: with `bulk_create` in batches, except on
PostgreSQL, where Django's per-row cost of building an INSERT (tens of microseconds) would alone
take minutes for the two million rows of 100,000 suggestions, and `COPY` is used instead.
"""
import datetime as dt
import io
import json
import random
import time
import zoneinfo
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Length
from django.utils import timezone

from departments.models import Department, Membership
from departments.scoping import COORDINATOR, LIAISON
from suggestions import deadlines, demo
from suggestions.choices import (
    OUTCOME_RANK,
    OUTCOMES_NEEDING_DATE,
    AssignmentRole,
    AssignmentState,
    ContactMethod,
    DeputyLevel,
    Outcome,
    Rating,
    ReplyState,
    Source,
    SuggestionState,
)
from suggestions.models import (
    Assignment,
    Contact,
    CoOpinion,
    Deputy,
    Event,
    Feedback,
    OutcomeRecord,
    Reply,
    Suggestion,
)

from .seed_demo import DEFAULT_PASSWORD

A, S, K = AssignmentState, SuggestionState, Event.Kind
YEARS = 10
DEPARTMENTS = 300
DEPUTIES = 3000
CHUNK = 5000  # suggestions per transaction
BATCH = 2000  # rows per INSERT, where bulk_create is used
# Units below the district's bodies and street offices, to make up 300 handling departments.
STREET_UNITS = ["社区卫生服务中心", "城运中心", "社区事务受理服务中心", "市容所", "房管办", "平安办", "党群服务中心",
                "文化活动中心"]
BODY_UNITS = ["执法大队", "管理所", "服务中心", "事务中心", "信息中心", "监测站", "综合办公室", "指导中心"]
OUTCOMES = [(Outcome.SOLVED, 0.70), (Outcome.IN_PROGRESS, 0.12), (Outcome.PLANNED, 0.08),
            (Outcome.FOR_REFERENCE, 0.10)]
RATINGS = [(Rating.SATISFIED, 0.75), (Rating.BASICALLY_SATISFIED, 0.16), (Rating.NO_OPINION, 0.06),
           (Rating.DISSATISFIED, 0.03)]
BENCH_USERS = [("bench-office", COORDINATOR, None), ("bench-liaison", LIAISON, None),
               ("bench-handler", None, Membership.Role.HANDLER), ("bench-leader", None, Membership.Role.LEADER)]


class Command(BaseCommand):
    help = "Bulk-insert N suggestions over ten years, with their assignments, replies and timelines."

    def add_arguments(self, parser):
        parser.add_argument("--suggestions", type=int, required=True, help="how many suggestions to add")
        parser.add_argument("--seed", type=int, default=2025, help="random seed (same seed, same data)")
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="password of the bench users")

    def handle(self, *args, suggestions, seed, password, **options):
        if suggestions < 1:
            raise CommandError("--suggestions must be at least 1")
        started = time.monotonic()
        bench = Bench(random.Random(seed), timezone.localdate())
        with transaction.atomic():
            bench.prepare(password)
        today = bench.today
        years = list(range(today.year - YEARS + 1, today.year + 1))
        per_year = [suggestions // YEARS + (1 if i < suggestions % YEARS else 0) for i in range(YEARS)]
        rows = 0
        for year, count in zip(years, per_year, strict=True):
            first = bench.next_number(year)
            for start in range(0, count, CHUNK):
                with transaction.atomic():
                    bench.writer.begin()
                    rows += bench.write(year, range(first + start, first + min(start + CHUNK, count)))
            self.stdout.write(f"{year}: {count} suggestions ({time.monotonic() - started:.0f} s)")
        self.stdout.write(f"Added {suggestions} suggestions ({rows} rows) in {time.monotonic() - started:.1f} s. "
                          f"Users: {', '.join(u[0] for u in BENCH_USERS)} (password {password}).")


class Writer:
    """Writes rows of plain values (by field attname) in bulk.

    PostgreSQL: `COPY`, with the keys of the rows others point to reserved beforehand from the
    table's sequence, so that parents and children go in without a round trip each. Elsewhere
    (SQLite in development and tests): `bulk_create`, the keys counted on from the largest one
    (one writer: the command itself).
    """

    BLOCK = 10000
    ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"
        self.now = timezone.now()
        self.free, self.last, self.converters = {}, {}, {}

    def begin(self):
        """Inside a chunk's transaction: on PostgreSQL, do not wait for each commit to reach the disk.

        Synthetic data reloaded at will: a crash loses at most the last chunks, never consistency.
        """
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")

    def next_id(self, model):
        if not self.postgres:
            if model not in self.last:
                self.last[model] = model.objects.aggregate(m=Max("pk"))["m"] or 0
            self.last[model] += 1
            return self.last[model]
        free = self.free.setdefault(model, [])
        if not free:
            with connection.cursor() as cursor:
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                               [model._meta.db_table, self.BLOCK])
                free.extend(sorted((row[0] for row in cursor.fetchall()), reverse=True))
        return free.pop()

    def write(self, model, rows):
        if not rows:
            return
        if not self.postgres:
            model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH)
            return
        fields = [f for f in model._meta.concrete_fields if not f.primary_key or "id" in rows[0]]
        defaults = {f.attname: self.now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                    else f.get_default() for f in fields}
        buffer, text, items = io.StringIO(), self.text, list(defaults.items())
        for row in rows:
            buffer.write("\t".join([text(row.get(name, default)) for name, default in items]))
            buffer.write("\n")
        buffer.seek(0)
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
                               "FROM STDIN", buffer)

    @classmethod
    def escape(cls, value):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(cls.ESCAPES)
        return value

    def text(self, value):
        """A value in COPY's text format, converted by its type (looked up once per type: it is the hot loop)."""
        convert = self.converters.get(type(value))
        if convert is None:
            convert = next(c for kind, c in self.CONVERTERS if isinstance(value, kind))
            self.converters[type(value)] = convert
        return convert(value)

    CONVERTERS = [
        (type(None), lambda v: "\\N"),
        (bool, lambda v: "t" if v else "f"),
        (int, str),
        (str, lambda v: Writer.escape(v)),  # choices' enums too
        (dict | list, lambda v: Writer.escape(json.dumps(v, ensure_ascii=False))),
        (dt.date, lambda v: v.isoformat()),  # datetimes too: ISO 8601 with the offset
    ]


def pick(rng, weighted):
    roll, total = rng.random(), 0.0
    for value, weight in weighted:
        total += weight
        if roll < total:
            return value
    return weighted[-1][0]


class Bench:
    """Draws suggestions and everything the workflow would have recorded for them."""

    PARENTS = (Suggestion, Assignment, Reply)  # rows that others point to: their keys are reserved

    def __init__(self, rng, today):
        self.rng, self.today = rng, today
        self.writer = Writer()
        self.tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self._deadlines, self._moments = {}, {}
        # Working days from ten years back to two years ahead, and for each day the position of the
        # last working day on or before it: "n working days after" becomes an index lookup.
        day, end = dt.date(today.year - YEARS, 1, 1), dt.date(today.year + 2, 12, 31)
        self.workdays, self.index = [], {}
        while day <= end:
            if deadlines.is_workday(day):
                self.workdays.append(day)
            self.index[day] = len(self.workdays) - 1
            day += dt.timedelta(days=1)

    # --- reference data, people ----------------------------------------------------------------

    def prepare(self, password):
        streets, departments, self.categories = demo.reference_data()
        self.streets, self.main = list(streets.values()), list(departments.values())
        missing = DEPARTMENTS - Department.objects.count()
        names = ([f"{street}{unit}" for street in demo.STREETS for unit in STREET_UNITS]
                 + [f"{body}{unit}" for body in demo.BODIES for unit in BODY_UNITS])
        taken = set(Department.objects.values_list("name", flat=True))
        Department.objects.bulk_create([Department(name=n, order=500 + i) for i, n in
                                        enumerate([n for n in names if n not in taken][:max(missing, 0)])])
        self.units = list(Department.objects.exclude(pk__in=[d.pk for d in self.main]))
        self.names = {d.pk: d.name for d in self.main + self.units}
        self.deputies = list(Deputy.objects.order_by("pk")[:DEPUTIES])
        self.deputies += Deputy.objects.bulk_create([
            Deputy(name=self.rng.choice(demo.SURNAMES) + self.rng.choice(demo.GIVEN),
                   level=DeputyLevel.CITY if i % 9 == 0 else DeputyLevel.DISTRICT,
                   delegation=self.rng.choice(demo.STREETS)) for i in range(DEPUTIES - len(self.deputies))],
            batch_size=BATCH)
        hashed, home = make_password(password), departments["区建设管理委"]
        for username, group, role in BENCH_USERS:
            user, _ = get_user_model().objects.get_or_create(username=username, defaults={
                "email": f"{username}@bench.example", "first_name": username})
            user.password = hashed
            user.save(update_fields=["password"])
            if group:
                user.groups.add(Group.objects.get_or_create(name=group)[0])
            if role:
                Membership.objects.get_or_create(user=user, department=home, defaults={"role": role})

    def next_number(self, year):
        """The next free sequence of the year among bench numbers (nine digits: 202500001)."""
        last = (Suggestion.objects.annotate(n=Length("number")).filter(year=year, n=9, number__startswith=str(year))
                .aggregate(m=Max("number"))["m"])
        return int(last[4:]) + 1 if last else 1

    # --- dates ---------------------------------------------------------------------------------

    def shift(self, day, n):
        """`n` working days after `day`, before it when negative (as `deadlines.add_workdays`)."""
        return self.workdays[self.index[day] + n]

    def deadline(self, kind, day):
        key = (kind, day)
        if key not in self._deadlines:
            self._deadlines[key] = getattr(deadlines, kind)(day)
        return self._deadlines[key]

    def at(self, day, hour=9):
        """The timeline time of a step on `day`; today's steps happened just now, as in the workflow."""
        key = (day, hour)
        if key not in self._moments:
            moment = dt.datetime(day.year, day.month, day.day, hour, tzinfo=self.tz)
            self._moments[key] = min(moment, self.writer.now)
        return self._moments[key]

    def dates(self, year, source):
        """Registered and assigned on, by source: the session's in February, the drive's in July."""
        rng = self.rng
        if source == Source.SESSION:
            registered = self.shift(dt.date(year, 1, 20), rng.randint(0, 4))
            assigned = self.shift(registered, rng.randint(8, 15))
        elif source == Source.COMMUNITY:
            registered = self.shift(dt.date(year, 7, 8), rng.randint(0, 3))
            assigned = self.shift(registered, rng.randint(3, 5))
        else:
            registered = self.shift(dt.date(year, 3, 1), rng.randint(0, 160))
            assigned = self.shift(registered, rng.randint(3, 6))
        if registered > self.today:  # this year, not yet come: registered on a working day so far instead
            first, last = self.index[dt.date(year, 1, 1)] + 1, self.index[self.today]
            registered = self.workdays[rng.randint(first, last)] if first <= last else self.today
            assigned = self.shift(registered, rng.randint(3, 10))
        return registered, assigned

    def departments(self, n):
        chosen = []
        while len(chosen) < n:
            d = self.rng.choice(self.main) if self.rng.random() < 0.65 else self.rng.choice(self.units)
            if d not in chosen:
                chosen.append(d)
        return chosen

    # --- one chunk -----------------------------------------------------------------------------

    def write(self, year, numbers):
        self.rows = {model: [] for model in (Suggestion, Assignment, Reply, Contact, CoOpinion, Feedback,
                                             OutcomeRecord, Event, Suggestion.co_deputies.through)}
        for number in numbers:
            self.suggestion(year, f"{year}{number:05d}")
        for model, rows in self.rows.items():  # parents first
            self.writer.write(model, [vars(row) for row in rows])
        return sum(len(rows) for rows in self.rows.values())

    def add(self, model, suggestion=None, assignment=None, reply=None, **fields):
        """A row to be written; `suggestion`, `assignment` and `reply` are rows added before."""
        for name, related in (("suggestion", suggestion), ("assignment", assignment), ("reply", reply)):
            if related is not None:
                fields[name + "_id"] = related.id
        if model in self.PARENTS:
            fields["id"] = self.writer.next_id(model)
        row = SimpleNamespace(**fields)
        self.rows[model].append(row)
        return row

    def event(self, s, kind, day, assignment=None, hour=9, detail="", **data):
        self.add(Event, suggestion=s, assignment=assignment, kind=kind, at=self.at(day, hour), detail=detail,
                 data=data)

    def suggestion(self, year, number):
        rng, today = self.rng, self.today
        source = pick(rng, [(Source.SESSION, 0.7), (Source.RECESS, 0.2), (Source.COMMUNITY, 0.1)])
        registered, assigned = self.dates(year, source)
        matter = rng.choice(demo.MATTERS)
        street = rng.choice(self.streets)
        place = demo.place_for(rng, matter, street.name)
        is_public = rng.random() > 0.02
        s = self.add(Suggestion, year=year, number=number, title=demo.title_for(matter, place),
                     content=demo.content_for(rng, matter, place), source=source,
                     lead_deputy_id=rng.choice(self.deputies).pk, category_id=self.categories[matter.category].pk,
                     street_id=street.pk, is_key=rng.random() < 0.02, is_public=is_public,
                     not_public_reason="" if is_public else rng.choice(demo.NOT_PUBLIC_REASONS),
                     state=S.REGISTERED, outcome="", assigned_on=None, first_replied_on=None, replied_on_time=None,
                     awaiting_feedback=False)
        s.supervising_leader = rng.choice(demo.SUPERVISING_LEADERS) if s.is_key else ""
        for deputy in rng.sample(self.deputies, rng.choice([0, 0, 1, 1, 2])):
            if deputy.pk != s.lead_deputy_id:
                self.add(Suggestion.co_deputies.through, suggestion=s, deputy_id=deputy.pk)
        self.event(s, K.REGISTERED, registered, number=number, year=year)
        if rng.random() < 0.003:
            s.state, s.withdrawn_on = S.WITHDRAWN, self.shift(registered, 5)
            self.event(s, K.WITHDRAWN, s.withdrawn_on, detail="领衔代表申请撤回")
            return
        if assigned > today:
            return  # registered, not yet assigned
        s.assigned_on = assigned
        chosen = self.departments((2 if rng.random() < 0.08 else 1) + rng.choice([0, 1, 1, 2, 2, 3]))
        n_leads = 2 if len(chosen) > 1 and rng.random() < 0.08 else 1
        leads = [self.assignment(s, d, AssignmentRole.LEAD, assigned) for d in chosen[:n_leads]]
        cos = [self.assignment(s, d, AssignmentRole.CO, assigned) for d in chosen[n_leads:]]
        for a in cos:
            if a.state == A.HANDLING:
                sent = self.shift(assigned, rng.randint(5, 18))
                if sent <= today:
                    a.state = A.OPINION_SENT
                    self.add(CoOpinion, assignment=a, text=rng.choice(demo.OPINION_TEXTS), sent_on=sent)
                    self.event(s, K.OPINION, sent, a, department=self.names[a.department_id])
        replies = [self.reply(s, a, assigned) for a in leads]
        if any(r is None for r in replies):
            s.state = S.HANDLING if any(a.state != A.PENDING for a in leads + cos) else S.ASSIGNED
            return
        self.replied(s, leads, replies)

    def assignment(self, s, department, role, assigned):
        rng, today = self.rng, self.today
        if role == AssignmentRole.LEAD:
            due, months = self.deadline("reply_deadline", assigned), settings.REPLY_MONTHS
        else:
            due, months = self.deadline("co_opinion_deadline", assigned), settings.CO_OPINION_MONTHS
        a = self.add(Assignment, suggestion=s, department_id=department.pk, role=role, state=A.PENDING,
                     assigned_on=assigned, due_date=due.date, due_basis=due.basis, due_base=assigned,
                     due_months=months, return_deadline=self.deadline("return_deadline", assigned).date,
                     accepted_at=None, outcome="", first_replied_on=None)
        self.event(s, K.ASSIGNED, assigned, a, department=department.name, role=role, due_date=due.date.isoformat())
        accepted = self.shift(assigned, rng.randint(1, 3))
        if accepted <= today:
            a.state, a.accepted_at = A.HANDLING, self.at(accepted, 10)
            self.event(s, K.ACCEPTED, accepted, a, hour=10, department=department.name)
        return a

    def reply(self, s, a, assigned, round_=1, after=None, outcome=None):
        """A lead's reply, contact before it; None when it would fall after today."""
        rng = self.rng
        if after is None:
            # After the co-handlers' opinions (sent within 18 working days); a few after the deadline.
            on = (self.shift(a.due_date, rng.randint(1, 15)) if rng.random() < 0.04
                  else self.shift(assigned, rng.randint(20, 58)))
        else:
            on = self.shift(after, rng.randint(5, 18))
        if on > self.today or a.state == A.PENDING:
            return None
        outcome = outcome or pick(rng, OUTCOMES)
        drafted = self.shift(on, -rng.randint(1, 2))
        if round_ == 1:
            met = max(self.shift(assigned, 1), self.shift(on, -rng.randint(3, 10)))
            self.add(Contact, assignment=a, method=rng.choice(ContactMethod.values), contacted_on=min(met, on),
                     participants="代表、承办部门经办人", summary=rng.choice(demo.CONTACT_SUMMARIES))
            self.event(s, K.CONTACT, min(met, on), a, department=self.names[a.department_id])
        r = self.add(Reply, assignment=a, round=round_, state=ReplyState.SENT, outcome=outcome,
                     document_number=f"{demo.letter_prefix(self.names[a.department_id])}〔{on.year}〕"
                                     f"{rng.randint(1, 400)}号",
                     body=demo.REPLY_TEXTS[outcome], reply_date=on, due_date=a.due_date, on_time=on <= a.due_date,
                     completion_date=on + dt.timedelta(days=rng.randint(60, 360))
                     if outcome in OUTCOMES_NEEDING_DATE else None)
        self.event(s, K.REPLY_DRAFTED, drafted, a, hour=11, outcome=outcome, round=round_)
        self.event(s, K.REPLY_SIGNED, on, a, hour=15, outcome=outcome, on_time=r.on_time, round=round_,
                   document_number=r.document_number)
        a.state, a.outcome = A.REPLIED, outcome
        a.first_replied_on = a.first_replied_on or on
        return r

    def replied(self, s, leads, replies):
        """Every lead has replied: the suggestion's figures, its feedback, re-handling and follow-up."""
        rng, today = self.rng, self.today
        last = max(replies, key=lambda r: r.reply_date)
        s.state, s.first_replied_on = S.REPLIED, last.reply_date
        s.outcome = min((a.outcome for a in leads), key=OUTCOME_RANK.__getitem__)
        s.replied_on_time = all(r.on_time for r in replies)
        self.add(OutcomeRecord, suggestion=s, outcome=s.outcome, effective_on=s.first_replied_on, reply=last)
        on = self.shift(last.reply_date, rng.randint(5, 20))
        if on > today or rng.random() > 0.9:
            s.awaiting_feedback = True
            return
        result = pick(rng, RATINGS)
        dissatisfied = result == Rating.DISSATISFIED
        self.add(Feedback, suggestion=s, reply=last, result=result, recorded_on=on,
                 attitude=Rating.SATISFIED if dissatisfied else pick(rng, RATINGS[:2]),
                 comments=rng.choice(demo.DISSATISFIED_COMMENTS) if dissatisfied else "")
        self.event(s, K.FEEDBACK, on, hour=14, result=result)
        if dissatisfied and rng.random() < 0.7:
            self.rehandle(s, leads, self.shift(on, 2))
        elif s.outcome in OUTCOMES_NEEDING_DATE and rng.random() < 0.35:
            changed = self.shift(s.first_replied_on, rng.randint(40, 150))
            if changed <= today:
                for a in leads:
                    if a.outcome != Outcome.SOLVED:
                        self.event(s, K.OUTCOME_CHANGED, changed, a, detail="跟踪督办：问题已经解决",
                                   before=a.outcome, after=Outcome.SOLVED)
                        a.outcome = Outcome.SOLVED
                s.outcome = Outcome.SOLVED
                self.add(OutcomeRecord, suggestion=s, outcome=Outcome.SOLVED, effective_on=changed,
                         note="跟踪督办：问题已经解决")

    def rehandle(self, s, leads, ordered):
        if ordered > self.today:
            return
        due = self.deadline("rehandling_deadline", ordered)
        self.event(s, K.REHANDLING, ordered, detail="代表不满意，重新办理", due_date=due.date.isoformat())
        s.state = S.REHANDLING
        for a in leads:
            a.state, a.due_date, a.due_basis, a.due_base, a.due_months = (
                A.REHANDLING, due.date, due.basis, ordered, settings.REHANDLING_MONTHS)
        again = [self.reply(s, a, a.assigned_on, round_=2, after=ordered, outcome=Outcome.SOLVED) for a in leads]
        if any(r is None for r in again):
            return  # a part is still being re-handled
        last = max(again, key=lambda r: r.reply_date)
        s.state, s.awaiting_feedback = S.REPLIED, True
        if s.outcome != Outcome.SOLVED:
            s.outcome = Outcome.SOLVED
            self.add(OutcomeRecord, suggestion=s, outcome=Outcome.SOLVED, effective_on=last.reply_date, reply=last)
        on = self.shift(last.reply_date, self.rng.randint(5, 15))
        if on <= self.today:
            s.awaiting_feedback = False
            self.add(Feedback, suggestion=s, reply=last, result=Rating.SATISFIED, attitude=Rating.SATISFIED,
                     recorded_on=on)
            self.event(s, K.FEEDBACK, on, hour=14, result=Rating.SATISFIED)
