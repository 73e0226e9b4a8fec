"""Forms of the supervision pages, validated before `supervision.actions` is called."""
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from departments.scoping import OFFICE_GROUPS
from suggestions.choices import OUTCOMES_NEEDING_DATE, Outcome
from suggestions.forms import NotFutureMixin, active_departments, date_field

from .models import RecheckFinding, RecheckMethod, ReviewCampaign


def office_people():
    """Who may be sent to check: the district office's and the liaison office's staff."""
    return (get_user_model().objects.filter(is_active=True, groups__name__in=OFFICE_GROUPS).distinct()
            .order_by("username"))


class RecheckForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    replied_from = date_field(_("Solved from"), initial_today=False)
    replied_to = date_field(_("Solved to"), initial_today=False)
    size = forms.IntegerField(label=_("Sample size"), min_value=1, max_value=1_000_000, required=False)
    percent = forms.DecimalField(label=_("or percentage"), min_value=0.01, max_value=100, max_digits=5,
                                 decimal_places=2, required=False)
    seed = forms.IntegerField(label=_("Random seed"), min_value=0, max_value=2 ** 62, required=False,
                              help_text=_("Leave empty for a new random draw; give an earlier seed to redraw it."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        last = timezone.localdate().year - 1
        self.fields["title"].initial = _("Sampled re-check of %(year)s") % {"year": last}
        self.fields["replied_from"].initial = f"{last}-01-01"
        self.fields["replied_to"].initial = f"{last}-12-31"
        self.fields["percent"].initial = 10

    def clean(self):
        data = super().clean()
        if (data.get("size") is None) == (data.get("percent") is None):
            raise forms.ValidationError(_("Give either a sample size or a percentage."))
        if data.get("replied_from") and data.get("replied_to") and data["replied_from"] > data["replied_to"]:
            self.add_error("replied_to", _("The period must run forwards."))
        return data


class PeopleField(forms.ModelMultipleChoiceField):
    """Users by their names (张伟), as the pages show them, not by their login names."""

    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class CheckersForm(forms.Form):
    samples = forms.ModelMultipleChoiceField(label=_("Items"), queryset=None, widget=forms.CheckboxSelectMultiple)
    checkers = PeopleField(label=_("Checkers"), queryset=None)

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["samples"].queryset = campaign.samples.all()
        self.fields["checkers"].queryset = office_people()


class FindingForm(NotFutureMixin, forms.ModelForm):
    past_date_fields = ("checked_on",)
    checked_on = date_field(_("Checked on"))

    class Meta:
        model = RecheckFinding
        fields = ["method", "checked_on", "result", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3}), "result": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].initial = RecheckMethod.UNANNOUNCED
        # Two radio buttons, neither chosen: no "---------" button for a finding that must be one of them.
        self.fields["result"].choices = [c for c in self.fields["result"].choices if c[0]]


class ReviewForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ReviewCampaign.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    year = forms.IntegerField(label=_("Year of the review"), min_value=2000, max_value=2100)
    first_year = forms.IntegerField(label=_("Look back from year"), min_value=2000, max_value=2100, required=False)
    last_year = forms.IntegerField(label=_("to year"), min_value=2000, max_value=2100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        year = timezone.localdate().year
        self.fields["year"].initial = year
        self.fields["first_year"].initial = year - 3
        self.fields["last_year"].initial = year - 1
        self.fields["kind"].initial = ReviewCampaign.Kind.LOOKBACK
        self.fields["title"].initial = _("Look-back")

    def clean(self):
        data = super().clean()
        if data.get("kind") == ReviewCampaign.Kind.LOOKBACK:
            first, last, year = data.get("first_year"), data.get("last_year"), data.get("year")
            if first is None or last is None:
                raise forms.ValidationError(_("A look-back needs its range of years."))
            if year is not None and not first <= last < year:
                raise forms.ValidationError(_("A look-back covers a range of years before the year of the review."))
        return data


class ReassignForm(NotFutureMixin, forms.Form):
    past_date_fields = ("assigned_on",)
    department = forms.ModelChoiceField(label=_("Department"), queryset=None)
    assigned_on = date_field(_("Assigned on"))
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = active_departments()


class ReviewOutcomeForm(NotFutureMixin, forms.Form):
    past_date_fields = ("effective_on",)
    outcome = forms.ChoiceField(label=_("New outcome"), choices=Outcome.choices)
    effective_on = date_field(_("Effective on"))
    completion_date = date_field(_("Completion or planned date"), required=False, initial_today=False)
    note = forms.CharField(label=_("What the review found"), widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        data = super().clean()
        if data.get("outcome") in OUTCOMES_NEEDING_DATE and not data.get("completion_date"):
            self.add_error("completion_date", _("“Being solved” and “planned” outcomes must state a completion date."))
        return data


class ReviewNoteForm(NotFutureMixin, forms.Form):
    past_date_fields = ("reviewed_on",)
    reviewed_on = date_field(_("Reviewed on"))
    text = forms.CharField(label=_("What the review found"), widget=forms.Textarea(attrs={"rows": 3}))


class KeyReportForm(forms.Form):
    text = forms.CharField(label=_("Progress this period"), widget=forms.Textarea(attrs={"rows": 4}))


class HandleTogetherForm(NotFutureMixin, forms.Form):
    past_date_fields = ("assigned_on",)
    note = forms.CharField(label=_("How the class is handled together"), widget=forms.Textarea(attrs={"rows": 3}))
    lead = forms.ModelMultipleChoiceField(label=_("Lead department for the items not yet assigned"),
                                          queryset=None, required=False)
    co = forms.ModelMultipleChoiceField(label=_("Co-handling departments"), queryset=None, required=False)
    assigned_on = date_field(_("Date"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = active_departments()
        self.fields["co"].queryset = active_departments()


class ClassNameForm(forms.Form):
    name = forms.CharField(label=_("Name of the class"), max_length=200, required=False)
