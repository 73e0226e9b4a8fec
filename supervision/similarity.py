"""Similar suggestions, across deputies and years, by character bigrams (no segmenter, no model).

Chinese has no spaces, but two neighbouring characters carry most of a title's meaning (出租、扬招、
标识), so the cosine of two texts' sets of bigrams ranks near-duplicates first. The title counts
twice (each of its bigrams is in the set a second time, marked: the title names the matter, the
content repeats the deputies' usual phrasing), and the title's frame (关于…的建议) is left out.
Sets rather than counts: the cosine of two sets is |A∩B| / √(|A|·|B|), computed by Python's C set
code, which keeps scoring a hundred candidates to a few milliseconds.

Fast at 100,000 suggestions because nothing reads all of them:
- `TitleGram` is an inverted index of each title's bigrams, written when a suggestion is saved;
  candidates are the hundred suggestions sharing most of this title's telling bigrams (those not
  in thousands of titles), found by two grouped queries on the (gram, suggestion) index;
- only those candidates' texts are read and scored;
- the top `NEIGHBOURS` are stored in `SimilarityEntry`, and this suggestion is put in (or taken
  out of) its neighbours' own lists, so a detail page reads them in one query.
Saving a suggestion only writes its bigrams: the scoring runs in the worker after the commit (an
import of ten thousand rows does not wait for it), and a list not computed yet, or stale, is
computed when it is first read. `manage.py rebuild_similarity` indexes everything at once.
"""
import math
import re
import threading

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from departments import scoping
from suggestions.models import Suggestion

from .models import SimilarityEntry, TitleGram

NEIGHBOURS = 10  # stored per suggestion
CANDIDATES = 100  # scored per suggestion, those sharing most telling title bigrams
COMMON_TITLES = 1000  # a bigram in more titles than this is too common to find candidates by
KEEP_RAREST = 4
MIN_SCORE = 0.2  # below this, two texts share little more than phrasing
CONTENT_CHARS = 1500  # the opening states the matter; the rest would only cost time

_RUN = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_FRAME_START = re.compile(r"^\s*关于")
_FRAME_END = re.compile(r"(的)?(建议|意见|提案|议案)\s*$")


def title_core(title):
    """The title without its frame: 关于{…}的建议 → {…}."""
    return _FRAME_END.sub("", _FRAME_START.sub("", title or ""))


def bigrams(text):
    """The set of character bigrams of `text`; punctuation and spaces separate runs."""
    return {run[i:i + 2] for run in _RUN.findall((text or "").lower()) for i in range(len(run) - 1)}


def title_grams(title):
    return bigrams(title_core(title))


def signature(title, content):
    """The bigrams of the content and of the title, the title's a second time (marked with ^)."""
    grams = title_grams(title)
    return bigrams((content or "")[:CONTENT_CHARS]) | grams | {"^" + g for g in grams}


def cosine(a, b):
    """The cosine of two sets of bigrams: what they share over the geometric mean of their sizes."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


# --- the index --------------------------------------------------------------------------------

def _store_grams(pk, grams, created=False):
    have = set() if created else set(TitleGram.objects.filter(suggestion_id=pk).values_list("gram", flat=True))
    if have - grams:
        TitleGram.objects.filter(suggestion_id=pk, gram__in=have - grams).delete()
    if grams - have:
        TitleGram.objects.bulk_create([TitleGram(suggestion_id=pk, gram=g) for g in sorted(grams - have)],
                                      ignore_conflicts=True)


def _gram_counts(grams=None):
    """{gram: titles holding it}, for the given grams or all of them (a rebuild).

    Counting an indexed column lets the database answer from the (gram, suggestion) index alone.
    """
    qs = TitleGram.objects.all() if grams is None else TitleGram.objects.filter(gram__in=grams)
    return dict(qs.values_list("gram").annotate(n=Count("suggestion_id")).order_by())


def _telling(grams, counts=None):
    """The grams worth looking up: those in at most COMMON_TITLES titles (停车 or 建设 in thousands of
    titles find everything and tell nothing), and at least the KEEP_RAREST rarest."""
    counts = _gram_counts(grams) if counts is None else counts
    telling = {g for g in grams if counts.get(g, 0) <= COMMON_TITLES}
    if len(telling) < KEEP_RAREST:
        telling = set(sorted(grams, key=lambda g: (counts.get(g, 0), g))[:KEEP_RAREST])
    return telling


def _score(pk, title, content, grams, counts=None):
    """The most similar others of one text: [(pk, score)] best first, at most NEIGHBOURS."""
    if not grams:
        return []
    telling = _telling(grams, counts)
    # Short titles share fewer bigrams by nature: ask for two in common when there are enough.
    least = 2 if len(telling) >= 4 else 1
    candidates = list(TitleGram.objects.filter(gram__in=telling).exclude(suggestion_id=pk)
                      .values("suggestion_id").annotate(shared=Count("gram")).filter(shared__gte=least)
                      .order_by("-shared", "-suggestion_id").values_list("suggestion_id", flat=True)[:CANDIDATES])
    if not candidates:
        return []
    mine = signature(title, content)
    scored = []
    for other, other_title, other_content in Suggestion.objects.filter(pk__in=candidates).values_list(
            "pk", "title", "content"):
        score = cosine(mine, signature(other_title, other_content))
        if score >= MIN_SCORE:
            scored.append((other, round(score, 4)))
    scored.sort(key=lambda x: (-x[1], -x[0]))
    return scored[:NEIGHBOURS]


@transaction.atomic
def index(suggestion):
    """(Re)compute one suggestion's bigrams and neighbours, and its neighbours' lists; returns its list.

    Derived rows are written with `bulk_create`/`update`: they are a cache of the suggestions, not a
    record, and stay out of the audit trail.
    """
    pk = suggestion.pk
    grams = title_grams(suggestion.title)
    _store_grams(pk, grams)
    found = _score(pk, suggestion.title, suggestion.content, grams)
    scores = dict(found)
    old = SimilarityEntry.objects.filter(suggestion_id=pk).values_list("neighbours", flat=True).first() or []
    now = timezone.now()
    pairs = [[p, s] for p, s in found]
    if not SimilarityEntry.objects.filter(suggestion_id=pk).update(neighbours=pairs, stale=False, computed_at=now):
        SimilarityEntry.objects.bulk_create([SimilarityEntry(suggestion_id=pk, neighbours=pairs, computed_at=now)],
                                            ignore_conflicts=True)
    # Keep the lists symmetric: this suggestion enters (or leaves) each neighbour's list.
    touched = set(scores) | {p for p, _ in old}
    for other, theirs in SimilarityEntry.objects.filter(suggestion_id__in=touched).values_list(
            "suggestion_id", "neighbours"):
        kept = [[p, s] for p, s in theirs if p != pk]
        if other in scores:
            kept.append([pk, scores[other]])
        kept.sort(key=lambda x: (-x[1], -x[0]))
        kept = kept[:NEIGHBOURS]
        if kept != theirs:
            SimilarityEntry.objects.filter(suggestion_id=other).update(neighbours=kept, computed_at=now)
    return pairs


def index_many(pks):
    """What the worker runs after a commit: index these suggestions (those still there).

    The bigrams of those that have none yet (an imported list's, see `index_new`) are written first,
    all together, so that each of them finds the others among its candidates."""
    suggestions = list(Suggestion.objects.filter(pk__in=pks).only("pk", "title", "content").order_by("pk"))
    have = set(TitleGram.objects.filter(suggestion_id__in=pks).values_list("suggestion_id", flat=True).distinct())
    _store_titles([(s.pk, s.title) for s in suggestions if s.pk not in have])
    for s in suggestions:
        index(s)


def index_missing():
    """What no worker indexed (a broker unreachable when the suggestions were saved): the suggestions
    with no list or a stale one, indexed as the worker would have (`index_many`: their bigrams first,
    and each one put into its neighbours' lists, which `rebuild` does not do). One query when there is
    nothing to do."""
    fresh = SimilarityEntry.objects.filter(stale=False).values("suggestion_id")
    pks = list(Suggestion.objects.exclude(pk__in=fresh).values_list("pk", flat=True))
    if pks:
        index_many(pks)


_pending = threading.local()


def _flush():
    """After the commit: one task for every suggestion saved in the transaction."""
    pks = getattr(_pending, "pks", None)
    if not pks:
        return  # an earlier callback of the same transaction sent them
    _pending.pks = set()
    from suggestions.tasks import enqueue

    from .tasks import index_similar

    enqueue(index_similar, sorted(pks))


def index_later(pks):
    """Ask the worker to index `pks` once the transaction commits (nothing is sent if it rolls back;
    a pk left over from a rolled-back transaction goes with the next one and is skipped if gone)."""
    if not hasattr(_pending, "pks"):
        _pending.pks = set()
    _pending.pks.update(pks)
    transaction.on_commit(_flush)


def index_new(suggestions):
    """For suggestions written with bulk_create (an imported list): their title bigrams and their
    neighbours, both in the worker after the commit (`index_many`). Ten thousand titles are 220,000
    bigrams, a fifth of the import's time; the neighbours, which need them, are computed there anyway.
    Until the worker has run, the new items are not yet candidates for the others' lists, as their
    own lists are not computed yet; a list read meanwhile is computed on the spot (`neighbours`), and
    the nightly `index_missing` catches up with what a worker never got."""
    index_later([s.pk for s in suggestions])


def _store_titles(rows):
    """The bigrams of the titles [(pk, title)], in bulk; rows already there are kept."""
    TitleGram.objects.bulk_create([TitleGram(suggestion_id=pk, gram=g) for pk, title in rows
                                   for g in sorted(title_grams(title))], batch_size=5000, ignore_conflicts=True)


def on_suggestion_saved(sender, instance, created, update_fields=None, raw=False, **kwargs):
    """A new title or content: its bigrams now, its neighbours after the commit (not on state changes)."""
    if raw:
        return
    if created or update_fields is None or {"title", "content"} & set(update_fields):
        _store_grams(instance.pk, title_grams(instance.title), created=created)
        if not created:
            SimilarityEntry.objects.filter(suggestion_id=instance.pk).update(stale=True)
        index_later([instance.pk])


# --- reading ----------------------------------------------------------------------------------

def neighbours(suggestion):
    """[(pk, score)] of the stored most similar others; computed now if missing or stale."""
    row = SimilarityEntry.objects.filter(suggestion_id=suggestion.pk).values_list("neighbours", "stale").first()
    if row is None or row[1]:
        # From the database: the caller's object may predate the edit that made the list stale.
        stored = index(Suggestion.objects.only("pk", "title", "content").get(pk=suggestion.pk))
    else:
        stored = row[0]
    return [(p, s) for p, s in stored]


def similar_to(suggestion, user, limit=5):
    """The suggestions most similar to `suggestion` that `user` may see, best first.

    Each has `.similarity` (0–1) and `.similar_class_id` (the class it is linked in, or None).
    Two queries: the stored list, and the visible ones among it.
    """
    pairs = neighbours(suggestion)
    if not pairs:
        return []
    score = dict(pairs)
    rows = scoping.suggestions(user).filter(pk__in=score).select_related("lead_deputy", "similar_class_member")
    found = sorted(rows, key=lambda s: (-score[s.pk], -s.pk))[:limit]
    for s in found:
        s.similarity = score[s.pk]
        member = getattr(s, "similar_class_member", None)
        s.similar_class_id = member.klass_id if member else None
    return found


def _empty(model):
    """Empty a derived table in one statement: a queryset delete would fetch and signal every row."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


def rebuild(batch=1000, missing_only=False, stdout=None):
    """Index every suggestion (or only those without a fresh list): the title grams of all first,
    so that every candidate is known, then each one's neighbours. For data loaded in bulk."""
    todo = Suggestion.objects.order_by("pk")
    if missing_only:
        todo = todo.exclude(pk__in=SimilarityEntry.objects.filter(stale=False).values("suggestion_id"))
        have = TitleGram.objects.values("suggestion_id")
        grams_todo = Suggestion.objects.exclude(pk__in=have).order_by("pk")
    else:
        _empty(SimilarityEntry)
        _empty(TitleGram)
        grams_todo = todo
    pks = list(grams_todo.values_list("pk", flat=True))
    for start in range(0, len(pks), batch):
        _store_titles(Suggestion.objects.filter(pk__in=pks[start:start + batch]).values_list("pk", "title"))
    pks = list(todo.values_list("pk", flat=True))
    counts = _gram_counts()  # once: a rebuild does not change them
    now = timezone.now()
    done = 0
    for start in range(0, len(pks), batch):
        entries = []
        for pk, title, content in Suggestion.objects.filter(pk__in=pks[start:start + batch]).values_list(
                "pk", "title", "content"):
            found = _score(pk, title, content, title_grams(title), counts)
            entries.append(SimilarityEntry(suggestion_id=pk, neighbours=[[p, s] for p, s in found], computed_at=now))
        SimilarityEntry.objects.bulk_create(entries, update_conflicts=True, unique_fields=["suggestion"],
                                            update_fields=["neighbours", "stale", "computed_at"])
        done += len(entries)
        if stdout is not None:
            stdout.write(f"{done}/{len(pks)}")
    return done
