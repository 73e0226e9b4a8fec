"""The people of the tests, as in the product: an office, two departments and a liaison office.

`Personas.create()` builds them; the `people` fixture of conftest.py hands them to a test.
"""
import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from departments.models import Department, Membership, Street
from departments.scoping import COORDINATOR, LIAISON
from suggestions import workflow
from suggestions.models import Category, Deputy

PASSWORD = "test-pass-2025"


def make_user(username, group=None, department=None, role=Membership.Role.HANDLER):
    user = get_user_model().objects.create_user(username, f"{username}@example.org", PASSWORD)
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    if department:
        Membership.objects.create(user=user, department=department, role=role)
    return user


@dataclass
class Personas:
    office: object
    handler: object
    leader: object
    handler2: object
    leader2: object
    liaison: object
    dept: Department
    dept2: Department
    dept3: Department
    street: Street
    category: Category
    deputy: Deputy

    @classmethod
    def create(cls):
        street = Street.objects.create(name="南京西路街道")
        dept = Department.objects.create(name="区建设管理委")
        dept2 = Department.objects.create(name="区公安分局")
        dept3 = Department.objects.create(name="南京西路街道办事处", kind=Department.Kind.STREET, street=street)
        return cls(
            office=make_user("office", COORDINATOR),
            handler=make_user("handler", department=dept),
            leader=make_user("leader", department=dept, role=Membership.Role.LEADER),
            handler2=make_user("handler2", department=dept2),
            leader2=make_user("leader2", department=dept2, role=Membership.Role.LEADER),
            liaison=make_user("liaison", LIAISON),
            dept=dept,
            dept2=dept2,
            dept3=dept3,
            street=street,
            category=Category.objects.create(name="交通出行"),
            deputy=Deputy.objects.create(name="王代表", phone="13800000000"),
        )

    def suggestion(self, number="2025001", year=2025, title="关于南京西路青海路口出租车扬招点标识更新的建议", **fields):
        fields.setdefault("category", self.category)
        fields.setdefault("street", self.street)
        return workflow.register(actor=self.office, year=year, number=number, title=title,
                                 lead_deputy=self.deputy, content="建议更新标识。", **fields)

    def assigned(self, number="2025001", lead=None, co=(), on=dt.date(2025, 3, 3), **fields):
        """A suggestion assigned to `lead` (default: dept) and `co` departments."""
        s = self.suggestion(number, **fields)
        workflow.assign(s, actor=self.office, lead=[lead or self.dept], co=list(co), assigned_on=on)
        s.refresh_from_db()
        return s

    def replied(self, number="2025001", outcome="solved", on=dt.date(2025, 3, 3), reply_on=dt.date(2025, 4, 1),
                **fields):
        """A suggestion accepted, contacted, replied and signed by dept."""
        s = self.assigned(number, on=on, **fields)
        a = s.assignments.get(department=self.dept)
        workflow.accept(a, actor=self.handler, accepted_on=on)
        workflow.add_contact(a, actor=self.handler, method="phone", contacted_on=on, participants="王代表",
                             summary="电话沟通")
        completion = reply_on + dt.timedelta(days=90) if outcome in ("in_progress", "planned") else None
        r = workflow.draft_reply(a, actor=self.handler, outcome=outcome, body="答复正文", completion_date=completion,
                                 drafted_on=reply_on)
        workflow.sign_reply(r, actor=self.leader, reply_date=reply_on, document_number="静建函〔2025〕1号")
        s.refresh_from_db()
        return s
