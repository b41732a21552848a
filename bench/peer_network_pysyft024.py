"""The bench_network.py workload on PySyft 0.2.4's websocket worker (Python 3.7, torch 1.4).

    python bench/peer_network_pysyft024.py [--quick] [--mb N]   # prints one line of JSON
    python bench/peer_network_pysyft024.py --serve PORT         # the server (started by the above)

Starts `WebsocketServerWorker(hook, host="127.0.0.1", port=P, id="bob").start()` in a process of
its own (this script with --serve), connects `WebsocketClientWorker(hook, "127.0.0.1", P,
id="bob")`, times `x_ptr + x_ptr` on a 1-element tensor (result dropped), `.send(bob)` and
`.get()` of a 10 MB float32 tensor (3 times) and of 100 MB (once), and stops the server by its
PID. Run with the peer's python (see
bench/README.md). Python 3.7 compatible on purpose: no walrus, no f-string "=".
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import Server, free_port  # noqa: E402
from timing import Op, measure  # noqa: E402

import torch  # noqa: E402

# PySyft 0.2.4 hex-encodes every message, and its client checks the UTF-8 of a reply in pure
# Python: a get runs at about 2 MB/s, 55 s for 100 MB. So send and get are timed on 10 MB (3
# repetitions after a warm-up) and once on 100 MB (about a minute).
SMALL_MB, LARGE_MB, QUICK_MB = 10, 100, 1


def serve(port):
    import syft as sy
    from syft.workers.websocket_server import WebsocketServerWorker

    hook = sy.TorchHook(torch)
    WebsocketServerWorker(hook, host="127.0.0.1", port=port, id="bob").start()  # until killed


def gbps(nbytes, seconds):
    rates = [nbytes / s / 1e9 for s in seconds]
    return {"median_gbps": statistics.median(rates), "min_gbps": min(rates), "max_gbps": max(rates),
            "median_ms": statistics.median(seconds) * 1e3, "seconds": seconds}


def transfers(bob, nbytes, reps, warm_up=True):
    """x.send(bob) and ptr.get() of nbytes of float32, reps times (after a warm-up)."""
    big = torch.rand(nbytes // 4)
    times = {"send": [], "get": []}
    equal = True
    for rep in range(reps + warm_up):
        t0 = time.perf_counter()
        ptr = big.send(bob)
        t1 = time.perf_counter()
        got = ptr.get()
        t2 = time.perf_counter()
        equal = equal and torch.equal(got, big)
        if rep or not warm_up:
            times["send"].append(t1 - t0)
            times["get"].append(t2 - t1)
        del ptr, got
    out = {key: gbps(nbytes, seconds) for key, seconds in times.items()}
    out.update(equal=equal, nbytes=nbytes, reps=reps)
    return out



def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few, short rounds (smoke test)")
    parser.add_argument("--mb", type=float, help="send and get this many MB (1e6 bytes) instead")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve)
    rounds, seconds, reps = (3, 0.02, 1) if args.quick else (11, 0.25, 3)
    nbytes = int((args.mb or (QUICK_MB if args.quick else SMALL_MB)) * 1e6)

    # stdout carries only the JSON; anything syft prints while importing or hooking goes to stderr.
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    import syft as sy
    from syft.workers.websocket_client import WebsocketClientWorker

    hook = sy.TorchHook(torch)
    port = free_port()
    server = Server([sys.executable, os.path.abspath(__file__), "--serve", str(port)], port)
    results = {"rounds": rounds, "server_pid": server.pid}
    try:
        bob = WebsocketClientWorker(hook, "127.0.0.1", port, id="bob")
        x_ptr = torch.tensor([1.0]).send(bob)
        results["tiny"] = measure({"tiny": Op("x + x", {"x": x_ptr})}, rounds, seconds)["tiny"]
        del x_ptr
        results["transfer"] = transfers(bob, nbytes, reps)
        if not args.quick and not args.mb:
            results["transfer_large"] = transfers(bob, int(LARGE_MB * 1e6), 1, warm_up=False)
        results["objects_on_bob"] = bob.objects_count_remote()
        bob.close()
    finally:
        results["exit_status"] = server.stop()
    results["versions"] = {"python": platform.python_version(), "torch": torch.__version__,
                           "syft": sy.__version__}
    sys.stdout = real_stdout
    print(json.dumps(results))


if __name__ == "__main__":
    main()
