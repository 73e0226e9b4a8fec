"""One case, one class (一类事): linking similar suggestions and counting the classes."""
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from suggestions import workflow
from supervision import actions, queries
from supervision.models import SimilarClass, SimilarityEntry


def test_it_links_joins_and_counts_classes(people):
    a = people.suggestion("2025001")
    b = people.suggestion("2024001", year=2024)
    c = people.suggestion("2025002")
    d = people.suggestion("2025003")
    e = people.suggestion("2023001", year=2023)
    klass = actions.link_class([a, b], actor=people.office)
    assert klass.name == b.title  # named after the earliest item when no name is given
    # Linking a member with a newcomer adds the newcomer to the member's class.
    assert actions.link_class([c, a], actor=people.office) == klass
    assert set(klass.members.values_list("suggestion_id", flat=True)) == {a.pk, b.pk, c.pk}
    other = actions.link_class([d, e], actor=people.office, name="另一类")
    with pytest.raises(workflow.WorkflowError):
        actions.link_class([a, d], actor=people.office)
    with pytest.raises(workflow.WorkflowError):
        actions.link_class([people.suggestion("2025009")], actor=people.office)
    assert queries.class_count(2025) == 2 and queries.class_count(2024) == 1 and queries.class_count(2022) == 0
    assert queries.classed_items(2025) == 3
    # A class shrunk to one item is not a class any more.
    actions.unlink_class(other.members.get(suggestion=e), actor=people.office)
    assert queries.class_count(2025) == 1 and SimilarClass.objects.count() == 2
    assert a.events.filter(data__supervision="class", data__class_id=klass.pk).count() == 1


def test_it_keeps_linking_to_the_office(people):
    a, b = people.suggestion("2025001"), people.suggestion("2025002")
    with pytest.raises(PermissionDenied):
        actions.link_class([a, b], actor=people.leader)
    assert not SimilarClass.objects.exists()


def test_it_indexes_what_bulk_loading_missed(people):
    a = people.suggestion("2025001")
    b = people.suggestion("2024001", year=2024)
    SimilarityEntry.objects.filter(pk=b.pk).delete()
    call_command("rebuild_similarity", "--missing", stdout=open("/dev/null", "w"))
    assert SimilarityEntry.objects.get(pk=b.pk).neighbours[0][0] == a.pk
