"""Benchmark of one training step sent as a plan: plain torch vs eager pointers vs one request.

    python bench/bench_plans.py [--quick] [--json PATH]

The model, batch, loss and optimizer are bench_federated.py's (the 13-32-24-1 MLP, a batch of 8,
MSE, SGD lr 0.01, one thread). The plan is the whole step, traced once with sy.func2plan():
the model's forward (written with F.linear on the parameters), the loss, the gradients
(torch.autograd.grad) and SGD's update (p.add_(g, alpha=-lr) under torch.no_grad()); it takes the
data, the target and the model's parameters as arguments, so it runs on pointers to them. Rows:

  (a)  plain torch: bench_federated's plain step (backward(), opt.step(), opt.zero_grad())
  (a2) plain torch running the plan's function itself, unplanned: the same ops as the plan
  (b)  bench_federated's eager remote step: model.send(bob), the step op by op, model.get()
  (c)  the plan on bob, the model kept on bob across steps: plan_ptr(data_ptr, target_ptr,
       *model.parameters()), one request per step
  (d)  issue 7's federated step with the plan inside: model.send(bob), the plan, model.get()

All rows are timed in turn, round after round, in this process; see bench/README.md. Before any
timing, N steps of (a2), (b), (c) and (d) must each leave the same weights as N plain-torch steps
from the same seed and data (within 1e-6), and bob must hold only the data, the target and the
plan afterwards: otherwise the exit status is 1. The target (at most 1.3x plain torch for (c))
only prints.
"""
import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from bench_core import finish, load  # noqa: E402  (also puts this checkout first)
from bench_federated import (CHECK_STEPS, COUNT_STEPS, LR, TOLERANCE, count_traffic,  # noqa: E402
                             federated_step, kb, model_and_optimizer, plain_step, print_check, setup,
                             weights)
from bench_federated import check as check_eager  # noqa: E402
from timing import Op, measure  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

TARGET = 1.3  # (c) against (a), median per step
LABELS = {
    "plain": "(a) plain torch, local",
    "plan_fn": "(a2) plain torch, the plan's ops",
    "eager": "(b) ours, eager (op by op), bob",
    "plan": "(c) ours, plan, model on bob",
    "plan_send_get": "(d) ours, send + plan + get",
}


def train_step(data, target, w1, b1, w2, b2, w3, b3):
    """One training step as a function of the data, the target and the model's parameters: what
    the plan records. Run as it is on plain tensors, it is row (a2)."""
    x = F.relu(F.linear(data, w1, b1))  # Net.forward, with the parameters as arguments
    x = F.relu(F.linear(x, w2, b2))
    pred = F.linear(x, w3, b3)
    loss = ((pred - target) ** 2).mean()  # as in plain_step
    params = (w1, b1, w2, b2, w3, b3)
    grads = torch.autograd.grad(loss, params)  # backward()
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.add_(g, alpha=-LR)  # what optim.SGD(lr=LR).step() does (no momentum)
    return loss


def make_plan(data, target):
    """train_step traced on local copies (the plan keeps none of them)."""
    import jupyter_syft as sy

    plan = sy.func2plan()(train_step)
    plan.build(data, target, *local_params())
    return plan


def local_params():
    """The initial parameters as plain leaf tensors, for the unplanned function (a2)."""
    model, _ = model_and_optimizer()
    return [p.detach().clone().requires_grad_() for p in model.parameters()]


def plan_step(model, plan_ptr, data_ptr, target_ptr):
    plan_ptr(data_ptr, target_ptr, *model.parameters())
    # the loss pointer goes out of scope here: its remote delete rides on the next request


def plan_federated_step(model, plan_ptr, data_ptr, target_ptr, bob):
    model.send(bob)
    plan_ptr(data_ptr, target_ptr, *model.parameters())
    model.get()


def check_plans(bob, plan_ptr, data, data_ptr, target, target_ptr):
    """N steps each of (a2), (c) and (d) against N plain steps from the same seed and data."""
    plain_model, plain_opt = model_and_optimizer()
    for _ in range(CHECK_STEPS):
        plain_step(plain_model, plain_opt, data, target)
    expected = weights(plain_model)

    def compare(got, start, messages):
        return {"max_abs_diff": (got - expected).abs().max().item(),
                "max_abs_change": (got - start).abs().max().item(), "messages": messages}

    results = {}
    params = local_params()
    start = torch.cat([p.detach().reshape(-1) for p in params])
    for _ in range(CHECK_STEPS):
        train_step(data, target, *params)
    results["plan_fn"] = compare(torch.cat([p.detach().reshape(-1) for p in params]), start, None)

    model, _ = model_and_optimizer()
    start = weights(model)
    model.send(bob)
    messages = bob.traffic["messages"]
    for _ in range(CHECK_STEPS):
        plan_step(model, plan_ptr, data_ptr, target_ptr)
    messages = bob.traffic["messages"] - messages
    model.get()
    results["plan"] = compare(weights(model), start, messages)

    model, _ = model_and_optimizer()
    start, messages = weights(model), bob.traffic["messages"]
    for _ in range(CHECK_STEPS):
        plan_federated_step(model, plan_ptr, data_ptr, target_ptr, bob)
    results["plan_send_get"] = compare(weights(model), start, bob.traffic["messages"] - messages)

    objects = len(bob._objects)  # the data, the target and the plan
    ok = objects == 3 and all(r["max_abs_diff"] <= TOLERANCE for r in results.values()) \
        and results["plan"]["messages"] > 0 and results["plan_send_get"]["messages"] > 0
    return {"steps": CHECK_STEPS, "rows": results, "objects_on_bob": objects, "ok": ok}


def run(bob, data, data_ptr, target, target_ptr, plan_ptr, rounds, seconds):
    eager_model, eager_opt = model_and_optimizer()
    federated_step(eager_model, eager_opt, data_ptr, target_ptr, bob)  # steady state below
    plan_model, _ = model_and_optimizer()
    plan_model.send(bob)  # (c) keeps it there
    sent_model, _ = model_and_optimizer()
    plan_federated_step(sent_model, plan_ptr, data_ptr, target_ptr, bob)
    results = {"traffic": {
        "eager": count_traffic(bob, lambda: federated_step(eager_model, eager_opt, data_ptr, target_ptr, bob)),
        "plan": count_traffic(bob, lambda: plan_step(plan_model, plan_ptr, data_ptr, target_ptr)),
        "plan_send_get": count_traffic(
            bob, lambda: plan_federated_step(sent_model, plan_ptr, data_ptr, target_ptr, bob)),
    }}

    plain_model, plain_opt = model_and_optimizer()
    ops = {
        "plain": Op("step(model, opt, data, target)",
                    {"step": plain_step, "model": plain_model, "opt": plain_opt,
                     "data": data, "target": target}),
        "plan_fn": Op("step(data, target, *params)",
                      {"step": train_step, "data": data, "target": target, "params": local_params()}),
        "eager": Op("step(model, opt, data_ptr, target_ptr, bob)",
                    {"step": federated_step, "model": eager_model, "opt": eager_opt,
                     "data_ptr": data_ptr, "target_ptr": target_ptr, "bob": bob}),
        "plan": Op("step(model, plan_ptr, data_ptr, target_ptr)",
                   {"step": plan_step, "model": plan_model, "plan_ptr": plan_ptr,
                    "data_ptr": data_ptr, "target_ptr": target_ptr}),
        "plan_send_get": Op("step(model, plan_ptr, data_ptr, target_ptr, bob)",
                            {"step": plan_federated_step, "model": sent_model, "plan_ptr": plan_ptr,
                             "data_ptr": data_ptr, "target_ptr": target_ptr, "bob": bob}),
    }
    results.update(measure(ops, rounds, seconds))
    plain = results["plain"]["samples_us"]
    for name in ops:  # against plain torch in the same round: drift between rounds cancels
        ratios = [s / p for s, p in zip(results[name]["samples_us"], plain)]
        results[name]["ratio_to_plain_by_round"] = {
            "median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}
    plan_model.get()
    results["objects_on_bob_after_timing"] = len(bob._objects)  # the data, the target, the plan
    return results


# --- the report --------------------------------------------------------------------------------
def size(n):
    return kb(n) if n >= 1000 else f"{n:.0f} B"


def print_checks(c):
    labels = {"plan_fn": "(a2) the plan's function, unplanned", "plan": "(c) the plan, model on bob",
              "plan_send_get": "(d) send + plan + get"}
    print(f"correctness: {c['steps']} steps of each against {c['steps']} plain-torch steps from the "
          "same seed and data:")
    for name, r in c["rows"].items():
        ok = r["max_abs_diff"] <= TOLERANCE
        ran = "" if r["messages"] is None else (
            f"; requests bob served: {r['messages']}" + ("" if r["messages"] else " (FAILED: nothing ran remotely)"))
        print(f"  {labels[name]:38} max |weight difference| = {r['max_abs_diff']:.3g} "
              f"(<= {TOLERANCE:g}: {'ok' if ok else 'FAILED'}; weights moved by up to "
              f"{r['max_abs_change']:.3g}){ran}")
    n = c["objects_on_bob"]
    print(f"  objects on bob afterwards: {n} (data, target and plan: {'ok' if n == 3 else 'FAILED'})")


def print_table(res, rounds):
    plain = res["plain"]
    print(f"ms per training step: median [min-max] of {rounds} rounds (each round = mean over n "
          "steps); all rows taken in turn, round after round")
    print(f"{'':36}{'ms/step median [min-max]':>27}{'n':>6}{'x plain':>9}"
          f"{'x plain by round [min-max]':>28}{'msgs/step':>11}{'bytes/step':>12}")
    for name, label in LABELS.items():
        s, r = res[name], res[name]["ratio_to_plain_by_round"]
        t = res["traffic"].get(name)
        msgs = f"{t['messages_per_step']:g}" if t else ""
        nbytes = size(t["bytes_in_per_step"] + t["bytes_out_per_step"]) if t else ""
        spread = f"{s['median_us'] / 1000:.3f} [{s['min_us'] / 1000:.3f}-{s['max_us'] / 1000:.3f}]"
        by_round = f"{r['median']:.2f}x [{r['min']:.2f}-{r['max']:.2f}]"
        print(f"{label:36}{spread:>27}{s['n']:6d}{s['median_us'] / plain['median_us']:8.2f}x"
              f"{by_round:>28}{msgs:>11}{nbytes:>12}")
    print("x plain: medians divided; by round: each round's time over plain torch's in the same "
          "round\nbytes/step: requests to bob + his replies")
    print()
    ratio = res["plan"]["median_us"] / plain["median_us"]
    print(f"plan step (c) / plain torch (a): {ratio:.2f}x (target <= {TARGET}x: "
          f"{'met' if ratio <= TARGET else 'MISSED'}); "
          f"{(res['plan']['median_us'] - plain['median_us']) / 1000:+.3f} ms per step")
    print(f"plan step (c) / the same ops unplanned (a2): "
          f"{res['plan']['median_us'] / res['plan_fn']['median_us']:.2f}x "
          f"({(res['plan']['median_us'] - res['plan_fn']['median_us']) / 1000:+.3f} ms: what running "
          "them through a plan on bob costs)")
    print(f"send + plan + get (d) / plain torch: {res['plan_send_get']['median_us'] / plain['median_us']:.2f}x; "
          f"/ eager (b): {res['plan_send_get']['median_us'] / res['eager']['median_us']:.2f}x")
    for name in ("eager", "plan", "plan_send_get"):
        t = res["traffic"][name]
        print(f"{LABELS[name]}: messages per step {t['messages_per_step']:g} (min "
              f"{t['messages_per_step_min_max'][0]}, max {t['messages_per_step_min_max'][1]} over "
              f"{COUNT_STEPS} steps); per step {size(t['bytes_in_per_step'])} to bob, "
              f"{size(t['bytes_out_per_step'])} back, of which {size(t['bytes_got_per_step'])} in "
              ".get() replies")
    print(f"objects on bob after timing: {res['objects_on_bob_after_timing']} (data, target and plan)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few, short rounds (smoke test)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args()
    rounds, seconds = (3, 0.05) if args.quick else (11, 0.5)

    start = time.perf_counter()
    print(f"jupyter_syft plan-step benchmark: python {platform.python_version()}, torch "
          f"{torch.__version__}, 1 thread, {os.cpu_count()} CPUs, {rounds} rounds of ~{seconds} s, "
          f"gc on{', QUICK' if args.quick else ''}; load average {load()}")
    print("model 13-32-24-1 MLP (ReLU), batch 8, float32, MSE, SGD lr 0.01\n")
    bob, data, data_ptr, target, target_ptr = setup()
    eager = check_eager(bob, data, data_ptr, target, target_ptr)  # (b), before the plan is on bob
    print_check(eager)
    plan_ptr = make_plan(data, target).send(bob)
    plans = check_plans(bob, plan_ptr, data, data_ptr, target, target_ptr)
    print_checks(plans)
    print()
    if not (eager["ok"] and plans["ok"]):
        print("correctness check FAILED: nothing timed")
        return 1

    results = run(bob, data, data_ptr, target, target_ptr, plan_ptr, rounds, seconds)
    results["check"] = {"eager": eager, "plans": plans}
    print_table(results, rounds)
    finish(start, args, results, None, "no PySyft 0.2.4 peer for plans")
    return 0


if __name__ == "__main__":
    sys.exit(main())
