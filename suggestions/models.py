"""Deputies' suggestions and everything that happens to them.

State fields (`Suggestion.state`, `Assignment.state`, the current outcome and reply dates) are
written only by `suggestions.workflow`; everything else here is data those functions record.
"""
import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from departments.models import Department, Street

from .choices import (
    AssignmentRole,
    AssignmentState,
    ContactMethod,
    DeputyLevel,
    ExtensionState,
    Outcome,
    Rating,
    ReplyState,
    Source,
    SuggestionState,
)

USER = settings.AUTH_USER_MODEL
SUGGESTION_STATE_LABELS = dict(SuggestionState.choices)
OUTCOME_LABELS = dict(Outcome.choices)


class Category(models.Model):
    """A topic (类别) such as 美丽家园 or 交通出行; reference data edited in the admin."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.name


class Deputy(models.Model):
    """A people's congress deputy. Contact data is internal and never published."""

    name = models.CharField(_("name"), max_length=50)
    level = models.CharField(_("level"), max_length=10, choices=DeputyLevel.choices, default=DeputyLevel.DISTRICT)
    delegation = models.CharField(_("delegation or street"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    user = models.OneToOneField(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="deputy")

    class Meta:
        ordering = ["name"]
        verbose_name = _("deputy")
        verbose_name_plural = _("deputies")
        indexes = [models.Index(fields=["name"])]

    def __str__(self):
        return self.name


class Suggestion(models.Model):
    """One matter raised by a lead deputy, numbered uniquely within its year."""

    year = models.PositiveSmallIntegerField(_("year"))
    number = models.CharField(_("number"), max_length=32)
    title = models.CharField(_("title"), max_length=300)
    content = models.TextField(_("content"), blank=True)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices, default=Source.SESSION)
    lead_deputy = models.ForeignKey(Deputy, verbose_name=_("lead deputy"), on_delete=models.PROTECT,
                                    related_name="led_suggestions")
    co_deputies = models.ManyToManyField(Deputy, verbose_name=_("co-signing deputies"), blank=True,
                                         related_name="co_signed_suggestions")
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.PROTECT)
    street = models.ForeignKey(Street, verbose_name=_("street or town"), null=True, blank=True,
                               on_delete=models.PROTECT)
    is_key = models.BooleanField(_("key suggestion"), default=False)
    supervising_leader = models.CharField(_("supervising district leader"), max_length=50, blank=True)
    is_public = models.BooleanField(_("reply published"), default=True)
    not_public_reason = models.CharField(_("reason for not publishing"), max_length=200, blank=True)

    state = models.CharField(_("state"), max_length=12, choices=SuggestionState.choices,
                             default=SuggestionState.REGISTERED)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    first_replied_on = models.DateField(_("replied on"), null=True, blank=True)
    replied_on_time = models.BooleanField(_("replied on time"), null=True)
    assigned_on = models.DateField(_("assigned on"), null=True, blank=True)
    awaiting_feedback = models.BooleanField(_("awaiting feedback"), default=False)
    # The day of the withdrawal (its event's): a report as of an earlier day still counts the item.
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True, editable=False)

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "number"]
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        constraints = [models.UniqueConstraint(fields=["year", "number"], name="number_unique_within_year")]
        indexes = [
            models.Index(fields=["year", "state"]),
            models.Index(fields=["year", "outcome"]),
            models.Index(fields=["year", "source"]),
            # The list's order, newest year first and then by number (the unique (year, number) cannot
            # give it, as the two go in opposite directions): a page of the whole list reads 25 entries
            # of this index instead of sorting the latest year (14 ms for a year of 10,000 items).
            models.Index(fields=["-year", "number", "id"], name="suggestion_list_order"),
            # The dashboards' "awaiting the deputy's feedback", counted and listed from this index alone.
            models.Index(fields=["-year", "number"], condition=models.Q(awaiting_feedback=True, state="replied"),
                         name="awaiting_feedback"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    # The list pages show these on every row. Django's own get_FOO_display builds the dictionary of
    # every choice, translating each label, on each call: 50 calls were 2 ms of the list page.
    def get_state_display(self):
        return str(SUGGESTION_STATE_LABELS.get(self.state, self.state))

    def get_outcome_display(self):
        return str(OUTCOME_LABELS.get(self.outcome, self.outcome))


class Assignment(models.Model):
    """A suggestion given to one department, as lead (主办) or co-handler (会办)."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="assignments")
    role = models.CharField(_("role"), max_length=4, choices=AssignmentRole.choices)
    state = models.CharField(_("state"), max_length=16, choices=AssignmentState.choices,
                             default=AssignmentState.PENDING)
    assigned_on = models.DateField(_("assigned on"))
    due_date = models.DateField(_("due date"))
    due_basis = models.CharField(_("how the due date was worked out"), max_length=300, blank=True)
    # What the due date is computed from, so that a calendar change can recompute it.
    due_base = models.DateField(null=True, blank=True)
    due_months = models.PositiveSmallIntegerField(default=0)
    return_deadline = models.DateField(_("return allowed until"), null=True, blank=True)
    return_reason = models.TextField(_("reason for return"), blank=True)
    # The day the office took it back: a report as of an earlier day still counts the department.
    returned_on = models.DateField(_("returned on"), null=True, blank=True, editable=False)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    first_replied_on = models.DateField(_("first replied on"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["role", "pk"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.UniqueConstraint(fields=["suggestion", "department"], condition=~models.Q(state="returned"),
                                    name="one_active_assignment_per_department"),
        ]
        indexes = [
            models.Index(fields=["department", "state"]),
            models.Index(fields=["state", "due_date"]),
            # A department's suggestions, from the index alone: the scope of a handler's list.
            models.Index(fields=["department", "suggestion"], name="assignment_department_items"),
            # A suggestion's departments, from the index alone: the report's table by department.
            models.Index(fields=["suggestion"], include=["department", "role", "state", "assigned_on"],
                         name="assignment_departments"),
        ]

    def __str__(self):
        return f"{self.suggestion.number} → {self.department} ({self.get_role_display()})"

    @property
    def is_lead(self):
        return self.role == AssignmentRole.LEAD

    @property
    def is_overdue(self):
        return self.state in (AssignmentState.HANDLING, AssignmentState.PENDING, AssignmentState.REHANDLING) and (
            self.due_date < timezone.localdate())


class ProgressNote(models.Model):
    """A dated step of the handling, recorded by the department."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="progress_notes")
    noted_on = models.DateField(_("date"))
    text = models.TextField(_("progress"))
    author = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["noted_on", "pk"]
        verbose_name = _("progress note")

    def __str__(self):
        return f"{self.noted_on} {self.text[:30]}"


class Contact(models.Model):
    """A contact with the deputy before replying (面商): visit, phone, meeting or site survey."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="contacts")
    method = models.CharField(_("method"), max_length=10, choices=ContactMethod.choices)
    contacted_on = models.DateField(_("date"))
    participants = models.CharField(_("participants"), max_length=200)
    summary = models.TextField(_("summary"))
    author = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contacted_on", "pk"]
        verbose_name = _("contact with the deputy")

    def __str__(self):
        return f"{self.contacted_on} {self.get_method_display()} {self.participants}"


class CoOpinion(models.Model):
    """A co-handling department's written opinion (会办意见) to the lead department."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="opinions")
    text = models.TextField(_("opinion"))
    sent_on = models.DateField(_("sent on"))
    author = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sent_on", "pk"]
        verbose_name = _("co-handling opinion")

    def __str__(self):
        return f"{self.assignment} {self.sent_on}"


class Reply(models.Model):
    """A lead department's reply letter (答复函). Every round is kept; none is overwritten."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="replies")
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    state = models.CharField(_("state"), max_length=10, choices=ReplyState.choices, default=ReplyState.PENDING)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    document_number = models.CharField(_("document number"), max_length=60, blank=True)
    body = models.TextField(_("reply text"), blank=True)
    completion_date = models.DateField(_("completion or planned date"), null=True, blank=True)
    attachment = models.FileField(_("attachment"), upload_to="replies/%Y/", blank=True)
    drafted_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    signed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sent_back_reason = models.TextField(_("reason sent back"), blank=True)
    reply_date = models.DateField(_("reply date"), null=True, blank=True)
    due_date = models.DateField(_("deadline in force"), null=True, blank=True)
    on_time = models.BooleanField(_("on time"), null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["round", "pk"]
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        indexes = [models.Index(fields=["state", "reply_date"])]

    def __str__(self):
        return f"{self.assignment} #{self.round} {self.get_outcome_display()}"


class OutcomeRecord(models.Model):
    """The suggestion's outcome from a date on: the history that as-of reports read."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="outcome_records")
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    effective_on = models.DateField(_("effective on"))
    reply = models.ForeignKey(Reply, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["effective_on", "pk"]
        verbose_name = _("outcome record")
        indexes = [models.Index(fields=["suggestion", "effective_on"]),
                   # The outcome in force on a date, from the index alone (`in_force`).
                   models.Index(fields=["suggestion", "-effective_on", "-id"], include=["outcome"],
                                name="outcome_as_of")]

    def __str__(self):
        return f"{self.effective_on} {self.get_outcome_display()}"

    @classmethod
    def in_force(cls, day=None, value="outcome", suggestion_ref="pk"):
        """A subquery: `value` of the suggestion's outcome record in force on `day`, its latest dated by
        then (no `day`: its latest). The one definition the report, the reviews, the public pages and
        the export read."""
        records = cls.objects.filter(suggestion=OuterRef(suggestion_ref))
        if day is not None:
            records = records.filter(effective_on__lte=day)
        return Subquery(records.order_by("-effective_on", "-pk").values(value)[:1])


class Feedback(models.Model):
    """The deputy's rating of a reply: of the result and of the attitude."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="feedback")
    reply = models.ForeignKey(Reply, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback")
    result = models.CharField(_("rating of the result"), max_length=20, choices=Rating.choices)
    attitude = models.CharField(_("rating of the attitude"), max_length=20, choices=Rating.choices)
    comments = models.TextField(_("comments"), blank=True)
    recorded_on = models.DateField(_("recorded on"))
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_on", "pk"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        indexes = [models.Index(fields=["suggestion", "recorded_on"]),
                   # The ratings in force on a date, from the index alone (reports.queries.ratings_on).
                   models.Index(fields=["suggestion", "-recorded_on", "-id"], include=["result", "attitude"],
                                name="ratings_as_of")]

    def __str__(self):
        return f"{self.recorded_on} {self.get_result_display()}/{self.get_attitude_display()}"


class ExtensionRequest(models.Model):
    """A leader's request to extend the reply deadline, decided by the coordinator."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="extensions")
    requested_due = models.DateField(_("requested new deadline"))
    reason = models.TextField(_("reason"))
    state = models.CharField(_("state"), max_length=10, choices=ExtensionState.choices,
                             default=ExtensionState.PENDING)
    requested_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    granted_due = models.DateField(_("granted deadline"), null=True, blank=True)
    deputy_notified_on = models.DateField(_("deputy notified on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("extension request")

    def __str__(self):
        return f"{self.assignment} → {self.requested_due} ({self.get_state_display()})"


class Event(models.Model):
    """One line of a suggestion's timeline: what happened, who did it, when. Append-only."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        UPDATED = "updated", _("Details changed")
        ASSIGNED = "assigned", _("Assigned")
        ACCEPTED = "accepted", _("Accepted")
        RETURN_REQUESTED = "return_requested", _("Return requested")
        RETURN_APPROVED = "return_approved", _("Return approved")
        RETURN_REFUSED = "return_refused", _("Return refused")
        PROGRESS = "progress", _("Progress recorded")
        CONTACT = "contact", _("Contact with the deputy")
        OPINION = "opinion", _("Co-handling opinion sent")
        REPLY_DRAFTED = "reply_drafted", _("Reply drafted")
        REPLY_SENT_BACK = "reply_sent_back", _("Reply sent back for revision")
        REPLY_SIGNED = "reply_signed", _("Reply signed and sent")
        FEEDBACK = "feedback", _("Feedback recorded")
        REHANDLING = "rehandling", _("Re-handling ordered")
        OUTCOME_CHANGED = "outcome_changed", _("Outcome changed")
        EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
        EXTENSION_APPROVED = "extension_approved", _("Extension approved")
        EXTENSION_REFUSED = "extension_refused", _("Extension refused")
        DEADLINE_CHANGED = "deadline_changed", _("Deadline recomputed")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        IMPORTED = "imported", _("Imported")

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="events")
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    detail = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("event")
        indexes = [models.Index(fields=["suggestion", "at"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("events are append-only")
        super().save(*args, **kwargs)


class WorkCalendarDay(models.Model):
    """One day of China's working calendar: holidays and make-up working days (调休) included.

    Seeded from the `chinese-calendar` package; later years are entered by an administrator when
    the State Council publishes them. A year with no rows falls back to Monday–Friday.
    """

    date = models.DateField(_("date"), primary_key=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("holiday"), max_length=50, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("working-day calendar")

    def __str__(self):
        return f"{self.date} {'班' if self.is_workday else '休'} {self.name}"


class Notification(models.Model):
    """An in-app message to one user, shown with an unread count in the header."""

    recipient = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    suggestion = models.ForeignKey(Suggestion, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=200, blank=True)  # where it leads when not to a suggestion (a path)
    text = models.CharField(_("message"), max_length=500)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return self.text


class ImportJob(models.Model):
    """An uploaded spreadsheet being checked or imported; a reload of the page finds its progress."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked, awaiting confirmation")
        REJECTED = "rejected", _("Rejected")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    STALLED_AFTER = dt.timedelta(minutes=10)  # no progress for this long: the worker was stopped

    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")

    def __str__(self):
        return f"{self.original_name} ({self.get_state_display()})"


class ExportJob(models.Model):
    """A large export of the suggestion list, written by a worker for the person who asked.

    It keeps the list's query string and its owner: the worker applies the owner's scope and the
    list's filters itself, so the file holds what the list shows them. The file is private (served
    only to the owner, through a view) and is deleted with the job after EXPORT_RETENTION_DAYS.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Writing")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    query = models.TextField(blank=True)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    file_name = models.CharField(max_length=100)  # the name the download is offered under
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Moved by every progress step: a job "writing" with no step for STALLED_AFTER lost its worker.
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    STALLED_AFTER = dt.timedelta(minutes=10)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("export")

    def __str__(self):
        return f"{self.file_name} ({self.get_state_display()})"

    @property
    def stalled(self):
        """Writing, but no progress for STALLED_AFTER: its worker was stopped (a restart, a crash)."""
        return self.state == self.State.RUNNING and timezone.now() - self.updated_at > self.STALLED_AFTER


class Reminder(models.Model):
    """One deadline reminder to one person, recorded before it is sent so that it goes out once.

    An item of a handler's or leader's daily digest is keyed (recipient, assignment, threshold,
    scan date); a coordinator's daily overdue summary has no assignment and is keyed (recipient,
    kind, scan date). `suggestions.reminders` explains how the states make sending exactly-once.
    """

    OVERDUE = -1  # the threshold of an item past its deadline

    class Kind(models.TextChoices):
        DIGEST = "digest", _("Deadline digest")
        SUMMARY = "summary", _("Overdue summary")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        DROPPED = "dropped", _("Not sent: no longer open")
        FAILED = "failed", _("E-mail failed")

    # No index of its own: the unique constraint's index starts with the recipient.
    recipient = models.ForeignKey(USER, verbose_name=_("recipient"), on_delete=models.CASCADE,
                                  related_name="reminders", db_index=False)
    # No index of its own: nothing looks reminders up by assignment, and the product deletes no
    # assignment (one is returned, not deleted; a suggestion cannot be deleted). Each index costs the
    # daily scan a write per row in each of its three passes (reserve, claim, record).
    assignment = models.ForeignKey(Assignment, verbose_name=_("assignment"), null=True, blank=True,
                                   on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.DIGEST)
    threshold = models.SmallIntegerField(_("working days before the deadline"))
    scan_date = models.DateField(_("date"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    # Which delivery attempt holds the row, and since when: a claim older than the lease is retried.
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    emailed = models.BooleanField(_("e-mailed"), default=False)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-scan_date", "recipient_id", "pk"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(fields=["recipient", "assignment", "threshold", "scan_date"],
                                    name="one_reminder_per_item_threshold_and_day"),
            models.UniqueConstraint(fields=["recipient", "kind", "scan_date"],
                                    condition=models.Q(assignment__isnull=True), name="one_summary_per_day"),
        ]
        indexes = [
            models.Index(fields=["state", "recipient"]),
            models.Index(fields=["scan_date"]),
        ]

    def __str__(self):
        return f"{self.scan_date} {self.recipient} {self.get_kind_display()} {self.threshold}"
