"""Deterministic synthetic stories as `timeline import` JSON Lines, N events long.

    python benchmarks/generate.py 100000 /tmp/story-100k.jsonl [--seed 6]

Every line is one event: developments of all four kinds (visit, pledge, statement,
agreement), plus corrections (~6%) and retractions (~1%) of earlier developments, over many
topics (~200) and actors (~2,000). The same N and seed always give the same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from pathlib import Path

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")  # fmt: skip
WORDS = ("aid", "road", "bridge", "grid", "port", "school", "clinic", "water", "rail", "trade", "mine",
         "rice", "border", "fishery", "forest", "vaccine", "scholarship", "airport", "canal", "dam")  # fmt: skip
INSTRUMENTS = ("grant", "loan", "oda", "technical-assistance", "package", "other")
AGREEMENTS = ("joint-statement", "mou", "loan-agreement", "partnership-upgrade", "other")
PUBLISHERS = ("CamboJA News", "Khmer Times", "Kyodo", "The Phnom Penh Post", "Nikkei Asia", "VOD")


def _topics(n: int = 200) -> list[str]:
    return [f"{WORDS[i % len(WORDS)]}-{i // len(WORDS)}" if i >= len(WORDS) else WORDS[i] for i in range(n)]


def _actors(n: int = 2000) -> list[str]:
    countries = ["Japan", "Cambodia", "Thailand", "Vietnam", "Laos", "China", "Korea", "India", "ASEAN", "UNDP"]
    people = [f"Minister {chr(65 + i % 26)}{chr(97 + (i // 26) % 26)} {i:04d}" for i in range(n - len(countries))]
    return countries + people


def stories(n: int, seed: int = 6) -> Iterator[dict]:
    rnd = random.Random(seed)
    topics = _topics()
    actors = _actors()
    live: list[str] = []  # keys that may still be corrected or retracted
    for i in range(n):
        r = rnd.random()
        if live and r < 0.06:
            key = live[rnd.randrange(len(live))]
            field = rnd.choice(("summary", "place"))
            value = f"Corrected {field} #{i}: reported again with details from a second source."
            if field == "place":
                value = f"Place {i}"
            yield {"op": "correct", "id": key, "set": {field: value},
                   "reason": f"Correction {i}: the first report was wrong.",
                   **({"source": f"https://news.example.org/c/{i}"} if i % 3 == 0 else {})}  # fmt: skip
            continue
        if live and r < 0.07:
            key = live.pop(rnd.randrange(len(live)))
            yield {"op": "retract", "id": key, "reason": f"Retraction {i}: the report was withdrawn."}
            continue
        kind = ("visit", "pledge", "statement", "agreement")[i % 4]
        year = 1994 + (i * 7919) % 31
        day, month = 1 + i % 28, MONTHS[(i // 28) % 12]
        who = [actors[rnd.randrange(len(actors))] for _ in range(rnd.randint(1, 3))]
        word = WORDS[i % len(WORDS)]
        key = f"synthetic/{kind}/{i}"
        d: dict = {
            "kind": kind,
            "id": key,
            "title": f"{who[0]} {kind} on {word} project number {i}",
            "summary": f"Synthetic development {i}: {who[0]} and partners on the {word} programme, "
            f"with follow-up talks expected. " + "Background sentence. " * rnd.randint(1, 6),
            "occurred": f"{day} {month} {year}",
            "place": rnd.choice(("Phnom Penh", "Tokyo", "Siem Reap", "Bangkok", "Hanoi", "Vientiane")),
            "topics": sorted({topics[rnd.randrange(len(topics))] for _ in range(rnd.randint(1, 4))}),
            "actors": who,
            "sources": [{"url": f"https://news.example.org/{i}", "publisher": PUBLISHERS[i % len(PUBLISHERS)]}],
        }
        if kind == "visit":
            d.update(visitors=[who[0]], hosts=[actors[rnd.randrange(len(actors))]], purpose=f"Talks on {word}.")
        elif kind == "pledge":
            d.update(donor=who[0], recipient=actors[rnd.randrange(len(actors))],
                     amount=f"${rnd.randint(1, 900)}.{rnd.randint(0, 9)} million",
                     instrument=INSTRUMENTS[i % len(INSTRUMENTS)], purpose=f"The {word} project.")  # fmt: skip
        elif kind == "statement":
            d.update(speaker=who[0], role="Minister", quote=f"We will build the {word} together ({i}).",
                     paraphrase=f"{who[0]} promised cooperation on {word}.")  # fmt: skip
        else:
            d.update(parties=[*sorted(set(who)), "Cambodia"], subject=f"Cooperation on {word} ({i})",
                     agreement_type=AGREEMENTS[i % len(AGREEMENTS)])  # fmt: skip
        live.append(key)
        yield d


def write(n: int, path: Path, seed: int = 6) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for obj in stories(n, seed):
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("n", type=int)
    p.add_argument("out", type=Path)
    p.add_argument("--seed", type=int, default=6)
    a = p.parse_args()
    write(a.n, a.out, a.seed)


if __name__ == "__main__":
    main()
