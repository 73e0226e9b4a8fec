"""Every set of choices of the domain, defined once with its label (DOMAIN.md).

Import aliases (the other labels seen in spreadsheets) live beside the codes they stand for.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    SESSION = "session", _("During the congress session")
    RECESS = "recess", _("Between sessions")
    COMMUNITY = "community", _("Community contact drive")


SOURCE_ALIASES = {"大会期间": Source.SESSION, "闭会期间": Source.RECESS, "集中联系社区": Source.COMMUNITY,
                  "代表集中联系社区意见建议": Source.COMMUNITY}


class Outcome(models.TextChoices):
    SOLVED = "solved", _("Solved")
    IN_PROGRESS = "in_progress", _("Being solved")
    PLANNED = "planned", _("Planned")
    FOR_REFERENCE = "for_reference", _("For reference")


# The seed's wording first: what export writes and import reads back.
OUTCOME_LABELS_ZH = {Outcome.SOLVED: "已经解决", Outcome.IN_PROGRESS: "正在解决", Outcome.PLANNED: "计划解决",
                     Outcome.FOR_REFERENCE: "留作参考"}
OUTCOME_ALIASES = {
    **{label: code for code, label in OUTCOME_LABELS_ZH.items()},
    "解决采纳": Outcome.SOLVED, "已解决": Outcome.SOLVED, "解决或采纳": Outcome.SOLVED, "基本解决": Outcome.SOLVED,
    "A": Outcome.SOLVED, "B": Outcome.IN_PROGRESS, "列入计划拟解决": Outcome.PLANNED, "C": Outcome.PLANNED,
    "D": Outcome.FOR_REFERENCE,
}
# For several lead departments (分办) the item counts with its least advanced part.
OUTCOME_RANK = {Outcome.FOR_REFERENCE: 0, Outcome.PLANNED: 1, Outcome.IN_PROGRESS: 2, Outcome.SOLVED: 3}
OUTCOMES_NEEDING_DATE = {Outcome.IN_PROGRESS, Outcome.PLANNED}


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("Basically satisfied")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")
    NO_OPINION = "no_opinion", _("No opinion")


RATING_LABELS_ZH = {Rating.SATISFIED: "满意", Rating.BASICALLY_SATISFIED: "基本满意",
                    Rating.DISSATISFIED: "不满意", Rating.NO_OPINION: "未表态"}
RATING_ALIASES = {label: code for code, label in RATING_LABELS_ZH.items()}


class SuggestionState(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    ASSIGNED = "assigned", _("Assigned, awaiting acceptance")
    HANDLING = "handling", _("Being handled")
    REPLIED = "replied", _("Replied")
    REHANDLING = "rehandling", _("Re-handling")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead department")
    CO = "co", _("Co-handling department")


class AssignmentState(models.TextChoices):
    PENDING = "pending", _("Awaiting acceptance")
    RETURN_REQUESTED = "return_requested", _("Return requested")
    RETURNED = "returned", _("Returned")
    HANDLING = "handling", _("Being handled")
    OPINION_SENT = "opinion_sent", _("Opinion sent")
    REPLIED = "replied", _("Replied")
    REHANDLING = "rehandling", _("Re-handling")


ACTIVE_ASSIGNMENT_STATES = [s for s in AssignmentState.values if s != AssignmentState.RETURNED]
OPEN_ASSIGNMENT_STATES = [AssignmentState.PENDING, AssignmentState.RETURN_REQUESTED, AssignmentState.HANDLING,
                          AssignmentState.REHANDLING]


class ReplyState(models.TextChoices):
    PENDING = "pending", _("Awaiting the leader's approval")
    SENT = "sent", _("Signed and sent")
    SENT_BACK = "sent_back", _("Sent back for revision")


class ContactMethod(models.TextChoices):
    VISIT = "visit", _("Visit")
    PHONE = "phone", _("Phone")
    MEETING = "meeting", _("Meeting")
    SURVEY = "survey", _("Joint site survey")


class ExtensionState(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class DeputyLevel(models.TextChoices):
    DISTRICT = "district", _("District deputy")
    CITY = "city", _("City deputy")
