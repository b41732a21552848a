"""Federated data (Parts 06-07): federate, FederatedDataset, FederatedDataLoader."""
import logging

import pytest
import torch

import jupyter_syft as sy
from jupyter_syft.workers import remove_worker


def numbers(n=10):
    return torch.utils.data.TensorDataset(torch.arange(float(n)).view(n, 1), torch.arange(n))


def test_federate_splits_in_order_and_sends(bob, alice):
    fed = numbers(10).federate((bob, alice))
    assert fed.workers == ["bob", "alice"] and len(fed) == 10
    assert repr(fed) == "FederatedDataset\n    Distributed accross: bob, alice\n    Number of datapoints: 10\n"
    assert torch.equal(fed["bob"].targets.copy().get(), torch.arange(5))
    assert torch.equal(fed["alice"].data.copy().get(), torch.arange(5.0, 10.0).view(5, 1))
    assert len(bob._objects) == len(alice._objects) == 2


@pytest.mark.parametrize("shuffle", [False, True])
def test_every_sample_once_per_epoch_and_batches_stay_on_their_worker(bob, alice, shuffle):
    fed = numbers(11).federate((bob, alice))
    loader = sy.FederatedDataLoader(fed, batch_size=4, shuffle=shuffle)
    assert len(loader) == 3  # PySyft's count: ceil(11 / 4), though 4 batches come out
    seen, where = [], []
    for data, target in loader:
        assert data.location is target.location
        where.append(data.location.id)
        t = target.get()
        assert torch.equal(data.get().view(-1).long(), t)
        seen += t.tolist()
    assert sorted(seen) == list(range(11)) and where == ["bob", "bob", "alice", "alice"]
    assert len(bob._objects) == len(alice._objects) == 2  # only the datasets


def test_shuffle_is_reproducible_with_a_seed(bob, alice):
    loader = sy.FederatedDataLoader(numbers(12).federate((bob, alice)), batch_size=3, shuffle=True)
    orders = []
    for _ in range(2):
        torch.manual_seed(4)
        orders.append([t.get().tolist() for _, t in loader])
    assert orders[0] == orders[1] and orders[0] != [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]


def test_drop_last_and_one_message_per_batch(bob):
    loader = sy.FederatedDataLoader(numbers(10).federate((bob,)), batch_size=4, drop_last=True)
    assert len(loader) == 2
    start = bob.traffic["messages"]
    batches = list(loader)
    assert [b[0].shape[0] for b in batches] == [4, 4] and bob.traffic["messages"] - start == 2


def test_unknown_options_are_logged_as_pysyft_logged_them(bob, caplog):
    fed = numbers(4).federate((bob,))
    with caplog.at_level(logging.WARNING):
        sy.FederatedDataLoader(fed, batch_size=2, num_workers=1, pin_memory=True)
    assert caplog.records[-1].name == "root"
    assert caplog.records[-1].getMessage() == "The following options are not supported: num_workers: 1, pin_memory: True"


def test_base_dataset_from_pointers_as_in_part07(bob, alice):
    data = torch.randn(6, 13).tag("#boston", "#data").send(bob)
    target = torch.randn(6).tag("#boston", "#target").send(bob)
    grid = sy.PrivateGridNetwork(bob, alice)
    d, t = grid.search("#boston", "#data"), grid.search("#boston", "#target")
    assert d["bob"][0].shape[1] == 13
    fed = sy.FederatedDataset([sy.BaseDataset(d["bob"][0], t["bob"][0])])
    assert fed.workers == ["bob"] and len(fed) == 6
    assert sum(b[0].shape[0] for b in sy.FederatedDataLoader(fed, batch_size=4)) == 6
    del d, t, fed
    assert len(bob._objects) == 2 and data.location is bob and target.location is bob


def test_bad_input_gets_clear_errors_and_loses_nothing(hook, bob):
    with pytest.raises(ValueError, match="at least one worker"):
        numbers().federate(())
    gone = sy.VirtualWorker(hook, id="gone_fed")
    remove_worker(gone)
    with pytest.raises(sy.WorkerNotFoundError, match="gone_fed"):
        numbers().federate((bob, gone))
    assert bob._objects == {}  # checked before anything was sent
    with pytest.raises(ValueError, match="one target per data point"):
        sy.BaseDataset(torch.ones(5, 2), torch.ones(4))
    with pytest.raises(ValueError, match="on a worker"):
        sy.FederatedDataset([sy.BaseDataset(torch.ones(2), torch.ones(2))])
    with pytest.raises(TypeError, match="FederatedDataset"):
        sy.FederatedDataLoader(numbers(), batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        sy.FederatedDataLoader(numbers(4).federate((bob,)), batch_size=0)


def test_the_batch_message_refuses_bad_rows(bob):
    from jupyter_syft import codec
    from jupyter_syft.codec import ExtDecoder, Ref

    fed = numbers(4).federate((bob,))
    d, t = fed["bob"].data, fed["bob"].targets
    kept = {k: v.clone() for k, v in bob._objects.items()}
    for indices, kind in (([0, 9], "IndexError"), (["x"], "MalformedMessageError"),
                          ("0", "MalformedMessageError"), ([-9], "IndexError"), ([-1], "IndexError"),
                          ([0] * 5, "ValueError")):  # more rows than the dataset has
        message = codec.encode(["batch", [], Ref(d.id_at_location), Ref(t.id_at_location), indices])
        ok, value = codec.decode_reply(bob.recv_msg(message), ExtDecoder())
        assert not ok and value[0] == kind, value
    assert bob._objects.keys() == kept.keys()
