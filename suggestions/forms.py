"""Forms of the suggestion pages: one per workflow step, validated before `workflow` is called."""
import re

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from departments.models import Department

from . import uploads
from .choices import OUTCOMES_NEEDING_DATE, ContactMethod, Outcome, Rating, Source
from .models import Deputy, Suggestion

NAME_SEPARATORS = re.compile(r"[、，,；;\s]+")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def date_field(label, required=True, initial_today=True):
    return forms.DateField(label=label, required=required, widget=DateInput(),
                           initial=timezone.localdate if initial_today else None)


def active_departments():
    return Department.objects.filter(is_active=True)


def split_names(value):
    """The names in a field, each once, in their order."""
    return list(dict.fromkeys(n for n in NAME_SEPARATORS.split(value or "") if n))


class NotFutureMixin:
    """Dates of things that happened cannot lie in the future."""

    past_date_fields = ()

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        for name in self.past_date_fields:
            if data.get(name) and data[name] > today:
                self.add_error(name, _("This date cannot be in the future."))
        return data


class SuggestionForm(forms.ModelForm):
    """Register a suggestion (and optionally assign it at once) or edit its details."""

    lead_deputy_name = forms.CharField(label=_("Lead deputy"), max_length=50)
    co_deputy_names = forms.CharField(label=_("Co-signing deputies"), required=False, max_length=500,
                                      help_text=_("Separate names with 、 or commas."))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    field_order = ["year", "number", "title", "content", "source", "lead_deputy_name", "co_deputy_names",
                   "category", "street", "is_key", "supervising_leader", "is_public", "not_public_reason"]

    class Meta:
        model = Suggestion
        fields = ["year", "number", "title", "content", "source", "category", "street", "is_key",
                  "supervising_leader", "is_public", "not_public_reason"]
        widgets = {"content": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["lead_deputy_name"].initial = self.instance.lead_deputy.name
            self.fields["co_deputy_names"].initial = "、".join(d.name for d in self.instance.co_deputies.all())
            self.fields["version"].initial = self.instance.version
            for name in ("year", "number"):
                self.fields[name].disabled = True
        else:
            self.fields["year"].initial = timezone.localdate().year
        self.fields["source"].initial = Source.SESSION

    def clean_year(self):
        year = self.cleaned_data["year"]
        if not 2000 <= year <= timezone.localdate().year + 1:
            raise forms.ValidationError(_("Enter a year between 2000 and next year."))
        return year

    def clean_number(self):
        number = self.cleaned_data["number"].strip()
        if not number:
            raise forms.ValidationError(_("This field is required."))
        return number

    def validate_unique(self):
        """(year, number) is checked in clean(), with a message that names the number."""

    def clean(self):
        data = super().clean()
        if not self.instance.pk and data.get("year") and data.get("number") and Suggestion.objects.filter(
                year=data["year"], number=data["number"]).exists():
            self.add_error("number", _("Number %(number)s already exists in %(year)s.") % {
                "number": data["number"], "year": data["year"]})
        if data.get("is_key") and not data.get("supervising_leader"):
            self.add_error("supervising_leader", _("A key suggestion needs its supervising district leader."))
        if data.get("is_public") is False and not data.get("not_public_reason"):
            self.add_error("not_public_reason", _("Give the reason for not publishing the reply."))
        return data

    def deputies(self):
        """The lead and co-signing deputies, created when the name is new."""
        lead = _deputy(self.cleaned_data["lead_deputy_name"])
        co = [_deputy(n) for n in split_names(self.cleaned_data.get("co_deputy_names")) if n != lead.name]
        return lead, co

    def changes(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name not in ("year", "number")}

    def differences(self, saved):
        """Where the saved suggestion differs from what was submitted: (label, saved, submitted) rows,
        shown when someone else saved first."""
        def shown(name, value):
            field = self.fields[name]
            if value in (None, ""):
                return "—"
            if isinstance(value, bool):
                return gettext("Yes") if value else gettext("No")
            if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
                return str(dict(field.choices).get(value, value))
            return str(value)

        rows = [(self.fields[name].label, shown(name, getattr(saved, name)), shown(name, value))
                for name, value in self.changes().items() if getattr(saved, name) != value]
        lead = self.cleaned_data["lead_deputy_name"].strip()
        names = {"lead_deputy_name": (saved.lead_deputy.name, lead),
                 "co_deputy_names": ("、".join(sorted(d.name for d in saved.co_deputies.all())),
                                     "、".join(sorted(n for n in split_names(self.cleaned_data.get("co_deputy_names"))
                                                     if n != lead)))}
        rows += [(self.fields[name].label, theirs or "—", ours or "—")
                 for name, (theirs, ours) in names.items() if theirs != ours]
        return rows


def _deputy(name):
    name = name.strip()
    deputy = Deputy.objects.filter(name=name).order_by("pk").first()
    return deputy or Deputy.objects.create(name=name)


class AssignForm(forms.Form):
    lead = forms.ModelMultipleChoiceField(
        label=_("Lead departments"), queryset=active_departments(), required=False,
        help_text=_("Several lead departments each answer their own part."))
    co = forms.ModelMultipleChoiceField(label=_("Co-handling departments"), queryset=active_departments(),
                                        required=False)
    assigned_on = date_field(_("Assignment date"))

    def clean(self):
        data = super().clean()
        if data.get("assigned_on") and data["assigned_on"] > timezone.localdate():
            self.add_error("assigned_on", _("This date cannot be in the future."))
        return data


class RegisterForm(SuggestionForm):
    """Registration with the assignment on the same page, as the office works from its list."""

    lead = AssignForm.base_fields["lead"]
    co = AssignForm.base_fields["co"]
    assigned_on = forms.DateField(label=_("Assignment date"), required=False, widget=DateInput(),
                                  help_text=_("Leave empty with no departments to assign later."))

    def clean(self):
        data = super().clean()
        if data.get("lead") and not data.get("assigned_on"):
            data["assigned_on"] = timezone.localdate()
        if data.get("co") and not data.get("lead"):
            self.add_error("lead", _("Choose at least one lead department."))
        if data.get("assigned_on") and data["assigned_on"] > timezone.localdate():
            self.add_error("assigned_on", _("This date cannot be in the future."))
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ApproveReturnForm(forms.Form):
    reassign_to = forms.ModelMultipleChoiceField(
        label=_("Reassign to"), queryset=active_departments(), required=False,
        help_text=_("Leave empty to reassign later."))


class ProgressForm(NotFutureMixin, forms.Form):
    past_date_fields = ("noted_on",)
    noted_on = date_field(_("Date"))
    text = forms.CharField(label=_("Progress"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class ContactForm(NotFutureMixin, forms.Form):
    past_date_fields = ("contacted_on",)
    method = forms.ChoiceField(label=_("Method"), choices=ContactMethod.choices)
    contacted_on = date_field(_("Date"))
    participants = forms.CharField(label=_("Participants"), max_length=200)
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class OpinionForm(forms.Form):
    text = forms.CharField(label=_("Opinion"), widget=forms.Textarea(attrs={"rows": 4}), max_length=10000)


class ReplyForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    document_number = forms.CharField(label=_("Document number"), max_length=60, required=False)
    body = forms.CharField(label=_("Reply text"), widget=forms.Textarea(attrs={"rows": 8}), max_length=50000)
    completion_date = date_field(_("Completion or planned date"), required=False, initial_today=False)
    attachment = forms.FileField(label=_("Attachment (PDF or Word)"), required=False)

    def clean_attachment(self):
        """Checked by content (PDF, .doc, .docx; not any zip) and stored under a generated name."""
        f = self.cleaned_data.get("attachment")
        if f is None:
            return f
        return uploads.checked_attachment(f, settings.UPLOAD_MAX_BYTES)

    def clean(self):
        data = super().clean()
        if data.get("outcome") in OUTCOMES_NEEDING_DATE and not data.get("completion_date"):
            self.add_error("completion_date", _("“Being solved” and “planned” replies must state a completion date."))
        return data


class SignForm(NotFutureMixin, forms.Form):
    past_date_fields = ("reply_date",)
    reply_date = date_field(_("Reply date"))
    document_number = forms.CharField(label=_("Document number"), max_length=60, required=False)


class FeedbackForm(NotFutureMixin, forms.Form):
    past_date_fields = ("recorded_on",)
    result = forms.ChoiceField(label=_("Rating of the result"), choices=Rating.choices)
    attitude = forms.ChoiceField(label=_("Rating of the attitude"), choices=Rating.choices)
    comments = forms.CharField(label=_("Deputy's comments"), widget=forms.Textarea(attrs={"rows": 3}),
                               required=False, max_length=5000)
    recorded_on = date_field(_("Date"))

    def clean(self):
        data = super().clean()
        if Rating.DISSATISFIED in (data.get("result"), data.get("attitude")) and not data.get("comments", "").strip():
            self.add_error("comments", _("A “dissatisfied” rating must come with the deputy's comments."))
        return data


class RehandlingForm(NotFutureMixin, ReasonForm):
    past_date_fields = ("ordered_on",)  # a date in year 9999 would overflow the deadline's computation
    ordered_on = date_field(_("Date"))


class OutcomeChangeForm(NotFutureMixin, forms.Form):
    past_date_fields = ("effective_on",)
    outcome = forms.ChoiceField(label=_("New outcome"), choices=Outcome.choices)
    effective_on = date_field(_("Date of the change"))
    completion_date = date_field(_("Completion or planned date"), required=False, initial_today=False)
    note = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class ExtensionRequestForm(forms.Form):
    requested_due = date_field(_("Requested new deadline"), initial_today=False)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ExtensionDecisionForm(forms.Form):
    approve = forms.TypedChoiceField(label=_("Decision"), coerce=lambda v: v == "1",
                                     choices=[("1", _("Approve")), ("0", _("Refuse"))], widget=forms.RadioSelect)
    deputy_notified_on = date_field(_("Deputy notified on"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)

