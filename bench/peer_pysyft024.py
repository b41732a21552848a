"""The bench_core.py workload on PySyft 0.2.4 (Python 3.7, torch 1.4), for a side-by-side table.

Run with the peer's python (see bench/README.md); prints one line of JSON on stdout.
    python bench/peer_pysyft024.py [--quick]
Python 3.7 compatible on purpose: no walrus, no f-string "=".
"""
import argparse
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import Op, leak_check, measure  # noqa: E402

import torch  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few iterations (smoke test)")
    args = parser.parse_args()
    rounds, seconds, cycles = (3, 0.02, 2000) if args.quick else (11, 0.25, 100000)

    # stdout carries only the JSON; anything syft prints while importing or hooking goes to stderr.
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    results = {"rounds": rounds}

    # Before the hook, and before importing syft at all: plain torch.
    x, y = torch.tensor([1.0, 2, 3, 4, 5]), torch.tensor([5.0, 4, 3, 2, 1])
    results["local_before"] = measure({"local": Op("x + y", {"x": x, "y": y})}, rounds, seconds)["local"]

    import syft as sy
    hook = sy.TorchHook(torch)
    bob = sy.VirtualWorker(hook, id="bob")

    # After the hook: PySyft 0.2's hook wraps every torch method, so plain tensors slow down.
    x, y = torch.tensor([1.0, 2, 3, 4, 5]), torch.tensor([5.0, 4, 3, 2, 1])
    results["local_after"] = measure({"local": Op("x + y", {"x": x, "y": y})}, rounds, seconds)["local"]

    p = torch.tensor([1.0, 2, 3, 4, 5]).send(bob)
    ops = {
        "ptr_add": Op("p + p", {"p": p}),  # result dropped: its remote delete is included
        "send": Op("x.send(bob)", {"x": x, "bob": bob}),  # pointer dropped likewise
        "add_get": Op("(p + p).get()", {"p": p}),
    }
    results.update(measure(ops, rounds, seconds))
    del p, ops  # bob must be empty before the leak check

    results["leak"] = leak_check(lambda: x.send(bob).get(), lambda: len(bob._objects), cycles)

    # Rebinding one name 1,000 times must leave just the last pointer's tensor on bob.
    for _ in range(1000):
        q = torch.tensor([1.0, 2, 3, 4, 5]).send(bob)
    results["rebind_1000_objects"] = len(bob._objects)
    del q
    results["rebind_after_del_objects"] = len(bob._objects)

    results["versions"] = {"python": platform.python_version(), "torch": torch.__version__,
                           "syft": sy.__version__}
    sys.stdout = real_stdout
    print(json.dumps(results))


if __name__ == "__main__":
    main()
