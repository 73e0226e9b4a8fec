"""Remove phone numbers from text shown to the public: replies sometimes name a case officer's line.

What counts as a phone number, deliberately broad (a false positive hides a figure; a miss
publishes someone's phone):
- mainland mobiles, 1[3-9] and nine digits, with or without +86 and spaces or dashes (138 0000 0000);
- landlines with an area code: 021-62345678, (021)6234 5678, 0571 8888888, 02162345678, extensions;
- 400/800 service numbers;
- 7–8 digit local numbers right after a word that says they are one (电话、联系、热线、手机、座机…).
The name after 联系人/经办人/承办人 (a reply's "contact person: …" line) goes too.
"""
import re

from django.utils.translation import gettext as _

_PATTERNS = [
    re.compile(r"(?<!\d)(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)"),
    re.compile(r"(?:[(（]0\d{2,3}[)）]|(?<!\d)0\d{2,3}[-－—–\s])\s*\d{3,4}[-\s]?\d{4}(?:\s*(?:[-转]|ext\.?)\s*\d{1,5})?(?!\d)",
               re.IGNORECASE),
    re.compile(r"(?<!\d)0\d{2,3}\d{7,8}(?!\d)"),
    re.compile(r"(?<!\d)[48]00[-\s]?\d{3}[-\s]?\d{4}(?!\d)"),
]
_LOCAL = re.compile(r"((?:电话|联系|热线|手机|座机|号码|致电|拨打|传真|tel|phone|fax)[^0-9\n]{0,8}?)"
                    r"(?<!\d)\d{3,4}[-\s]?\d{4}(?!\d)", re.IGNORECASE)


_CONTACT_PERSON = re.compile(r"((?:联系人|经办人|承办人)(?:\s*[：:]\s*|\s+))[\u4e00-\u9fff·]{2,5}")


def strip_phones(text):
    """`text` with every phone-number-like string, and a named contact person, replaced by a notice."""
    if not text:
        return text
    notice = _("[phone number removed]")
    for pattern in _PATTERNS:
        text = pattern.sub(notice, text)
    text = _LOCAL.sub(lambda m: m.group(1) + notice, text)
    return _CONTACT_PERSON.sub(lambda m: m.group(1) + _("[name removed]"), text)
