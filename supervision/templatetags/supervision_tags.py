"""Template helpers of the supervision snippets shown on other apps' pages."""
from django import template

from .. import similarity
from ..models import SimilarClassMember

register = template.Library()


@register.simple_tag(takes_context=True)
def similar_suggestions(context, suggestion, limit=5):
    """The suggestions most similar to `suggestion` that the page's user may see."""
    return similarity.similar_to(suggestion, context["request"].user, limit=limit)


@register.simple_tag
def suggestion_class(suggestion):
    """The class of similar suggestions `suggestion` is linked in, or None."""
    member = SimilarClassMember.objects.filter(suggestion_id=suggestion.pk).select_related("klass").first()
    return member.klass if member else None
