"""`timeline replay`, `history`, `diff` and `verify` (see the audit issue)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
