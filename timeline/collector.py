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

__all__ = ["paused", "resume"]


def resume() -> None:
    """The collector as it was before `timeline.cli` began to load, with what loading made
    frozen (left out of every later collection, as `timeline.cli.main` leaves it): else
    the first young collection would walk all of it, once, for nothing."""
    gc.freeze()
    if _WAS_ENABLED:
        gc.enable()


@contextmanager
def paused() -> Iterator[None]:
    """The collector paused inside the block, then running again as it was with what was
    made meanwhile frozen (see `resume`); also a decorator (`@paused()`) around a call. For
    imports, and for a command that does one small bounded thing, such as recording one
    development: garbage in cycles made there stays until the process ends."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.freeze()
            gc.enable()
