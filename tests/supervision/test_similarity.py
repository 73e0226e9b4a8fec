"""Similar suggestions by character bigrams: a near-duplicate ranks first, across deputies and years."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from suggestions import workflow
from suggestions.models import Deputy
from supervision import similarity, tasks
from supervision.models import SimilarityEntry, TitleGram

CORPUS = [
    ("2024001", 2024, "关于南京西路青海路口出租车扬招点标识更新的建议",
     "南京西路青海路口出租车扬招点标识老旧、位置不醒目，乘客和驾驶员难以识别。"),
    ("2024002", 2024, "关于加快东安公寓小区加装电梯的建议", "多层住宅老年居民占比高，上下楼困难，加装意愿强烈。"),
    ("2024003", 2024, "关于宝山路沿线整体绿化改造的建议", "沿线绿化品种单一、部分树木长势较差，景观效果不佳。"),
    ("2025002", 2025, "关于整治上海市中医医院门口交通乱象的建议",
     "早晚高峰车辆违停、接送车辆占道，行人通行安全受到影响。"),
    ("2025003", 2025, "关于优化南京西路公交站点设置的建议", "公交站点间距过大、候车设施简陋，老年乘客出行不便。"),
    ("2025004", 2025, "关于更新南京西路出租车扬招站标识的建议",
     "青海路口的出租车扬招点标识陈旧、不醒目，乘客难以识别，建议更新。"),
]


def corpus(people):
    other = Deputy.objects.create(name="李代表")
    made = {}
    for i, (number, year, title, content) in enumerate(CORPUS):
        made[number] = workflow.register(actor=people.office, year=year, number=number, title=title,
                                         content=content, lead_deputy=other if i % 2 else people.deputy)
    return made


def test_it_ranks_the_near_duplicate_first_across_years_and_deputies(people):
    s = corpus(people)
    found = similarity.similar_to(s["2025004"], people.office)
    assert found[0] == s["2024001"]
    assert found[0].lead_deputy != s["2025004"].lead_deputy and found[0].year != s["2025004"].year
    assert found[0].similarity > 0.5
    # The others are far behind, and unrelated items are not listed at all.
    assert all(f.similarity < found[0].similarity / 2 for f in found[1:])
    assert s["2024002"] not in found and s["2024003"] not in found


@pytest.fixture
def worker(monkeypatch):
    """The Celery worker, inline: records each task sent after a commit and runs it."""
    sent = []
    similarity._pending.pks = set()  # what other tests' never-committed transactions left

    def enqueue(task, *args):
        sent.append((task.name, args))
        task(*args)

    monkeypatch.setattr("suggestions.tasks.enqueue", enqueue)
    return sent


def test_it_scores_after_the_commit_in_one_task_per_transaction(people, worker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        s = corpus(people)  # six registrations, each in its own transaction (nested in this one)
    assert worker == [("supervision.index_similar", (sorted(x.pk for x in s.values()),))]
    # Both lists were stored by the worker: reading needs no scoring.
    assert not SimilarityEntry.objects.filter(stale=True).exists()
    assert similarity.neighbours(s["2024001"])[0][0] == s["2025004"].pk


def test_it_keeps_the_lists_symmetric_when_a_suggestion_is_saved(people, worker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        s = corpus(people)
    assert similarity.neighbours(s["2024001"])[0][0] == s["2025004"].pk
    # 2025004 is edited to be about something else: the worker takes it out of 2024001's list…
    with django_capture_on_commit_callbacks(execute=True):
        workflow.update(s["2025004"], actor=people.office, title="关于加快东安公寓小区加装电梯的建议",
                        content="老年居民上下楼困难，希望加快加装电梯。")
    assert worker[-1] == ("supervision.index_similar", ([s["2025004"].pk],))
    assert s["2025004"].pk not in [x.pk for x in similarity.similar_to(s["2024001"], people.office)]
    assert similarity.similar_to(s["2024002"], people.office)[0] == s["2025004"]
    # …and puts it back when it is about the same matter again.
    with django_capture_on_commit_callbacks(execute=True):
        workflow.update(s["2025004"], actor=people.office, title=CORPUS[-1][2], content=CORPUS[-1][3])
    assert [x.pk for x in similarity.similar_to(s["2024001"], people.office)][:1] == [s["2025004"].pk]
    # A state change does not re-index.
    sent = len(worker)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.assign(s["2025004"], actor=people.office, lead=[people.dept])
    assert len(worker) == sent


def test_it_shows_only_what_the_user_may_see(people):
    s = corpus(people)
    workflow.assign(s["2024001"], actor=people.office, lead=[people.dept2])
    workflow.assign(s["2025004"], actor=people.office, lead=[people.dept])
    assert similarity.similar_to(s["2025004"], people.handler) == []
    assert similarity.similar_to(s["2025004"], people.handler2) == [s["2024001"]]  # its own item only
    assert similarity.similar_to(s["2025004"], people.liaison)[0] == s["2024001"]


def test_it_reads_the_stored_list_in_two_queries_and_indexes_lazily(people):
    s = corpus(people)
    # Nothing scored yet (the worker did not run): the first look computes the list.
    assert not SimilarityEntry.objects.filter(pk=s["2025004"].pk).exists()
    assert similarity.similar_to(s["2025004"], people.office)[0] == s["2024001"]
    assert SimilarityEntry.objects.filter(pk=s["2025004"].pk, stale=False).exists()
    with CaptureQueriesContext(connection) as ctx:
        similarity.similar_to(s["2025004"], people.office, limit=5)
    assert len(ctx.captured_queries) <= 3  # the user's access (once), the stored list, the rows
    # An edit makes it stale; the next look computes it again.
    workflow.update(s["2025004"], actor=people.office, title="关于加快东安公寓小区加装电梯的建议",
                    content="老年居民上下楼困难，希望加快加装电梯。")
    assert SimilarityEntry.objects.get(pk=s["2025004"].pk).stale
    assert similarity.similar_to(s["2025004"], people.office)[0] == s["2024002"]


def test_it_rebuilds_the_whole_index(people):
    s = corpus(people)
    TitleGram.objects.all().delete()
    SimilarityEntry.objects.all().delete()
    assert similarity.rebuild(batch=2) == len(CORPUS)
    assert TitleGram.objects.filter(suggestion=s["2024001"], gram="扬招").exists()
    assert not TitleGram.objects.filter(gram="关于").exists()  # the title's frame is not indexed
    assert similarity.neighbours(s["2025004"])[0][0] == s["2024001"].pk


def test_suggestions_indexed_together_find_each_other(people, monkeypatch):
    """An imported list's suggestions reach the worker with no bigrams (similarity.index_new): the
    worker writes all of theirs before scoring any, so each is scored against all the others."""
    s = corpus(people)
    pair = [s["2024001"].pk, s["2025004"].pk]
    TitleGram.objects.filter(suggestion_id__in=pair).delete()
    SimilarityEntry.objects.all().delete()
    indexed = []
    with monkeypatch.context() as m:
        m.setattr(similarity, "index", lambda suggestion: indexed.append(
            set(TitleGram.objects.filter(suggestion_id__in=pair).values_list("suggestion_id", flat=True))))
        similarity.index_many(pair)
    assert indexed == [set(pair), set(pair)]  # both titles' bigrams were there before the first was scored
    similarity.index_many(pair)
    assert TitleGram.objects.filter(suggestion_id=s["2024001"].pk, gram="扬招").exists()
    assert similarity.neighbours(s["2024001"])[0][0] == s["2025004"].pk
    assert similarity.neighbours(s["2025004"])[0][0] == s["2024001"].pk


def test_the_night_indexes_what_no_worker_did(people, settings):
    s = corpus(people)
    similarity.index_many([x.pk for x in s.values()])
    # 2025004 as an import leaves it when no worker ran: no bigrams, no list, in nobody's list.
    TitleGram.objects.filter(suggestion=s["2025004"]).delete()
    SimilarityEntry.objects.filter(suggestion=s["2025004"]).delete()
    for entry in SimilarityEntry.objects.all():
        entry.neighbours = [[p, score] for p, score in entry.neighbours if p != s["2025004"].pk]
        entry.save()
    tasks.index_missing()
    assert TitleGram.objects.filter(suggestion=s["2025004"], gram="扬招").exists()
    assert SimilarityEntry.objects.filter(stale=False).count() == len(CORPUS)
    # Its near-duplicate's list, fresh all along, now has it first, as the worker would have made it.
    assert SimilarityEntry.objects.get(suggestion=s["2024001"]).neighbours[0][0] == s["2025004"].pk
    assert settings.CELERY_BEAT_SCHEDULE["index-missing-similar"]["task"] == tasks.index_missing.name


def test_it_counts_bigrams_without_a_segmenter():
    assert similarity.title_core("关于宝山路沿线整体绿化改造的建议") == "宝山路沿线整体绿化改造"
    grams = similarity.bigrams("扬招点，标识")
    assert grams == {"扬招", "招点", "标识"}  # punctuation splits runs
    assert similarity.cosine(grams, grams) == 1.0
    assert similarity.cosine(grams, similarity.bigrams("加装电梯")) == 0.0
