"""bench_part07.py's epoch on PySyft 0.2.4 (Python 3.7, torch 1.4); prints one line of JSON.
Python 3.7 compatible on purpose."""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import Op, measure  # noqa: E402

import torch  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds, seconds = (3, 0.1) if args.quick else (9, 0.5)
    torch.set_num_threads(1)
    real_stdout, sys.stdout = sys.stdout, sys.stderr  # syft's own prints go to stderr
    import syft as sy
    import part07_workload as work

    gbs = {"torch": torch}
    sy.create_sandbox(gbs, verbose=False)
    fed = work.federated_setup(sy, gbs)
    workers = gbs["workers"]
    for w in workers:
        w.log_msgs = True
    batches, _ = work.federated_epoch(*fed)
    messages = sum(len(w.msg_history) for w in workers)
    for w in workers:
        w.log_msgs = False
        w.msg_history = []
    r = measure({"epoch": Op("work.federated_epoch(*fed)", {"work": work, "fed": fed})},
                rounds, seconds)["epoch"]
    sys.stdout = real_stdout
    print(json.dumps({"epoch_ms_median": r["median_us"] / 1e3, "epoch_ms_min": r["min_us"] / 1e3,
                      "epoch_ms_max": r["max_us"] / 1e3, "messages_per_batch": messages / batches,
                      "batches": batches}))


if __name__ == "__main__":
    main()
