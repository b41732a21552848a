"""bench_ray.py runs, its check (a Ray round equals the plain loop's) passes, and it leaves no Ray
process (its numbers are not asserted: they live in bench/README.md). Runs before the cluster
tests start their cluster."""
import pathlib
import subprocess
import sys

BENCH = pathlib.Path(__file__).resolve().parents[2] / "bench"


def test_ray_benchmark_runs_and_its_check_passes():
    done = subprocess.run([sys.executable, str(BENCH / "bench_ray.py"), "--quick", "--no-peer"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "Ray processes left after ours: 0" in done.stdout
    for row in ("      10 ", "     100 ", "seconds per round"):
        assert row in done.stdout
