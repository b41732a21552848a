"""Benchmark of one federated training step: plain torch vs jupyter_syft vs PySyft 0.2.4.

    python bench/bench_federated.py [--quick] [--json PATH] [--no-peer]

The model is the classic tutorials' Boston Housing MLP (Linear 13->32, ReLU, Linear 32->24, ReLU,
Linear 24->1), a batch of 8 float32 rows, MSE loss, SGD (lr 0.01), one thread. A federated step is
model.send(bob), opt.zero_grad(), forward on a pointer, loss, backward, opt.step(), model.get(),
with the data and target sent to bob once beforehand and the optimizer built once. Plain torch and
ours are timed in turn, round after round, in this process; PySyft 0.2.4 runs the same step in
bench/peer_federated_pysyft024.py when its peer is installed. See bench/README.md.

Before any timing, N federated steps must leave the same weights as N plain-torch steps from the
same seed and data (within 1e-6), and bob must hold only the data and target afterwards:
otherwise the exit status is 1.
"""
import argparse
import os
import platform
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from bench_core import find_peer, finish, load, run_peer  # noqa: E402  (also puts this checkout first)
from timing import Op, measure  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn, optim  # noqa: E402

# Keep these in step with peer_federated_pysyft024.py.
SEED, DATA_SEED, BATCH, LR = 0, 1, 8, 0.01
CHECK_STEPS, COUNT_STEPS = 20, 20
TOLERANCE = 1e-6
PEER_SCRIPT = "peer_federated_pysyft024.py"


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(13, 32)
        self.fc2 = nn.Linear(32, 24)
        self.fc3 = nn.Linear(24, 1)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def model_and_optimizer():
    torch.manual_seed(SEED)
    model = Net()
    return model, optim.SGD(model.parameters(), lr=LR)


def batch():
    g = torch.Generator().manual_seed(DATA_SEED)
    return torch.randn(BATCH, 13, generator=g), torch.randn(BATCH, 1, generator=g)


def plain_step(model, opt, data, target):
    pred = model(data)
    loss = ((pred - target) ** 2).mean()
    loss.backward()
    opt.step()
    opt.zero_grad()


def federated_step(model, opt, data_ptr, target_ptr, bob):
    model.send(bob)
    opt.zero_grad()
    pred = model(data_ptr)
    loss = ((pred - target_ptr) ** 2).mean()
    loss.backward()
    opt.step()
    model.get()
    # pred and loss go out of scope here: the remote deletes they cause belong to the step.


def weights(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def check(bob, data, data_ptr, target, target_ptr):
    """N plain steps and N federated steps from the same seed and data: same weights?"""
    plain_model, plain_opt = model_and_optimizer()
    for _ in range(CHECK_STEPS):
        plain_step(plain_model, plain_opt, data, target)
    fed_model, fed_opt = model_and_optimizer()
    start, messages = weights(fed_model), bob.traffic["messages"]
    for _ in range(CHECK_STEPS):
        federated_step(fed_model, fed_opt, data_ptr, target_ptr, bob)
    result = {
        "messages": bob.traffic["messages"] - messages,  # 0 would mean it all ran locally
        "steps": CHECK_STEPS,
        "max_abs_diff": (weights(fed_model) - weights(plain_model)).abs().max().item(),
        "max_abs_change": (weights(fed_model) - start).abs().max().item(),  # training did happen
        "objects_on_bob": len(bob._objects),  # the data and the target: 2
    }
    result["ok"] = (result["max_abs_diff"] <= TOLERANCE and result["objects_on_bob"] == 2
                    and result["messages"] > 0)
    return result


def count_traffic(bob, step):
    """Requests bob served and bytes that crossed, per step, in steady state; step() is one
    training step."""
    keys = ("messages", "bytes_in", "bytes_out", "bytes_got")
    per_step = []
    totals = dict.fromkeys(keys, 0)
    for _ in range(COUNT_STEPS):
        before = {k: bob.traffic[k] for k in keys}
        step()
        for k in keys:
            totals[k] += bob.traffic[k] - before[k]
        per_step.append(bob.traffic["messages"] - before["messages"])
    out = {k + "_per_step": v / COUNT_STEPS for k, v in totals.items()}
    out["messages_per_step_min_max"] = [min(per_step), max(per_step)]
    return out


def setup():
    """Hook torch, make bob, send him the batch once: (bob, data, data_ptr, target, target_ptr)."""
    torch.set_num_threads(1)
    import jupyter_syft as sy

    hook = sy.TorchHook(torch)
    bob = sy.VirtualWorker(hook, id="bob")
    data, target = batch()
    return bob, data, data.send(bob), target, target.send(bob)


def run_ours(bob, data, data_ptr, target, target_ptr, rounds, seconds):
    model, opt = model_and_optimizer()
    federated_step(model, opt, data_ptr, target_ptr, bob)  # first send done: steady state below
    results = {"traffic": count_traffic(bob, lambda: federated_step(model, opt, data_ptr, target_ptr, bob))}

    plain_model, plain_opt = model_and_optimizer()
    ops = {
        "plain": Op("step(model, opt, data, target)",
                    {"step": plain_step, "model": plain_model, "opt": plain_opt,
                     "data": data, "target": target}),
        "ours": Op("step(model, opt, data_ptr, target_ptr, bob)",
                   {"step": federated_step, "model": model, "opt": opt,
                    "data_ptr": data_ptr, "target_ptr": target_ptr, "bob": bob}),
    }
    results.update(measure(ops, rounds, seconds))
    results["objects_on_bob_after_timing"] = len(bob._objects)
    return results


# --- the report --------------------------------------------------------------------------------
def ms(s):
    return f"{s['median_us'] / 1000:7.3f} [{s['min_us'] / 1000:.3f}-{s['max_us'] / 1000:.3f}]"


def kb(n):
    return f"{n / 1000:.1f} kB"


def print_check(c):
    ok = c["max_abs_diff"] <= TOLERANCE
    print(f"correctness: {c['steps']} federated steps vs {c['steps']} plain-torch steps from the "
          f"same seed and data: max |weight difference| = {c['max_abs_diff']:.3g} "
          f"(<= {TOLERANCE:g}: {'ok' if ok else 'FAILED'}; weights moved by up to "
          f"{c['max_abs_change']:.3g}); objects on bob afterwards: {c['objects_on_bob']} "
          f"(data and target: {'ok' if c['objects_on_bob'] == 2 else 'FAILED'}); requests bob "
          f"served: {c['messages']} ({'ok' if c['messages'] > 0 else 'FAILED: nothing ran remotely'})")


def print_table(ours, peer, why, rounds):
    plain, fed, t = ours["plain"], ours["ours"], ours["traffic"]
    print(f"ms per training step: median [min-max] of {rounds} rounds (each round = mean over n "
          "steps); plain torch and ours taken in turn, round after round")
    print(f"{'':34}{'ms/step median [min-max]':>27}{'n':>6}{'x plain':>9}{'x ours':>8}"
          f"{'msgs/step':>11}{'bytes/step':>12}")

    def row(label, s, base, msgs="", nbytes=""):
        ratio = f"{s['median_us'] / base['median_us']:8.1f}x" if base else f"{'':9}"
        vs_ours = f"{s['median_us'] / fed['median_us']:7.1f}x"
        print(f"{label:34}{ms(s):>27}{s['n']:6d}{ratio}{vs_ours}{msgs:>11}{nbytes:>12}")

    row("(a) plain torch, local", plain, plain)
    total = t["bytes_in_per_step"] + t["bytes_out_per_step"]
    row("(b) ours (jupyter_syft), bob", fed, plain, f"{t['messages_per_step']:g}", kb(total))
    if peer:
        v = peer["versions"]
        ptotal = peer["bytes_in_per_step"] + peer["bytes_out_per_step"]
        row(f"(c) PySyft {v['syft']}, bob", peer["federated"], peer["plain"],
            f"{peer['messages_per_step']:g}", kb(ptotal))
        row(f"    plain torch {v['torch']}, syft hooked", peer["plain"], peer["plain"])
        row(f"    plain torch {v['torch']}, before hook", peer["plain_before_hook"], peer["plain"])
    print("x plain: against the plain torch step timed in turn with it in the same process (for "
          "PySyft, torch 1.4 under its hook)\nbytes/step: requests to bob + his replies")
    print()
    print(f"ours / plain torch: {fed['median_us'] / plain['median_us']:.1f}x "
          f"(+{(fed['median_us'] - plain['median_us']) / 1000:.3f} ms per step)")
    print(f"ours: {t['messages_per_step']:g} messages per step "
          f"(min {t['messages_per_step_min_max'][0]}, max {t['messages_per_step_min_max'][1]} "
          f"over {COUNT_STEPS} steps); per step {kb(t['bytes_in_per_step'])} to bob, "
          f"{kb(t['bytes_out_per_step'])} back, of which {kb(t['bytes_got_per_step'])} in .get() replies")
    if peer:
        v = peer["versions"]
        print(f"PySyft {v['syft']} (python {v['python']}, torch {v['torch']}) / ours: "
              f"{peer['federated']['median_us'] / fed['median_us']:.1f}x per step; "
              f"{peer['messages_per_step'] / t['messages_per_step']:.1f}x the messages "
              f"({peer['messages_per_step']:g}); per step {kb(peer['bytes_in_per_step'])} to bob, "
              f"{kb(peer['bytes_out_per_step'])} back")
        print(f"PySyft: its {peer['check_steps']} federated steps vs plain torch 1.4: max |weight "
              f"difference| {peer['max_abs_diff_vs_plain']:.3g}; objects on bob after timing "
              f"{peer['objects_on_bob_after_timing']}")
    else:
        print(f"PySyft 0.2.4 peer: not available ({why})")
    print(f"ours: objects on bob after timing: {ours['objects_on_bob_after_timing']} (data and target)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few, short rounds (smoke test)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--no-peer", action="store_true", help="skip the PySyft 0.2.4 peer")
    args = parser.parse_args()
    rounds, seconds = (3, 0.05) if args.quick else (11, 0.5)

    start = time.perf_counter()
    print(f"jupyter_syft federated-step benchmark: python {platform.python_version()}, torch "
          f"{torch.__version__}, 1 thread, {os.cpu_count()} CPUs, {rounds} rounds of ~{seconds} s, "
          f"gc on{', QUICK' if args.quick else ''}; load average {load()}")
    print("model 13-32-24-1 MLP (ReLU), batch 8, float32, MSE, SGD lr 0.01\n")
    workers = setup()
    checked = check(*workers)
    print_check(checked)
    print()
    if not checked["ok"]:
        print("correctness check FAILED: nothing timed")
        return 1

    ours = run_ours(*workers, rounds, seconds)
    ours["check"] = checked
    peer, why = None, "skipped (--no-peer)"
    if not args.no_peer:
        python, why = find_peer()
        if python:
            peer, why = run_peer(python, args.quick, PEER_SCRIPT)
    print_table(ours, peer, why, rounds)

    finish(start, args, ours, peer, why)
    return 0


if __name__ == "__main__":
    sys.exit(main())
