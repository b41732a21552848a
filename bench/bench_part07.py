"""Benchmark of one epoch of Part 07 (federated Boston housing over the sandbox's six workers):
plain torch vs jupyter_syft vs PySyft 0.2.4, with messages per batch.

    python bench/bench_part07.py [--quick] [--no-peer]

Both loops are part07_workload.py's: batches of 32 rows, one Adam per worker, MSE. The plain
loop trains on the same rows, in the same order, locally; the two are timed in turn, round after
round. Before timing, one federated epoch must give the same summed loss as one plain epoch.
"""
import argparse
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from bench_core import find_peer, load, run_peer  # noqa: E402  (also puts this checkout first)
from timing import Op, measure  # noqa: E402

import torch  # noqa: E402

import part07_workload as work  # noqa: E402


def watched_epoch(fed):
    """An epoch with `%syft training`'s view following it (its widget without a front end)."""
    from jupyter_syft import training
    from jupyter_syft.widgets import LiveViews

    live = LiveViews()
    live.training_view()
    listener = live._on_training_event
    training.log.unsubscribe(listener)  # on only while the watched epoch runs

    def epoch():
        training.log.subscribe(listener)
        try:
            work.federated_epoch(*fed)
        finally:
            training.log.unsubscribe(listener)
    return epoch


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    rounds, seconds = (3, 0.1) if args.quick else (9, 0.5)
    torch.set_num_threads(1)

    import jupyter_syft as sy
    gbs = {"torch": torch}
    sy.create_sandbox(gbs, verbose=False)
    fed = work.federated_setup(sy, gbs)
    parts = [(w, ds.data.copy().get(), ds.targets.copy().get())
             for w, ds in fed[2].federated_dataset.datasets.items()]
    plain = work.local_setup(parts)

    workers = gbs["workers"]
    before = sum(w.traffic["messages"] for w in workers)
    batches, fed_loss = work.federated_epoch(*fed)
    messages = sum(w.traffic["messages"] for w in workers) - before
    _, plain_loss = work.local_epoch(*plain)
    same = abs(fed_loss - plain_loss) <= 1e-3 * max(1.0, abs(plain_loss))
    print(f"jupyter_syft Part 07 epoch benchmark; load average {load()}")
    print(f"correctness: first epoch's summed loss, federated {fed_loss:.4f} vs plain "
          f"{plain_loss:.4f}: {'ok' if same else 'FAILED'}; {batches} batches, "
          f"{messages / batches:.1f} messages per batch")
    if not same:
        return 1

    watched = watched_epoch(fed)
    results = measure({"plain": Op("work.local_epoch(*plain)", {"work": work, "plain": plain}),
                       "ours": Op("work.federated_epoch(*fed)", {"work": work, "fed": fed}),
                       "ours, watched": Op("watched()", {"watched": watched})},
                      rounds, seconds)
    print("ms per epoch: median [min-max]")
    for name, r in results.items():
        print(f"  {name:13} {r['median_us'] / 1e3:8.2f} [{r['min_us'] / 1e3:.2f}-{r['max_us'] / 1e3:.2f}]")
    ratio = results["ours"]["median_us"] / results["plain"]["median_us"]
    print(f"ours / plain torch: {ratio:.1f}x (target <= 2x)")
    cost = results["ours, watched"]["median_us"] / results["ours"]["median_us"] - 1
    print(f"a training view watching the loop: {cost * 100:+.1f}% per epoch (target < 5%)")

    python, why = (None, "skipped (--no-peer)") if args.no_peer else find_peer()
    peer = None
    if python:
        peer, why = run_peer(python, args.quick, "peer_part07_pysyft024.py")
    if peer:
        print(f"PySyft 0.2.4: {peer['epoch_ms_median']:.2f} ms per epoch "
              f"[{peer['epoch_ms_min']:.2f}-{peer['epoch_ms_max']:.2f}], "
              f"{peer['messages_per_batch']:.1f} messages per batch; PySyft / ours: "
              f"{peer['epoch_ms_median'] * 1e3 / results['ours']['median_us']:.1f}x")
    else:
        print(f"PySyft 0.2.4 peer: not available ({why})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
