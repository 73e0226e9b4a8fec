from . import scoping


def roles(request):
    """The current user's access and unread notifications, for the header and navigation."""
    user = getattr(request, "user", None)
    a = scoping.access(user)
    unread = 0
    if a.authenticated:
        unread = user.notifications.filter(read_at__isnull=True).count()
    return {"access": a, "unread_count": unread}
