"""Where target-iterable's CPU goes: profile it on the CPU-bound benchmark's input.

    python -m benchmarks.profile_target                   # 100k mixed records, top 15
    python -m benchmarks.profile_target --noop            # the no-op SDK target instead
    python -m benchmarks.profile_target --out /tmp/t.prof --threads main

Same input and emulator settings as the CPU-bound scenario of ``benchmarks.scenarios``
(no rate limits, no latency). The target runs as a subprocess under
``benchmarks.threaded_profile`` (every thread, per-thread CPU time; or ``--threads
main``: the main thread only, lower overhead), then the merged profile's top
functions are printed by cumulative and by self time. The profile stays in
``--out`` for ``python -m pstats`` or snakeviz. cProfile's overhead inflates
functions called very often: compare functions, not totals. For a sampling view
with little overhead, ``py-spy record --gil`` (from a scratch venv) on the same input.
"""

from __future__ import annotations

import argparse
import os
import pstats
import sys
import sysconfig
import tempfile
from pathlib import Path

from benchmarks.generate import write_input
from benchmarks.harness import (
    AS_MEASURED,
    ROOT,
    BenchmarkError,
    expect_complete,
    expect_landed,
    run_target,
    target_config,
)
from benchmarks.scenarios import mixed_counts
from iterable_emulator.testing import EmulatorProcess

TARGET_ENTRY = "target_iterable.target:TargetIterable"
NOOP_ENTRY = "benchmarks.noop_target:NoopTarget"
_SITE = f"{os.sep}site-packages{os.sep}"
_STDLIB = sysconfig.get_paths()["stdlib"] + os.sep

# pstats' own row type: (primitive calls, calls, self time, cumulative time, callers)
Row = tuple[int, int, float, float, object]
Key = tuple[str, int, str]


def where(key: Key) -> str:
    """``singer_sdk/sinks/core.py:123(_validate)``: paths cut to the package."""
    path, line, name = key
    if path == "~":
        return name  # a built-in
    if _SITE in path:
        path = path.split(_SITE, 1)[1]
    elif path.startswith(_STDLIB):
        path = path[len(_STDLIB) :]
    elif path.startswith(str(ROOT)):
        path = os.path.relpath(path, ROOT)
    return f"{path}:{line}({name})"


def top(stats: pstats.Stats, count: int, *, cumulative: bool) -> list[str]:
    """The ``count`` functions with the most cumulative (or self) time."""
    table: dict[Key, Row] = stats.stats  # type: ignore[attr-defined]

    def time_of(item: tuple[Key, Row]) -> float:
        return item[1][3] if cumulative else item[1][2]

    ranked = sorted(table.items(), key=time_of, reverse=True)[:count]
    lines = [f"{'calls':>10} {'self s':>8} {'cumul s':>8}  function"]
    for key, (_, calls, self_time, cumulative_time, _) in ranked:
        lines.append(f"{calls:>10,} {self_time:>8.2f} {cumulative_time:>8.2f}  {where(key)}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "target.prof")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--noop", action="store_true", help="profile the no-op SDK target")
    parser.add_argument(
        "--threads",
        choices=["all", "main"],
        default="all",
        help="all threads on per-thread CPU time, or the main thread alone",
    )
    args = parser.parse_args()
    os.environ["BENCH_PROFILE_THREADS"] = args.threads
    entry = NOOP_ENTRY if args.noop else TARGET_ENTRY
    command = [sys.executable, "-m", "benchmarks.threaded_profile", str(args.out), entry]
    with tempfile.TemporaryDirectory(prefix="target-iterable-profile-") as tmp:
        work = Path(tmp)
        path = work / "mixed.jsonl"
        want = mixed_counts(args.records)
        counts = write_input(path, users=want.users, events=want.events, items=want.items)
        try:
            with EmulatorProcess("--no-rate-limits", **AS_MEASURED) as emulator:
                label = "noop" if args.noop else "target"
                config = {} if args.noop else target_config(emulator, work, label)
                run = run_target(command, config, path, work=work, label=label, timeout=3600)
                expect_complete(run, counts, label)
                if not args.noop:
                    expect_landed(emulator, counts, label)
        except BenchmarkError as error:
            print(f"profiled run failed: {error}", file=sys.stderr)
            return 1
    stats = pstats.Stats(str(args.out))
    print(
        f"{entry} on {counts.total:,} records: {run.cpu_seconds:.1f} s CPU under the profiler "
        f"({args.threads} threads), {run.wall_seconds:.1f} s wall; profile in {args.out}\n"
    )
    print(f"Top {args.top} by cumulative time:")
    print("\n".join(top(stats, args.top, cumulative=True)))
    print(f"\nTop {args.top} by self time:")
    print("\n".join(top(stats, args.top, cumulative=False)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
