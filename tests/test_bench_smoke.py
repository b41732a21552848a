"""The benchmarks run and report (their numbers are not asserted: timings live in bench/)."""
import pathlib
import subprocess
import sys

BENCH = pathlib.Path(__file__).resolve().parent.parent / "bench"


def run(script, *args):
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_core_benchmark_runs_and_its_object_checks_pass():
    out = run("bench_core.py", "--quick", "--no-peer")
    for row in ("local x + y, before hook", "ptr + ptr", "x.send(bob)", "(ptr + ptr).get()"):
        assert row in out
    assert "objects on bob at the end: 0" in out


def test_extension_benchmark_runs():
    out = run("bench_extension.py", "--quick")
    assert "extra per cell" in out and "first render" in out


def test_federated_benchmark_runs_and_its_correctness_check_passes():
    out = run("bench_federated.py", "--quick", "--no-peer")  # exit status 1 if the check fails
    assert "max |weight difference| = " in out and "FAILED" not in out
    for row in ("(a) plain torch, local", "(b) ours (jupyter_syft), bob", "messages per step"):
        assert row in out


def test_part07_benchmark_runs_and_its_loss_check_passes():
    out = run("bench_part07.py", "--quick", "--no-peer")  # exit status 1 if the losses differ
    assert "summed loss" in out and ": ok;" in out and "messages per batch" in out


def test_plans_benchmark_runs_and_its_correctness_check_passes():
    out = run("bench_plans.py", "--quick")  # exit status 1 if a plan step's weights differ
    assert "max |weight difference| = " in out and "FAILED" not in out
    for row in ("(a) plain torch, local", "(b) ours, eager (op by op), bob",
                "(c) ours, plan, model on bob", "(d) ours, send + plan + get", "messages per step"):
        assert row in out


def test_network_benchmark_runs_and_its_transfers_arrive_intact():
    out = run("bench_network.py", "--quick", "--no-peer")  # exit status 1 if data or objects are off
    for row in ("ours: x_ptr + x_ptr (NetworkWorker)", "raw pyzmq DEALER/ROUTER", "ours / raw, by round",
                "ours: x.send(bob) / ptr.get()", "raw pyzmq, zero-copy"):
        assert row in out
    assert "data intact after send and get: ok" in out and "objects on bob at the end: 0" in out


def test_smpc_benchmark_runs_and_its_correctness_check_passes():
    out = run("bench_smpc.py", "--quick", "--no-peer")  # exit status 1 if a shared op's result is off
    assert "max |error| " in out and "FAILED" not in out
    for row in ("shared * shared", "shared.mm(shared)", "F.relu(shared)", "shared + shared",
                "ours, shared", "plain torch, same init", "accuracy after each epoch"):
        assert row in out
    assert "{'bob': 0, 'alice': 0, 'james': 0} once they are dropped" in out
