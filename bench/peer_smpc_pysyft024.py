"""bench_smpc.py's workload on PySyft 0.2.4 (Python 3.7, torch 1.4), for a side-by-side table.

1. shared * shared, shared.mm(shared), shared.relu() and shared + shared on the same 100x100
   inputs as bench_smpc.py (x.fix_precision().share(bob, alice, crypto_provider=james)), each
   checked once against plain torch 1.4 (an op that fails is recorded with its error) and timed
   in turn with plain torch's same op, round after round.
2. Unless --no-train: Part 12 bis as PySyft's text runs it, on the MNIST subset shipped with
   jupyter_syft (read from its idx files here: this python has no jupyter_syft), and the same
   training in plain torch 1.4 from the same initial weights.

bench_smpc.py imports the workload from here (inputs, checks, model, training loop), so that
both libraries run the very same code: keep this file Python 3.7 compatible (no walrus, no
f-string "=").

torch.set_num_threads(1). Run with the peer's python (see bench/README.md); prints one line of
JSON on stdout.
    python bench/peer_smpc_pysyft024.py [--quick] [--epochs N] [--no-train]
"""
import argparse
import gc
import gzip
import json
import os
import platform
import random
import statistics
import struct
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)
from timing import Op, measure  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn, optim  # noqa: E402

MNIST = os.path.join(os.path.dirname(BENCH), "jupyter_syft", "data", "mnist")

# --- part 1: the ops ---------------------------------------------------------------------------
SIZE, DATA_SEED, DIGITS = 100, 0, 3
# name: (PySyft's statement on shared tensors xs and ys, plain torch's on x and y). The result of
# every call is dropped, so the deletes it causes on the workers are part of the op.
OPS = {
    "mul": ("xs * ys", "x * y"),
    "mm": ("xs.mm(ys)", "x.mm(y)"),
    "relu": ("xs.relu()", "F.relu(x)"),  # PySyft's relu of a shared tensor is the method
    "add": ("xs + ys", "x + y"),
}
# Correctness bounds, |shared - plain torch| per element. The inputs are drawn at 3 decimals
# (inputs()), so fixed precision holds them exactly (round(x * 1000) recovers the integer) and
# the check measures the shared arithmetic, not the rounding of inputs to the precision the user
# chose. What is left:
#   +    exact on the integers: only float32 conversions (<= 1e-6 here).
#   relu a * (1 - msb(a)): a product by a 0/1 share, no rescaling: exact likewise.
#   *    one truncation of x*y (integers scaled 1e6) back to 1e3: two-party truncation (SecureML;
#        one party floors its share, the other ceils its own) is within one unit, 1e-3, of the
#        exact quotient (but for a wrap of the ring, probability about |z| / 2**61 per element);
#        plus float32 rounding (|x*y| < 25 here: < 2e-6). Bound 2e-3: twice the worst case.
#   mm   the same single truncation per output element: the 100 products are summed exactly as
#        integers first; plain torch's float32 sum of 100 terms adds at most 100 * 2**-24 * 40
#        (< 3e-4). The bound is 2e-3 per inner term, 2e-3 x 100 = 0.2: what the error would reach
#        if every one of the 100 products carried *'s error (a truncation per product, or inputs
#        that 3 digits do not hold: each product then errs by up to (|x| + |y|) * 5e-4). The
#        error actually measured is printed beside it (about 1e-3 for jupyter_syft).
# PySyft 0.2.4 encodes with .long(), truncating toward zero: a float32 just below k/1000 (e.g.
# -2.0439999 for -2.044) becomes k - 1, so some of its inputs are 1e-3 off before any op.
TOL = 2e-3
TOLERANCE = {"mul": TOL, "mm": TOL * SIZE, "relu": TOL, "add": TOL}


def inputs():
    """Two SIZE x SIZE float32 tensors of N(0, 1) values rounded to DIGITS decimals, from Python's
    own generator (the same numbers under Python 3.7 with torch 1.4 and under 3.11)."""
    rng = random.Random(DATA_SEED)
    values = [round(rng.gauss(0.0, 1.0), DIGITS) for _ in range(2 * SIZE * SIZE)]
    t = torch.tensor(values, dtype=torch.float32).view(2, SIZE, SIZE)
    return t[0].clone(), t[1].clone()


def objects(workers):
    return {w.id: len(w._objects) for w in workers}


def check_ops(ns, ops):
    """Each op once, brought home and decoded (.get().float_precision()), against plain torch on
    the same floats. ops: name -> (shared statement, plain statement), the statements timed."""
    rows = {}
    for name, (shared, plain) in ops.items():
        try:
            got = eval(shared, ns).get().float_precision()
        except Exception as e:  # noqa: BLE001  (recorded: the table says the op failed)
            rows[name] = {"error": "%s: %s" % (type(e).__name__, str(e)[:300]), "ok": False}
            continue
        want = eval(plain, ns)
        err = (got.double() - want.double()).abs().max().item()
        rows[name] = {"max_abs_err": err, "tolerance": TOLERANCE[name], "ok": err <= TOLERANCE[name]}
    return rows


def run_ops(ns, ops, checked, rounds, seconds):
    """Plain and shared ops timed in turn, round after round; each shared op's time over plain
    torch's in the same round (drift between rounds cancels). Ops that failed are left out."""
    timed = {}
    for name, (shared, plain) in ops.items():
        timed["plain_" + name] = Op(plain, ns)
        if "error" not in checked[name]:
            timed["shared_" + name] = Op(shared, ns)
    res = measure(timed, rounds, seconds)
    for name in ops:
        if "shared_" + name in res:
            ratios = [s / p for s, p in zip(res["shared_" + name]["samples_us"], res["plain_" + name]["samples_us"])]
            res["shared_" + name]["ratio_to_plain_by_round"] = {
                "median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}
    return res


# --- part 2: Part 12 bis -----------------------------------------------------------------------
SEED, BATCH, LR, PRECISION = 1, 64, 0.02, 3
TRAIN_ITEMS = TEST_ITEMS = 640
QUICK_ITEMS = 128


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(28 * 28, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.view(-1, 28 * 28)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def fresh_net():
    torch.manual_seed(SEED)  # the same initial weights for the shared and the plain model
    return Net()


def one_hot_of(index_tensor):
    return torch.zeros(list(index_tensor.shape) + [10]).scatter(1, index_tensor.view(-1, 1), 1)


def read_idx(name):
    import numpy as np  # torch 1.4 has no frombuffer

    with gzip.open(os.path.join(MNIST, name + ".gz"), "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return torch.from_numpy(np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).copy()).view(*shape)


def mnist_batches(items):
    """torchvision's ToTensor and Normalize((0.1307,), (0.3081,)) as bench_smpc.py applies them
    through jupyter_syft.vision, in batches of BATCH, not shuffled."""
    out = []
    for images, labels in (("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                           ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")):
        x = read_idx(images)[:items].to(torch.float32).div(255).unsqueeze(1)
        x = (x - torch.tensor([0.1307]).view(-1, 1, 1)) / torch.tensor([0.3081]).view(-1, 1, 1)
        y = read_idx(labels)[:items].long()
        out.append([(x[i:i + BATCH], y[i:i + BATCH]) for i in range(0, items, BATCH)])
    return out


def train_epoch(model, optimizer, batches, shared):
    """One epoch as Part 12 bis's train() runs it, log_interval 1 (the loss comes home every
    batch); the plain model runs the same lines without .refresh() and .get(). Returns the
    seconds and the loss of each batch."""
    times, losses = [], []
    for data, target in batches:
        t0 = time.perf_counter()
        optimizer.zero_grad()
        output = model(data)
        batch_size = output.shape[0]
        loss = ((output - target) ** 2).sum()
        loss = (loss.refresh() if shared else loss) / batch_size
        loss.backward()
        optimizer.step()
        loss = loss.get().float_precision() if shared else loss
        losses.append(loss.item())
        times.append(time.perf_counter() - t0)
    return times, losses


def accuracy(model, batches, shared):
    """Part 12 bis's test(): correct predictions over the test items (and the seconds it took)."""
    t0 = time.perf_counter()
    correct = 0
    with torch.no_grad():
        for data, target in batches:
            pred = model(data).argmax(dim=1)
            correct += pred.eq(target.view_as(pred)).sum()
    if shared:
        correct = correct.get().float_precision()
    return correct.item() / sum(len(t) for _, t in batches), time.perf_counter() - t0


def run_training(train, test, epochs, workers, provider, log):
    """Part 12 bis shared between the workers (the batches shared beforehand, as its private
    loaders do) and the same training in plain torch from the same initial weights, an epoch of
    each in turn. train and test: lists of (images, labels) batches. log(line) reports progress."""
    def secret_share(t):
        return t.fix_precision(precision_fractional=PRECISION).share(
            *workers, crypto_provider=provider, requires_grad=True)

    start = time.perf_counter()
    private = {"train": [(secret_share(d), secret_share(one_hot_of(t))) for d, t in train],
               "test": [(secret_share(d), secret_share(t.float())) for d, t in test]}
    sharing_s = time.perf_counter() - start
    shared_model = fresh_net().fix_precision().share(*workers, crypto_provider=provider, requires_grad=True)
    plain_model = fresh_net()
    runs = {
        "shared": (shared_model, optim.SGD(shared_model.parameters(), lr=LR).fix_precision(),
                   private["train"], private["test"]),
        "plain": (plain_model, optim.SGD(plain_model.parameters(), lr=LR),
                  [(d, one_hot_of(t)) for d, t in train], test),
    }
    res = {"epochs": epochs, "train_items": sum(len(t) for _, t in train),
           "test_items": sum(len(t) for _, t in test), "batches_per_epoch": len(train),
           "sharing_s": sharing_s, "init_checksum": float(sum(p.sum() for p in fresh_net().parameters()))}
    for name in runs:
        res[name] = {"batch_s": [], "epoch_loss": [], "accuracy": [], "test_s": []}
    for e in range(epochs):
        for name, (model, optimizer, train_batches, test_batches) in runs.items():
            times, losses = train_epoch(model, optimizer, train_batches, name == "shared")
            a, test_s = accuracy(model, test_batches, name == "shared")
            r = res[name]
            r["batch_s"] += times
            r["epoch_loss"].append(statistics.mean(losses))
            r["accuracy"].append(a)
            r["test_s"].append(test_s)
        s, p = res["shared"], res["plain"]
        log("  epoch %d: shared %.3f s/batch, accuracy %.1f%%, loss %.4f; plain %.2f ms/batch, "
            "accuracy %.1f%%, loss %.4f" % (
                e + 1, statistics.median(s["batch_s"][-len(train):]), 100 * s["accuracy"][-1],
                s["epoch_loss"][-1], 1e3 * statistics.median(p["batch_s"][-len(train):]),
                100 * p["accuracy"][-1], p["epoch_loss"][-1]))
    everyone = list(workers) + [provider]
    res["objects_alive"] = objects(everyone)  # the shared data, model and grads
    del runs, private, shared_model
    gc.collect()
    res["objects_after"] = objects(everyone)  # all of it dropped: nothing should stay
    return res


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few, short rounds; 1 epoch of 128 items")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--no-train", action="store_true", help="the ops only, not Part 12 bis")
    args = parser.parse_args()
    rounds, seconds = (3, 0.05) if args.quick else (11, 0.5)
    epochs = args.epochs if args.epochs is not None else (1 if args.quick else 10)
    torch.set_num_threads(1)

    # stdout carries only the JSON; anything syft prints while importing or hooking goes to stderr.
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    results = {"rounds": rounds}
    x, y = inputs()
    results["plain_before_hook"] = measure(
        {"plain_" + name: Op(plain, {"x": x, "y": y, "F": F}) for name, (_, plain) in OPS.items()},
        rounds, seconds)

    import syft as sy
    hook = sy.TorchHook(torch)
    bob, alice, james = (sy.VirtualWorker(hook, id="bob"), sy.VirtualWorker(hook, id="alice"),
                         sy.VirtualWorker(hook, id="james"))
    xs = x.fix_precision(precision_fractional=DIGITS).share(bob, alice, crypto_provider=james)
    ys = y.fix_precision(precision_fractional=DIGITS).share(bob, alice, crypto_provider=james)
    ns = {"x": x, "y": y, "xs": xs, "ys": ys, "F": F}
    checked = check_ops(ns, OPS)
    results["check"] = {"ops": checked, "objects": objects([bob, alice, james]),
                        # inputs that .long() encodes 1e-3 off (see TOLERANCE)
                        "encoded_off": sum(int(((t * 10 ** DIGITS).long() !=
                                                (t.double() * 10 ** DIGITS).round().long()).sum()) for t in (x, y))}
    results["ops"] = run_ops(ns, OPS, checked, rounds, seconds)
    results["objects_after_timing"] = objects([bob, alice, james])
    del ns, xs, ys

    if not args.no_train:
        train, test = mnist_batches(QUICK_ITEMS if args.quick else TRAIN_ITEMS)
        workers = [sy.VirtualWorker(hook, id="alice2"), sy.VirtualWorker(hook, id="bob2")]
        provider = sy.VirtualWorker(hook, id="crypto_provider")
        results["training"] = run_training(train, test, epochs, workers, provider,
                                           lambda line: sys.stderr.write("peer" + line + "\n"))

    results["versions"] = {"python": platform.python_version(), "torch": torch.__version__,
                           "syft": sy.__version__}
    sys.stdout = real_stdout
    print(json.dumps(results))


if __name__ == "__main__":
    main()
