"""The pages' fast path writes what the plain one wrote: each development rendered as one
string (`feeds.page._development`) instead of `{% include "development.html" %}`, and dict
keys looked up before attributes (`feeds.page._Environment`). A generated story's pages,
built both ways, are the same bytes."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
import pytest

import feeds.page
from tests.feeds.conftest import generated_story, snapshot

# Each template that renders a development as one string, and how it included it.
ONE_STRING = {
    "story.html": ("{{ development(it) }}{% endfor %}\n", '{% include "development.html" %}\n{% endfor %}\n'),
    "development_page.html": ("{{ development(it) }}</ol>", '{% include "development.html" %}\n</ol>'),
}


def plain_environment() -> jinja2.Environment:
    """Jinja2's own environment, with the templates including each development as they did."""
    fast = feeds.page._environment()
    included = {}
    for name, (one_string, include) in ONE_STRING.items():
        text = files("feeds").joinpath("templates", name).read_text(encoding="utf-8")
        assert text.count(one_string) == 1
        included[name] = text.replace(one_string, include)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.DictLoader(included), fast.loader]),  # type: ignore[list-item]
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(value=fast.filters["value"], total=fast.filters["total"])
    return env


def test_pages_are_the_bytes_the_plain_templates_write(
    sqlite_run: Any, build: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_run("import", str(generated_story(300, tmp_path / "story.jsonl")))
    fast = snapshot(build(sqlite_run, tmp_path / "fast").out)
    plain_env = plain_environment()
    monkeypatch.setattr(feeds.page, "_environment", lambda: plain_env)
    plain = snapshot(build(sqlite_run, tmp_path / "plain").out)
    assert sum(k.endswith(".html") for k in fast) > 500
    assert fast == plain
