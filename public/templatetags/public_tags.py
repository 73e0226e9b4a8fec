from django import template

from ..redact import strip_phones

register = template.Library()


@register.filter
def no_phones(text):
    """Text for the public page: phone numbers removed (escape as usual afterwards)."""
    return strip_phones(str(text)) if text else text
