"""Every URL pattern of the product, read from the URL configuration (included ones too), so the
trust tests cover a page the day it is added, and fail on it until someone classifies it."""
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, reverse


@dataclass(frozen=True)
class Route:
    """One URL pattern: its full name ("ns:name", or the route itself when unnamed) and how to fill it."""

    key: str
    route: str
    name: str | None
    params: tuple  # the names of its arguments
    regex: bool

    def url(self, **kwargs):
        """A concrete path; arguments not given get a harmless sample value."""
        values = {p: kwargs.get(p, _sample(p)) for p in self.params}
        if self.name:
            return reverse(self.name, kwargs=values)
        if self.regex:
            return "/" + self.route.lstrip("^").replace("(?P<url>.*)$", "no-such-page/")
        path = self.route
        for p in self.params:
            start = path.index("<")
            path = path[:start] + str(values[p]) + path[path.index(">", start) + 1:]
        return "/" + path


def _sample(param):
    return {"app_label": "suggestions", "url": "no-such-page/"}.get(param, "1")


def _walk(patterns, prefix="", namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or None
            full = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(p.url_patterns, prefix + str(p.pattern), full)
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            name = f"{namespace}:{p.name}" if namespace and p.name else p.name
            regex = not hasattr(p.pattern, "_route")
            params = tuple(p.pattern.regex.groupindex) if regex else tuple(p.pattern.converters)
            yield Route(key=name or route, route=route, name=name, params=params, regex=regex)


def routes():
    """All the product's routes, in URL configuration order."""
    return list(_walk(get_resolver().url_patterns))
