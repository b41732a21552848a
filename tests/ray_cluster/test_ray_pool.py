"""Logical workers in Ray actors, on a local two-node Ray cluster (ray.cluster_utils.Cluster).

Run with `make test-ray`: Ray binds the machine's own address unless told otherwise, so these
tests run in a loopback-only network namespace (`unshare -n`, lo up) with every node on
127.0.0.1; the fixture refuses to start elsewhere. The last test stops the cluster and checks
that no Ray process it started is left.
"""
import os
import sys
import time

import pytest
import torch
import torch.nn.functional as F

import jupyter_syft as sy
from jupyter_syft.exceptions import WorkerUnreachableError

import ray  # noqa: E402
from ray import cloudpickle  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

from jupyter_syft.ray import RayWorkerPool, RoundFailedError  # noqa: E402

# The partition and step functions below travel to the actors by value, not by module name.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

LR, ROWS = 0.01, 8


def _net_devices():
    """This process's network devices (/proc/self/net/dev follows the network namespace;
    /sys/class/net shows the one sysfs was mounted in)."""
    with open("/proc/self/net/dev") as f:
        return sorted(line.split(":")[0].strip() for line in f.readlines()[2:])


def _ray_processes(netns):
    """Ray's processes (raylet, gcs_server, workers "ray::...", its agents) in this network
    namespace: the ones this module started."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            if os.readlink(f"/proc/{pid}/ns/net") != netns:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if any(k in cmd for k in ("raylet", "gcs_server", "ray::", "ray/_private", "ray/dashboard",
                                  "ray/autoscaler", "default_worker.py")):
            found.append((int(pid), cmd[:120]))
    return found


class _Cluster:
    def __init__(self):
        self.netns = os.readlink("/proc/self/ns/net")
        self.cluster = Cluster(initialize_head=True, head_node_args={
            "num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False})
        self.cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
        ray.init(address=self.cluster.address, log_to_driver=False)
        self.stopped = False

    def stop(self):
        if not self.stopped:
            self.stopped = True
            ray.shutdown()
            self.cluster.shutdown()


@pytest.fixture(scope="module")
def cluster():
    assert _net_devices() == ["lo"], (
        "the Ray tests run in a loopback-only network namespace: `make test-ray` "
        f"(unshare -n, lo up); here the devices are {_net_devices()}")
    c = _Cluster()
    yield c
    c.stop()


@pytest.fixture
def pool(cluster, hook):
    p = RayWorkerPool(40)
    yield p
    p.close()


def partition(i):
    g = torch.Generator().manual_seed(1000 + i)
    return torch.randn(ROWS, 13, generator=g), torch.randn(ROWS, 1, generator=g)


def make_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(13, 32), torch.nn.ReLU(), torch.nn.Linear(32, 24),
                               torch.nn.ReLU(), torch.nn.Linear(24, 1))


def train_step(data, target, w1, b1, w2, b2, w3, b3):
    x = F.relu(F.linear(data, w1, b1))
    x = F.relu(F.linear(x, w2, b2))
    loss = ((F.linear(x, w3, b3) - target) ** 2).mean()
    params = (w1, b1, w2, b2, w3, b3)
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.add_(g, alpha=-LR)
    return loss


def make_plan(model):
    plan = sy.func2plan()(train_step)
    plan.build(torch.zeros(ROWS, 13), torch.zeros(ROWS, 1),
               *[p.detach().clone().requires_grad_() for p in model.parameters()])
    return plan


def sequential_fedavg(model, indices):
    """The same round in one process with plain torch: each client trains a copy of the global
    model on its rows for one epoch (SGD), and the copies are averaged by rows."""
    total, sums = 0, [torch.zeros_like(p, dtype=torch.float64) for p in model.parameters()]
    for i in indices:
        local = make_model()
        local.load_state_dict(model.state_dict())
        opt = torch.optim.SGD(local.parameters(), lr=LR)
        data, target = partition(i)
        loss = ((local(data) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        for s, p in zip(sums, local.parameters()):
            s.add_(p.detach(), alpha=len(data))
        total += len(data)
    return [(s / total).float() for s in sums]


def assert_params_equal(got, expected):
    for g, e in zip(got, expected):
        assert torch.allclose(g, e, atol=1e-6, rtol=0), (g - e).abs().max()


def test_workers_spread_across_both_nodes(pool, cluster):
    nodes = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    assert len(nodes) == 2
    assert len(pool.actors) == 2  # one actor per CPU of the cluster
    assert {pool.node_of(w) for w in pool.ids} == nodes
    assert [pool.hosted_count(h) for h in range(2)] == [20, 20]
    summary = pool.summary()
    assert summary["workers"] == 40 and summary["nodes"] == 2
    assert {h["node_id"] for h in summary["hosts"]} == nodes
    assert len({h["pid"] for h in summary["hosts"]}) == 2


def test_partitions_made_on_the_actors_and_tutorial_code_unchanged(pool):
    assert pool.partition(partition) == 40 * ROWS
    w = pool["worker-3"]
    assert pool[3] is w and repr(w) == "<RayHostedWorker id:worker-3 host:1>"
    data_ptr, target_ptr = w.search("#data")[0], w.search("#target")[0]
    assert torch.equal(data_ptr.copy().get(), partition(3)[0])
    # Part 01 on a worker in an actor
    x = torch.tensor([1, 2, 3, 4, 5]).send(w)
    y = torch.tensor([1, 1, 1, 1, 1]).send(w)
    z = torch.add(x, y)
    assert torch.equal(z.get(), torch.tensor([2, 3, 4, 5, 6]))
    assert len(w._objects) == 4  # data, target, x, y
    # remote autograd
    a = torch.tensor([1, 2, 3, 4, 5.], requires_grad=True).send(w)
    b = torch.tensor([1, 1, 1, 1, 1.], requires_grad=True).send(w)
    (a + b).sum().backward()
    a = a.get()
    assert torch.equal(a.grad, torch.ones(5))
    # a plan sent to the worker, called on its data: one request
    model = make_model()
    plan_ptr = make_plan(model).send(w)
    params = [p.detach().clone().requires_grad_().send(w) for p in model.parameters()]
    plan_ptr(data_ptr, target_ptr, *params)
    expected = sequential_fedavg(model, [3])
    assert_params_equal([p.get() for p in params], expected)
    # Part 02: a model sent to the worker, trained there on its partition, brought home
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    model.send(w)
    opt.zero_grad()
    loss = ((model(data_ptr) - target_ptr) ** 2).mean()
    loss.backward()
    opt.step()
    model.get()
    assert_params_equal(list(model.parameters()), expected)
    summary = pool.worker_summary("worker-3")
    assert summary["host"] == 1 and summary["objects"] >= 3 and summary["messages"] > 0
    shown = pool.show("worker-3")  # one worker drilled into
    assert repr(shown) == f"<RayHostedWorker id:worker-3 host:1 #objects:{summary['objects']}>"
    assert "<b>worker-3</b> on actor 1" in shown._repr_html_() and "[8, 13]" in shown._repr_html_()


def test_round_equals_sequential_fedavg(pool):
    pool.partition(partition)
    model = make_model()
    expected = sequential_fedavg(model, range(40))
    seen = []
    result = pool.fedavg(model, make_plan(model), progress=lambda r: seen.append(r.workers_done))
    assert result.workers_done == 40 and result.rows == 40 * ROWS and not result.failed
    assert seen[-1] == 40 and seen == sorted(seen)
    assert_params_equal(list(model.parameters()), expected)
    assert_params_equal(result.params, expected)
    # a second round, not blocking the caller; a Python step function instead of a plan
    def step(data, target, params):
        train_step(data, target, *params)

    expected2 = sequential_fedavg(model, range(40))
    running = pool.fedavg(model, step, block=False)
    assert "FedAvg round" in repr(running)
    running.wait(120)
    assert running.done and running.progress()["workers_done"] == 40
    assert_params_equal(list(model.parameters()), expected2)
    assert sum(pool.summary()["round_times"]["counts"]) == 40
    html = pool._repr_html_()  # the summary view: counts per actor and node, a histogram
    assert "40 workers on 2 actors, 2 node(s)" in html and "worker time in the last round" in html
    assert "FedAvg round done: 40/40 workers" in running._repr_html_()


def _dies_on_worker_5(data, target, params):
    from jupyter_syft import commands

    if commands._serving.worker.id == "worker-5":  # the actor hosting worker-5 dies mid-round
        os._exit(1)
    train_step(data, target, *params)


def test_a_killed_actor_is_reported_with_its_workers(pool):
    pool.partition(partition)
    model = make_model()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(RoundFailedError) as err:
        pool.fedavg(model, _dies_on_worker_5, on_failure="raise", timeout=120)
    assert "Ray actor 1 died" in str(err.value)
    assert sorted(err.value.failed) == [1]
    assert all(pool.host_of(w) == 1 for w in err.value.failed[1])
    assert_params_equal(list(model.parameters()), before)  # the model is left as it was
    # the actor's workers now say so, at once
    with pytest.raises(WorkerUnreachableError, match="Ray actor 1 of the pool is dead"):
        torch.tensor([1.0]).send(pool["worker-7"])
    assert "dead actors: 1" in pool._repr_html_()
    # skip: the round completes with the other actor's workers
    result = pool.fedavg(model, make_plan(model), on_failure="skip", timeout=120)
    survivors = [i for i in range(40) if i % 2 == 0]
    assert result.workers_done == 20 and sorted(result.failed) == [1]
    assert len(result.failed[1]) == 20
    assert_params_equal(list(model.parameters()), sequential_fedavg(make_model(), survivors))


def test_an_actor_killed_by_ray_kill(pool):
    pool.partition(partition)
    w = pool["worker-0"]
    x = torch.tensor([1.0, 2.0]).send(w)
    ray.kill(pool.actors[0])
    with pytest.raises(WorkerUnreachableError, match="Ray actor 0 of the pool died") as err:
        (x + x).get()
    assert "20 workers" in str(err.value) and "worker-0" in str(err.value)
    result = pool.fedavg(make_model(), make_plan(make_model()), on_failure="skip", timeout=120)
    assert result.workers_done == 20 and sorted(result.failed) == [0]


def test_a_hosted_workers_view_lists_its_actors_summary(pool, live):
    """The worker views (`w`, `w._objects`, %syft, the side panel) list a Ray-hosted worker as a
    network worker's: from one summary request to its actor."""
    pool.partition(partition)
    w = pool["worker-9"]
    x = torch.tensor([1, 2, 3]).send(w)
    view = live.worker_view(w)
    snap = view.snapshot
    assert w._store.objects == {}  # nothing lives in the notebook
    assert snap["network"]["address"] == w.address == f"Ray actor 1, node {pool.node_of('worker-9')[:8]}"
    assert snap["network"]["status"] == "ok"
    rows = {r["id"]: r for r in snap["rows"]}
    assert rows[x.id_at_location]["preview"] == "[1, 2, 3]"
    assert sorted(r["shape"] for r in rows.values()) == [[3], [8, 1], [8, 13]]
    # the partition is the worker's own data: listed, its values not shown (and %syft reset
    # leaves it); what the notebook sent shows its values
    assert sorted(r["preview"] for r in rows.values() if r["shape"] != [3]) == ["private", "private"]
    assert f"network worker at {w.address}" in view.value


def test_zz_ray_is_shut_down_and_no_process_is_left(cluster):
    assert _ray_processes(cluster.netns), "the cluster's processes should be visible while it runs"
    cluster.stop()
    assert not ray.is_initialized()
    deadline = time.monotonic() + 30
    while _ray_processes(cluster.netns) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _ray_processes(cluster.netns) == []
