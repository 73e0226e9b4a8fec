"""The district office's supervision records. None of them is a state of a suggestion: what a step
changes on an item is done by `suggestions.workflow`, and these rows say why and when."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from suggestions.choices import Outcome
from suggestions.models import Assignment, ProgressNote, Suggestion

USER = settings.AUTH_USER_MODEL


# --- key suggestions --------------------------------------------------------------------------

class KeyProgressReport(models.Model):
    """A key suggestion's progress report for one period (weekly by default), by its lead department.

    The text is the `ProgressNote` the report wrote through the workflow, so it is on the timeline too.
    """

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="key_reports")
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="key_reports")
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    note = models.OneToOneField(ProgressNote, on_delete=models.CASCADE, related_name="key_report")
    reported_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "pk"]
        verbose_name = _("key suggestion progress report")
        constraints = [models.UniqueConstraint(fields=["assignment", "period_start"],
                                               name="one_key_report_per_period")]
        indexes = [models.Index(fields=["suggestion", "period_start"])]

    def __str__(self):
        return f"{self.suggestion.number} {self.period_start}–{self.period_end}"


# --- sampled re-checks (抽样复查) -------------------------------------------------------------

class RecheckMethod(models.TextChoices):
    UNANNOUNCED = "unannounced", _("Unannounced visit")
    PHONE = "phone", _("Phone follow-up")
    MEETING = "meeting", _("Meeting")
    SITE = "site", _("Site inspection")


class RecheckResult(models.TextChoices):
    PENDING = "pending", _("Not yet checked")
    DONE = "done", _("Confirmed done")
    NOT_DONE = "not_done", _("Not done")


class RecheckCampaign(models.Model):
    """A sampled re-check: items replied as solved in a period, drawn at random.

    The draw is reproducible: the same seed over the same items gives the same sample.
    """

    title = models.CharField(_("title"), max_length=200)
    replied_from = models.DateField(_("solved from"))
    replied_to = models.DateField(_("solved to"))
    sample_size = models.PositiveIntegerField(_("sample size"), null=True, blank=True)
    sample_percent = models.DecimalField(_("sample percentage"), max_digits=5, decimal_places=2, null=True,
                                         blank=True)
    seed = models.PositiveBigIntegerField(_("random seed"))
    population = models.PositiveIntegerField(_("items to draw from"), default=0)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("re-check")
        verbose_name_plural = _("re-checks")

    def __str__(self):
        return self.title


class RecheckSample(models.Model):
    """One item drawn for a re-check, the people sent to check it, and the latest finding's result."""

    campaign = models.ForeignKey(RecheckCampaign, on_delete=models.CASCADE, related_name="samples")
    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="rechecks")
    checkers = models.ManyToManyField(USER, verbose_name=_("checkers"), blank=True, related_name="rechecks")
    result = models.CharField(_("result"), max_length=10, choices=RecheckResult.choices,
                              default=RecheckResult.PENDING)
    reopened = models.BooleanField(_("reopened"), default=False)

    class Meta:
        ordering = ["campaign", "pk"]
        verbose_name = _("re-checked item")
        constraints = [models.UniqueConstraint(fields=["campaign", "suggestion"], name="drawn_once_per_recheck")]

    def __str__(self):
        return f"{self.campaign} · {self.suggestion.number}"


class RecheckFinding(models.Model):
    """What a check found, how and when: an unannounced visit, a phone call, a meeting, a site visit."""

    sample = models.ForeignKey(RecheckSample, on_delete=models.CASCADE, related_name="findings")
    method = models.CharField(_("method"), max_length=12, choices=RecheckMethod.choices)
    checked_on = models.DateField(_("checked on"))
    result = models.CharField(_("result"), max_length=10,
                              choices=[(RecheckResult.DONE, RecheckResult.DONE.label),
                                       (RecheckResult.NOT_DONE, RecheckResult.NOT_DONE.label)])
    text = models.TextField(_("finding"))
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["checked_on", "pk"]
        verbose_name = _("re-check finding")
        indexes = [models.Index(fields=["method", "checked_on"])]

    def __str__(self):
        return f"{self.checked_on} {self.get_method_display()} {self.get_result_display()}"


# --- follow-up reviews (跟踪复查) and the look-back (回头看) -----------------------------------

class ReviewCampaign(models.Model):
    """A review of promises: this year's `in_progress`/`planned` items (follow-up), or earlier years'
    `planned`/`for_reference` items (look-back). Its candidates are fixed when it is opened."""

    class Kind(models.TextChoices):
        FOLLOWUP = "followup", _("Follow-up review")
        LOOKBACK = "lookback", _("Look-back")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    year = models.PositiveSmallIntegerField(_("year of the review"))
    first_year = models.PositiveSmallIntegerField(_("items from year"))
    last_year = models.PositiveSmallIntegerField(_("items to year"))
    # The day on which the candidates' outcome was read (the look-back: the day before 1 January).
    cutoff = models.DateField(_("outcome as of"))
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")

    def __str__(self):
        return self.title


class ReviewItem(models.Model):
    """A candidate of a review: its outcome then, its re-assignment, and the outcome the review recorded."""

    campaign = models.ForeignKey(ReviewCampaign, on_delete=models.CASCADE, related_name="items")
    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="review_items")
    outcome_before = models.CharField(_("outcome before"), max_length=16, choices=Outcome.choices)
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reassigned_on = models.DateField(_("re-assigned on"), null=True, blank=True)
    new_outcome = models.CharField(_("new outcome"), max_length=16, choices=Outcome.choices, blank=True)
    outcome_on = models.DateField(_("outcome dated"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["campaign", "pk"]
        verbose_name = _("reviewed item")
        constraints = [models.UniqueConstraint(fields=["campaign", "suggestion"], name="reviewed_once_per_review")]

    def __str__(self):
        return f"{self.campaign} · {self.suggestion.number}"


# --- one case, one class (解决一件事 → 解决一类事) --------------------------------------------

class SimilarClass(models.Model):
    """Similar suggestions, across deputies and years, linked to be handled together (并案)."""

    name = models.CharField(_("name"), max_length=200)
    note = models.TextField(_("how they are handled together"), blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("class of similar suggestions")
        verbose_name_plural = _("classes of similar suggestions")

    def __str__(self):
        return self.name


class SimilarClassMember(models.Model):
    """A suggestion's place in a class; a suggestion belongs to one class at most."""

    klass = models.ForeignKey(SimilarClass, on_delete=models.CASCADE, related_name="members")
    suggestion = models.OneToOneField(Suggestion, on_delete=models.CASCADE, related_name="similar_class_member")
    added_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["klass", "pk"]
        verbose_name = _("member of a class")

    def __str__(self):
        return f"{self.klass} · {self.suggestion.number}"


# --- the similarity index: derived data, rebuilt from the suggestions ---------------------------

class TitleGram(models.Model):
    """One character bigram of a suggestion's title: the inverted index that finds candidates
    without reading every suggestion."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="+")
    gram = models.CharField(max_length=2)

    class Meta:
        verbose_name = _("title bigram")
        constraints = [models.UniqueConstraint(fields=["suggestion", "gram"], name="one_row_per_title_gram")]
        indexes = [models.Index(fields=["gram", "suggestion"])]

    def __str__(self):
        return self.gram


class SimilarityEntry(models.Model):
    """A suggestion's most similar others, as `[[pk, score], …]` best first.

    One row per suggestion, updated in place, so that a page reads its neighbours in one query.
    """

    suggestion = models.OneToOneField(Suggestion, primary_key=True, on_delete=models.CASCADE, related_name="+")
    neighbours = models.JSONField(default=list)
    # The title or content changed since: recomputed by the worker, or on the next read.
    stale = models.BooleanField(default=False)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("similar suggestions")

    def __str__(self):
        return f"{self.suggestion_id}: {len(self.neighbours)}"
