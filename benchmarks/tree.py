"""What the log's Merkle tree costs, and what its proofs and checks cost (not part of the tests).

    python benchmarks/tree.py --baseline SRC [--sizes 10000 100000] [--stores sqlite postgres]

SRC is a checkout of the code before the tree (`git archive 2b0d6ad | tar -x -C SRC`): the
same `import` and `add` run through it and through this tree, interleaved in one run, and
the ratio is printed. Then, on this tree's code only: inclusion and consistency proof time
and size, `verify --full`, and `verify` (incremental) after one new event, at each size.
PostgreSQL runs use fresh databases on the server at 127.0.0.1:5432 (user postgres).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG = "postgresql://postgres@127.0.0.1:5432"
ADD = ["add", "visit", "--title", "T", "--occurred", "2024-08", "--visitors", "Z", "--source", "https://e.org/z"]


def timed(src: Path, db: str, *args: str, cwd: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONDONTWRITEBYTECODE": "1"}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "timeline", "--db", db, *args], cwd=cwd, env=env, check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - t


def fresh(store: str, tmp: Path) -> str:
    if store == "sqlite":
        return str(tmp / f"{uuid.uuid4().hex}.db")
    import psycopg

    name = f"bench_tree_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


def drop(db: str) -> None:
    if db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db.rsplit("/", 1)[1]}" WITH (FORCE)')


def costs(baseline: Path, store: str, story: Path, tmp: Path, repeats: int) -> None:
    """import of the story and one add, before the tree and with it, interleaved."""
    times: dict[str, dict[str, list[float]]] = {k: {"import": [], "add": []} for k in ("before", "tree")}
    for _ in range(repeats):
        for label, src in (("before", baseline), ("tree", ROOT)):
            db = fresh(store, tmp)
            try:
                times[label]["import"].append(timed(src, db, "import", str(story), cwd=tmp))
                for k in range(5):
                    times[label]["add"].append(timed(src, db, *ADD[:3], f"T{k}", *ADD[4:], cwd=tmp))
            finally:
                drop(db)
    for what in ("import", "add"):
        b, t = statistics.median(times["before"][what]), statistics.median(times["tree"][what])
        print(f"{store:8} {what:6} before {b:7.3f} s  tree {t:7.3f} s  ratio {t / b:5.2f}")


def proofs_and_checks(store: str, story: Path, tmp: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from timeline import config
    from timeline.app import Timeline
    from timeline.proof.tree import Tree

    db = fresh(store, tmp)
    try:
        timed(ROOT, db, "import", str(story), cwd=tmp)
        app = Timeline.open(config.resolve(db))
        tree = Tree(app)
        n = tree.size()
        rng = random.Random(6)
        for name, call in (
            ("inclusion", lambda: tree.inclusion(rng.randrange(n), n)),
            ("consistency", lambda: tree.consistency(rng.randrange(1, n), n)),
        ):
            call()
            spent, sizes = [], []
            for _ in range(200):
                t = time.perf_counter()
                proof = call()
                spent.append(time.perf_counter() - t)
                sizes.append(len(proof))
            print(f"{store:8} n={n:<8} {name:11} {statistics.median(spent) * 1e3:6.2f} ms median,"
                  f" {max(sizes)} hashes max ({max(sizes) * 32} bytes)")  # fmt: skip
        app.close()
        full = timed(ROOT, db, "verify", "--full", cwd=tmp)
        timed(ROOT, db, *ADD, cwd=tmp)
        incremental = timed(ROOT, db, "verify", cwd=tmp)
        again = timed(ROOT, db, "verify", "--full", cwd=tmp)
        print(f"{store:8} n={n:<8} verify --full {full:7.2f} s (again {again:7.2f} s);"
              f" verify after 1 new event {incremental:6.2f} s")  # fmt: skip
    finally:
        drop(db)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--baseline", type=Path, required=True)
    p.add_argument("--sizes", type=int, nargs="+", default=[10000])
    p.add_argument("--cost-size", type=int, default=10000)
    p.add_argument("--stores", nargs="+", default=["sqlite", "postgres"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--skip-costs", action="store_true")
    a = p.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import generate

    with tempfile.TemporaryDirectory(prefix="bench-tree-") as name:
        tmp = Path(name)
        if not a.skip_costs:
            story = generate.write(a.cost_size, tmp / f"story-{a.cost_size}.jsonl")
            for store in a.stores:
                costs(a.baseline, store, story, tmp, a.repeats)
        for n in a.sizes:
            story = generate.write(n, tmp / f"story-{n}.jsonl")
            for store in a.stores:
                proofs_and_checks(store, story, tmp)


if __name__ == "__main__":
    main()
