from django.urls import NoReverseMatch, reverse

from . import context


def _admin_prefix():
    try:
        return reverse("admin:index")
    except NoReverseMatch:
        return None


class AuditMiddleware:
    """Puts the request's user, address and path in the audit context for the receivers.

    It goes after AuthenticationMiddleware; the user is read when a row is written, so a login
    or logout during the request is attributed correctly.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = None

    def __call__(self, request):
        if self.admin_prefix is None:
            self.admin_prefix = _admin_prefix() or "\0"
        channel = context.ADMIN if request.path.startswith(self.admin_prefix) else context.REQUEST
        with context.acting(channel=channel, path=request.path, ip=context.client_ip(request), request=request):
            return self.get_response(request)
