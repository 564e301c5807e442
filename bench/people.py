"""Benchmark: `plein people import` of a 30,000-person CSV with a 6-level department tree, then the same file again.

    python bench/people.py [--people 30000] [--database-url postgresql+psycopg://...]

Writes a CSV as an HR system would export it: a tree of departments six levels deep (a company,
divisions, units, departments, teams, squads), each person in a squad, a manager for everyone but
the top, managers always on a later line than some of their reports (so they are resolved after
everyone exists), phone, location and two or three expertise tags. It builds a fresh hub in a
temporary data directory (SQLite as `plein run` has it, or the database given), migrates it, and
runs the real command as a child process (`python -m hub.cli people import FILE`) twice: the
first run creates everyone, the second finds nothing changed. The all-company group exists
before the first run, and a group for each division is made after it (`plein group
for-department`, timed too), so both runs keep their members in step. Each figure is that command's
wall-clock time, output to a file, and the CPU time it used. Requirement: under 60 s and under 15 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BRANCHING = (1, 4, 4, 4, 4, 3)
"""Children per level: one company, 4 divisions, 4 units each, ... 768 squads at the sixth level."""
LOCATIONS = ("Den Haag", "Amsterdam", "Utrecht", "Rotterdam", "Groningen", "Eindhoven")
TAGS = ("glasvezel", "modems", "dsl", "5g", "billing", "sales", "sap", "python", "security", "voip", "tv", "crm")


def departments() -> list[str]:
    level = ["KPN"]
    for children in BRANCHING[1:]:
        level = [f"{parent}/{parent.rsplit('/', 1)[-1][:3]} {index}" for parent in level for index in range(children)]
    return level


def write_csv(path: Path, count: int) -> None:
    rng = random.Random(18)
    squads = departments()
    people = [f"person{index:05d}@example.com" for index in range(count)]
    # Person 0 leads the company; each squad's first person reports to someone earlier in the list,
    # everyone else to their squad's first person. Lines are shuffled, so managers come before and after.
    rows = []
    for index, email in enumerate(people):
        squad = index % len(squads)
        lead = squad if squad else 0
        manager = "" if index == 0 else people[rng.randrange(index)] if index == lead else people[lead]
        rows.append([
            email, f"Person {index}", squads[squad], "Engineer" if index % 5 else "Team lead", manager,
            f"+31 6 {index:08d}", LOCATIONS[index % len(LOCATIONS)], ";".join(rng.sample(TAGS, 2 + index % 2)),
        ])
    rng.shuffle(rows)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["email", "name", "department", "title", "manager", "phone", "location", "expertise"])
        writer.writerows(rows)


def _children_cpu() -> float:
    """CPU seconds the finished children used: on a machine others share, what the command itself costs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plein-bench-people-") as folder:
        base = Path(folder)
        env = {**os.environ, "PLEIN_DATA_DIR": str(base / "data"), "PLEIN_DATABASE_URL": args.database_url}
        (base / "data").mkdir()
        subprocess.run([sys.executable, "-m", "hub.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True)

        def plein(*command: str) -> None:
            subprocess.run(
                [sys.executable, "-m", "hub.cli", *command], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
            )

        write_csv(base / "people.csv", args.people)
        print(f"{args.people} people in {len(departments())} squads, 6 levels deep")
        plein("group", "company")
        for run in ("first run (creates everyone)", "second run (nothing changed)"):
            if run.startswith("second"):
                started = time.perf_counter()
                for index in range(BRANCHING[1]):
                    plein("group", "for-department", f"KPN/KPN {index}")
                print(f"{BRANCHING[1]} division groups made in {time.perf_counter() - started:.1f} s")
            started, cpu = time.perf_counter(), _children_cpu()
            with (base / "output.txt").open("w") as output:
                done = subprocess.run(
                    [sys.executable, "-m", "hub.cli", "people", "import", str(base / "people.csv")],
                    env=env, cwd=ROOT, stdout=output, stderr=subprocess.DEVNULL,
                )
            elapsed, cpu = time.perf_counter() - started, _children_cpu() - cpu
            summary = (base / "output.txt").read_text().splitlines()[-1]
            print(f"{run}: {elapsed:.1f} s ({cpu:.1f} s of CPU), exit {done.returncode}: {summary}")


if __name__ == "__main__":
    main()
