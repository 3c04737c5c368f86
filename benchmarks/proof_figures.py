"""Figures for the proofs: their size and time, and a witness run, on a log of N events.

    python benchmarks/proof_figures.py 10000 [--workdir /tmp/proof-bench]

Generates the synthetic story (benchmarks/generate.py), imports it into a fresh SQLite
file, makes a signing key, then measures: the proof sizes (hashes, JSON bytes, with and
without the leaf bytes), the time to make one in-process (median of 50) and through the
installed command (best of 5, start-up included), and `timeline witness` against a real
`serve` after one new event (once) and with nothing new (best of 5). Prints a Markdown table. Not part of the tests.
`--no-witness` skips the last part: `serve`'s first start builds every feed (about 20
minutes at a million events).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.serving import fetch, serve  # noqa: E402
from timeline import config  # noqa: E402
from timeline.app import Timeline  # noqa: E402
from timeline.proof import proofs, publish  # noqa: E402

EXE = shutil.which("timeline", path=str(Path(sys.executable).parent)) or "timeline"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, check=True)


def best(times: int, *args: str) -> tuple[float, str]:
    spent, out = [], ""
    for _ in range(times):
        t = time.perf_counter()
        out = run(*args).stdout
        spent.append(time.perf_counter() - t)
    return min(spent), out


def median_ms(times: int, f: object) -> float:
    spent = []
    for _ in range(times):
        t = time.perf_counter()
        f()  # type: ignore[operator]
        spent.append(time.perf_counter() - t)
    return statistics.median(spent) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/proof-bench"))
    ap.add_argument(
        "--no-witness", action="store_true", help="skip serve and witness (serve's first start builds every feed)"
    )
    a = ap.parse_args()
    work = a.workdir / str(a.n)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db, story = str(work / "timeline.db"), work / "story.jsonl"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), str(a.n), str(story)], check=True)
    t = time.perf_counter()
    run("--db", db, "import", str(story))
    imported = time.perf_counter() - t
    vkey = run("--db", db, "keys", "init", "--file", str(work / "log.key")).stdout.strip()

    app = Timeline.open(config.resolve(db))
    size = publish.checkpoint(app, signer=None).checkpoint.size
    mid, half = size // 2 + 1, size // 2
    inc = publish.inclusion(app, f"#{mid}")
    con = publish.consistency(app, half)
    inc_json = json.dumps(proofs.to_json(inc), sort_keys=True, indent=2).encode()
    con_json = json.dumps(proofs.to_json(con), sort_keys=True, indent=2).encode()
    inc_path = len(inc.leaves[0].path)
    inc_ms = median_ms(50, lambda: publish.inclusion(app, f"#{mid}"))
    con_ms = median_ms(50, lambda: publish.consistency(app, half))
    cp_ms = median_ms(50, lambda: publish.checkpoint(app))
    app.close()
    cli_inc, _ = best(5, "--db", db, "prove", f"#{mid}")
    cli_con, _ = best(5, "--db", db, "prove", "--from", str(half))
    cli_cp, _ = best(5, "--db", db, "checkpoint")

    leaf_b64 = len(json.dumps(proofs.to_json(inc)["leaves"][0]["leaf"]))
    print(f"\n## Proofs at {size:,} events (import took {imported:.1f} s)\n")
    print("| what | hashes | JSON bytes | in-process (median of 50) | `timeline` command (best of 5) |")
    print("|---|---|---|---|---|")
    print(
        f"| inclusion of #{mid} in {size:,} | {inc_path} | {len(inc_json):,} ({len(inc_json) - leaf_b64:,} without the leaf bytes) | {inc_ms:.2f} ms | {cli_inc * 1000:.0f} ms |"
    )
    print(
        f"| consistency {half:,} -> {size:,} | {len(con.path)} | {len(con_json):,} | {con_ms:.2f} ms | {cli_con * 1000:.0f} ms |"
    )
    print(f"| signed checkpoint | - | {len(publish_bytes(db)):,} | {cp_ms:.2f} ms | {cli_cp * 1000:.0f} ms |")
    sys.stdout.flush()
    if a.no_witness:
        return
    proc, url = serve(db)
    try:
        state = work / "witness.state"
        run("witness", url, "--key", vkey, "--state", str(state))
        run("--db", db, "add", "statement", "--title", "One more", "--occurred", "2024-07-09", "--speaker", "X",
            "--paraphrase", "said", "--source", "https://news.example/a")  # fmt: skip
        deadline = time.monotonic() + 600  # until the background build publishes the new size
        while fetch(f"{url}/checkpoint")[2].split(b"\n")[1] != str(size + 1).encode() and time.monotonic() < deadline:
            time.sleep(0.1)
        grew_s, grew = best(1, "witness", url, "--key", vkey, "--state", str(state))
        same_s, _ = best(5, "witness", url, "--key", vkey, "--state", str(state))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"| `witness` after 1 new event ({grew.strip()}) | | | | {grew_s * 1000:.0f} ms |")
    print(f"| `witness`, nothing new (best of 5) | | | | {same_s * 1000:.0f} ms |")


def publish_bytes(db: str) -> bytes:
    return run("--db", db, "checkpoint").stdout.encode()


if __name__ == "__main__":
    main()
