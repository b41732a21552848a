"""Flower's simulation of bench_ray.py's task, for comparison: FedAvg rounds of the 13-32-24-1 MLP,
8 rows per client (client i's rows from seed 1000 + i, as in bench_ray.py), 1 local epoch (one SGD
step of batch 8, lr 0.01, MSE), every client in every round, no evaluation.

    $(bash shared/peers/flower.sh)/python bench/peer_flower.py --clients 10 100 --rounds 3 --json out.json

Runs with the Flower peer's python (flwr[simulation] and its pinned Ray); bench_ray.py starts it
inside its loopback-only namespace. A round's time is from the strategy's configure_train (the
global model goes out) to the end of its aggregate_train (the average is made), per round;
`actors` sets Flower's client_resources so that CPUs / num_cpus actors run (4 was its best here).
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

ROWS, LR, DATA_SEED, MODEL_SEED = 8, 0.01, 1000, 0


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


def partition(i):
    g = torch.Generator().manual_seed(DATA_SEED + i)
    return torch.randn(ROWS, 13, generator=g), torch.randn(ROWS, 1, generator=g)


def run(clients, rounds, actors):
    from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp
    from flwr.serverapp import Grid, ServerApp
    from flwr.serverapp.strategy import FedAvg
    from flwr.simulation import run_simulation

    client_app = ClientApp()

    @client_app.train()
    def train(msg: Message, context: Context):
        torch.set_num_threads(1)
        model = Net()
        model.load_state_dict(msg.content["arrays"].to_torch_state_dict())
        opt = torch.optim.SGD(model.parameters(), lr=LR)
        data, target = partition(int(context.node_config["partition-id"]))
        loss = ((model(data) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        content = RecordDict({"arrays": ArrayRecord(model.state_dict()),
                              "metrics": MetricRecord({"num-examples": len(data)})})
        return Message(content=content, reply_to=msg)

    times, result = [], {}

    class TimedFedAvg(FedAvg):
        def configure_train(self, *args, **kwargs):
            self._t0 = time.perf_counter()
            return super().configure_train(*args, **kwargs)

        def aggregate_train(self, *args, **kwargs):
            out = super().aggregate_train(*args, **kwargs)
            times.append(time.perf_counter() - self._t0)
            return out

    server_app = ServerApp()

    @server_app.main()
    def main(grid: Grid, context: Context) -> None:
        torch.manual_seed(MODEL_SEED)
        strategy = TimedFedAvg(fraction_train=1.0, fraction_evaluate=0.0, min_train_nodes=clients,
                               min_available_nodes=clients, min_evaluate_nodes=0)
        out = strategy.start(grid=grid, initial_arrays=ArrayRecord(Net().state_dict()), num_rounds=rounds)
        result["final"] = [v.tolist() for v in out.arrays.to_torch_state_dict().values()]

    cpus = os.cpu_count()
    backend = {"client_resources": {"num_cpus": cpus / actors, "num_gpus": 0.0},
               "init_args": {"num_cpus": cpus, "include_dashboard": False, "_node_ip_address": "127.0.0.1",
                             "log_to_driver": False}}
    start = time.perf_counter()
    run_simulation(server_app=server_app, client_app=client_app, num_supernodes=clients,
                   backend_config=backend)
    return {"clients": clients, "rounds_s": times, "total_s": time.perf_counter() - start,
            "final": result.get("final")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--rounds", type=int, nargs="+", default=[3],
                        help="rounds per size (one number for all, or one per size)")
    parser.add_argument("--actors", type=int, default=4)
    parser.add_argument("--json")
    args = parser.parse_args()
    rounds = args.rounds * len(args.clients) if len(args.rounds) == 1 else args.rounds
    import flwr
    import ray

    out = {"flwr": flwr.__version__, "ray": ray.__version__, "torch": torch.__version__,
           "actors": args.actors, "sizes": []}
    for clients, r in zip(args.clients, rounds):
        entry = run(clients, r, args.actors)
        print(f"flower {clients} clients: rounds {['%.3f' % t for t in entry['rounds_s']]}", file=sys.stderr, flush=True)
        out["sizes"].append(entry)
        if args.json:  # written after each size: a long run keeps what it measured
            with open(args.json, "w") as f:
                json.dump(out, f)


if __name__ == "__main__":
    main()
