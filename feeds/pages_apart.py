"""The story pages of a large build rendered in a second process, beside the feeds.

The feeds and the pages share nothing while they are made (their own files, their own
reads of the views), and each is about half of a full build's work, so on a machine with
two CPUs a build renders its pages in a worker while it renders its feeds: a fresh
interpreter (`python -P -m feeds.pages_apart`, never a fork of this process, which holds
database connections and their threads) that opens the same views at the same position
(`timeline.reading.opened_elsewhere`) and writes the pages into the same folder, each
file whole as `feeds.folder.Directory` writes it. The build waits for it before it writes
the manifest, so the manifest still comes last. It gets its job pickled on stdin and
answers with the pages to remove (the paths it wrote go to a temporary file the build
made and removes however it ends: a million of them), or with the exception it met,
raised again here as if raised here. It exits when this process goes away, however it
goes (its stdin ends).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from feeds.layout import Output
from feeds.manifest import PreviousBuild
from feeds.settings import FeedSettings
from feeds.spool import Paths

APART_VAR = "TIMELINE_FEEDS_PAGES_APART"  # "0": pages in the build's own process; "1": apart at any size
APART_FROM = 5_000  # views' position from which the pages go apart (below, the start costs more)


def wanted(position: int) -> bool:
    """Whether a build at this position renders its pages apart: with two CPUs or more,
    from `APART_FROM` (TIMELINE_FEEDS_PAGES_APART=0 never, =1 always)."""
    text = os.environ.get(APART_VAR, "").strip()
    if text in ("0", "1"):
        return text == "1"
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cpus >= 2 and position >= APART_FROM


@dataclass(frozen=True)
class Job:
    where: tuple[Any, int]  # `Reader.elsewhere()`
    settings: FeedSettings
    root: str  # the folder
    feeds: dict[str, str]  # feed name -> path, as `feeds.page.site_outputs` takes them
    todo: list[str]
    damaged: frozenset[str]
    modified: datetime  # the pages' time (`Output.modified`)
    listing: str = ""  # the file it lists the paths it wrote in (made and removed by `Apart`)


class Apart:
    """The worker of one build, and the file it lists its paths in."""

    def __init__(self, job: Job) -> None:
        fd, self.listing = tempfile.mkstemp(prefix="timeline-pages-", suffix=".txt")
        os.close(fd)
        job = replace(job, listing=self.listing)
        env = {k: v for k, v in os.environ.items() if k != APART_VAR}
        try:
            self._proc = subprocess.Popen(  # this interpreter, this package's module
                [sys.executable, "-P", "-m", "feeds.pages_apart"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=os.getcwd(),
            )  # fmt: skip
        except BaseException:
            os.unlink(self.listing)
            raise
        assert self._proc.stdin is not None
        try:
            pickle.dump(job, self._proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._proc.stdin.flush()
        except OSError:
            pass  # it stopped at its start: `result` says so

    def result(self) -> tuple[Paths, list[str]]:
        """(the paths it wrote, the pages to remove), once it is done; its exception, raised
        here, when it failed."""
        assert self._proc.stdout is not None
        try:
            answer = pickle.load(self._proc.stdout)  # our own worker's answer
        except Exception:  # no answer, or part of one: it stopped
            from timeline.errors import TimelineError

            code = self._proc.wait()
            raise TimelineError(f"the process writing the story pages stopped (exit code {code})") from None
        if answer[0] == "error":
            raise answer[1]
        written = Paths()
        with open(self.listing, encoding="utf-8") as f:
            for line in f:
                written.append(line[:-1])
        return written, answer[1]

    def close(self) -> None:
        """Let it go (its stdin ends, so it exits, done or not: this build failed), and wait."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        Path(self.listing).unlink(missing_ok=True)


def _pages(job: Job) -> list[str]:
    from feeds.folder import Directory
    from feeds.page import site_outputs
    from feeds.signatures import FILE
    from timeline.reading import opened_elsewhere

    directory = Directory(Path(job.root))
    previous = PreviousBuild(
        directory.manifest(), directory.have, directory.read, job.damaged, str(Path(job.root) / FILE),
        directory.temporary,
    )  # fmt: skip
    gone: list[str] = []
    with opened_elsewhere(job.where) as reader, open(job.listing, "w", encoding="utf-8") as paths:
        for path, data in site_outputs(reader, job.settings, job.feeds, job.todo, previous):
            if data is None:
                gone.append(path)
            elif directory.emit(Output(path, data, job.modified)):
                paths.write(path + "\n")
    return gone


def _sendable(e: BaseException) -> BaseException:
    """`e`, or a `TimelineError` with its text where `e` does not come back whole from a
    pickle (an exception whose arguments are not its constructor's)."""
    try:
        back = pickle.loads(pickle.dumps(e))
        if type(back) is type(e) and str(back) == str(e):
            return e
    except Exception:  # not picklable: its text goes instead
        pass
    from timeline.errors import TimelineError

    return TimelineError(str(e) or type(e).__name__)


def _exit_with_parent() -> None:
    while os.read(0, 1 << 16):  # ends when the build's process closes it, or goes away
        pass
    os._exit(1)


def main() -> None:
    job = pickle.load(sys.stdin.buffer)  # from the build that started this process
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    answer: tuple[Any, ...]
    try:
        answer = ("ok", _pages(job))
    except BaseException as e:  # every failure goes back to the build, which raises it
        answer = ("error", _sendable(e))
    out = sys.stdout.buffer
    pickle.dump(answer, out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()
    os._exit(0)  # answered; the thread above still waits on stdin, so no interpreter shutdown


if __name__ == "__main__":
    main()
