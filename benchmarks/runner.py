"""The benchmark runner: ``python -m benchmarks [--quick] [--json] [--store ...] [--sizes ...]``.

Every headline figure is a ratio against a baseline measured in the same run
on the same database (machines are shared and noisy; bare times do not
compare across runs). For each size the runner

1. generates a synthetic log (:mod:`benchmarks.generator`) of the size plus a
   short tail;
2. imports the log into a fresh store (bulk appends with projection off,
   then ``catch_up``) and writes the same payloads raw with one
   ``executemany`` in one transaction: ``import_ratio``;
3. appends the tail one event at a time through ``Evolve.append`` with the
   projection on, and inserts the same payloads raw, one transaction per
   row: ``append_ratio``;
4. times point ``as_of`` state queries: ``asof_p50_us`` and their growth;
5. rebuilds the projection: ``rebuild_eps``.

At the largest size it then serves the store with ``evolve serve`` and loads
``GET /organisations/{id}?as_of=`` and ``GET /health`` back to back:
``api_ratio``. Progress goes to stderr; with ``--json`` the last line of
stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks import load
from benchmarks.concurrent import concurrent_append_ratio
from benchmarks.es_baseline import store_bare
from benchmarks.generator import SyntheticLog, generate, sample_queries
from benchmarks.realistic import generate_realistic
from benchmarks.stores import Database, RawBaseline, Stores, sqlite_journal_mode, sqlite_synchronous

#: The two logs (issue 16): the synthetic adversarial one and the curated history scaled up.
WORKLOADS: dict[str, Callable[[int, int], SyntheticLog]] = {
    "adversarial": generate,
    "realistic": generate_realistic,
}

FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 25_000)
BATCH = 5_000  # events per bulk append

#: Issue 16's targets (same-run ratios; sizes as the issue names them).
TARGETS = {
    "rebuild_ratio": (">=", 0.03),
    "import_ratio": (">=", 0.02),
    "es_ratio": (">=", 1.0),
    "bytes_per_event": ("<=", 1000.0),
    "append_ratio": (">=", 0.3),
    "asof_growth": ("<=", 1.5),
    "asof_p50_us_large": ("<=", 100.0),
    "api_ratio": (">=", 0.8),
    "rebuild_seconds_1m": ("<=", 60.0),
    "import_seconds_1m": ("<=", 90.0),
    "concurrent_append_ratio": (">=", 3.0),
}

#: Writers (threads, then processes) for `concurrent_append_ratio`, and single appends each (quick, full).
WRITERS = 8
CONCURRENT_APPENDS = (40, 100)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- one size --------------------------------------------------------------------------------


def run_size(
    n: int,
    stores: Stores,
    *,
    seed: int,
    tail: int,
    queries: int,
    workload: str = "adversarial",
    rebuild: bool = True,
    keep: bool = False,
) -> tuple[dict[str, Any], Database | None]:
    """Every per-size measurement; returns the figures (and the database if `keep`)."""
    from evolve.bootstrap import Evolve
    from evolve.settings import Settings

    figures: dict[str, Any] = {"size": n}
    started = time.perf_counter()
    synthetic = WORKLOADS[workload](n + tail, seed)
    figures["generate_s"] = round(time.perf_counter() - started, 3)
    figures["log"] = synthetic.summary()
    log(
        f"{n}: generated {len(synthetic)} events in {figures['generate_s']:.1f}s "
        f"({len(synthetic.organisations)} organisations)"
    )
    payloads = synthetic.payloads()
    rows = [(str(i), p) for i, p in zip(synthetic.ids, payloads, strict=True)]

    db = stores.fresh(f"n{n}")
    system = Evolve(Settings(database_url=db.url))
    try:
        if db.backend == "sqlite":
            figures["sqlite_synchronous"] = sqlite_synchronous(system)
            figures["sqlite_journal_mode"] = sqlite_journal_mode(system)

        # -- bulk import, as `evolve import` does it: batches appended with the projection on, each
        # batch projected inside its own append transaction (store + projection, one commit) ----------
        system.project_on_append = True
        head = SyntheticLog(synthetic.seed, synthetic.events[:n], synthetic.ids[:n], synthetic.organisations)
        batches = head.batches(BATCH)
        gc.collect()
        t0 = time.perf_counter()
        for a, b in batches:
            system.append(head.events[a:b], ids=head.ids[a:b])
        import_s = time.perf_counter() - t0
        assert system.projected_entries() == system.store.position() == n
        with RawBaseline(db, figures.get("sqlite_synchronous"), own_file=True) as raw:
            raw_bulk_s = statistics.median(raw.bulk(rows[:n]) for _ in range(3))
        figures.update(
            import_batches=len(batches),
            import_s=round(import_s, 3),
            import_eps=n / import_s,
            raw_bulk_s=round(raw_bulk_s, 3),
            raw_bulk_eps=n / raw_bulk_s,
        )
        figures["import_ratio"] = figures["import_eps"] / figures["raw_bulk_eps"]
        es_s = store_bare(db, payloads[:n], BATCH)
        figures.update(es_bare_s=round(es_s, 3), es_bare_eps=n / es_s, es_ratio=figures["import_eps"] * es_s / n)
        log(
            f"{n}: import {figures['import_eps']:.0f} ev/s ({import_s:.1f}s, store and projection); raw executemany "
            f"{figures['raw_bulk_eps']:.0f} rows/s, ratio {figures['import_ratio']:.3f}; eventsourcing bare "
            f"{n / es_s:.0f} ev/s, es_ratio {figures['es_ratio']:.3f}"
        )

        # -- single appends (projection on) and raw one-row transactions, in
        # alternating blocks so that drift in the machine hits both alike --------
        tail_events, tail_ids, tail_rows = synthetic.events[n:], synthetic.ids[n:], rows[n:]
        append_s = raw_single_s = 0.0
        block = max(1, len(tail_events) // 5)
        gc.collect()
        with RawBaseline(db, figures.get("sqlite_synchronous")) as raw:
            for k in range(0, len(tail_events), block):
                t0 = time.perf_counter()
                for event, event_id in zip(tail_events[k : k + block], tail_ids[k : k + block], strict=True):
                    system.append([event], ids=[event_id])
                append_s += time.perf_counter() - t0
                raw_single_s += raw.single(tail_rows[k : k + block])
        figures.update(
            append_count=len(tail_events),
            append_eps=len(tail_events) / append_s,
            raw_single_eps=len(tail_events) / raw_single_s,
        )
        figures["append_ratio"] = figures["append_eps"] / figures["raw_single_eps"]
        log(
            f"{n}: single appends {figures['append_eps']:.0f}/s; raw one-row transactions "
            f"{figures['raw_single_eps']:.0f}/s; ratio {figures['append_ratio']:.3f}"
        )

        # -- as_of point queries -----------------------------------------------
        pairs = live_pairs(system, synthetic, queries + 100, seed=seed + 1)
        figures.update(_time_queries(system, pairs[:100], pairs[100:]))
        log(
            f"{n}: as_of p50 {figures['asof_p50_us']:.0f}us p90 {figures['asof_p90_us']:.0f}us "
            f"({figures['asof_queries']} queries)"
        )

        # -- rebuild -----------------------------------------------------------
        if rebuild:
            total = n + len(tail_events)
            gc.collect()
            t0 = time.perf_counter()
            rebuilt = system.rebuild()
            rebuild_s = time.perf_counter() - t0
            assert rebuilt == total, (rebuilt, total)
            figures.update(rebuild_s=round(rebuild_s, 3), rebuild_eps=total / rebuild_s)
            figures["rebuild_ratio"] = figures["rebuild_eps"] / figures["raw_bulk_eps"]
            log(f"{n}: rebuild {rebuild_s:.1f}s = {figures['rebuild_eps']:.0f} ev/s")
        figures["size_on_disk_mb"] = _size_mb(db)
        if figures["size_on_disk_mb"] is not None:
            figures["bytes_per_event"] = round(figures["size_on_disk_mb"] * 1e6 / (n + len(tail_events)))
        figures["elapsed_s"] = round(time.perf_counter() - started, 1)
    finally:
        system.close()
    if keep:
        return figures, db
    stores.drop(db)
    return figures, None


def live_pairs(system: Any, synthetic: SyntheticLog, count: int, seed: int) -> list[tuple[str, dt.date]]:
    """`count` (organisation, as_of) pairs on which the organisation existed. The synthetic log's
    organisations live to its end; the realistic one's merge and are dissolved (every CCG in July
    2022), and a date after that is a 404, not a point query."""
    from evolve.errors import NotFound

    out: list[tuple[str, dt.date]] = []
    for attempt in range(20):
        for org, day in sample_queries(synthetic, count, seed=seed + attempt):
            try:
                system.queries.state(org, day)
            except NotFound:
                continue
            out.append((org, day))
            if len(out) == count:
                return out
    raise AssertionError(f"fewer than {count} organisations existed on the sampled dates")


def _time_queries(
    system: Any, warmup: Sequence[tuple[str, dt.date]], pairs: Sequence[tuple[str, dt.date]]
) -> dict[str, Any]:
    state = system.queries.state
    for org, day in warmup:
        state(org, day)
    samples = []
    perf = time.perf_counter_ns
    for org, day in pairs:
        t0 = perf()
        found = state(org, day)
        samples.append((perf() - t0) / 1000)
        assert found.id == org
    samples.sort()
    return {
        "asof_queries": len(samples),
        "asof_p50_us": statistics.median(samples),
        "asof_p90_us": samples[int(len(samples) * 0.9)],
        "asof_p99_us": samples[int(len(samples) * 0.99)],
    }


def _size_mb(db: Database) -> float | None:
    if db.path is None:
        if db.schema is None:
            return None
        import psycopg

        with psycopg.connect(db.base_url) as conn:
            row = conn.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
                (db.schema,),
            ).fetchone()
        return round(int(row[0]) / 1e6, 1) if row else None
    return round(sum(p.stat().st_size for p in db.path.parent.glob(db.path.name + "*")) / 1e6, 1)


# ---- the API ---------------------------------------------------------------------------------


def run_api(
    db: Database, synthetic_seed: int, n: int, workdir: Path, seconds: float, rounds: int, workload: str = "adversarial"
) -> dict[str, Any]:
    """requests/s of GET /organisations/{id}?as_of= ÷ GET /health, same server and tool."""
    figures: dict[str, Any] = {"api_tool": load.tool(), "api_size": n, "api_seconds_per_run": seconds}
    try:
        server = load.start_server(db.url, workdir)
    except load.ServerFailed as exc:
        figures.update(api_ratio=None, api_error=str(exc))
        try:
            import api.server  # noqa: F401
        except ImportError as why:
            figures["api_note"] = f"api.server is not importable ({why})"
        log(f"api: could not be measured: {exc}")
        return figures
    try:
        synthetic = WORKLOADS[workload](n, synthetic_seed)
        from evolve.bootstrap import Evolve
        from evolve.settings import Settings

        reader = Evolve(Settings(database_url=db.url))
        try:
            pairs = live_pairs(reader, synthetic, 500, seed=synthetic_seed + 2)
        finally:
            reader.close()
        org_paths = [f"/organisations/{org}?as_of={day.isoformat()}" for org, day in pairs]
        import httpx

        check = httpx.get(server.base + org_paths[0], timeout=10)
        if check.status_code != 200:
            raise load.ServerFailed(f"GET {org_paths[0]} answered {check.status_code}: {check.text[:200]}")
        load.measure(server.base, ["/health"], 1.0)  # warm up both paths
        load.measure(server.base, org_paths, 1.0)
        health, org = [], []
        for _ in range(rounds):
            health.append(load.measure(server.base, ["/health"], seconds))
            org.append(load.measure(server.base, org_paths, seconds))
        health_rps = statistics.mean(h["rps"] for h in health)
        org_rps = statistics.mean(o["rps"] for o in org)
        figures.update(
            api_health_rps=health_rps,
            api_org_rps=org_rps,
            api_health_p50_ms=statistics.mean(h["latency_p50_ms"] for h in health),
            api_org_p50_ms=statistics.mean(o["latency_p50_ms"] for o in org),
            api_errors=sum(h["errors"] for h in health) + sum(o["errors"] for o in org),
            api_ratio=org_rps / health_rps,
        )
        log(
            f"api ({figures['api_tool']}): organisation {org_rps:.0f} req/s, health {health_rps:.0f} req/s, "
            f"ratio {figures['api_ratio']:.3f}"
        )
    except (load.ServerFailed, OSError, ValueError, RuntimeError) as exc:
        figures.update(api_ratio=None, api_error=str(exc))
        log(f"api: could not be measured: {exc}")
    finally:
        server.stop()
    return figures


# ---- the whole run ---------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    facts: dict[str, Any] = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                facts["memory_gb"] = round(int(line.split()[1]) / 1e6, 1)
    except OSError:
        pass
    import sqlite3

    facts["sqlite"] = sqlite3.sqlite_version
    for package in ("eventsourcing", "msgspec", "litestar", "uvicorn", "psycopg"):
        try:
            facts[package] = version(package)
        except Exception:
            facts[package] = None
    return facts


def code_version() -> dict[str, Any]:
    """The commit measured, and which core files differed from it (read-only git)."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=root,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "evolve", "api"],
            capture_output=True,
            text=True,
            cwd=root,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None}
    return {"commit": commit, "modified": [line[3:] for line in status.splitlines() if line[:2].strip() == "M"]}


def run_concurrent(stores: Stores, appends: int, writers: int = WRITERS) -> dict[str, Any]:
    """`concurrent_append_ratio` on a fresh store (benchmarks/concurrent.py): single appends/s of
    `writers` threads of one process ÷ 1 (group commit), then the same with processes
    (`concurrent_append_ratio_processes`), the projection on. Its own store, so the ratio is the
    write path's, not the size's."""
    db = stores.fresh("concurrent")
    try:
        log(f"concurrent appends: 1 writer, then {writers} writer threads, then processes, {appends} appends each")
        figures = concurrent_append_ratio(db.url, writers=writers, appends=appends)
    finally:
        stores.drop(db)
    log(
        f"concurrent_append_ratio {figures['concurrent_append_ratio']:.2f} (threads, group commit), "
        f"{figures['concurrent_append_ratio_processes']:.2f} (processes)"
    )
    return figures


def headline(per_size: list[dict[str, Any]], api: dict[str, Any]) -> dict[str, Any]:
    largest = per_size[-1]
    base = next((s for s in per_size if s["size"] == 10_000), per_size[0])
    out: dict[str, Any] = {
        "append_ratio": largest["append_ratio"],
        "import_ratio": largest["import_ratio"],
        "asof_p50_us_large": largest["asof_p50_us"],
        "asof_growth": largest["asof_p50_us"] / base["asof_p50_us"],
        "asof_growth_from_size": base["size"],
        "asof_growth_to_size": largest["size"],
        "api_ratio": api.get("api_ratio"),
        "rebuild_eps": largest.get("rebuild_eps"),
        "rebuild_s_large": largest.get("rebuild_s"),
        "rebuild_ratio": largest.get("rebuild_ratio"),
        "import_s_large": largest.get("import_s"),
        "es_ratio": largest.get("es_ratio"),
        "bytes_per_event": largest.get("bytes_per_event"),
    }
    return out


def verdicts(result: dict[str, Any]) -> dict[str, Any]:
    """Each target: met, missed, or not measured at the size the target names."""
    out: dict[str, Any] = {}
    largest = result["sizes"][-1]
    for key, (op, bound) in TARGETS.items():
        if key == "rebuild_seconds_1m":
            value = result.get("rebuild_s_large") if largest == 1_000_000 else None
        elif key == "import_seconds_1m":
            value = result.get("import_s_large") if largest == 1_000_000 else None
        elif key in ("asof_growth", "asof_p50_us_large") and largest != 1_000_000:
            value = None
        else:
            value = result.get(key)
        if value is None:
            out[key] = "not measured at the target's size" if key != "api_ratio" else "not measured"
        else:
            ok = value >= bound if op == ">=" else value <= bound
            out[key] = f"{'met' if ok else 'MISSED'} ({value:.3g} {op} {bound})"
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES)
    sizes = sorted(set(sizes))
    tail = args.tail or (150 if args.quick else 500)
    queries = args.queries or (500 if args.quick else 2000)
    api_seconds = 3.0 if args.quick else 8.0
    api_rounds = 1 if args.quick else 2
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="evolve-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    stores = Stores(args.store, workdir, postgres_url=args.postgres_url)
    result: dict[str, Any] = {
        "store": args.store,
        "workload": args.workload,
        "mode": "quick" if args.quick else "full",
        "sizes": sizes,
        "seed": args.seed,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "code": code_version(),
        "load_tool": load.tool(),
    }
    if args.store == "postgresql":
        import psycopg

        with psycopg.connect(args.postgres_url) as conn:
            result["machine"]["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
            result["machine"]["postgresql_synchronous_commit"] = conn.execute("SHOW synchronous_commit").fetchone()[0]  # type: ignore[index]
    started = time.perf_counter()
    per_size: list[dict[str, Any]] = []
    api: dict[str, Any] = {}
    try:
        for n in sizes:
            keep = n == sizes[-1] and not args.no_api
            figures, db = run_size(
                n, stores, seed=args.seed, tail=tail, queries=queries, workload=args.workload, keep=keep
            )
            per_size.append(figures)
            if db is not None:
                api = run_api(db, args.seed, n + tail, workdir, api_seconds, api_rounds, args.workload)
                stores.drop(db)
        if not args.no_concurrent:
            result.update(run_concurrent(stores, CONCURRENT_APPENDS[0 if args.quick else 1]))
    finally:
        stores.cleanup()
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    result.update(headline(per_size, api))
    result.update({k: v for k, v in api.items() if k != "api_ratio"})
    result["per_size"] = per_size
    result["targets"] = verdicts(result)
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    return result


# ---- output ----------------------------------------------------------------------------------


def table(result: dict[str, Any]) -> str:
    rows: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
        ("events", lambda s: f"{s['size']:,}"),
        ("organisations", lambda s: f"{s['log']['organisations']:,}"),
        ("import ev/s (evolve)", lambda s: f"{s['import_eps']:,.0f}"),
        ("  import s (store and projection)", lambda s: f"{s['import_s']:.1f}"),
        ("import rows/s (raw executemany)", lambda s: f"{s['raw_bulk_eps']:,.0f}"),
        ("import_ratio", lambda s: f"{s['import_ratio']:.3f}"),
        ("eventsourcing bare ev/s", lambda s: f"{s['es_bare_eps']:,.0f}"),
        ("es_ratio", lambda s: f"{s['es_ratio']:.3f}"),
        ("single appends/s (evolve)", lambda s: f"{s['append_eps']:,.1f}"),
        ("single inserts/s (raw, 1 tx/row)", lambda s: f"{s['raw_single_eps']:,.1f}"),
        ("append_ratio", lambda s: f"{s['append_ratio']:.3f}"),
        (
            "as_of p50 / p90 / p99 us",
            lambda s: f"{s['asof_p50_us']:.0f} / {s['asof_p90_us']:.0f} / {s['asof_p99_us']:.0f}",
        ),
        ("rebuild s (ev/s)", lambda s: f"{s['rebuild_s']:.1f} ({s['rebuild_eps']:,.0f})" if "rebuild_s" in s else "-"),
        ("rebuild_ratio", lambda s: f"{s['rebuild_ratio']:.4f}" if "rebuild_ratio" in s else "-"),
        ("size on disk MB", lambda s: f"{s['size_on_disk_mb']}"),
        ("bytes_per_event", lambda s: f"{s.get('bytes_per_event', '-')}"),
    ]
    sizes = result["per_size"]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'':<{width}}  " + "  ".join(f"{s['size']:>16,}" for s in sizes)]
    for label, get in rows[1:]:
        lines.append(f"{label:<{width}}  " + "  ".join(f"{get(s):>16}" for s in sizes))
    lines.append("")

    def fmt(value: Any, spec: str) -> str:
        return "n/a" if value is None else format(value, spec)

    lines.append(
        f"store {result['store']}, workload {result['workload']} ({result['mode']}), "
        f"python {result['machine']['python']}, "
        f"{result['machine'].get('cpus')} cpus, load tool {result['load_tool']}"
    )
    lines.append(f"append_ratio       {fmt(result['append_ratio'], '.3f')}")
    lines.append(f"import_ratio       {fmt(result['import_ratio'], '.3f')}")
    lines.append(f"asof_p50_us_large  {fmt(result['asof_p50_us_large'], '.0f')}")
    lines.append(
        f"asof_growth        {fmt(result['asof_growth'], '.2f')}  "
        f"({result['asof_growth_from_size']:,} -> {result['asof_growth_to_size']:,})"
    )
    lines.append(
        f"api_ratio          {fmt(result.get('api_ratio'), '.3f')}  "
        f"(organisation {fmt(result.get('api_org_rps'), ',.0f')} req/s, "
        f"health {fmt(result.get('api_health_rps'), ',.0f')} req/s)"
        + (f"  [{result['api_error']}]" if result.get("api_error") else "")
    )
    lines.append(f"rebuild_eps        {fmt(result['rebuild_eps'], ',.0f')}")
    lines.append(f"rebuild_ratio      {fmt(result.get('rebuild_ratio'), '.4f')}")
    lines.append(f"es_ratio           {fmt(result.get('es_ratio'), '.3f')}")
    lines.append(f"bytes_per_event    {fmt(result.get('bytes_per_event'), ',.0f')}")
    lines.append(
        f"concurrent_append_ratio {fmt(result.get('concurrent_append_ratio'), '.2f')}  "
        f"(1 writer {fmt(result.get('append_eps_1_writer'), ',.0f')}/s, "
        f"{WRITERS} threads {fmt(result.get(f'append_eps_{WRITERS}_writers'), ',.0f')}/s; "
        f"processes {fmt(result.get('concurrent_append_ratio_processes'), '.2f')})"
    )
    lines.append("targets: " + "; ".join(f"{k}: {v}" for k, v in result["targets"].items()))
    lines.append(f"elapsed {result['elapsed_s']:.0f}s")
    return "\n".join(lines)


def parse_sizes(text: str) -> list[int]:
    out = []
    for part in text.replace(",", " ").split():
        part = part.lower().replace("_", "")
        scale = 1
        if part.endswith("k"):
            scale, part = 1_000, part[:-1]
        elif part.endswith("m"):
            scale, part = 1_000_000, part[:-1]
        out.append(int(float(part) * scale))
    if not out or min(out) < 100:
        raise argparse.ArgumentTypeError("sizes are event counts >= 100, e.g. 10k,100k,1m")
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help=f"small sizes {QUICK_SIZES} and short runs (< 3 min)")
    p.add_argument("--json", action="store_true", help="print one JSON object on the last line of stdout")
    p.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument(
        "--workload",
        choices=tuple(WORKLOADS),
        default="adversarial",
        help="adversarial: the synthetic log (broadcasts, back-dating, corrections); "
        "realistic: the curated history copied and interleaved (benchmarks/realistic.py)",
    )
    p.add_argument("--sizes", type=parse_sizes, default=None, help=f"event counts, e.g. 10k,100k (full: {FULL_SIZES})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tail", type=int, default=0, help="single appends measured per size (default 150 quick, 500)")
    p.add_argument("--queries", type=int, default=0, help="as_of queries timed per size (default 500 quick, 2000)")
    p.add_argument("--no-api", action="store_true", help="skip the API measurement")
    p.add_argument(
        "--no-concurrent", action="store_true", help="skip concurrent_append_ratio (8 writer threads, then processes)"
    )
    p.add_argument(
        "--postgres-url",
        default=os.environ.get("EVOLVE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="server and database for --store postgresql (a fresh schema per size, dropped after)",
    )
    p.add_argument("--workdir", default=None, help="where SQLite files and server logs go (kept if given)")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    result = run(args)
    print(table(result))
    if args.json:
        print(json.dumps(result, default=str, separators=(",", ":")))
