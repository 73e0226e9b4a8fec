#!/usr/bin/env bash
# Refresh the Chinese catalogue: extract every msgid, take translations from the catalogue itself
# and from locale/parts/*.po (where each area keeps its own), compile, and list what is untranslated.
set -euo pipefail
cd "$(dirname "$0")/.."
po=locale/zh_Hans/LC_MESSAGES/django.po
tmp=$(mktemp -d)
.venv/bin/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=build --no-obsolete -v0
msgattrib --translated --no-fuzzy "$po" -o "$tmp/own.po" || true
msgcat --use-first $(ls "$tmp/own.po" 2>/dev/null) locale/parts/*.po -o "$tmp/compendium.po"
printf 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Plural-Forms: nplurals=1; plural=0;\\n"\n"Language: zh_Hans\\n"\n' > "$tmp/empty.po"
msgmerge -q --no-fuzzy-matching --compendium="$tmp/compendium.po" "$tmp/empty.po" "$po" -o "$tmp/merged.po"
msgattrib --no-obsolete "$tmp/merged.po" -o "$po"
.venv/bin/python manage.py compilemessages -l zh_Hans --ignore=.venv -v0
# A fuzzy entry (msgmerge's guess from a similar msgid) is not compiled: the page shows English.
missing=$(msgattrib --untranslated --no-obsolete "$po" | grep -c '^msgid' || true)
fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$po" | grep -c '^msgid' || true)
echo "untranslated: $((missing > 0 ? missing - 1 : 0)), fuzzy: $((fuzzy > 0 ? fuzzy - 1 : 0))"
rm -rf "$tmp"
