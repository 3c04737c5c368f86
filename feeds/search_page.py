"""`/search?q=...` for `serve`: a small results page, everything in it escaped.

A `Handler` of `feeds.server`. It asks the views as they are (the serve thread keeps them
caught up; a search never writes), one query at a time on its own connection, for at most
`LIMIT` results, and answers 503 at once when the store cannot be reached or another
search holds the connection for longer than `WAIT_SECONDS`.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from feeds.server import Handler, Response
from timeline.errors import TimelineError

LIMIT = 20
MAX_QUERY = 200
WAIT_SECONDS = 2.0
HTML = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]


def search_handler(open_app: Callable[[], Any], probe: Callable[[], None] | None = None) -> Handler:
    from timeline import reading  # when serve starts, not when this module is imported

    # The store is down, or its answer unusable: say so.
    unavailable: tuple[type[BaseException], ...] = (TimelineError, *reading.STORE_ERRORS)
    lock = threading.Lock()
    state: dict[str, Any] = {}

    def handler(path: str, environ: dict[str, Any]) -> Response | None:
        if path != "search":
            return None
        try:
            params = parse_qs(environ.get("QUERY_STRING", ""), max_num_fields=10, strict_parsing=False)
        except ValueError:
            return Response("400 Bad Request", b"too many parameters\n")
        text = (params.get("q") or [""])[0]
        if len(text) > MAX_QUERY:
            return Response("400 Bad Request", f"the query is longer than {MAX_QUERY} characters\n".encode())
        try:
            query = reading.Query.read(text)
        except reading.BadQuery as e:
            return Response("400 Bad Request", f"{e}\n".encode())
        if not lock.acquire(timeout=WAIT_SECONDS):
            return Response("503 Service Unavailable", b"search is busy; try again shortly\n", [("Retry-After", "2")])
        try:
            if probe is not None:
                probe()
            if "app" not in state:
                state["app"] = open_app()
            found = reading.search(state["app"], query, limit=LIMIT)
        except unavailable as e:  # the store is down: say so
            app = state.pop("app", None)
            if app is not None:
                app.close()
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            return Response(
                "503 Service Unavailable", f"search unavailable: {reason}\n".encode(), [("Retry-After", "5")]
            )
        finally:
            lock.release()
        return Response("200 OK", page(text, query, found).encode(), HTML)

    return handler


def page(text: str, query: Any, found: list[dict[str, Any]]) -> str:
    from timeline.reading import highlight, snippet

    h = html.escape

    def marked(value: str) -> str:
        # Escape each piece, then mark: the marks are the only markup that is not escaped.
        return (
            highlight(value, query, lambda w: "\0" + w + "\1")
            .replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace('"', "&quot;")
            .replace("\0", "<mark>")
            .replace("\1", "</mark>")
        )

    items = []
    for d in found:
        cut = snippet(d, query)
        sources = d["fields"].get("sources", [])
        link = f' <a href="{h(sources[0]["url"])}">source</a>' if sources else ""
        items.append(
            f'<li><p dir="auto"><strong>{marked(d["title"])}</strong> ({h(d["kind"])}, {h(d["occurred"])})'
            + (" [retracted]" if d["retracted"] else "")
            + f"{link}</p>"
            + (f'<p dir="auto">{marked(cut)}</p>' if cut else "")
            + "</li>"
        )
    body = "\n".join(items) if items else "<p>No development matches.</p>"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Search: {h(text)}</title>\n</head>\n<body>\n<h1>Search: {h(text)}</h1>\n"
        f"<ol>\n{body}\n</ol>\n</body>\n</html>\n"
    )
