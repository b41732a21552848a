"""Benchmark of jupyter_syft's core: what the hook costs plain torch, what pointers cost, leaks.

    python bench/bench_core.py [--quick] [--json PATH] [--no-peer]

Prints a table of per-op medians (and min/max over rounds), checks the targets, runs a
send/get leak check, and, if the PySyft 0.2.4 peer is installed, runs the same workload there
(bench/peer_pysyft024.py) and prints both side by side. See bench/README.md.
Exit status 1 if a correctness check fails (objects left on a worker); slow numbers only print.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(BENCH), str(REPO)]  # this checkout's jupyter_syft, from any cwd
from timing import Op, leak_check, measure, summary  # noqa: E402

import torch  # noqa: E402  (jupyter_syft itself is imported only after the "before" numbers)

# Targets, in µs per op (median), and the allowed slowdown of plain torch after the hook.
TARGETS_US = {"ptr_add": 15.0, "send": 20.0, "add_get": 30.0}
HOOK_TOLERANCE = 0.05

LABELS = {
    "local_before": "local x + y, before hook",
    "local_after": "local x + y, after hook",
    "ptr_add": "ptr + ptr (result dropped)",
    "send": "x.send(bob) (pointer dropped)",
    "add_get": "(ptr + ptr).get()",
}

# Where the PySyft 0.2.4 peer lives unless PYSYFT024_PYTHON says otherwise.
DEFAULT_PEER = Path("~/.cache/pysyft024/bin/python").expanduser()
PEER_BUILD_SCRIPT = REPO.parent / "shared" / "peers" / "pysyft-0.2.4.sh"


def tensors():
    return torch.tensor([1.0, 2, 3, 4, 5]), torch.tensor([5.0, 4, 3, 2, 1])


# --- our workload ----------------------------------------------------------------------------
def run_ours(rounds, seconds, cycles):
    results = {}

    # 1. Plain torch before jupyter_syft is even imported.
    x, y = tensors()
    results["local_before"] = measure({"local": Op("x + y", {"x": x, "y": y})}, rounds, seconds)["local"]

    import jupyter_syft as sy
    from jupyter_syft.torch_hook import install_tensor_api, remove_tensor_api

    hook = sy.TorchHook(torch)
    bob = sy.VirtualWorker(hook, id="bob")

    # 2. The same op after the hook, in a block of its own right after the "before" block.
    x, y = tensors()
    results["local_after"] = measure({"local": Op("x + y", {"x": x, "y": y})}, rounds, seconds)["local"]

    # 3. Blocks taken a few seconds apart also differ by drift. The hook only adds attributes to
    # torch.Tensor (install_tensor_api), so it can be taken off and put back: pairs of rounds
    # with and without it, in alternating order, give a drift-free ratio.
    results["hook_pairs"] = hook_pairs(Op("x + y", {"x": x, "y": y}), rounds, seconds,
                                       install_tensor_api, remove_tensor_api)

    # 4. Pointer ops, measured in turn round after round.
    p = torch.tensor([1.0, 2, 3, 4, 5]).send(bob)
    ops = {
        "ptr_add": Op("p + p", {"p": p}),  # result dropped: its remote delete is included
        "send": Op("x.send(bob)", {"x": x, "bob": bob}),  # pointer dropped likewise
        "add_get": Op("(p + p).get()", {"p": p}),
    }
    results.update(measure(ops, rounds, seconds))
    del p, ops  # bob must be empty before the leak check
    results["objects_before_leak_check"] = len(bob._objects)

    # 5. Leak check: objects left on bob and RSS over many send/get cycles.
    results["leak"] = leak_check(lambda: x.send(bob).get(), lambda: len(bob._objects), cycles)

    # 6. Rebinding one name 1,000 times must leave just the last pointer's tensor on bob.
    for _ in range(1000):
        q = torch.tensor([1.0, 2, 3, 4, 5]).send(bob)
    results["rebind_1000_objects"] = len(bob._objects)
    del q
    results["rebind_after_del_objects"] = len(bob._objects)
    return results


def hook_pairs(op, rounds, seconds, install, remove):
    op.calibrate(seconds)
    on, off, ratios = [], [], []
    for r in range(rounds):
        order = (False, True) if r % 2 == 0 else (True, False)  # ABBA: cancels order effects
        for hooked in order:
            (install if hooked else remove)()
            (on if hooked else off).append(op.once())
        ratios.append(on[-1] / off[-1])
    install()
    return {"on": summary(on), "off": summary(off), "ratio_median": statistics.median(ratios),
            "ratios": ratios, "n": op.n}


# --- the PySyft 0.2.4 peer -------------------------------------------------------------------
def find_peer():
    """(python of the PySyft 0.2.4 peer, None) or (None, why not). Never builds the peer."""
    env = os.environ.get("PYSYFT024_PYTHON")
    if env:
        path = Path(env).expanduser()
        return (str(path), None) if path.exists() else (None, f"PYSYFT024_PYTHON={env} does not exist")
    if not DEFAULT_PEER.exists():
        return None, f"{DEFAULT_PEER} does not exist (build it with ../shared/peers/pysyft-0.2.4.sh)"
    # The build script prints the peer's python, but builds it first if syft does not import:
    # run it only when the venv is complete, so that nothing is ever built from here.
    if PEER_BUILD_SCRIPT.exists() and subprocess.run(
            [str(DEFAULT_PEER), "-c", "import syft"], capture_output=True).returncode == 0:
        out = subprocess.run(["bash", str(PEER_BUILD_SCRIPT)], capture_output=True, text=True)
        lines = out.stdout.split()
        if out.returncode == 0 and lines:
            return lines[-1], None
    return str(DEFAULT_PEER), None


def run_peer(python, quick, script="peer_pysyft024.py"):
    """Run a peer script from bench/ with the peer's python: (its JSON, None) or (None, why not)."""
    cmd = [python, str(BENCH / script)] + (["--quick"] if quick else [])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        return None, f"peer failed ({out.returncode}): {out.stderr.strip()[-500:]}"
    try:
        return json.loads(out.stdout.strip().splitlines()[-1]), None
    except (ValueError, IndexError):
        return None, f"peer printed no JSON: {out.stdout.strip()[-300:]!r}"


# --- the report --------------------------------------------------------------------------------
def load():
    return " ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def verdict(ok):
    return "ok" if ok else "MISSED"


def print_core(res, rounds):
    local = res["local_after"]["median_us"]
    print(f"per-op time in µs: median of {rounds} rounds (each round = mean over n calls); "
          "min and max of the rounds show the noise")
    print(f"{'operation':34}{'median':>9}{'min':>9}{'max':>9}{'n':>9}{'x local':>9}   target")
    for key, label in LABELS.items():
        s = res[key]
        line = f"{label:34}{s['median_us']:9.2f}{s['min_us']:9.2f}{s['max_us']:9.2f}{s['n']:9d}"
        if key in TARGETS_US:
            line += f"{s['median_us'] / local:8.1f}x   <= {TARGETS_US[key]:.0f} µs: "
            line += verdict(s["median_us"] <= TARGETS_US[key])
        print(line)

    seq = res["local_after"]["median_us"] / res["local_before"]["median_us"]
    pairs = res["hook_pairs"]
    spread = res["local_before"]["max_us"] / res["local_before"]["min_us"] - 1
    print()
    print(f"local x + y after/before hook, two blocks in sequence: {seq:.3f}  "
          f"(within {HOOK_TOLERANCE:.0%}: {verdict(abs(seq - 1) <= HOOK_TOLERANCE)})")
    print(f"local x + y after/before hook, {len(pairs['ratios'])} interleaved pairs: "
          f"{pairs['ratio_median']:.3f}  (hooked {pairs['on']['median_us']:.2f} µs, "
          f"unhooked {pairs['off']['median_us']:.2f} µs; "
          f"within {HOOK_TOLERANCE:.0%}: {verdict(abs(pairs['ratio_median'] - 1) <= HOOK_TOLERANCE)})")
    print(f"noise: the 'before' rounds spread {spread:.1%} (max/min - 1); pair ratios ranged "
          f"{min(pairs['ratios']):.3f} .. {max(pairs['ratios']):.3f}")


def print_leaks(res):
    leak = res["leak"]
    print(f"leak check: {leak['cycles']:,} cycles of x.send(bob).get(), "
          f"{leak['us_per_cycle']:.1f} µs per cycle")
    print(f"{'cycles':>10}{'RSS MiB':>10}")
    for cycles, kb in leak["rss_kb"]:
        print(f"{cycles:>10,}{kb / 1024:10.1f}")
    rss = leak["rss_kb"]
    print(f"RSS growth: {rss[-1][1] - rss[0][1]:+,} KiB from 0, {rss[-1][1] - rss[1][1]:+,} KiB "
          f"after the first quarter")
    print(f"objects on bob at the end: {leak['objects_at_end']} (must be 0: "
          f"{verdict(leak['objects_at_end'] == 0)})")
    print(f"1,000 x `p = torch.tensor(...).send(bob)`: {res['rebind_1000_objects']} object(s) on "
          f"bob (must be 1: {verdict(res['rebind_1000_objects'] == 1)}); after `del p`: "
          f"{res['rebind_after_del_objects']}")


def print_side_by_side(ours, peer):
    v = peer.get("versions", {})
    print(f"ours (python {platform.python_version()}, torch {torch.__version__}) vs PySyft "
          f"{v.get('syft')} (python {v.get('python')}, torch {v.get('torch')}); median µs")
    print(f"{'operation':34}{'ours':>10}{'PySyft':>10}{'PySyft/ours':>13}")

    def row(label, a, b, fmt="{:10.2f}"):
        ratio = f"{b / a:12.1f}x" if a else f"{'-':>13}"
        print(f"{label:34}{fmt.format(a)}{fmt.format(b)}{ratio}")

    for key, label in LABELS.items():
        row(label, ours[key]["median_us"], peer[key]["median_us"])
    row("hook slowdown of x + y (ratio)", ours["local_after"]["median_us"] / ours["local_before"]["median_us"],
        peer["local_after"]["median_us"] / peer["local_before"]["median_us"], "{:10.3f}")
    row("x.send(bob).get() (leak loop)", ours["leak"]["us_per_cycle"], peer["leak"]["us_per_cycle"])
    growth = [r["leak"]["rss_kb"][-1][1] - r["leak"]["rss_kb"][1][1] for r in (ours, peer)]
    print(f"{'RSS growth after 1st quarter, KiB':34}{growth[0]:>+10,}{growth[1]:>+10,}")
    print(f"{'objects on bob after leak loop':34}{ours['leak']['objects_at_end']:>10}"
          f"{peer['leak']['objects_at_end']:>10}")
    print(f"{'objects after 1,000 rebinds':34}{ours['rebind_1000_objects']:>10}"
          f"{peer['rebind_1000_objects']:>10}")
    print("(the 'before hook' row compares torch versions, not the two libraries)")


def finish(start, args, ours, peer, why):
    """The closing line, and the results as JSON when asked (--json FILE)."""
    elapsed = time.perf_counter() - start
    print(f"\ntotal time: {elapsed:.0f} s; load average now {load()} (other processes add noise)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"ours": ours, "pysyft024": peer, "peer_note": why, "quick": args.quick,
                       "python": platform.python_version(), "torch": torch.__version__,
                       "cpus": os.cpu_count(), "seconds": elapsed}, f, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few, short rounds (smoke test)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--no-peer", action="store_true", help="skip the PySyft 0.2.4 peer")
    args = parser.parse_args()
    # 2 noisy cores: many rounds of ~0.25 s each; the median ignores the disturbed ones.
    rounds, seconds, cycles = (3, 0.02, 2000) if args.quick else (11, 0.25, 100_000)

    start = time.perf_counter()
    print(f"jupyter_syft core benchmark: python {platform.python_version()}, torch "
          f"{torch.__version__}, {os.cpu_count()} CPUs, {rounds} rounds of ~{seconds} s, "
          f"gc on{', QUICK' if args.quick else ''}; load average {load()}\n")
    ours = run_ours(rounds, seconds, cycles)
    print_core(ours, rounds)
    print()
    print_leaks(ours)
    print()

    peer, why = None, None
    if args.no_peer:
        why = "skipped (--no-peer)"
    else:
        python, why = find_peer()
        if python:
            peer, why = run_peer(python, args.quick)
    if peer:
        print_side_by_side(ours, peer)
    else:
        print(f"PySyft 0.2.4 peer: not available ({why})")

    finish(start, args, ours, peer, why)

    correct = (ours["leak"]["objects_at_end"] == 0 and ours["rebind_1000_objects"] == 1
               and ours["objects_before_leak_check"] == 0)
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main())
