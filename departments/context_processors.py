from . import scoping


def roles(request):
    """The current user's access, for the header and the per-role navigation."""
    return {"access": scoping.access(getattr(request, "user", None))}
