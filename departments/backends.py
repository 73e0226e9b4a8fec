"""Login throttling that also lets code outside a web request authenticate."""
from axes.backends import AxesStandaloneBackend


class ThrottlingBackend(AxesStandaloneBackend):
    """django-axes' watcher, for web logins only.

    Axes refuses an `authenticate()` call without a request. Scripts and management commands call it
    without one, and with no address or session there is nothing to throttle, so such calls pass on
    to the ModelBackend that follows.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
