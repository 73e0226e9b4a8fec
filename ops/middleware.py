"""Requests and responses as the product's pages need them, before any view runs.

- The Content-Security-Policy header (Django 5.2 has none built in). The policy lives in
  settings.CONTENT_SECURITY_POLICY: everything from this origin only, no inline script or style, no
  framing, forms posting only here. Pages keep scripts and styles in static/.
- Only the methods of HTML pages and forms (GET, HEAD, POST): anything else is 405 everywhere.
- No NUL character in parameters.
"""
from django.conf import settings
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed

HEADER = "Content-Security-Policy"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        # Django's technical error pages (DEBUG only) style themselves inline; leave them readable.
        debug_error_page = settings.DEBUG and response.status_code >= 400
        if policy and HEADER not in response and not debug_error_page:
            response[HEADER] = policy
        return response


class RejectNulMiddleware:
    """Answer 400 to parameters holding a NUL character.

    No text a person types contains one, and PostgreSQL refuses it in any query, so letting it through
    would turn a hostile URL into a server error on whichever page reads the parameter raw.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.META.get("QUERY_STRING", "") or "%00" in request.META.get("QUERY_STRING", ""):
            return HttpResponseBadRequest()
        if request.method == "POST" and request.content_type != "multipart/form-data" and any(
                "\x00" in v for values in request.POST.lists() for v in values[1]):
            return HttpResponseBadRequest()
        return self.get_response(request)


class PageMethodsMiddleware:
    """405 to any method but GET, HEAD and POST, for every URL.

    A browser asks nothing else of these pages, and Django's function views would otherwise answer a
    PUT, DELETE or OPTIONS as if it were a GET: one rule here instead of a decorator on every view.
    """

    ALLOWED = ("GET", "HEAD", "POST")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in self.ALLOWED:
            return HttpResponseNotAllowed(self.ALLOWED)
        return self.get_response(request)
