"""The cyclic collector, paused while the command line loads and while an `add` runs.

Loading `timeline.cli` (click, the library, the domain) makes some hundred thousand objects
that live as long as the process; with the collector running it walks them again and
again as they are made, about 1.5% of one `timeline add`'s instructions (issue 16). Nothing
made then is garbage in cycles worth collecting. Importing this module pauses the
collector; `timeline.cli` resumes it (`resume`) once it has loaded, with what loading made
frozen. Imported for that effect, first, by `timeline.cli` alone.
"""

from __future__ import annotations

import gc

_WAS_ENABLED = gc.isenabled()
gc.disable()  # before anything else is imported, `typing` included

from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402

__all__ = ["one_command", "paused", "resume"]


def resume() -> None:
    """The collector as it was before `timeline.cli` began to load, with what loading made
    frozen (left out of every later collection, as `timeline.cli.main` leaves it): else
    the first young collection would walk all of it, once, for nothing."""
    gc.freeze()
    if _WAS_ENABLED:
        gc.enable()


_ONE_COMMAND = [False]  # set by `one_command()`: the process runs one command and exits


def one_command() -> None:
    """Said by `timeline.cli.main`: what `paused` blocks make may be frozen, as the process
    ends after its one command. Elsewhere (the CLI invoked in a test's or a benchmark's
    process) nothing is frozen, so nothing a command left is kept for good."""
    _ONE_COMMAND[0] = True


@contextmanager
def paused() -> Iterator[None]:
    """The collector paused inside the block, then running again as it was; also a
    decorator (`@paused()`) around a call. For imports, and for a command that does one
    small bounded thing, such as recording one development. In a one-command process what
    the block made is frozen when it ends well (see `resume`); not when it raised (its
    traceback holds the command's frames), nor in a process that runs other commands."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    except BaseException:
        if collecting:
            gc.enable()
        raise
    if collecting:
        if _ONE_COMMAND[0]:
            gc.freeze()
        gc.enable()
