"""Benchmark of network workers: a tiny remote op's round trip and 100 MB send/get throughput,
against raw pyzmq between the same two kinds of process, and PySyft 0.2.4's websocket worker.

    python bench/bench_network.py [--quick] [--json PATH] [--no-peer]

Everything runs on 127.0.0.1. Ours: a `jupyter_syft.cli worker` process, reached through a
NetworkWorker. Raw pyzmq: bench/zmq_echo.py, a ROUTER that answers at once, reached through a
DEALER in this process. Both servers are started here and stopped by their PID. The tiny op
(`x_ptr + x_ptr` on a 1-element tensor, result dropped) and a raw round trip of the same frames
are timed in turn, round after round; so are the 100 MB transfers, repetition by repetition.
PySyft 0.2.4 runs the same workload in bench/peer_network_pysyft024.py. See bench/README.md.
Exit status 1 if a correctness check fails (data changed in transit, objects left on bob).
"""
import argparse
import os
import platform
import secrets
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
from bench_core import find_peer, finish, load, run_peer  # noqa: E402  (also puts this checkout first)
from procs import Server, free_port  # noqa: E402
from timing import Op, measure  # noqa: E402

import torch  # noqa: E402
import zmq  # noqa: E402

TARGET_RATIO = 2.0  # tiny op round trip, ours / raw pyzmq
TARGET_GBPS = 1.0  # 100 MB send and get
PEER_SCRIPT = "peer_network_pysyft024.py"


# --- the servers -------------------------------------------------------------------------------
def start_worker(token):
    port = free_port()
    env = dict(os.environ, JUPYTER_SYFT_TOKEN=token, PYTHONPATH=str(REPO))
    return Server([sys.executable, "-m", "jupyter_syft.cli", "worker", "--id", "bob", "--port", str(port)],
                  port, env=env, cwd=str(REPO))


def start_echo(big_bytes):
    port = free_port()
    return Server([sys.executable, str(BENCH / "zmq_echo.py"), str(port), str(big_bytes)], port)


def raw_round_trip(sock, frames):
    sock.send_multipart(frames)
    return sock.recv_multipart()


def request_frames(bob, x_ptr):
    """The frames of one real `x_ptr + x_ptr` request (the raw baseline sends the same sizes)."""
    from jupyter_syft.workers import netwire

    seen = []
    round_trip = bob._round_trip
    bob._round_trip = lambda data, tensors: seen.append(data) or round_trip(data, tensors)
    try:
        x_ptr + x_ptr
    finally:
        del bob._round_trip
    return netwire.request_frames(1, bob._session, bob.token, seen[-1])


# --- 1. a tiny op's round trip -----------------------------------------------------------------
def tiny_ops(bob, raw, rounds, seconds):
    x_ptr = torch.tensor([1.0]).send(bob)
    frames = [bytes(f) for f in request_frames(bob, x_ptr)]
    ops = {
        "ours": Op("x + x", {"x": x_ptr}),  # result dropped: its delete rides on the next request
        "raw": Op("rt(sock, frames)", {"rt": raw_round_trip, "sock": raw, "frames": frames}),
    }
    res = measure(ops, rounds, seconds)
    ratios = [a / b for a, b in zip(res["ours"]["samples_us"], res["raw"]["samples_us"])]
    res["ratio_by_round"] = {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}
    res["frame_bytes"] = [len(f) for f in frames]
    del ops, x_ptr
    return res


# --- 2. 100 MB each way ------------------------------------------------------------------------
def transfers(bob, raw, nbytes, reps):
    """`.send(bob)` and `.get()` of a float32 tensor of nbytes, and raw pyzmq moving the same
    bytes without a copy (a frame to a sink that acknowledges it; a frame the server has ready),
    taken in turn, repetition by repetition (the order flips each time). Seconds per transfer."""
    big = torch.rand(nbytes // 4)
    view = memoryview(big.numpy()).cast("B")
    times = {"send": [], "get": [], "raw_send": [], "raw_get": []}
    checks = {"equal": True, "raw_bytes": True}

    def ours():
        t0 = time.perf_counter()
        ptr = big.send(bob)
        t1 = time.perf_counter()
        got = ptr.get()
        t2 = time.perf_counter()
        checks["equal"] &= torch.equal(got, big)
        times["send"].append(t1 - t0)
        times["get"].append(t2 - t1)

    def raw_pyzmq():
        t0 = time.perf_counter()
        raw.send_multipart([b"sink", view], copy=False)
        raw.recv_multipart()
        t1 = time.perf_counter()
        raw.send_multipart([b"big"])
        frames = raw.recv_multipart(copy=False)
        t2 = time.perf_counter()
        checks["raw_bytes"] &= len(frames[1]) == nbytes
        times["raw_send"].append(t1 - t0)
        times["raw_get"].append(t2 - t1)

    ours(), raw_pyzmq()  # warm-up: connections, allocator
    for key in times:
        times[key].clear()
    for rep in range(reps):
        for run in ((ours, raw_pyzmq) if rep % 2 == 0 else (raw_pyzmq, ours)):
            run()
    out = {key: gbps(nbytes, t) for key, t in times.items()}
    out.update(checks, nbytes=nbytes, reps=reps)
    return out


def gbps(nbytes, seconds):
    """Seconds per transfer -> GB/s (1e9 bytes) median/min/max, and the seconds themselves."""
    rates = [nbytes / s / 1e9 for s in seconds]
    return {"median_gbps": statistics.median(rates), "min_gbps": min(rates), "max_gbps": max(rates),
            "median_ms": statistics.median(seconds) * 1e3, "seconds": seconds}


def run_ours(rounds, seconds, nbytes, reps):
    import jupyter_syft as sy
    from jupyter_syft.workers import remove_worker

    hook = sy.TorchHook(torch)
    token = secrets.token_hex(16)
    context = zmq.Context.instance()
    with start_worker(token) as worker, start_echo(nbytes) as echo:
        bob = sy.NetworkWorker(hook, "127.0.0.1", worker.port, id="bob", token=token, timeout=120)
        raw = context.socket(zmq.DEALER)
        raw.linger = 0
        raw.connect(f"tcp://127.0.0.1:{echo.port}")
        try:
            results = {"tiny": tiny_ops(bob, raw, rounds, seconds)}
            results["transfer"] = transfers(bob, raw, nbytes, reps)
            results["objects_on_bob"] = len(bob._objects)  # one request: the summary
        finally:
            raw.close(0)
            bob.close()
            remove_worker(bob)
        results["pids"] = {"worker": worker.pid, "echo": echo.pid}
    results["exit_status"] = {"worker": worker.proc.returncode, "echo": echo.proc.returncode}
    return results


# --- the report --------------------------------------------------------------------------------
def verdict(ok):
    return "met" if ok else "MISSED"


def us(s):
    return f"{s['median_us']:8.1f} [{s['min_us']:.1f}-{s['max_us']:.1f}]"


def rate(s):
    def g(x):
        return f"{x:.2f}" if x >= 0.1 else f"{x:.2g}"  # PySyft's rates are in the thousandths
    return f"{g(s['median_gbps'])} [{g(s['min_gbps'])}-{g(s['max_gbps'])}]"


def print_tiny(t, peer, rounds):
    print(f"tiny op round trip, µs: median [min-max] of {rounds} rounds (each round = mean over n "
          "calls); ours and raw taken in turn, round after round")
    print(f"{'':44}{'µs median [min-max]':>26}{'n':>7}{'x raw':>8}")
    base = t["raw"]["median_us"]
    rows = [("ours: x_ptr + x_ptr (NetworkWorker)", t["ours"]),
            (f"raw pyzmq DEALER/ROUTER, {len(t['frame_bytes'])} frames "
             f"{'+'.join(map(str, t['frame_bytes']))} B", t["raw"])]
    if peer:
        rows.append((f"PySyft {peer['versions']['syft']} websocket: x_ptr + x_ptr", peer["tiny"]))
    for label, s in rows:
        print(f"{label:44}{us(s):>26}{s['n']:7d}{s['median_us'] / base:7.2f}x")
    r = t["ratio_by_round"]
    print(f"ours / raw, by round: {r['median']:.2f}x [{r['min']:.2f}-{r['max']:.2f}]; "
          f"target <= {TARGET_RATIO:g}x: {verdict(r['median'] <= TARGET_RATIO)}")
    if peer:
        print(f"PySyft / ours: {peer['tiny']['median_us'] / t['ours']['median_us']:.1f}x (PySyft's "
              "dropped result is deleted by a message of its own: two round trips per op)")


def print_transfers(tr, peer):
    mb = tr["nbytes"] / 1e6
    print(f"{mb:g} MB float32 tensor, GB/s (1e9 bytes/s): median [min-max] of {tr['reps']} "
          "repetitions; ours and raw taken in turn")
    print(f"{'':44}{'send GB/s':>24}{'ms':>8}{'get GB/s':>24}{'ms':>8}")

    def row(label, send, get):
        print(f"{label:44}{rate(send):>24}{send['median_ms']:8.0f}{rate(get):>24}{get['median_ms']:8.0f}")

    row("ours: x.send(bob) / ptr.get()", tr["send"], tr["get"])
    row("raw pyzmq, zero-copy", tr["raw_send"], tr["raw_get"])
    if peer:
        v = peer["versions"]["syft"]
        for p in (peer["transfer"], peer.get("transfer_large")):
            if p:
                row(f"PySyft {v} websocket, {p['nbytes'] / 1e6:g} MB, {p['reps']} rep.", p["send"], p["get"])
    for key in ("send", "get"):
        s = tr[key]
        print(f"ours {key}: {s['median_gbps']:.2f} GB/s, {s['median_gbps'] / tr['raw_' + key]['median_gbps']:.0%} "
              f"of raw pyzmq; target >= {TARGET_GBPS:g} GB/s: {verdict(s['median_gbps'] >= TARGET_GBPS)}")
    if peer:
        p = peer.get("transfer_large") or peer["transfer"]
        print(f"ours / PySyft (GB/s): send {tr['send']['median_gbps'] / p['send']['median_gbps']:.0f}x, get "
              f"{tr['get']['median_gbps'] / p['get']['median_gbps']:.0f}x, against its {p['nbytes'] / 1e6:g} MB "
              "rates (PySyft hex-encodes every message, and its client checks a reply's UTF-8 in Python)")
    print(f"data intact after send and get: {'ok' if tr['equal'] else 'FAILED'}; raw frames of the "
          f"right size: {'ok' if tr['raw_bytes'] else 'FAILED'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few, short rounds, 4 MB (smoke test)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--no-peer", action="store_true", help="skip the PySyft 0.2.4 peer")
    args = parser.parse_args()
    rounds, seconds, nbytes, reps = (3, 0.02, 4_000_000, 2) if args.quick else (11, 0.25, 100_000_000, 7)

    start = time.perf_counter()
    print(f"jupyter_syft network benchmark: python {platform.python_version()}, torch "
          f"{torch.__version__}, pyzmq {zmq.__version__} (libzmq {zmq.zmq_version()}), "
          f"{os.cpu_count()} CPUs, 127.0.0.1, gc on{', QUICK' if args.quick else ''}; "
          f"load average {load()}\n")
    ours = run_ours(rounds, seconds, nbytes, reps)

    peer, why = None, "skipped (--no-peer)"
    if not args.no_peer:
        python, why = find_peer()
        if python:
            peer, why = run_peer(python, args.quick, PEER_SCRIPT)
    print_tiny(ours["tiny"], peer, rounds)
    print()
    print_transfers(ours["transfer"], peer)
    print()
    if not peer:
        print(f"PySyft 0.2.4 peer: not available ({why})")
    else:
        print(f"PySyft {peer['versions']['syft']} (python {peer['versions']['python']}, torch "
              f"{peer['versions']['torch']}): its data intact after send and get: "
              f"{'ok' if all(peer[k]['equal'] for k in ('transfer', 'transfer_large') if k in peer) else 'FAILED'}"
              f"; objects on its bob at the end: {peer['objects_on_bob']}; its server stopped by PID "
              f"{peer['server_pid']} (exit {peer['exit_status']})")
    print(f"objects on bob at the end: {ours['objects_on_bob']} (must be 0: "
          f"{'ok' if ours['objects_on_bob'] == 0 else 'FAILED'}); servers stopped by PID "
          f"{ours['pids']['worker']} (exit {ours['exit_status']['worker']}) and "
          f"{ours['pids']['echo']} (exit {ours['exit_status']['echo']})")

    finish(start, args, ours, peer, why)
    correct = ours["transfer"]["equal"] and ours["transfer"]["raw_bytes"] and ours["objects_on_bob"] == 0
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main())
