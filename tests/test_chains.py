"""Pointer chains (Part 03), moves, copies, multi-pointers and attribute pointers, with the
store of every worker checked after each step: nothing may leak anywhere."""
import gc

import pytest
import torch

import jupyter_syft as sy
from jupyter_syft.workers import remove_worker


@pytest.fixture(autouse=True)
def no_cycle_collector():
    gc.disable()  # deletes must come from reference counting alone
    yield
    gc.enable()


def sizes(*workers):
    return [len(w._objects) for w in workers]


def test_sending_a_pointer_makes_a_chain(bob, alice):
    x_ptr = torch.tensor([1, 2, 3, 4]).send(bob)
    r, p1 = x_ptr.id_at_location, x_ptr.id
    to_x_ptr = x_ptr.send(alice)
    assert repr(to_x_ptr) == f"(Wrapper)>[PointerTensor | me:{to_x_ptr.id} -> alice:{p1}]"
    assert repr(bob._objects) == f"{{{r}: tensor([1, 2, 3, 4])}}"
    assert repr(alice._objects) == f"{{{p1}: (Wrapper)>[PointerTensor | alice:{p1} -> bob:{r}]}}"
    inner = alice._objects[p1]
    assert inner.owner is alice and inner.location is bob

    x_ptr = to_x_ptr.get()  # the inner pointer comes home with its old id
    assert repr(x_ptr) == f"(Wrapper)>[PointerTensor | me:{p1} -> bob:{r}]"
    assert x_ptr.owner is sy.local_worker and sizes(bob, alice) == [1, 0]
    assert torch.equal(x_ptr.get(), torch.tensor([1, 2, 3, 4]))
    assert sizes(bob, alice) == [0, 0]


def test_ops_on_a_pointer_to_a_pointer_run_where_the_data_is(bob, alice):
    p2p2x = torch.tensor([1, 2, 3, 4, 5]).send(bob).send(alice)
    y = p2p2x + p2p2x
    assert sizes(bob, alice) == [2, 2]
    assert all(isinstance(v, torch.Tensor) and not isinstance(v, sy.PointerTensor)
               for v in bob._objects.values())
    kept = alice._objects[y.id_at_location]  # alice keeps a pointer to bob's sum, under its id
    assert kept.id == y.id_at_location and kept.location is bob
    assert torch.equal(bob._objects[kept.id_at_location], torch.tensor([2, 4, 6, 8, 10]))
    assert torch.equal(y.get().get(), torch.tensor([2, 4, 6, 8, 10]))
    assert sizes(bob, alice) == [1, 1]
    assert torch.equal(p2p2x.get().get(), torch.tensor([1, 2, 3, 4, 5]))
    assert sizes(bob, alice) == [0, 0]


def test_deleting_the_outer_pointer_cascades_down_the_chain(bob, alice, carol):
    three = torch.ones(3).send(bob).send(alice).send(carol)
    assert sizes(bob, alice, carol) == [1, 1, 1]
    assert torch.equal((three * 2).get().get().get(), torch.full((3,), 2.0))
    assert sizes(bob, alice, carol) == [1, 1, 1]  # the product went home link by link
    for _ in range(20):
        three + three  # dropped intermediate results, three hops deep
    assert sizes(bob, alice, carol) == [1, 1, 1]
    del three
    assert sizes(bob, alice, carol) == [0, 0, 0]


def test_a_chain_freed_inside_a_dropped_expression(bob, alice):
    for i in range(50):
        ptr = torch.tensor([float(i)]).send(bob).send(alice)
    assert sizes(bob, alice) == [1, 1]
    assert torch.equal(ptr.get().get(), torch.tensor([49.0]))
    assert sizes(bob, alice) == [0, 0]


def test_move_keeps_both_ids_and_goes_worker_to_worker(bob, alice):
    x = torch.tensor([1, 2, 3, 4, 5]).send(bob)
    ptr_id, remote_id = x.id, x.id_at_location
    me_traffic = dict(bob.traffic)
    moved = x.move(alice)
    assert moved is x and x.location is alice
    assert (x.id, x.id_at_location) == (ptr_id, remote_id)
    assert repr(x) == f"(Wrapper)>[PointerTensor | me:{ptr_id} -> alice:{remote_id}]"
    assert bob._objects == {} and list(alice._objects) == [remote_id]
    # the caller sent bob one small request; the tensor went from bob to alice directly
    assert bob.traffic["messages"] - me_traffic["messages"] >= 1
    assert bob.traffic["bytes_got"] == me_traffic["bytes_got"]
    del x, moved
    assert sizes(bob, alice) == [0, 0]


def test_move_of_a_chain_link_and_back(bob, alice, carol):
    chain = torch.ones(2).send(bob).send(alice)
    chain.move(carol)  # carol now holds the pointer to bob that alice held
    assert sizes(bob, alice, carol) == [1, 0, 1]
    assert torch.equal((chain + 1).get().get(), torch.full((2,), 2.0))
    del chain
    assert sizes(bob, alice, carol) == [0, 0, 0]


def test_move_to_a_removed_worker_loses_nothing(hook, bob):
    gone = sy.VirtualWorker(hook, id="gone")
    remove_worker(gone)
    x = torch.tensor([7.0]).send(bob)
    with pytest.raises(sy.WorkerNotFoundError, match="gone"):
        x.move(gone)
    assert x.location is bob and torch.equal(bob._objects[x.id_at_location], torch.tensor([7.0]))
    with pytest.raises(sy.WorkerNotFoundError):
        x.move("nobody")
    assert torch.equal(x.get(), torch.tensor([7.0]))


def test_move_to_the_same_worker_is_a_no_op_and_to_me_says_get(bob):
    x = torch.tensor([1.0]).send(bob)
    assert x.move(bob) is x and len(bob._objects) == 1
    with pytest.raises(ValueError, match=r"\.get\(\)"):
        x.move(sy.local_worker)
    assert len(bob._objects) == 1


def test_remote_send_and_remote_get(bob, alice):
    x = torch.tensor([3.0]).send(bob)
    x.remote_send(alice)  # me -> bob -> alice, one id everywhere
    rid = x.id_at_location
    assert repr(bob._objects[rid]) == f"(Wrapper)>[PointerTensor | bob:{rid} -> alice:{rid}]"
    assert torch.equal(alice._objects[rid], torch.tensor([3.0]))
    y = torch.tensor([1.0, 2.0]).send(bob).send(alice)
    assert y.remote_get() is y  # alice pulls the tensor from bob: me -> alice
    assert torch.equal(alice._objects[y.id_at_location], torch.tensor([1.0, 2.0]))
    assert torch.equal(y.get(), torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="is not a pointer: nothing to fetch from elsewhere"):
        torch.ones(1).send(bob).remote_get()
    assert torch.equal(x.get().get(), torch.tensor([3.0]))
    assert sizes(bob, alice) == [0, 0]


def test_copy_is_a_new_remote_tensor(bob):
    x = torch.tensor([1.0, 2.0]).send(bob)
    c = x.copy()
    assert c.location is bob and c.id_at_location != x.id_at_location and len(bob._objects) == 2
    assert torch.equal(c.get(), x.get())


def test_send_to_several_workers_gives_a_multi_pointer(bob, alice):
    x = torch.tensor([1.0, 2.0]).send(bob, alice)
    assert isinstance(x, sy.MultiPointerTensor)
    b, a = x.child["bob"], x.child["alice"]
    assert repr(x) == ("(Wrapper)>[MultiPointerTensor]\n"
                       f"\t-> [PointerTensor | me:{b.id} -> bob:{b.id_at_location}]\n"
                       f"\t-> [PointerTensor | me:{a.id} -> alice:{a.id_at_location}]")
    assert torch.equal((x + x).get(sum_results=True), torch.tensor([4.0, 8.0]))
    assert torch.equal(torch.mul(x, 3).get()[1], torch.tensor([3.0, 6.0]))
    assert [t.tolist() for t in x.get()] == [[1.0, 2.0], [1.0, 2.0]]
    assert sizes(bob, alice) == [0, 0]


def test_attribute_pointers_name_grad_and_data(bob):
    x = torch.tensor([1.0, 2.0], requires_grad=True).send(bob)
    assert x.grad is None  # no grad on bob yet
    (x * x).sum().backward()
    g = x.grad
    assert g.point_to_attr == "grad" and g.id_at_location == x.id_at_location
    assert repr(g) == f"(Wrapper)>[PointerTensor | me:{g.id} -> bob:{x.id_at_location}]::grad"
    assert repr(x.data).endswith(f"-> bob:{x.id_at_location}]::data")
    before = len(bob._objects)
    for _ in range(10):
        x.grad, x.data  # an attribute pointer stores nothing and deletes nothing
    del g
    assert len(bob._objects) == before
    with pytest.raises(sy.CannotRequestObjectAttribute, match="copy"):
        x.grad.get()
    assert len(bob._objects) == before  # the refused get took nothing away
    assert torch.equal((x.data + x.grad).get(), torch.tensor([3.0, 6.0]))
    x.grad.zero_()  # in place on bob's own grad
    assert torch.equal(x.get().grad, torch.zeros(2))


def test_attribute_pointers_refuse_send_and_move(bob, alice):
    x = torch.tensor([1.0], requires_grad=True).send(bob)
    with pytest.raises(sy.CannotRequestObjectAttribute):
        x.data.send(alice)
    with pytest.raises(sy.CannotRequestObjectAttribute):
        x.data.move(alice)
    assert sizes(bob, alice) == [1, 0]


def test_remote_torch_makes_tensors_on_the_worker(bob):
    z = bob.remote.torch.zeros(2, 3)
    assert isinstance(z, sy.PointerTensor) and z.location is bob and z.shape == (2, 3)
    assert torch.equal(z.get(), torch.zeros(2, 3))
    assert torch.equal(bob.remote.torch.arange(3).get(), torch.arange(3))
    with pytest.raises(AttributeError, match="nosuch"):
        bob.remote.torch.nosuch(1)
    with pytest.raises(sy.OperationNotAllowedError):
        bob.remote.torch.load("model.pt")  # exists in torch, but never runs on a worker
    with pytest.raises(sy.OperationNotAllowedError):
        bob.remote.torch.empty(3)  # uninitialised memory
    assert bob._objects == {}


def test_clear_objects_returns_the_worker_and_cascades(bob, alice):
    chain = torch.ones(2).send(bob).send(alice)
    chain.garbage_collect_data = False
    assert alice.clear_objects() is alice
    assert repr(alice) == "<VirtualWorker id:alice #objects:0>"
    assert bob._objects == {}  # alice's pointer, dropped, deleted what it named


def test_a_deleted_pointer_raises_its_own_error(bob):
    x = torch.ones(1).send(bob)
    x.delete_remote()
    with pytest.raises(sy.PointerDeletedError, match="deleted"):
        x + x
    assert issubclass(sy.PointerDeletedError, sy.PointerFetchedError)
    with pytest.raises(sy.PointerFetchedError):  # old except clauses keep working
        x.get()


def test_attribute_pointers_cannot_delete_what_they_name(bob):
    w = torch.tensor([1.0, 2.0], requires_grad=True).send(bob)
    (w * w).sum().backward()
    with pytest.raises(sy.CannotRequestObjectAttribute, match="does not own"):
        w.grad.delete_remote()
    assert len(bob._objects) == 1 and torch.equal(w.get(), torch.tensor([1.0, 2.0]))


def test_an_in_place_result_on_an_attribute_is_that_attribute(bob):
    p = torch.tensor([1.0, 2.0], requires_grad=True).send(bob)
    (p * 1).sum().backward()
    out = torch.mul(p.data, 3, out=p.grad)
    assert out.point_to_attr == "grad"
    assert torch.equal(out.copy().get(), torch.tensor([3.0, 6.0]))
    assert torch.equal(p.get().grad, torch.tensor([3.0, 6.0]))


def test_a_multi_pointer_get_is_all_or_nothing(bob, alice):
    mp = torch.tensor([1.0, 2.0]).send(bob, alice)
    alice.clear_objects()  # alice lost her copy
    with pytest.raises(sy.ObjectNotFoundError):
        mp.get()
    b = mp.child["bob"]
    assert b.state == "live" and torch.equal(b.get(), torch.tensor([1.0, 2.0]))  # put back


def test_sending_or_moving_to_where_it_is_or_to_me_is_refused(bob, alice):
    x = torch.tensor([1.0]).send(bob)
    with pytest.raises(ValueError, match="on bob already"):
        x.send(bob)
    with pytest.raises(ValueError, match="client worker"):
        x.send(sy.local_worker)
    with pytest.raises(ValueError, match="client worker"):
        x.remote_send(sy.local_worker)
    chain = torch.tensor([2.0]).send(bob).send(alice)
    with pytest.raises(ValueError, match="on bob already"):
        chain.move(bob)  # alice's link would point at bob from bob
    assert sizes(bob, alice) == [2, 1] and sy.local_worker._objects == {}


def test_data_setter_keeps_the_shape(bob):
    x = torch.zeros(2).send(bob)
    with pytest.raises(ValueError, match="shape is fixed"):
        x.data = torch.ones(5).send(bob)
    x.data = torch.ones(2).send(bob)
    assert torch.equal(x.get(), torch.ones(2))


def test_the_grad_cache_follows_moves_and_chains(bob, alice):
    from torch import nn

    model = nn.Linear(2, 1)
    model.send(bob)  # grads known (none) right after the send
    w = model.weight
    assert w.grad is None
    w.move(alice)
    (model.weight * 1).sum().backward()  # on alice now
    assert w.grad is not None and w.grad.location is alice
    p = torch.tensor([1.0, 2.0], requires_grad=True).send(bob)
    assert p.grad is None
    via_alice = p.send(alice)  # alice can now change bob's tensor's grad without us
    (via_alice * via_alice).sum().backward()
    assert p.grad is not None


def test_remote_torch_with_out_and_a_pointer_elsewhere(bob, alice):
    z = torch.zeros(3).send(bob)
    o = torch.ones(3).send(bob)
    assert bob.remote.torch.add(o, o, out=z) is z
    assert torch.equal(z.copy().get(), torch.full((3,), 2.0))
    elsewhere = torch.ones(3).send(alice)
    with pytest.raises(sy.TensorsNotCollocatedException, match="alice"):
        bob.remote.torch.add(elsewhere, 1)
    assert sizes(bob, alice) == [2, 1]


def test_the_grad_of_a_chain_is_never_answered_from_a_cache(bob, alice):
    x = torch.ones(3, requires_grad=True).send(bob)
    y = x.send(alice)
    assert y.grad is None
    (x * 2).sum().backward()  # through the inner pointer, which we still hold
    assert y.grad is not None


def test_an_out_argument_naming_the_same_grad_returns_that_pointer(bob):
    x = torch.ones(2, requires_grad=True).send(bob)
    (x * 1).sum().backward()
    g1 = x.grad
    x + x  # a request in between: the next x.grad is a new pointer object
    g2 = x.grad
    assert torch.add(g1, 1, out=g2) is g2


def test_methods_torch_lists_under_another_object_run_remotely(bob):
    x = torch.tensor([1.0, 2.0]).send(bob)
    assert torch.equal(x.pow(2).get(), torch.tensor([1.0, 4.0]))
    assert torch.equal(x.new_zeros(3).get(), torch.zeros(3))
    assert torch.equal(x.unflatten(0, (1, 2)).get(), torch.tensor([[1.0, 2.0]]))
