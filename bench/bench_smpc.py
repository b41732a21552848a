"""Benchmark of secret sharing: shared ops against plain torch, and Part 12 bis's encrypted training.

    python bench/bench_smpc.py [--quick] [--json PATH] [--no-peer] [--epochs N] [--no-peer-training]

1. Four ops on 100x100 float32 tensors in fixed precision (3 digits), additively shared between
   bob and alice with james as the crypto provider: shared * shared, shared.mm(shared),
   F.relu(shared) and shared + shared, each timed in turn with plain torch's same op on the same
   float inputs, round after round, and given as a ratio to it round by round. The PySyft 0.2.4
   peer (bench/peer_smpc_pysyft024.py) times the same ops, and plain torch 1.4 beside them.
2. Part 12 bis: a 784-128-64-10 MLP trained on 640 MNIST items (the subset shipped in
   jupyter_syft/data/mnist) in batches of 64, fixed precision (3 digits) shared between two
   workers with a crypto provider, SGD lr 0.02 (.fix_precision()), MSE against one-hot targets
   with .refresh() and / batch_size; seconds per batch and the accuracy on 640 test items after
   each epoch, and the same training in plain torch from the same initial weights. The peer runs
   PySyft's own version of it unless --no-peer-training.

Both processes run torch.set_num_threads(1). Before anything is timed, each op's result
(.get().float_precision()) must match plain torch within TOLERANCE (peer_smpc_pysyft024.py), the
workers must hold only the two shared inputs, and after the training nothing once its tensors are
dropped: otherwise the exit status is 1. Targets only print.
See bench/README.md.
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
sys.path.insert(0, str(BENCH))
from bench_core import find_peer, finish, load  # noqa: E402  (also puts this checkout first)
# The workload is the peer's, so that both libraries run the very same code (it stays 3.7).
from peer_smpc_pysyft024 import (BATCH, DIGITS, LR, PRECISION, QUICK_ITEMS, SIZE, TRAIN_ITEMS,  # noqa: E402
                                 check_ops, inputs, objects, run_ops, run_training)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

PEER_SCRIPT = "peer_smpc_pysyft024.py"

# --- part 1: the ops --------------------------------------------------------------------------------
# name: (label, our statement on shared tensors xs and ys, plain torch's on x and y); the peer's
# OPS has PySyft's. Correctness bounds and their reasons: TOLERANCE in peer_smpc_pysyft024.py.
OPS = {
    "mul": ("shared * shared", "xs * ys", "x * y"),
    "mm": ("shared.mm(shared)", "xs.mm(ys)", "x.mm(y)"),
    "relu": ("F.relu(shared)", "F.relu(xs)", "F.relu(x)"),
    "add": ("shared + shared", "xs + ys", "x + y"),
}
TARGETS = {"mul": 100, "mm": 100, "relu": 1000}  # x plain torch, median; print only
# CrypTen (2 parties, CPU), from its repository's 2020 benchmark data: x plain torch.
CRYPTEN = {"mul": 520, "mm": 120, "relu": 5400}

# --- part 2: Part 12 bis ---------------------------------------------------------------------------
TRAIN_TARGET_S, TRAIN_TARGET_ACC = 0.2, 0.75  # per batch, after 10 epochs; print only
PYSYFT_PER_BATCH = {"measured here before (its notebook)": 4.4, "its text": 3.2}
PYSYFT_ACCURACY = 0.75  # its text, after 10 epochs


def setup():
    import jupyter_syft as sy

    hook = sy.TorchHook(torch)
    return (sy.VirtualWorker(hook, id="bob"), sy.VirtualWorker(hook, id="alice"),
            sy.VirtualWorker(hook, id="james"))


def check(ns, workers):
    rows = check_ops(ns, {name: (shared, plain) for name, (_, shared, plain) in OPS.items()})
    held = objects(workers)
    expected = {"bob": 2, "alice": 2, "james": 0}  # the shares of x and y, nothing else
    return {"ops": rows, "objects": held, "objects_ok": held == expected,
            "ok": held == expected and all(r["ok"] for r in rows.values())}


def mnist_batches(items):
    """The first `items` train and test items of the shipped subset, in batches of BATCH, read
    through jupyter_syft.vision (torchvision's MNIST, ToTensor and Normalize), not shuffled."""
    from jupyter_syft.vision import SUBSET, datasets, transforms

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    root = SUBSET.parent  # no MNIST/raw/ there: the shipped subset is read
    out = []
    for train in (True, False):
        loader = torch.utils.data.DataLoader(datasets.MNIST(root, train=train, transform=tf), batch_size=BATCH)
        out.append([batch for i, batch in enumerate(loader) if i < items / BATCH])
    return out


# --- the peer ------------------------------------------------------------------------------------
def run_peer(python, quick, epochs, train):
    cmd = [python, str(BENCH / PEER_SCRIPT), "--epochs", str(epochs)]
    cmd += (["--quick"] if quick else []) + ([] if train else ["--no-train"])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=7200)
    if out.returncode != 0:
        return None, f"peer failed ({out.returncode}): {out.stderr.strip()[-500:]}"
    try:
        return json.loads(out.stdout.strip().splitlines()[-1]), None
    except (ValueError, IndexError):
        return None, f"peer printed no JSON: {out.stdout.strip()[-300:]!r}"


# --- the report --------------------------------------------------------------------------------
def spread(s, scale=1e-3, fmt="{:.3f}"):
    """median [min-max] of a timing summary, in ms by default."""
    f = fmt.format
    return f"{f(s['median_us'] * scale)} [{f(s['min_us'] * scale)}-{f(s['max_us'] * scale)}]"


def ratio(r):
    return f"{r['median']:.0f}x [{r['min']:.0f}-{r['max']:.0f}]" if r["median"] >= 10 else \
        f"{r['median']:.1f}x [{r['min']:.1f}-{r['max']:.1f}]"


def print_check(c, who="ours"):
    print(f"correctness ({who}): each op once, .get().float_precision() against plain torch on the same floats")
    for name, r in c["ops"].items():
        if "error" in r:
            print(f"  {OPS[name][0]:20} FAILED: {r['error']}")
            continue
        print(f"  {OPS[name][0]:20} max |error| {r['max_abs_err']:.3g} (<= {r['tolerance']:g}: "
              f"{'ok' if r['ok'] else 'FAILED'})")
    if "objects_ok" in c:
        print(f"  objects on the workers: {c['objects']} (the shares of x and y only: "
              f"{'ok' if c['objects_ok'] else 'FAILED'})")


def print_ops(res, peer, why, rounds):
    print(f"ops on {SIZE}x{SIZE} float32, fixed precision {DIGITS} digits, shared by bob and alice, "
          f"crypto provider james; median [min-max] of {rounds} rounds (each = mean over n calls), "
          "shared and plain taken in turn, round after round")
    print(f"{'op':20}{'ours ms':>28}{'plain torch µs':>28}{'ours / plain, by round':>26}"
          f"{'target':>10}{'CrypTen':>10}")
    for name, (label, _, _) in OPS.items():
        o, p = res["shared_" + name], res["plain_" + name]
        r = o["ratio_to_plain_by_round"]
        target = ""
        if name in TARGETS:
            target = f"<= {TARGETS[name]}x {'met' if r['median'] <= TARGETS[name] else 'MISSED'}"
        anchor = f"~{CRYPTEN[name]:,}x" if name in CRYPTEN else ""
        print(f"{label:20}{spread(o):>28}{spread(p, 1, '{:.1f}'):>28}{ratio(r):>26}{target:>16}{anchor:>10}")
    print("target: ours / plain torch, the by-round median (print only); CrypTen: 2 parties, CPU, its "
          "repository's 2020 benchmark data, for scale")
    print()
    if not peer:
        print(f"PySyft 0.2.4 peer: not available ({why})")
        return
    v = peer["versions"]
    print(f"PySyft {v['syft']} (python {v['python']}, torch {v['torch']}, 1 thread), the same ops "
          "and inputs (x.fix_precision().share(bob, alice, crypto_provider=james); relu: xs.relu())")
    print_check(peer["check"], "PySyft")
    print("  (the peer's check is reported, not enforced; PySyft's fix_precision() truncates x * 1000 "
          "toward zero (.long()),\n  so a float32 such as -2.0439999 (-2.044) is stored as -2043: "
          f"{peer['check']['encoded_off']} of these {2 * SIZE * SIZE} inputs are 1e-3 off before any op)")
    before = peer["plain_before_hook"]
    print("  plain torch 1.4 before syft's hook, µs: " + ", ".join(
        f"{OPS[n][2]} {before['plain_' + n]['median_us']:.1f}" for n in OPS))
    print(f"{'op':20}{'PySyft ms':>28}{'plain torch 1.4 µs':>28}{'PySyft / plain, by round':>26}"
          f"{'PySyft / ours':>24}")
    for name, (label, _, _) in OPS.items():
        s = peer["ops"].get("shared_" + name)
        if s is None:
            print(f"{label:20}{'failed: ' + peer['check']['ops'][name].get('error', '?')[:90]}")
            continue
        p, o = peer["ops"]["plain_" + name], res["shared_" + name]
        vs = (f"{s['median_us'] / o['median_us']:.1f}x [{s['min_us'] / o['max_us']:.1f}-"
              f"{s['max_us'] / o['min_us']:.1f}]")
        print(f"{label:20}{spread(s):>28}{spread(p, 1, '{:.1f}'):>28}"
              f"{ratio(s['ratio_to_plain_by_round']):>26}{vs:>24}")
    print("PySyft / ours: ratio of medians [its min / our max - its max / our min] (two processes, "
          "run one after the other)")
    print(f"PySyft: objects on the workers after timing {peer['objects_after_timing']} (ours: shares of x "
          "and y only, 2/2/0)")


def dist(times, unit="s"):
    k = 1e3 if unit == "ms" else 1
    fmt = "{:.2f}" if unit == "ms" else "{:.3f}"
    return (f"{fmt.format(statistics.median(times) * k)} [{fmt.format(min(times) * k)}-"
            f"{fmt.format(max(times) * k)}] {unit}")


def print_training(t, peer_train, peer_why):
    print(f"Part 12 bis: {t['train_items']} MNIST training items, batch {BATCH}, 784-128-64-10 MLP, "
          f"SGD lr {LR}, MSE on one-hot, precision {PRECISION}, {t['epochs']} epoch(s); "
          f"test accuracy on {t['test_items']} items")
    print(f"  sharing the data beforehand: {t['sharing_s']:.2f} s (not in the per-batch times)")
    s, p = t["shared"], t["plain"]
    acc = lambda a: " ".join(f"{x:.0%}" for x in a)  # noqa: E731
    print(f"{'':28}{'per batch, median [min-max]':>34}{'test s/epoch':>14}   accuracy after each epoch")
    print(f"{'ours, shared':28}{dist(s['batch_s']):>34}{statistics.median(s['test_s']):>14.2f}   {acc(s['accuracy'])}")
    print(f"{'plain torch, same init':28}{dist(p['batch_s'], 'ms'):>34}{statistics.median(p['test_s']):>14.4f}   "
          f"{acc(p['accuracy'])}")
    if peer_train:
        q = peer_train
        print(f"{'PySyft 0.2.4, shared':28}{dist(q['shared']['batch_s']):>34}"
              f"{statistics.median(q['shared']['test_s']):>14.2f}   {acc(q['shared']['accuracy'])}")
        print(f"{'plain torch 1.4, same init':28}{dist(q['plain']['batch_s'], 'ms'):>34}"
              f"{statistics.median(q['plain']['test_s']):>14.4f}   {acc(q['plain']['accuracy'])}")
        same = "the same" if abs(q["init_checksum"] - t["init_checksum"]) < 1e-4 else "DIFFERENT"
        print(f"  initial weights: {same} in both processes (sums {t['init_checksum']:.6f} / {q['init_checksum']:.6f})")
    else:
        print(f"  PySyft 0.2.4's training: not run ({peer_why})")
    print(f"  mean training loss per epoch: ours {' '.join(f'{x:.4f}' for x in s['epoch_loss'])}")
    print(f"                                plain {' '.join(f'{x:.4f}' for x in p['epoch_loss'])}")
    per_batch = statistics.median(s["batch_s"])
    print(f"ours / plain torch per batch: {per_batch / statistics.median(p['batch_s']):.0f}x")
    if peer_train:
        print(f"PySyft / ours per batch: {statistics.median(peer_train['shared']['batch_s']) / per_batch:.1f}x")
    final = s["accuracy"][-1]
    ok = per_batch <= TRAIN_TARGET_S and final >= TRAIN_TARGET_ACC
    note = "" if t["epochs"] == 10 else f" (the target is for 10 epochs; this run had {t['epochs']})"
    print(f"target <= {TRAIN_TARGET_S} s per batch with >= {TRAIN_TARGET_ACC:.0%} accuracy after 10 epochs: "
          f"{per_batch:.3f} s, {final:.1%}: {'met' if ok else 'MISSED'}{note}")
    print("PySyft 0.2.4's own figures: " + ", ".join(f"{v} s per batch ({k})" for k, v in PYSYFT_PER_BATCH.items())
          + f"; about {PYSYFT_ACCURACY:.0%} after 10 epochs (its text)")
    print(f"objects on the workers: {t['objects_alive']} with the shared data and model alive, "
          f"{t['objects_after']} once they are dropped")
    if peer_train:
        print(f"PySyft's workers: {peer_train['objects_alive']} alive, {peer_train['objects_after']} dropped")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few, short rounds; 1 epoch of 128 items")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--no-peer", action="store_true", help="skip the PySyft 0.2.4 peer")
    parser.add_argument("--no-peer-training", action="store_true",
                        help="the peer times the ops only, not Part 12 bis (which takes it ~8 minutes)")
    parser.add_argument("--epochs", type=int, default=None, help="Part 12 bis epochs (default 10; 1 with --quick)")
    args = parser.parse_args()
    rounds, seconds = (3, 0.05) if args.quick else (11, 0.5)
    epochs = args.epochs if args.epochs is not None else (1 if args.quick else 10)
    items = QUICK_ITEMS if args.quick else TRAIN_ITEMS
    torch.set_num_threads(1)

    start = time.perf_counter()
    print(f"jupyter_syft secret-sharing benchmark: python {platform.python_version()}, torch "
          f"{torch.__version__}, torch.set_num_threads(1) (here and on the peer), {os.cpu_count()} CPUs, "
          f"{rounds} rounds of ~{seconds} s, gc on{', QUICK' if args.quick else ''}; load average {load()}\n")
    bob, alice, james = workers = setup()
    x, y = inputs()
    xs = x.fix_precision(precision_fractional=DIGITS).share(bob, alice, crypto_provider=james)
    ys = y.fix_precision(precision_fractional=DIGITS).share(bob, alice, crypto_provider=james)
    ns = {"x": x, "y": y, "xs": xs, "ys": ys, "F": F}
    checked = check(ns, workers)
    print_check(checked)
    print()
    if not checked["ok"]:
        print("correctness check FAILED: nothing timed")
        return 1

    ops = {name: (shared, plain) for name, (_, shared, plain) in OPS.items()}
    ours = {"check": checked, "ops": run_ops(ns, ops, checked["ops"], rounds, seconds)}
    ours["objects_after_timing"] = objects(workers)
    del ns, xs, ys
    print("Part 12 bis, ours and plain torch, an epoch of each in turn:", flush=True)
    train, test = mnist_batches(items)
    ours["training"] = run_training(train, test, epochs, (bob, alice), james, lambda line: print(line, flush=True))
    print()

    peer, why = None, "skipped (--no-peer)"
    if not args.no_peer:
        python, why = find_peer()
        if python:
            print("running the PySyft 0.2.4 peer ...", flush=True)
            peer, why = run_peer(python, args.quick, epochs, not args.no_peer_training)
    print_ops(ours["ops"], peer, why, rounds)
    print(f"ours: objects on the workers after timing {ours['objects_after_timing']}")
    print()
    peer_train = peer.get("training") if peer else None
    peer_why = why if not peer else "--no-peer-training"
    print_training(ours["training"], peer_train, peer_why)

    finish(start, args, ours, peer, why)
    leaked = any(ours["training"]["objects_after"].values())
    if leaked:
        print("FAILED: the workers still hold objects after the training's tensors were dropped")
    return 1 if leaked else 0


if __name__ == "__main__":
    sys.exit(main())
