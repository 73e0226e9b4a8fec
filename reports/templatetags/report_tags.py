"""Template filters of the report page."""
from django import template

register = template.Library()


@register.filter
def percent(value):
    """A report percentage: 86.0 → "86.0%"; no rate (nothing to divide by) → "—"."""
    return "—" if value is None or value == "" else f"{value}%"


@register.filter
def get_item(mapping, key):
    """`mapping[key]` in a template (a label by its code)."""
    return mapping.get(key, key)
