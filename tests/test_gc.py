"""A remote tensor lives exactly as long as some pointer to it (refcount-driven, as in PySyft)."""
import gc

import pytest
import torch

import jupyter_syft as sy


@pytest.fixture(autouse=True)
def no_cycle_collector():
    # Deletion must come from reference counting alone, not from the cycle collector.
    gc.disable()
    yield
    gc.enable()


def test_del_frees_the_remote_object(bob):
    ptr = torch.tensor([1, 2, 3]).send(bob)
    assert len(bob._objects) == 1
    del ptr
    assert bob._objects == {}


def test_rebinding_in_a_loop_leaves_one_object(bob):
    for i in range(1000):
        ptr = torch.tensor([i]).send(bob)
    assert list(bob._objects) == [ptr.id_at_location]
    assert repr(bob) == "<VirtualWorker id:bob #objects:1>"


def test_results_of_expressions_are_freed(bob):
    x = torch.ones(3).send(bob)
    for _ in range(100):
        (x + x) * 2
    torch.max(torch.stack([x, x]), 0)
    assert list(bob._objects) == [x.id_at_location]


def test_garbage_collect_data_false_keeps_the_object(bob):
    ptr = torch.tensor([5]).send(bob, garbage_collect_data=False)
    remote_id = ptr.id_at_location
    assert ptr.garbage_collect_data is False
    del ptr
    assert torch.equal(bob._objects[remote_id], torch.tensor([5]))
    other = torch.tensor([6]).send(bob)
    other.garbage_collect_data = False
    del other
    assert len(bob._objects) == 2


def test_get_then_del_and_explicit_delete(bob):
    a = torch.tensor([1]).send(bob)
    b = torch.tensor([2]).send(bob)
    keep = b  # a second name: `del` alone would not free it
    a.get()
    del a
    b.delete_remote()
    assert bob._objects == {} and keep.state == "deleted"
    with pytest.raises(sy.PointerFetchedError, match="deleted"):
        keep + keep


def test_sending_the_same_tensor_twice_gives_two_objects(bob):
    t = torch.tensor([1.0])
    p1, p2 = t.send(bob), t.send(bob)
    assert p1.id_at_location == t.id and p2.id_at_location != t.id
    del p1
    assert list(bob._objects) == [p2.id_at_location]
    assert torch.equal(p2.get(), t)


def test_many_send_get_cycles_leave_the_store_empty(bob):
    x = torch.tensor([1.0, 2.0, 3.0])
    for _ in range(100_000):
        x.send(bob).get()
    assert bob._objects == {}


def test_pending_deletes_survive_a_failed_request(bob):
    keep = torch.tensor([1.0]).send(bob)
    doomed = torch.tensor([2.0]).send(bob)
    del doomed  # its delete waits for the next message to bob
    with pytest.raises(sy.UnsupportedTypeError):
        torch.eye(2).to_sparse().send(bob)  # fails before anything is sent
    ghost = torch.tensor([3.0]).send(bob)
    also_doomed = torch.tensor([4.0]).send(bob)
    bob._store.objects.pop(ghost.id_at_location)  # gone behind its pointer's back
    del also_doomed
    with pytest.raises(sy.ObjectNotFoundError):
        ghost + ghost  # fails while bob reads the message, before the deletes are applied
    ghost.garbage_collect_data = False
    assert list(bob._objects) == [keep.id_at_location]
