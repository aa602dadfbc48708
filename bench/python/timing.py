"""The bench scripts' timing rule, as in bench/src/timing.ts: one warm-up call, then the best
of at least min_repetitions calls and min_seconds; a warm-up slower than slow_seconds is the
only call (so the slowest cases do not take minutes)."""
import time


def best_time(fn, min_seconds, min_repetitions=3, slow_seconds=4.0):
    t0 = time.perf_counter()
    fn()
    if time.perf_counter() - t0 > slow_seconds:
        return time.perf_counter() - t0
    times = []
    start = time.perf_counter()
    while len(times) < min_repetitions or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
