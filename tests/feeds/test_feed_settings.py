"""The feeds' settings without a database or click: checks, precedence, what `config show`
lists, and where `serve` listens."""

from __future__ import annotations

import pytest

from feeds import settings as fs
from timeline.errors import BadValue


def test_the_command_beats_the_database_which_beats_serve_which_beats_the_default() -> None:
    assert fs.resolve({}, {}).base_url == "http://127.0.0.1:8080"
    assert fs.resolve({}, {}, "http://[::1]:9000").base_url == "http://[::1]:9000"
    saved = {"base-url": "https://saved.example/", "title": "Saved"}
    assert fs.resolve(saved, {}, "http://[::1]:9000").base_url == "https://saved.example"
    chosen = fs.resolve(saved, {"base-url": "https://option.example", "title": None})
    assert (chosen.base_url, chosen.title) == ("https://option.example", "Saved")


def test_a_stored_key_this_version_does_not_know_is_ignored() -> None:
    assert fs.resolve({"colour": "blue"}, {}) == fs.resolve({}, {})


def test_config_show_rows_say_where_each_value_comes_from() -> None:
    rows = fs.rows({"title": "Mine"})
    assert list(rows) == list(fs.DEFAULTS)
    assert rows["title"] == {"value": "Mine", "from": "database"}
    assert rows["page-size"] == {"value": "50", "from": "default"}


def test_an_unknown_key_is_refused_with_the_known_ones() -> None:
    with pytest.raises(BadValue) as e:
        fs.check_key("colour")
    assert str(e.value) == "unknown feed setting 'colour'; known: author, authority, base-url, page-size, title"
    assert fs.check_key("title") == "title"
    with pytest.raises(BadValue) as e2:
        fs.check("colour", "blue")
    assert str(e2.value) == str(e.value)


@pytest.mark.parametrize(
    ("host", "url"),
    [("127.0.0.1", "http://127.0.0.1:80"), ("::1", "http://[::1]:80"), ("localhost", "http://localhost:80")],
)
def test_serve_urls_put_an_ipv6_address_in_brackets(host: str, url: str) -> None:
    assert fs.http_url(host, 80) == url
