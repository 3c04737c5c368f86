"""A `feeds build` that is refused makes no folder: the views (or the replay for --as-of)
are read before anything is written."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli


def test_a_build_as_of_beyond_the_log_makes_no_folder(run: Cli, tmp_path: Path) -> None:
    run.import_seed()
    site = tmp_path / "site"
    result = run("feeds", "build", "--out", str(site), "--as-of", "#99", ok=False)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "Error: #99 is beyond the log, which ends at #25\n"
    assert not site.exists()
