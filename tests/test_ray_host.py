"""A Ray actor's WorkerHost serves its workers' bytes in-process (no Ray needed here): the
summary request of a hosted worker under hostile fields, an unknown worker, and a partition that
%syft reset must leave alone."""
import pytest
import torch

from jupyter_syft import codec
from jupyter_syft.ray.host import WorkerHost


@pytest.fixture
def host(hook):
    """A WorkerHost in this process (it sets torch's thread count, as an actor does: restored)."""
    threads = torch.get_num_threads()
    made = WorkerHost(0)
    yield made
    made.remove_workers(list(made.workers))
    torch.set_num_threads(threads)


def reply(host, worker_id, message):
    return codec.decode_reply(host.recv(worker_id, codec.encode(message)), codec.ExtDecoder())


def test_a_hosted_worker_s_summary_refuses_fields_and_an_unknown_worker_is_an_error(host):
    host.add_workers(["hosted-a"])
    ok, value = reply(host, "hosted-a", ["summary", [], "extra"])
    assert not ok and value[0] == "ValueError"
    ok, value = reply(host, "hosted-a", ["summary", [], "x" * 100_000])
    assert not ok and len(value[1]) < 2_000
    ok, value = reply(host, "nobody", ["summary", []])
    assert not ok and value[0] == "WorkerNotFoundError"
    ok, value = reply(host, "hosted-a", ["summary", []])
    assert ok and value == []


def test_a_partition_is_listed_as_the_worker_s_own_and_training_skips_one_deleted(host):
    """Partitions are private rows (values hidden; %syft reset skips private rows); if one is
    deleted anyway, a round counts the worker as missing instead of failing."""
    host.add_workers(["hosted-b"])
    host.partition(lambda i: (torch.ones(4, 2), torch.zeros(4, 1)), [("hosted-b", 0)])
    ok, rows = reply(host, "hosted-b", ["summary", []])
    assert ok and len(rows) == 2 and all(r[5] is True and r[1] is None for r in rows)
    host.workers["hosted-b"]._store.discard([rows[0][0]])
    params = [torch.zeros(1, 2), torch.zeros(1)]

    def step(data, target, ps):
        raise AssertionError("no partition: no step")
    out = host.train({"epochs": 1, "batch_size": 2, "function": step}, codec.encode(params), ["hosted-b"])
    assert out["missing"] == ["hosted-b"] and out["workers"] == 0
