"""Run a Singer plugin's CLI under cProfile in every thread, and save one merged profile.

``python -m cProfile`` sees only the main thread, but target-iterable builds and
sends its requests in worker threads. Here each thread gets its own profiler
(Thread.run is wrapped before the plugin starts any), and all are merged into one
``pstats`` file at exit. The timer is per-thread CPU time, so a thread blocked on
a socket or a lock costs nothing and the figures add up to CPU seconds; reading
that clock is a system call, which slows the run about fourfold.
BENCH_PROFILE_THREADS=main profiles the main thread alone (where the reading,
validation and mapping happen) with cProfile's usual cheaper clock.

    python -m benchmarks.threaded_profile OUT.prof target_iterable.target:TargetIterable \\
        --config config.json < input.jsonl
"""

from __future__ import annotations

import cProfile
import importlib
import os
import pstats
import sys
import threading
import time
from collections.abc import Callable
from typing import Any


def _profiles(all_threads: bool) -> tuple[cProfile.Profile, list[cProfile.Profile]]:
    """A profiler for the main thread and, if asked, one per thread started from now."""
    threads: list[cProfile.Profile] = []
    if not all_threads:
        return cProfile.Profile(), threads
    timer: Callable[[], float] = time.thread_time
    lock = threading.Lock()
    original_run = threading.Thread.run

    def profiled_run(self: threading.Thread) -> None:
        profile = cProfile.Profile(timer)
        with lock:
            threads.append(profile)
        profile.enable()
        try:
            original_run(self)
        finally:
            profile.disable()

    threading.Thread.run = profiled_run  # type: ignore[method-assign]
    main = cProfile.Profile(timer)
    return main, threads


def main(argv: list[str]) -> None:
    """``OUT.prof module:Class [plugin arguments…]``; BENCH_PROFILE_THREADS=all|main."""
    out, entry, *plugin_args = argv
    module_name, class_name = entry.split(":")
    plugin: Any = getattr(importlib.import_module(module_name), class_name)
    all_threads = os.environ.get("BENCH_PROFILE_THREADS", "all") == "all"
    main_profile, thread_profiles = _profiles(all_threads)
    sys.argv = [class_name, *plugin_args]
    code: Any = 0
    main_profile.enable()
    try:
        plugin.cli()
    except SystemExit as stop:
        code = stop.code
    finally:
        main_profile.disable()
        stats = pstats.Stats(main_profile)
        for profile in list(thread_profiles):
            # A worker still waiting for work has an enabled profiler; its finished calls count.
            stats.add(profile)
        stats.dump_stats(out)
    sys.exit(code)


if __name__ == "__main__":
    main(sys.argv[1:])
