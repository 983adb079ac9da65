"""Same-run A/B of the write side: the same log imported and rebuilt by two or more source trees.

This machine is shared and noisy: bare times from runs hours apart differ by more than most changes.
So a change is judged by running the old tree and the new one one after the other, several rounds,
alternating, each on a fresh database: the bulk import as `evolve import` does it (batches of
``BATCH`` appended with the projection on), then ``Evolve.rebuild()``. Each tree runs in its own
process with the tree first on ``sys.path``, so it measures that tree's code (make one with
``git worktree add /tmp/old <rev>``).

    python -m benchmarks.ab /tmp/old . --store sqlite --workload realistic --size 100k --rounds 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.runner import WORKLOADS, parse_sizes

#: What the child process runs: import then rebuild on a fresh database; one JSON line on stdout.
CHILD = """
import gc, json, sys, time
from pathlib import Path
tree, store, workload, n, workdir, url = sys.argv[1:7]
sys.path.insert(0, tree)
import evolve
if not Path(evolve.__file__).resolve().is_relative_to(Path(tree).resolve()):
    sys.exit(f"{tree}: imported evolve from {evolve.__file__}")
from benchmarks.runner import BATCH, WORKLOADS
from benchmarks.stores import Stores
from evolve.bootstrap import Evolve
from evolve.settings import Settings
log = WORKLOADS[workload](int(n), 1)
stores = Stores(store, Path(workdir), **({"postgres_url": url} if url else {}))
db = stores.fresh("ab")
try:
    system = Evolve(Settings(database_url=db.url), project_on_append=True)
    gc.collect()
    started = time.perf_counter()
    for a, b in log.batches(BATCH):
        system.append(log.events[a:b], ids=log.ids[a:b])
    imported = time.perf_counter() - started
    started = time.perf_counter()
    system.rebuild()
    rebuilt = time.perf_counter() - started
    system.close()
finally:
    stores.cleanup()
print(json.dumps({"import_s": imported, "rebuild_s": rebuilt}))
"""


def run_tree(tree: Path, args: argparse.Namespace, size: int) -> dict[str, float]:
    """One import and rebuild by `tree`'s code, in a process of its own."""
    argv = [str(tree), args.store, args.workload, str(size), str(args.workdir), args.postgres_url or ""]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{tree}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def compare(args: argparse.Namespace) -> dict[str, Any]:
    """Every tree, `args.rounds` times in alternation; the median of each figure per tree."""
    size = parse_sizes(args.size)[0]
    runs: dict[str, list[dict[str, float]]] = {str(tree): [] for tree in args.trees}
    for round_ in range(args.rounds):
        for tree in args.trees:
            figures = run_tree(tree, args, size)
            runs[str(tree)].append(figures)
            print(
                f"round {round_ + 1} {tree}: import {figures['import_s']:.1f} s, rebuild {figures['rebuild_s']:.1f} s",
                file=sys.stderr,
                flush=True,
            )
    medians = {
        tree: {key: statistics.median(r[key] for r in rounds) for key in ("import_s", "rebuild_s")}
        for tree, rounds in runs.items()
    }
    return {"store": args.store, "workload": args.workload, "size": size, "rounds": runs, "median": medians}


def table(result: dict[str, Any]) -> str:
    size = result["size"]
    lines = ["| tree | import, s (events/s) | rebuild, s (events/s) |", "|---|---:|---:|"]
    for tree, m in result["median"].items():
        lines.append(
            f"| `{tree}` | {m['import_s']:.1f} ({size / m['import_s']:,.0f}) "
            f"| {m['rebuild_s']:.1f} ({size / m['rebuild_s']:,.0f}) |"
        )
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.ab", description=__doc__.splitlines()[0])
    p.add_argument("trees", nargs="+", type=Path, help="source trees (the repository root of each)")
    p.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--workload", choices=tuple(WORKLOADS), default="adversarial")
    p.add_argument("--size", default="100k")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--workdir", type=Path, default=Path("/tmp"))
    p.add_argument("--postgres-url", default=None)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    result = compare(args)
    print(table(result))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
