"""(filled by the page's own change)"""

from __future__ import annotations

from aiohttp import web


def add_routes(router: web.UrlDispatcher) -> None:  # noqa: ARG001
    return None
