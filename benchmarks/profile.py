"""Profile the slow paths with pyinstrument (not a dependency: ``pip install pyinstrument``).

    python -m benchmarks.profile --size 25k [--store sqlite|postgresql] [--workload adversarial|realistic]
        [--what import,append,rebuild,asof]

Builds a store of the given size from the synthetic log, then profiles each
phase and prints pyinstrument's text report (``--out DIR`` also writes one
``.txt`` per phase). Timings under a profiler are inflated: read the shares,
not the seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.generator import sample_queries
from benchmarks.runner import BATCH, WORKLOADS, parse_sizes
from benchmarks.stores import DEFAULT_POSTGRES_URL, Stores


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    p.add_argument("--size", type=parse_sizes, default=[25_000])
    p.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--what", default="import,append,asof,rebuild")
    p.add_argument("--workload", choices=sorted(WORKLOADS), default="adversarial")
    p.add_argument("--tail", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--interval", type=float, default=0.001)
    p.add_argument("--out", default=None)
    p.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    args = p.parse_args(argv)
    try:
        from pyinstrument import Profiler
    except ImportError:
        sys.exit("pyinstrument is not installed: pip install pyinstrument (profiling only, not a dependency)")
    from evolve.bootstrap import Evolve
    from evolve.settings import Settings

    n = args.size[0]
    what = set(args.what.split(","))
    log = WORKLOADS[args.workload](n + args.tail, args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="evolve-profile-"))
    stores = Stores(args.store, workdir, postgres_url=args.postgres_url)
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)

    def report(name: str, profiler: Any) -> None:
        text = profiler.output_text(unicode=False, color=False, show_all=False)
        print(f"===== {name} ({args.store}, {args.workload}, {n} events) =====\n{text}")
        if out:
            (out / f"{args.store}-{args.workload}-{n}-{name}.txt").write_text(text)

    try:
        db = stores.fresh("profile")
        # As the runner imports: batches appended with the projection on, each projected in its
        # own append transaction.
        system = Evolve(Settings(database_url=db.url))
        head_events, head_ids = log.events[:n], log.ids[:n]
        from benchmarks.generator import SyntheticLog

        head = SyntheticLog(log.seed, head_events, head_ids, log.organisations)
        profiler = Profiler(interval=args.interval)
        if "import" in what:
            profiler.start()
        for a, b in head.batches(BATCH):
            system.append(head_events[a:b], ids=head_ids[a:b])
        if "import" in what:
            profiler.stop()
            report("import", profiler)
        if "append" in what:
            profiler = Profiler(interval=args.interval)
            profiler.start()
        for event, event_id in zip(log.events[n:], log.ids[n:], strict=True):
            system.append([event], ids=[event_id])
        if "append" in what:
            profiler.stop()
            report("append", profiler)
        if "asof" in what:
            pairs = sample_queries(log, 3000, seed=args.seed + 1)
            profiler = Profiler(interval=0.0002)
            profiler.start()
            for org, day in pairs:
                system.queries.state(org, day)
            profiler.stop()
            report("asof", profiler)
        if "rebuild" in what:
            profiler = Profiler(interval=args.interval)
            profiler.start()
            system.rebuild()
            profiler.stop()
            report("rebuild", profiler)
        system.close()
    finally:
        stores.cleanup()


if __name__ == "__main__":
    main()
