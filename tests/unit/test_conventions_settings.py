"""The reading conventions' settings without click: precedence, `config show` rows, checks."""

from __future__ import annotations

import pytest

from timeline import settings
from timeline.errors import BadValue


def test_an_option_beats_the_stored_setting_and_the_database_is_opened_only_when_needed() -> None:
    opened: list[bool] = []

    def open_app() -> None:
        opened.append(True)
        # no database yet: no settings

    both = settings.for_command(open_app, "dmy", "comma")
    assert (both.date_order, both.decimal_mark, opened) == ("dmy", "comma", [])
    one = settings.for_command(open_app, "mdy", None)
    assert (one.date_order, one.decimal_mark, opened) == ("mdy", None, [True])


def test_stored_values_fill_what_the_command_leaves_out() -> None:
    c = settings.conventions({"date-order": "dmy", "decimal-mark": "point"}, None, "comma")
    assert (c.date_order, c.decimal_mark) == ("dmy", "comma")


def test_config_show_rows() -> None:
    rows = settings.rows({"date-order": "mdy"})
    assert rows == {
        "date-order": {"value": "mdy", "help": settings.HELP["date-order"]},
        "decimal-mark": {"value": None, "help": settings.HELP["decimal-mark"]},
    }


def test_values_are_checked() -> None:
    assert settings.check("date-order", " DMY ") == "dmy"
    with pytest.raises(BadValue) as e:
        settings.check("date-order", "ymd")
    assert str(e.value) == "date-order must be one of dmy, mdy, not 'ymd'"
