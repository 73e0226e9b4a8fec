"""The committed Chinese catalogue is whole and compiled: every msgid of the .po translated, none fuzzy
(gettext does not compile a fuzzy entry, so its page shows English), and the .mo saying the same."""
import ast
import gettext

from django.conf import settings

LC = settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"


def entries(path):
    """The entries of a .po file as dicts (flags, msgctxt, msgid, msgstr …), header and obsolete ones left out."""
    found = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry, key = {"flags": ""}, None
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                entry["flags"] += line
            elif line.startswith("#"):
                continue  # comments, references, previous msgids; "#~" lines are obsolete entries
            elif line.startswith('"'):
                entry[key] += ast.literal_eval(line)
            else:
                key, _, value = line.partition(" ")
                entry[key] = ast.literal_eval(value)
        if entry.get("msgid"):
            found.append(entry)
    return found


def test_every_message_is_translated_and_none_is_fuzzy():
    found = entries(LC / "django.po")
    assert len(found) > 500
    fuzzy = [e["msgid"] for e in found if "fuzzy" in e.get("flags", "")]
    untranslated = [e["msgid"] for e in found
                    if not any(v for k, v in e.items() if k.startswith("msgstr"))]
    assert fuzzy == [] and untranslated == [], "run locale/update.sh and translate in locale/parts/"


def test_the_compiled_catalogue_says_what_the_po_says():
    with open(LC / "django.mo", "rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = []
    for e in entries(LC / "django.po"):
        if "msgid_plural" in e:
            continue
        msgid = f"{e['msgctxt']}\x04{e['msgid']}" if "msgctxt" in e else e["msgid"]
        if compiled.gettext(msgid) != e["msgstr"]:
            stale.append(e["msgid"])
    assert stale == [], "the .mo is older than the .po: run locale/update.sh (or make messages)"
