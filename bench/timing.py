"""Timing and memory helpers shared by bench_core.py and peer_pysyft024.py.

Both scripts measure through these same functions so that "ours" and "PySyft 0.2.4" numbers are
taken the same way. Keep this file Python 3.7 compatible: the peer runs on 3.7.
"""
import statistics
import time
import timeit

# The cyclic garbage collector stays on while timing (timeit turns it off by default): a user's
# program runs with it on, and pointer-heavy code pays for the collections it triggers.
_SETUP = "import gc; gc.enable()"


class Op:
    """One timed statement, e.g. Op("x + y", {"x": x, "y": y})."""

    def __init__(self, stmt, namespace):
        self.stmt = stmt
        self.timer = timeit.Timer(stmt, setup=_SETUP, globals=dict(namespace))
        self.n = 0  # iterations per round, set by calibrate()

    def calibrate(self, seconds):
        """Pick the iterations per round that take about `seconds`; also warms the op up."""
        n, elapsed = 1, 0.0
        while elapsed < 0.02:
            n *= 2
            elapsed = self.timer.timeit(n)
        self.n = max(1, int(n * seconds / elapsed))
        return self.n

    def once(self):
        """One round: mean microseconds per call over self.n calls."""
        return self.timer.timeit(self.n) / self.n * 1e6


def summary(samples):
    """Per-round samples (µs) -> the statistics we report."""
    return {
        "median_us": statistics.median(samples),
        "min_us": min(samples),
        "max_us": max(samples),
        "rounds": len(samples),
    }


def measure(ops, rounds, seconds):
    """Calibrate (and warm up) each op, then measure them in turn, round after round, so that
    drift on a noisy machine (other processes, CPU frequency) spreads over all of them instead of
    hitting one. ops: name -> Op; returns name -> summary, with the per-round samples (µs, in
    round order) under "samples_us", so that ops taken in the same round can be compared."""
    for op in ops.values():
        op.calibrate(seconds)
    samples = {name: [] for name in ops}
    for _ in range(rounds):
        for name, op in ops.items():
            samples[name].append(op.once())
    return {name: dict(summary(s), n=ops[name].n, samples_us=s) for name, s in samples.items()}


def rss_kb():
    """Current resident set size in KiB (Linux /proc); elsewhere the peak, as a fallback."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource  # ru_maxrss is the peak, not the current size: only a rough stand-in
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def leak_check(cycle, count_objects, cycles, checkpoints=4):
    """Run cycle() `cycles` times; record RSS at 0 and at every quarter, and the objects the
    worker still holds at the end. Returns a dict for the report."""
    step = max(1, cycles // checkpoints)
    rss = [[0, rss_kb()]]
    start = time.perf_counter()
    for i in range(1, cycles + 1):
        cycle()
        if i % step == 0:
            rss.append([i, rss_kb()])
    elapsed = time.perf_counter() - start
    return {
        "cycles": cycles,
        "us_per_cycle": elapsed / cycles * 1e6,
        "rss_kb": rss,
        "objects_at_end": count_objects(),
    }
