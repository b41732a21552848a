"""FedAvg rounds on Ray-hosted workers vs a plain PyTorch loop vs Flower's simulation.

    python bench/bench_ray.py [--sizes 10 100 1000 10000] [--quick] [--no-peer] [--json PATH]
    make bench-ray

The task (issue 12): the 13-32-24-1 MLP of bench_federated.py, 8 rows per client (client i's rows
drawn from seed 1000 + i), 1 local epoch (one SGD step, batch 8, lr 0.01, MSE), every client in
every round, the average weighted by rows. Rows:

  ours    a RayWorkerPool with one actor per CPU and max(sizes) workers; each client's rows made on
          its actor once (pool.partition); a round is pool.fedavg(model, plan, workers=the first N):
          the global model goes out once, the plan (bench_plans.py's train_step) runs on every
          worker, the actors send back row-weighted sums.
  plain   one process, one thread: for each client, load the global weights into one model, one SGD
          step on its rows (kept in memory), add the weights up; divide.
  flower  bench/peer_flower.py with the Flower peer's python (shared/peers/flower.sh; never built
          from here): flwr's run_simulation on its pinned Ray, 4 actors (its best setting here).

Ours and plain are timed in turn, round after round, in this process; Flower runs after Ray is shut
down here, in the same loopback-only namespace. A round of ours must first give the plain loop's
weights (within 1e-6; both sum in float64 for that check), or the exit status is 1. The first
round of each (actors warming up) is not counted; medians, min and max over the rest. Ray runs
with node address 127.0.0.1 in a network namespace with only loopback: started outside one, this script re-runs itself under `unshare -n`.
Targets (printed, not enforced): faster than Flower at every size; within 2x of plain at 1,000
and 10,000 clients.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
ROWS, LR, DATA_SEED = 8, 0.01, 1000
FLOWER_PEER = Path.home() / ".cache" / "flower-peer" / "bin" / "python"


def loopback_only():
    with open("/proc/self/net/dev") as f:
        return [line.split(":")[0].strip() for line in f.readlines()[2:]] == ["lo"]


def enter_loopback_namespace():
    """Re-run this script in a network namespace of its own with only loopback, up."""
    unshare = shutil.which("unshare")
    if unshare is None:
        sys.exit("bench_ray.py needs util-linux's unshare to keep Ray on loopback")
    flags = "-n" if os.geteuid() == 0 else "-rn"
    command = " ".join(["ip link set lo up && exec", sys.executable, *map(_quote, sys.argv)])
    os.execv(unshare, [unshare, flags, "sh", "-c", command])


def _quote(s):
    import shlex

    return shlex.quote(s)


sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import torch  # noqa: E402


def partition(i):
    g = torch.Generator().manual_seed(DATA_SEED + i)
    return torch.randn(ROWS, 13, generator=g), torch.randn(ROWS, 1, generator=g)


def plain_round(model, global_params, data, sum_dtype=None):
    """One FedAvg round the plain way; returns the averaged parameters. The check sums in
    float64 (sum_dtype), as ours does: float32 sums of 80,000 terms in two orders differ by 2e-5."""
    params = list(model.parameters())
    sums = [torch.zeros_like(p, dtype=sum_dtype) for p in params]
    total = 0
    for x, y in data:
        with torch.no_grad():
            for p, g in zip(params, global_params):
                p.copy_(g)
        opt = torch.optim.SGD(params, lr=LR)
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            for s, p in zip(sums, params):
                s.add_(p, alpha=len(x))
        total += len(x)
    return [(s / total).to(p.dtype) for s, p in zip(sums, params)]


def stats(samples):
    return {"median_s": statistics.median(samples), "min_s": min(samples), "max_s": max(samples),
            "rounds": len(samples), "samples_s": samples}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def ray_processes():
    netns = os.readlink("/proc/self/ns/net")
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if int(pid) == os.getpid() or os.readlink(f"/proc/{pid}/ns/net") != netns:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if any(k in cmd for k in ("raylet", "gcs_server", "ray::", "ray/_private", "default_worker.py")):
            found.append(int(pid))
    return found


def run_ours_and_plain(sizes, rounds, log):
    import ray

    torch.set_num_threads(1)
    import jupyter_syft as sy
    from bench_federated import Net
    from bench_plans import train_step
    from jupyter_syft.ray import RayWorkerPool

    sy.TorchHook(torch)
    out = {"setup": {}}
    t = time.perf_counter()
    ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
             _node_ip_address="127.0.0.1")  # a Ray of its own, never one found running
    out["setup"]["ray_init_s"] = time.perf_counter() - t
    try:
        t = time.perf_counter()
        pool = RayWorkerPool(0)
        out["setup"]["actors"] = len(pool.actors)
        out["setup"]["actors_start_s"] = time.perf_counter() - t
        pids = [w["pid"] for w in pool.where]
        rss0 = sum(rss_kib(p) for p in pids)
        n = max(sizes)
        t = time.perf_counter()
        pool.add_workers([f"worker-{i}" for i in range(n)])
        out["setup"]["add_workers_s"] = time.perf_counter() - t
        rss1 = sum(rss_kib(p) for p in pids)
        t = time.perf_counter()
        pool.partition(partition)
        out["setup"]["partition_s"] = time.perf_counter() - t
        rss2 = sum(rss_kib(p) for p in pids)
        out["setup"].update(workers=n, actors_rss_mib=rss0 / 1024,
                            kib_per_worker=(rss1 - rss0) / n, kib_per_worker_with_rows=(rss2 - rss0) / n)
        log(f"ray.init {out['setup']['ray_init_s']:.1f} s; {len(pids)} actors in "
            f"{out['setup']['actors_start_s']:.1f} s ({rss0 / 1024:.0f} MiB); {n:,} workers in "
            f"{out['setup']['add_workers_s']:.2f} s (+{(rss1 - rss0) / n:.1f} KiB each, "
            f"{(rss2 - rss0) / n:.1f} KiB with their rows); partitions made on the actors in "
            f"{out['setup']['partition_s']:.2f} s")

        torch.manual_seed(0)
        model, plain_model = Net(), Net()
        plan = sy.func2plan()(train_step)
        plan.build(torch.zeros(ROWS, 13), torch.zeros(ROWS, 1),
                   *[p.detach().clone().requires_grad_() for p in model.parameters()])
        data = [partition(i) for i in range(n)]
        out["sizes"] = []
        for size, r in zip(sizes, rounds):
            ids = pool.ids[:size]
            start = [p.detach().clone() for p in model.parameters()]
            got = pool.fedavg(model, plan, workers=ids)  # also warms the actors up for this size
            expected = plain_round(plain_model, start, data[:size], sum_dtype=torch.float64)
            diff = max((a - b).abs().max().item() for a, b in zip(got.params, expected))
            entry = {"clients": size, "check_max_abs_diff": diff, "check_ok": diff <= 1e-6}
            if not entry["check_ok"]:
                log(f"{size} clients: FAILED check, max |difference| {diff:.2e}")
                out["sizes"].append(entry)
                continue
            ours, plain, stragglers = [], [], []
            for _ in range(r):
                g = [p.detach().clone() for p in model.parameters()]
                t = time.perf_counter()
                plain_round(plain_model, g, data[:size])
                plain.append(time.perf_counter() - t)
                t = time.perf_counter()
                res = pool.fedavg(model, plan, workers=ids)
                ours.append(time.perf_counter() - t)
                stragglers.append(res.straggler_s)
            entry.update(ours=stats(ours), plain=stats(plain), straggler_s=statistics.median(stragglers))
            out["sizes"].append(entry)
            log(f"{size:>6} clients: ours {entry['ours']['median_s']:.3f} s, plain "
                f"{entry['plain']['median_s']:.3f} s per round (check: max |diff| {diff:.1e})")
        out["summary"] = {k: v for k, v in pool.summary().items() if k != "hosts"}
        pool.close()
    finally:
        ray.shutdown()
    deadline = time.monotonic() + 30
    while ray_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    out["ray_processes_left"] = ray_processes()
    return out


def run_flower(python, sizes, rounds, actors, log):
    path = os.path.join(tempfile.gettempdir(), "bench_ray_flower_%d.json" % os.getpid())
    cmd = [python, str(BENCH / "peer_flower.py"), "--clients", *map(str, sizes),
           "--rounds", *map(str, rounds), "--actors", str(actors), "--json", path]
    log("flower: " + " ".join(cmd[1:]))
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=4 * 3600)
    result = None
    if os.path.exists(path):
        with open(path) as f:
            result = json.load(f)
        os.remove(path)
    left = ray_processes()
    if done.returncode != 0:
        log(f"flower peer exited {done.returncode}: {done.stderr[-600:]}")
    return result, left


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--rounds", type=int, nargs="+", help="timed rounds per size")
    parser.add_argument("--flower-rounds", type=int, nargs="+",
                        help="Flower's rounds per size, the first not counted (default 4 4 3 2)")
    parser.add_argument("--quick", action="store_true", help="sizes 10 and 100, few rounds")
    parser.add_argument("--no-peer", action="store_true", help="skip Flower")
    parser.add_argument("--flower-actors", type=int, default=4)
    parser.add_argument("--json")
    args = parser.parse_args()
    if not loopback_only():
        enter_loopback_namespace()
    if args.quick:
        args.sizes = [10, 100]
    defaults = {10: 20, 100: 20, 1000: 7, 10000: 5}
    rounds = args.rounds or [3 if args.quick else defaults.get(s, 5) for s in args.sizes]
    flower_rounds = args.flower_rounds or [{10: 4, 100: 4, 1000: 3}.get(s, 2) for s in args.sizes]
    began = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - began:6.0f} s] {msg}", file=sys.stderr, flush=True)

    ours = run_ours_and_plain(args.sizes, rounds, log)
    flower, why, flower_left = None, None, []
    if args.no_peer:
        why = "--no-peer"
    elif not FLOWER_PEER.exists() and not os.environ.get("FLOWER_PYTHON"):
        why = f"{FLOWER_PEER} does not exist (build it with shared/peers/flower.sh)"
    else:
        flower, flower_left = run_flower(os.environ.get("FLOWER_PYTHON", str(FLOWER_PEER)), args.sizes,
                                         flower_rounds, args.flower_actors, log)
    report(args, ours, flower, why, flower_left, time.perf_counter() - began)
    ok = all(e["check_ok"] for e in ours["sizes"]) and not ours["ray_processes_left"] and not flower_left
    sys.exit(0 if ok else 1)


def report(args, ours, flower, why, flower_left, elapsed):
    fl = {}
    for e in (flower or {}).get("sizes", []):
        steady = e["rounds_s"][1:] or e["rounds_s"]
        fl[e["clients"]] = {"median_s": statistics.median(steady), "min_s": min(steady), "max_s": max(steady),
                            "rounds": len(steady), "first_round_s": e["rounds_s"][0] if e["rounds_s"] else None}
    s = ours["setup"]
    print(f"FedAvg round, 13-32-24-1 MLP, {ROWS} rows per client, 1 local epoch; {os.cpu_count()} CPUs, "
          f"torch {torch.__version__}; load average {' '.join('%.2f' % v for v in os.getloadavg())}")
    print(f"ours: {s['actors']} actors; ray.init {s['ray_init_s']:.1f} s, actors {s['actors_start_s']:.1f} s, "
          f"{s['workers']:,} workers {s['add_workers_s']:.2f} s ({s['kib_per_worker']:.1f} KiB each, "
          f"{s['kib_per_worker_with_rows']:.1f} with their rows), partitions {s['partition_s']:.2f} s")
    if flower:
        print(f"flower: flwr {flower['flwr']}, ray {flower['ray']}, {flower['actors']} actors")
    else:
        print(f"flower: not run ({why})")
    print("seconds per round: median [min-max] over the timed rounds (first rounds not counted)")
    print(f"{'clients':>8} {'ours':>22} {'plain loop':>22} {'flower':>22} {'ours/plain':>11} "
          f"{'flower/ours':>12}  targets")
    fmt = lambda d: f"{d['median_s']:.3f} [{d['min_s']:.3f}-{d['max_s']:.3f}]" if d else "-"  # noqa: E731
    for e in ours["sizes"]:
        if not e["check_ok"]:
            print(f"{e['clients']:>8}  check FAILED (max |diff| {e['check_max_abs_diff']:.2e})")
            continue
        o, p, f = e["ours"], e["plain"], fl.get(e["clients"])
        ratio = o["median_s"] / p["median_s"]
        faster = f"{f['median_s'] / o['median_s']:.1f}x" if f else "-"
        targets = [("faster than flower", f["median_s"] > o["median_s"])] if f else []
        if e["clients"] >= 1000:
            targets.append(("<= 2x plain", ratio <= 2))
        verdicts = ", ".join(f"{name}: {'ok' if good else 'MISSED'}" for name, good in targets)
        print(f"{e['clients']:>8} {fmt(o):>22} {fmt(p):>22} {fmt(f):>22} {ratio:>10.2f}x {faster:>12}  {verdicts}")
    print(f"Ray processes left after ours: {len(ours['ray_processes_left'])}; after flower: {len(flower_left)}")
    print(f"total time: {elapsed:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"ours": ours, "flower": flower, "flower_steady": fl, "peer_note": why,
                       "seconds": elapsed}, fh, indent=1)


if __name__ == "__main__":
    main()
