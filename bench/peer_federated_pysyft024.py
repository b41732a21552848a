"""The bench_federated.py workload on PySyft 0.2.4 (Python 3.7, torch 1.4), for a side-by-side table.

One federated training step of a 13-32-24-1 MLP on a batch of 8 (the Boston Housing model of the
classic tutorials): model.send(bob), opt.zero_grad(), forward, MSE loss, backward, opt.step(),
model.get(); the optimizer is built once, on the local parameters, before the first send.
Run with the peer's python (see bench/README.md); prints one line of JSON on stdout.
    python bench/peer_federated_pysyft024.py [--quick]
Python 3.7 compatible on purpose: no walrus, no f-string "=".
"""
import argparse
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import Op, measure  # noqa: E402

import torch  # noqa: E402
from torch import nn, optim  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# Keep these in step with bench_federated.py.
SEED, DATA_SEED, BATCH, LR = 0, 1, 8, 0.01
CHECK_STEPS, COUNT_STEPS = 20, 20


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
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


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few, short rounds (smoke test)")
    args = parser.parse_args()
    rounds, seconds = (3, 0.05) if args.quick else (11, 0.5)
    torch.set_num_threads(1)

    # stdout carries only the JSON; anything syft prints while importing or hooking goes to stderr.
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    results = {"rounds": rounds}
    data, target = batch()

    # Plain torch before syft is imported (PySyft's hook slows every torch call down).
    model, opt = model_and_optimizer()
    results["plain_before_hook"] = measure(
        {"plain": Op("step(model, opt, data, target)",
                     {"step": plain_step, "model": model, "opt": opt, "data": data, "target": target})},
        rounds, seconds)["plain"]

    import syft as sy
    hook = sy.TorchHook(torch)
    bob = sy.VirtualWorker(hook, id="bob", log_msgs=True)

    # Bytes bob sends back: VirtualWorker._recv_msg calls self.recv_msg, so wrap it on the instance.
    sent = {"messages": 0, "bytes_out": 0}
    recv_msg = bob.recv_msg

    def counting_recv_msg(bin_message):
        response = recv_msg(bin_message)
        sent["messages"] += 1
        sent["bytes_out"] += len(response) if response is not None else 0
        return response

    bob.recv_msg = counting_recv_msg

    data_ptr, target_ptr = data.send(bob), target.send(bob)

    # Does the federated step compute what plain torch computes? (Reported, not enforced here.)
    plain_model, plain_opt = model_and_optimizer()
    for _ in range(CHECK_STEPS):
        plain_step(plain_model, plain_opt, data, target)
    fed_model, fed_opt = model_and_optimizer()
    for _ in range(CHECK_STEPS):
        federated_step(fed_model, fed_opt, data_ptr, target_ptr, bob)
    results["check_steps"] = CHECK_STEPS
    results["max_abs_diff_vs_plain"] = (weights(fed_model) - weights(plain_model)).abs().max().item()

    # Messages and bytes per step, in steady state (the first send also creates the grads).
    per_step, bytes_in, bytes_out = [], 0, 0
    for _ in range(COUNT_STEPS):
        m0, s0, o0 = len(bob.msg_history), sent["messages"], sent["bytes_out"]
        federated_step(fed_model, fed_opt, data_ptr, target_ptr, bob)
        per_step.append(len(bob.msg_history) - m0)
        bytes_in += sum(len(m) for m in bob.msg_history[m0:])
        bytes_out += sent["bytes_out"] - o0
        assert sent["messages"] - s0 == per_step[-1]
    results["messages_per_step"] = sum(per_step) / len(per_step)
    results["messages_per_step_min_max"] = [min(per_step), max(per_step)]
    results["bytes_in_per_step"] = bytes_in / COUNT_STEPS
    results["bytes_out_per_step"] = bytes_out / COUNT_STEPS
    results["objects_on_bob"] = len(bob._objects)  # data and target: 2 if the step leaks nothing
    bob.log_msgs = False  # keep msg_history from growing while timing
    del bob.msg_history[:]

    # Timing: plain torch (after the hook) and the federated step, taken in turn round by round.
    model, opt = model_and_optimizer()
    ops = {
        "plain": Op("step(model, opt, data, target)",
                    {"step": plain_step, "model": model, "opt": opt, "data": data, "target": target}),
        "federated": Op("step(model, opt, data_ptr, target_ptr, bob)",
                        {"step": federated_step, "model": fed_model, "opt": fed_opt,
                         "data_ptr": data_ptr, "target_ptr": target_ptr, "bob": bob}),
    }
    results.update(measure(ops, rounds, seconds))
    results["objects_on_bob_after_timing"] = len(bob._objects)

    results["versions"] = {"python": platform.python_version(), "torch": torch.__version__,
                           "syft": sy.__version__}
    sys.stdout = real_stdout
    print(json.dumps(results))


if __name__ == "__main__":
    main()
