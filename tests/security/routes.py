"""Every URL pattern of the portal, read from the URL resolver, so that a suite walking
them cannot forget a route added later."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the pattern when the route has no name
    pattern: str  # the pattern as written, e.g. "crowds/<int:pk>/"
    parts: tuple  # the patterns from the root down to this one
    params: tuple[str, ...]  # the names of its path parameters

    def path(self, **values) -> str:
        """The URL path with `values` in place of the parameters."""
        out = "/"
        for pattern in self.parts:
            out += _fill(pattern, values)
        return out


def _fill(pattern, values: dict) -> str:
    if isinstance(pattern, RoutePattern):
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m[1]]), str(pattern))
    # Router patterns are regexes: "^crowds/(?P<pk>[^/.]+)/$".
    text = str(pattern).lstrip("^").rstrip("$")
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m[1]]), text)
    return text.replace("\\.", ".")


def _params(pattern) -> list[str]:
    if isinstance(pattern, RoutePattern):
        return list(pattern.converters)
    if isinstance(pattern, RegexPattern):
        return list(pattern.regex.groupindex)
    return []


def all_routes(resolver=None, parts=(), namespace=None) -> list[Route]:
    resolver = resolver or get_resolver()
    routes = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            routes += all_routes(entry, (*parts, entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            chain = (*parts, entry.pattern)
            written = "".join(str(p) for p in chain)
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            params = tuple(p for part in chain for p in _params(part))
            routes.append(Route(name or written, written, chain, params))
    return routes


def portal_routes() -> list[Route]:
    """Every route but Django's admin (staff only, every brand by design: STYLE.md §5)."""
    return [r for r in all_routes() if not r.pattern.startswith("admin/")]
