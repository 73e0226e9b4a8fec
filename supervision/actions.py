"""The district office's supervision steps, one verb each.

Each step checks the actor's rights, writes the supervision record, and makes any change to a
suggestion through `suggestions.workflow`, which puts it on the item's timeline. Drawing a sample
and naming its checkers are not on the timeline on purpose: an unannounced visit (明察暗访) is not
announced to the department; the finding is.
"""
import random
import secrets
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from departments import scoping
from suggestions import workflow
from suggestions.choices import AssignmentRole, SuggestionState
from suggestions.models import Event
from suggestions.workflow import WorkflowError

from . import queries
from .models import (
    KeyProgressReport,
    RecheckCampaign,
    RecheckFinding,
    RecheckMethod,
    RecheckResult,
    RecheckSample,
    ReviewCampaign,
    ReviewItem,
    SimilarClass,
    SimilarClassMember,
)


def _stored(label):
    """A label as the timeline stores it: in the product's language, whoever is looking."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(label)


def _office_only(actor):
    if actor is not None and not scoping.is_coordinator(actor):
        raise PermissionDenied(_("Only the district office supervises."))


# --- key suggestions --------------------------------------------------------------------------

@transaction.atomic
def report_key_progress(assignment, *, actor, text, reported_on=None):
    """The lead department's report on a key suggestion for the current period (one per period).

    The text is a progress note written by `workflow.add_progress` (rights, state and event there).
    """
    on = reported_on or timezone.localdate()
    if not assignment.suggestion.is_key:
        raise WorkflowError(_("Only key suggestions report progress by period."))
    if assignment.role != AssignmentRole.LEAD:
        raise WorkflowError(_("The lead department reports on a key suggestion."))
    start, end = queries.period_of(on)
    if KeyProgressReport.objects.filter(assignment=assignment, period_start=start).exists():
        raise WorkflowError(_("The report for %(start)s–%(end)s is already in; record further progress as a "
                              "progress note.") % {"start": start.isoformat(), "end": end.isoformat()})
    note = workflow.add_progress(assignment, actor=actor, text=text, noted_on=on)
    return KeyProgressReport.objects.create(suggestion_id=assignment.suggestion_id, assignment=assignment,
                                            period_start=start, period_end=end, note=note, reported_by=actor)


# --- sampled re-checks ------------------------------------------------------------------------

def sample_count(population, size=None, percent=None):
    """How many to draw: a size, or a percentage rounded half up (at least one of a non-empty set)."""
    if size is not None:
        return min(size, population)
    if percent is None or not population:
        return 0
    n = int((Decimal(population) * Decimal(percent) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return min(max(n, 1), population)


def draw(replied_from, replied_to, seed, size=None, percent=None):
    """The sample's suggestion ids, in drawing order: the same seed over the same items, the same sample.

    The population is read in primary-key order, so the draw depends on nothing but the data and the seed.
    """
    population = list(queries.recheck_population(replied_from, replied_to).order_by("pk")
                      .values_list("pk", flat=True))
    k = sample_count(len(population), size, percent)
    return population, random.Random(seed).sample(population, k)


@transaction.atomic
def create_recheck(*, actor, title, replied_from, replied_to, size=None, percent=None, seed=None):
    """Draw a re-check sample of the items solved in a period; the seed is stored to redraw it."""
    _office_only(actor)
    if (size is None) == (percent is None):
        raise WorkflowError(_("Give either a sample size or a percentage."))
    if replied_from > replied_to:
        raise WorkflowError(_("The period must run forwards."))
    seed = secrets.randbelow(2 ** 31) if seed is None else seed
    population, chosen = draw(replied_from, replied_to, seed, size, percent)
    if not chosen:
        raise WorkflowError(_("No item was solved in that period: there is nothing to draw."))
    campaign = RecheckCampaign.objects.create(title=title, replied_from=replied_from, replied_to=replied_to,
                                              sample_size=size, sample_percent=percent, seed=seed,
                                              population=len(population), created_by=actor)
    RecheckSample.objects.bulk_create([RecheckSample(campaign=campaign, suggestion_id=pk) for pk in chosen])
    return campaign


@transaction.atomic
def assign_checkers(samples, *, actor, checkers):
    """Send these people to check these items (replacing whom was sent before)."""
    _office_only(actor)
    for sample in samples:
        sample.checkers.set(checkers)


METHOD_LABELS = {
    RecheckMethod.UNANNOUNCED: gettext_lazy("Re-check (unannounced visit)"),
    RecheckMethod.PHONE: gettext_lazy("Re-check (phone follow-up)"),
    RecheckMethod.MEETING: gettext_lazy("Re-check (meeting)"),
    RecheckMethod.SITE: gettext_lazy("Re-check (site inspection)"),
}


@transaction.atomic
def record_finding(sample, *, actor, method, checked_on, result, text):
    """Record what a check found. "Not done" reopens the item for its lead departments (once per sample)."""
    _office_only(actor)
    sample = RecheckSample.objects.select_for_update().select_related("suggestion").get(pk=sample.pk)
    if not text.strip():
        raise WorkflowError(_("Describe what the check found."))
    if checked_on > timezone.localdate():
        raise WorkflowError(_("A check cannot be dated in the future."))
    finding = RecheckFinding.objects.create(sample=sample, method=method, checked_on=checked_on, result=result,
                                            text=text, recorded_by=actor)
    s = sample.suggestion
    # Reopen once, and only an item still standing as replied (one already re-handled is being worked on).
    if result == RecheckResult.NOT_DONE and not sample.reopened and workflow.allowed(actor, "reopen_after_recheck", s):
        workflow.reopen_after_recheck(s, actor=actor, finding=f"{_stored(METHOD_LABELS[method])} · {text}",
                                      reopened_on=checked_on, recheck_id=sample.campaign_id)
        sample.reopened = True
    else:
        workflow.note_supervision(s, actor=actor, activity="recheck", label=METHOD_LABELS[method],
                                  text=f"{_stored(RecheckResult(result).label)} · {text}", day=checked_on,
                                  recheck_id=sample.campaign_id, check_result=result)
    sample.result = result
    sample.save(update_fields=["result", "reopened"])
    return finding


# --- follow-up reviews and the look-back --------------------------------------------------------

@transaction.atomic
def create_review(*, actor, kind, year, title, first_year=None, last_year=None):
    """Open a review and fix its candidates: a follow-up review, the year's `in_progress` and
    `planned` items today; a look-back, the years' `planned` and `for_reference` items at the end
    of the year before `year` (the report's definition)."""
    _office_only(actor)
    if kind == ReviewCampaign.Kind.FOLLOWUP:
        first_year = last_year = year
    elif first_year is None or last_year is None or first_year > last_year or last_year >= year:
        raise WorkflowError(_("A look-back covers a range of years before the year of the review."))
    cutoff = queries.review_cutoff(kind, year)
    campaign = ReviewCampaign.objects.create(kind=kind, title=title, year=year, first_year=first_year,
                                             last_year=last_year, cutoff=cutoff, created_by=actor)
    candidates = queries.review_candidates(kind, first_year, last_year, cutoff).order_by("year", "number")
    ReviewItem.objects.bulk_create([ReviewItem(campaign=campaign, suggestion_id=pk, outcome_before=outcome)
                                    for pk, outcome in candidates.values_list("pk", "outcome_before")])
    return campaign


@transaction.atomic
def reassign_review_item(item, *, actor, department, assigned_on=None, note=""):
    """Give a reviewed item to a department again (its own lead, or another one)."""
    _office_only(actor)
    item = ReviewItem.objects.select_for_update().select_related("suggestion", "campaign").get(pk=item.pk)
    on = assigned_on or timezone.localdate()
    a = workflow.reassign_for_lookback(item.suggestion, actor=actor, department=department, assigned_on=on,
                                       note=note, activity=item.campaign.kind)
    item.assignment, item.reassigned_on = a, on
    item.save(update_fields=["assignment", "reassigned_on"])
    return item


@transaction.atomic
def record_review_outcome(item, *, actor, outcome, effective_on, note, completion_date=None):
    """The outcome the review found, dated; it moves the item's outcome history (and the report)."""
    _office_only(actor)
    item = ReviewItem.objects.select_for_update().select_related("suggestion", "campaign").get(pk=item.pk)
    workflow.record_lookback_outcome(item.suggestion, actor=actor, outcome=outcome, effective_on=effective_on,
                                     note=note, completion_date=completion_date, activity=item.campaign.kind)
    item.new_outcome, item.outcome_on, item.note = outcome, effective_on, note
    item.save(update_fields=["new_outcome", "outcome_on", "note"])
    return item


@transaction.atomic
def record_review_note(item, *, actor, text, reviewed_on=None):
    """A review's finding that changes nothing (still on track, reasons for delay…), on the timeline."""
    _office_only(actor)
    item = ReviewItem.objects.select_for_update().select_related("suggestion", "campaign").get(pk=item.pk)
    if not text.strip():
        raise WorkflowError(_("Say what the review found."))
    label = item.campaign.get_kind_display()
    workflow.note_supervision(item.suggestion, actor=actor, activity=item.campaign.kind, label=label, text=text,
                              day=reviewed_on, review_id=item.campaign_id)
    item.note = text
    item.save(update_fields=["note"])
    return item


# --- classes of similar suggestions -------------------------------------------------------------

CLASS_LABEL = gettext_lazy("Linked as one class")


@transaction.atomic
def link_class(suggestions, *, actor, name="", klass=None):
    """Link suggestions as one class (一类事). Items already in one class join it; items of two
    different classes are refused (unlink first). Returns the class."""
    _office_only(actor)
    suggestions = list({s.pk: s for s in suggestions}.values())
    current = {m.suggestion_id: m.klass for m in SimilarClassMember.objects.select_for_update()
               .filter(suggestion__in=suggestions).select_related("klass")}
    classes = {k.pk: k for k in current.values()}
    if klass is not None:
        classes.setdefault(klass.pk, klass)
    if len(classes) > 1:
        raise WorkflowError(_("These suggestions are in different classes: %(names)s. Unlink them first.") % {
            "names": "、".join(k.name for k in classes.values())})
    if klass is None and not classes and len(suggestions) < 2:
        raise WorkflowError(_("Choose at least two suggestions to link."))
    if classes:
        klass = next(iter(classes.values()))
    else:
        first = min(suggestions, key=lambda s: (s.year, s.number))
        klass = SimilarClass.objects.create(name=(name or first.title)[:200], created_by=actor)
    for s in suggestions:
        if s.pk in current:
            continue
        SimilarClassMember.objects.create(klass=klass, suggestion=s, added_by=actor)
        workflow.note_supervision(s, actor=actor, activity="class", label=CLASS_LABEL, text=klass.name,
                                  kind=Event.Kind.UPDATED, class_id=klass.pk)
    return klass


@transaction.atomic
def unlink_class(member, *, actor):
    _office_only(actor)
    klass, s = member.klass, member.suggestion
    member.delete()
    workflow.note_supervision(s, actor=actor, activity="class", label=gettext_lazy("Unlinked from the class"),
                              text=klass.name, kind=Event.Kind.UPDATED, class_id=klass.pk)
    if not klass.members.exists():
        klass.delete()


@transaction.atomic
def handle_together(klass, *, actor, note, lead=(), co=(), assigned_on=None):
    """Handle a class together (并案): the members not yet assigned go to the same departments; every
    member's timeline says how the class is handled. Returns (assigned, noted) suggestions."""
    _office_only(actor)
    if not note.strip():
        raise WorkflowError(_("Say how the class is handled together."))
    klass = SimilarClass.objects.select_for_update().get(pk=klass.pk)
    members = [m.suggestion for m in klass.members.select_related("suggestion").order_by("suggestion__year",
                                                                                        "suggestion__number")]
    assigned, noted = [], []
    for s in members:
        if lead and s.state == SuggestionState.REGISTERED:
            workflow.assign(s, actor=actor, lead=lead, co=co, assigned_on=assigned_on)
            assigned.append(s)
        if s.state != SuggestionState.WITHDRAWN:
            workflow.note_supervision(s, actor=actor, activity="class", label=gettext_lazy("Handled together"),
                                      text=note, day=assigned_on, class_id=klass.pk)
            noted.append(s)
    klass.note = "\n".join(x for x in (klass.note, note) if x)
    klass.save(update_fields=["note"])
    return assigned, noted
