"""Scale benchmark: wall time, CPU time and peak memory of ``forecast run`` as the number of
bottom series grows (``make bench-scale``: 1,000, 5,000 and 20,000 by default).

For each size the synthetic demo generator makes monthly data (2015-01 … 2025-12, 34
provinces, 24 export destinations) with as many synthetic sub-categories ``<code>.<n>`` as
needed for at least that many province × category × market series; the file is ingested
into a fresh warehouse (timed apart), then ``forecast run --jobs J`` runs in a child process
with default settings (all default models, 2 backtest windows, automatic reconciliation,
PDF and CSV reports). The parent samples the child's process tree every 0.2 s for resident
memory (peak of the sum) and CPU time (user + system, summed over every process seen).

CPU time is printed beside wall time because the machine may be shared: wall time then
grows with the load, CPU time much less. Stage times come from the run's manifest.

Usage::

    python bench/scale.py --jobs 2                         # 1000, 5000, 20000
    python bench/scale.py --sizes 1000,5000 --format csv   # quicker, no PDFs
    python bench/scale.py --sizes 20000 --models naive,snaive,theta   # cheaper models

Results are printed as a markdown table and written to ``bench/results/scale_<models>.md``
and ``.json`` (each run's data, warehouse, log and run in ``bench/results/scale/<size>/``;
the generated data and warehouse are reused by later invocations).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
DEFAULT_SIZES = (1000, 5000, 20000)


@dataclass
class Result:
    """One size's measurements."""

    target: int
    bottom_series: int = 0
    nodes: int = 0
    rows: int = 0
    ingest_s: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_mb: float = 0.0
    load_avg: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    exit_code: int = 0


def _load1() -> float:
    """One-minute load average, NaN where the system cannot tell (it only annotates)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _generator():  # the generator lives in datasets/, not in the package
    spec = importlib.util.spec_from_file_location(
        "generate_demo", REPO / "datasets" / "generate_demo.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["generate_demo"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _forecast_exe() -> str:
    exe = Path(sys.executable).with_name("forecast")
    return str(exe) if exe.exists() else "forecast"


def _sample_tree(proc, seen_cpu: dict[int, float]) -> float:
    """Resident MB of ``proc`` and its descendants; updates CPU seconds per pid."""
    import psutil

    total = 0
    with contextlib.suppress(psutil.Error):
        for p in [proc, *proc.children(recursive=True)]:
            with contextlib.suppress(psutil.Error), p.oneshot():
                total += p.memory_info().rss
                t = p.cpu_times()
                seen_cpu[p.pid] = t.user + t.system
    return total / 2**20


def _monitored(
    cmd: list[str], cwd: Path, env: dict[str, str], log: Path
) -> tuple[int, float, float, float]:
    """Run ``cmd``; return exit code, wall s, CPU s of the tree and peak tree MB."""
    import psutil

    peak, cpu = 0.0, {}
    t0 = time.perf_counter()
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT)
        handle = psutil.Process(proc.pid)
        while proc.poll() is None:
            peak = max(peak, _sample_tree(handle, cpu))
            time.sleep(0.2)
    wall = time.perf_counter() - t0
    return proc.returncode, wall, sum(cpu.values()), peak


def run_size(target: int, args: argparse.Namespace) -> Result:
    """Generate, ingest and run one size; return its measurements."""
    folder = args.workdir / str(target)
    folder.mkdir(parents=True, exist_ok=True)
    res = Result(target)
    data = folder / "sales.csv"
    gen = _generator()
    if not data.exists():
        t0 = time.perf_counter()
        frame = gen.generate(bottom_series=target)
        gen.write_csv(frame, data)
        print(f"[{target}] generated {len(frame):,} rows in {time.perf_counter() - t0:.0f} s")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORECAST_")}
    env.update(
        {
            "FORECAST_WAREHOUSE": str(folder / "warehouse.duckdb"),
            "FORECAST_MODELS_DIR": str(folder / "models"),
            "FORECAST_REPORTS_DIR": str(folder / "reports"),
            "FORECAST_LOG_FILE": str(folder / "forecast.jsonl"),
        }
    )
    exe = _forecast_exe()
    warehouse = folder / "warehouse.duckdb"
    if not warehouse.exists():
        t0 = time.perf_counter()
        cmd = [exe, "ingest", str(data), "--source", "synthetic-demo"]
        done = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.decode(errors="replace")[-2000:])
        res.ingest_s = round(time.perf_counter() - t0, 1)
    cmd = [exe, "run", "--jobs", str(args.jobs), "--format", args.format]
    if args.models != "default":
        cmd += ["--models", args.models]
    load_before = _load1()
    code, wall, cpu, peak = _monitored(cmd, folder, env, folder / "run.log")
    res.exit_code, res.wall_s, res.cpu_s, res.peak_mb = (
        code,
        round(wall, 1),
        round(cpu, 1),
        round(peak),
    )
    res.load_avg = round((load_before + _load1()) / 2, 1)
    if code != 0:
        tail = (folder / "run.log").read_text(encoding="utf-8", errors="replace")[-3000:]
        print(f"[{target}] forecast run failed with exit code {code}:\n{tail}")
        return res
    latest = (folder / "models" / "LATEST").read_text().strip()
    man = json.loads((folder / "models" / latest / "manifest.json").read_text(encoding="utf-8"))
    res.bottom_series = int(man.get("n_bottom_series", 0))
    res.nodes = int(man.get("n_series", 0))
    res.stages = {k: round(float(v), 1) for k, v in man.get("durations_s", {}).items()}
    res.rows = sum(1 for _ in data.open("rb")) - 1
    print(f"[{target}] {res.bottom_series} bottom series, {res.nodes} nodes: {wall:.0f} s wall")
    return res


def table(results: list[Result]) -> str:
    """Markdown table with per-series costs and growth ratios."""
    stages = ["load", "hierarchy", "forecast", "reconcile", "outlook", "reports"]
    head = (
        "| bottom series | nodes | wall (s) | CPU (s) | peak RSS (MB) | ms wall / node "
        "| × wall vs previous (× nodes) | "
        + " | ".join(f"{name} (s)" for name in stages)
        + " | load avg |"
    )
    lines = [head, "|" + "---|" * (8 + len(stages))]
    prev: Result | None = None
    for r in results:
        if r.exit_code:
            lines.append(f"| {r.target} (failed, exit {r.exit_code}) |" + " |" * (7 + len(stages)))
            continue
        growth = "-"
        if prev is not None and prev.wall_s and prev.nodes:
            growth = f"{r.wall_s / prev.wall_s:.1f} ({r.nodes / prev.nodes:.1f})"
        per = 1000 * r.wall_s / max(r.nodes, 1)
        cells = [
            f"{r.bottom_series:,}", f"{r.nodes:,}", f"{r.wall_s:,.0f}", f"{r.cpu_s:,.0f}",
            f"{r.peak_mb:,.0f}", f"{per:.0f}", growth,
            *[f"{r.stages.get(s, float('nan')):.0f}" for s in stages], f"{r.load_avg:.1f}",
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
        prev = r
    return "\n".join(lines)


def parse_sizes(text: str) -> list[int]:
    """The ``--sizes`` list: comma-separated positive numbers of bottom series.

    Parameters
    ----------
    text
        The option's value, e.g. ``"1000,5000"`` (blanks around the commas are ignored).

    Returns
    -------
    list of int
        The sizes in the order given.

    Raises
    ------
    argparse.ArgumentTypeError
        The list is empty, or an entry is not a whole number above 0 (argparse turns this
        into a usage message and exit status 2).
    """
    parts = [s.strip() for s in text.split(",") if s.strip()]
    if not parts:
        # An empty list would run nothing and then fail writing a table it never built.
        raise argparse.ArgumentTypeError(
            f"no sizes given ({text!r}); pass numbers of bottom series, e.g. --sizes 1000,5000"
        )
    try:
        sizes = [int(s) for s in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of whole numbers, e.g. --sizes 1000,5000"
        ) from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be 1 or more; got {text!r}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for every ``--sizes`` entry and write the results.

    Parameters
    ----------
    argv
        Command-line arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 when every size's run succeeded, 1 otherwise or without psutil.
    """
    ap = argparse.ArgumentParser(description="Scale benchmark of 'forecast run'.")
    ap.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(DEFAULT_SIZES),
        help="bottom series, comma-separated (default 1000,5000,20000)",
    )
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--format", default="pdf,csv", help="report formats (default pdf,csv)")
    ap.add_argument("--models", default="default", help="candidate models (default: default)")
    ap.add_argument("--workdir", type=Path, default=RESULTS / "scale", help="data and runs")
    args = ap.parse_args(argv)
    try:
        import psutil  # noqa: F401
    except ImportError:
        print("bench/scale.py needs psutil (pip install -e '.[dev]').")
        return 1
    results = []
    for size in args.sizes:
        results.append(run_size(size, args))
        text = table(results)
        print(text, flush=True)
    machine = (
        f"{platform.node()}: {os.cpu_count()} CPUs, {platform.machine()}, "
        f"Python {platform.python_version()}; --jobs {args.jobs}, --format {args.format}, "
        f"--models {args.models}"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    label = "".join(c if c.isalnum() else "-" for c in args.models)
    (RESULTS / f"scale_{label}.md").write_text(f"{machine}\n\n{text}\n", encoding="utf-8")
    (RESULTS / f"scale_{label}.json").write_text(
        json.dumps({"machine": machine, "results": [asdict(r) for r in results]}, indent=1),
        encoding="utf-8",
    )
    print(f"\n{machine}\nwritten to {RESULTS / f'scale_{label}.md'}")
    return 0 if all(r.exit_code == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
