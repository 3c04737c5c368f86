"""`timeline feeds build` and `timeline serve` (see the feeds issue)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
