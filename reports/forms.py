"""The report page's form: which year, as of which day, which source, which look-back range."""
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from suggestions.choices import Source

from .queries import Params

RANGE = re.compile(r"^\s*(\d{4})\s*[-–—至]\s*(\d{4})\s*$")


def parse_range(value):
    """"2022-2024" → (2022, 2024); ValueError when it is not two years in order."""
    match = RANGE.match(value or "")
    if not match:
        raise ValueError(value)
    first, last = int(match[1]), int(match[2])
    if first > last:
        raise ValueError(value)
    return first, last


class ReportForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    as_of = forms.DateField(label=_("As of"), required=False, widget=forms.DateInput(
        attrs={"type": "date"}, format="%Y-%m-%d"), help_text=_("Empty: today."))
    source = forms.ChoiceField(label=_("Source"), required=False,
                               choices=[("", _("All sources")), *Source.choices])
    lookback = forms.CharField(label=_("Look-back years"), required=False, max_length=20,
                               widget=forms.TextInput(attrs={"placeholder": "2022-2024"}),
                               help_text=_("Earlier years whose planned and for-reference items are reviewed, "
                                           "e.g. 2022-2024."))

    def __init__(self, data=None, **kwargs):
        today = timezone.localdate()
        if data is not None and not any(data.get(name) for name in self.base_fields):
            data = None  # a bare visit: this year, as of today
        elif data is not None:
            data = data.copy()
            # Left empty: this year, as of today; and the page shows the day the figures are for.
            data["year"] = data.get("year") or str(today.year)
            data["as_of"] = data.get("as_of") or today.isoformat()
        super().__init__(data, initial={"year": today.year, "as_of": today}, **kwargs)

    def clean_lookback(self):
        value = self.cleaned_data["lookback"]
        if not value:
            return None
        try:
            return parse_range(value)
        except ValueError:
            raise forms.ValidationError(_("Give two years in order, e.g. 2022-2024.")) from None

    def params(self):
        """The report's parameters: the valid form's, or this year as of today for an unbound one."""
        if not self.is_bound:
            return Params(self.initial["year"], self.initial["as_of"])
        data = self.cleaned_data
        return Params(data["year"], data["as_of"] or timezone.localdate(), data["source"] or None,
                      data["lookback"])
