"""The message kinds added for chains, moves, models and optimizer steps, fed hostile input:
each gets an error reply naming the problem, and the worker keeps every object unchanged."""
import msgpack
import pytest
import torch

from jupyter_syft import codec
from jupyter_syft.codec import ExtDecoder, PointerDesc, Ref

PLAIN = ExtDecoder()


def reply(bob, message):
    data = message if isinstance(message, bytes) else codec.encode(message)
    return codec.decode_reply(bob.recv_msg(data), PLAIN)


def error(bob, message):
    ok, value = reply(bob, message)
    assert not ok, value
    return value


@pytest.fixture
def loaded(bob, alice):
    w = torch.tensor([1.0, 2.0], requires_grad=True).send(bob)
    (w * w).sum().backward()
    x = torch.tensor([3.0, 4.0]).send(bob)
    snapshot = {k: (v.clone(), None if v.grad is None else v.grad.clone()) for k, v in bob._objects.items()}
    return bob, alice, w, x, snapshot


def intact(bob, alice, w, x, snapshot):
    assert bob._objects.keys() == snapshot.keys() and alice._objects == {}
    for k, (value, grad) in snapshot.items():
        assert torch.equal(bob._objects[k].detach(), value.detach())
        assert (grad is None) == (bob._objects[k].grad is None)
        assert grad is None or torch.equal(bob._objects[k].grad, grad)
    assert torch.equal((x + x).get(), torch.tensor([6.0, 8.0]))


def desc(location_id, id_at_location, ptr_id=5):
    return PointerDesc(location_id, id_at_location, ptr_id, (2,), torch.float32, False)


@pytest.mark.parametrize("make, kind", [
    (lambda b, w: ["store", [], desc("nobody", w.id_at_location), 9], "WorkerNotFoundError"),
    (lambda b, w: ["store", [], desc("bob", w.id_at_location), 9], "ValueError"),  # to itself
    (lambda b, w: ["store", [], desc("me", 1), 9], "ValueError"),  # to a client worker
    (lambda b, w: ["cmd", [], "Tensor.add", [desc("alice", 1), 1], {}], "TypeError"),  # not a tensor
    (lambda b, w: ["store", [], desc(["bob"], 1), 9], "MalformedMessageError"),
    (lambda b, w: ["store", [], msgpack.ExtType(codec.POINTER, b"\x93\x01\x02\x03"), 9], "MalformedMessageError"),
    (lambda b, w: ["store", [], msgpack.ExtType(codec.POINTER, msgpack.packb(["alice", 1, 2, 99, False, [2], False])), 9], "MalformedMessageError"),
    (lambda b, w: ["store", [], msgpack.ExtType(codec.POINTER, msgpack.packb(["alice", 1, 2, 0, False, [-2], False])), 9], "MalformedMessageError"),
    (lambda b, w: ["cmd", [], "Tensor.add", [msgpack.ExtType(codec.ATTR_REF, codec._ID.pack(w.id_at_location) + b"__class__"), 1], {}], "MalformedMessageError"),
    (lambda b, w: ["cmd", [], "Tensor.add", [msgpack.ExtType(codec.ATTR_REF, codec._ID.pack(w.id_at_location) + b"grad_fn"), 1], {}], "MalformedMessageError"),
    (lambda b, w: ["cmd", [], "Tensor.add", [msgpack.ExtType(codec.ATTR_REF, b"\x01\x02"), 1], {}], "MalformedMessageError"),
    (lambda b, w: ["cmd", [], "Tensor.add", [msgpack.ExtType(codec.ATTR_REF, codec._ID.pack(w.id_at_location) + b"g" * 100_000), 1], {}], "MalformedMessageError"),
    (lambda b, w: ["cmd", [], "torch.zeros_like", [Ref(w.id_at_location)], {"memory_format": msgpack.ExtType(codec.MEMORY_FORMAT, b"\x09")}], "MalformedMessageError"),
    (lambda b, w: ["cmd", [], "torch.zeros_like", [Ref(w.id_at_location)], {"memory_format": msgpack.ExtType(codec.MEMORY_FORMAT, b"")}], "MalformedMessageError"),
    (lambda b, w: ["attr", [], w.id_at_location, "_base"], "MalformedMessageError"),
    (lambda b, w: ["attr", [], w.id_at_location, "__dict__"], "MalformedMessageError"),
    (lambda b, w: ["attr", [], 424242, "grad"], "ObjectNotFoundError"),
    (lambda b, w: ["move", [], w.id_at_location, "nobody"], "WorkerNotFoundError"),
    (lambda b, w: ["move", [], w.id_at_location, "bob"], "ValueError"),
    (lambda b, w: ["move", [], "id", "alice"], "MalformedMessageError"),
    (lambda b, w: ["move", [], 424242, "alice"], "ObjectNotFoundError"),
    (lambda b, w: ["move", [], w.id_at_location], "MalformedMessageError"),
    (lambda b, w: ["remote_send", [], w.id_at_location, "nobody"], "WorkerNotFoundError"),
    (lambda b, w: ["remote_get", [], w.id_at_location], "ValueError"),  # a tensor, not a pointer
    (lambda b, w: ["store_all", [], [torch.ones(1)], [1, 2]], "MalformedMessageError"),
    (lambda b, w: ["store_all", [], ["text"], [1]], "MalformedMessageError"),
    (lambda b, w: ["store_all", [], [desc("alice", 1)], [1]], "MalformedMessageError"),
    (lambda b, w: ["get_all", [], [w.id_at_location, 424242]], "ObjectNotFoundError"),
    (lambda b, w: ["get_all", [], [w.id_at_location, "x"]], "ObjectNotFoundError"),
    (lambda b, w: ["get_all", [], w.id_at_location], "MalformedMessageError"),
])
def test_new_message_kinds_refuse_bad_input(loaded, make, kind):
    bob, alice, w, x, snapshot = loaded
    type_name, text = error(bob, make(bob, w))
    assert type_name == kind and text and len(text) < 500  # named, never echoing the input at length
    intact(bob, alice, w, x, snapshot)


def step(w, hyper=None, state=None, name="SGD", params=None):
    group = [hyper if hyper is not None else {"lr": 0.1}, params or [Ref(w.id_at_location)],
             [state if state is not None else {}]]
    return ["optim_step", [], name, [group]]


@pytest.mark.parametrize("make, kind", [
    (lambda w, x: step(w, name="LBFGS"), "OperationNotAllowedError"),
    (lambda w, x: step(w, name="os.system"), "OperationNotAllowedError"),
    (lambda w, x: step(w, hyper={"lr": "fast"}), "ValueError"),
    (lambda w, x: step(w, hyper={"lr": -1.0}), "ValueError"),
    (lambda w, x: step(w, hyper={"lr": 0.1, "momentum": -1.0}), "ValueError"),
    (lambda w, x: step(w, hyper={"lr": 0.1, "betas": "x"}, name="Adam"), "ValueError"),
    (lambda w, x: step(w, hyper={"__class__": 1}), "MalformedMessageError"),
    (lambda w, x: step(w, params=[1]), "MalformedMessageError"),
    (lambda w, x: step(w, params=[torch.ones(2, dtype=torch.int64)]), "MalformedMessageError"),
    (lambda w, x: step(w, state={"momentum_buffer": torch.ones(3)}, hyper={"lr": 0.1, "momentum": 0.9}), "MalformedMessageError"),
    (lambda w, x: step(w, state={"momentum_buffer": Ref(w.id_at_location)}, hyper={"lr": 0.1, "momentum": 0.9}), "MalformedMessageError"),
    (lambda w, x: step(w, state={"__dict__": 1}), "MalformedMessageError"),
    (lambda w, x: step(w, state={"step": "x"}, name="Adam"), "MalformedMessageError"),
    (lambda w, x: ["optim_step", [], "SGD", []], "MalformedMessageError"),
    (lambda w, x: ["optim_step", [], "SGD", [[{"lr": 0.1}, [], []]]], "MalformedMessageError"),
    (lambda w, x: ["optim_step", [], "SGD", [[{"lr": 0.1}, [Ref(w.id_at_location)], []]]], "MalformedMessageError"),
])
def test_remote_optimizer_steps_refuse_bad_input(loaded, make, kind):
    bob, alice, w, x, snapshot = loaded
    type_name, text = error(bob, make(w, x))
    assert type_name == kind and text
    intact(bob, alice, w, x, snapshot)


def test_a_valid_remote_step_changes_only_its_parameter(loaded):
    bob, alice, w, x, snapshot = loaded
    ok, states = reply(bob, step(w, hyper={"lr": 0.5, "momentum": 0.9}))
    assert ok and list(states[0][0]) == ["momentum_buffer"]
    assert torch.equal(bob._objects[w.id_at_location].detach(), torch.tensor([0.0, 0.0]))
    assert states[0][0]["momentum_buffer"].id in bob._objects


def test_unknown_hyper_parameters_are_ignored_not_run(loaded):
    bob, alice, w, x, snapshot = loaded
    ok, _ = reply(bob, step(w, hyper={"lr": 0.5, "initial_lr": 0.5, "closure": "os.system"}))
    assert ok and torch.equal(bob._objects[w.id_at_location].detach(), torch.tensor([0.0, 0.0]))


def test_grad_clears_in_the_housekeeping_list_ignore_odd_entries(loaded):
    bob, alice, w, x, snapshot = loaded
    assert reply(bob, ["del", [[x.id_at_location], ["x"], [1, 2], [None], [[w.id_at_location]]]]) == (True, None)
    intact(bob, alice, w, x, snapshot)
    assert reply(bob, ["del", [[w.id_at_location]]]) == (True, None)
    assert bob._objects[w.id_at_location].grad is None


def test_a_pointer_cycle_between_workers_errors_instead_of_hanging(bob, alice):
    # alice keeps a pointer to bob's id 11, bob keeps a pointer to alice's id 22: a cycle
    assert reply(alice, ["store", [], desc("bob", 11, 22), 22])[0]
    assert reply(bob, ["store", [], desc("alice", 22, 11), 11])[0]
    type_name, _ = error(bob, ["cmd", [], "Tensor.add", [Ref(11), Ref(11)], {}])
    assert type_name in ("RecursionError", "RuntimeError")
    assert torch.equal((torch.ones(1).send(bob) + 1).get(), torch.tensor([2.0]))  # still serving
    bob.clear_objects()
    assert bob._objects == {} and alice._objects == {}


@pytest.mark.parametrize("make", [
    lambda d: ["store", [], 5, d],  # the record where the id belongs
    lambda d: ["nonsense", [], d],
    lambda d: ["get", [], d],
    lambda d: ["store_all", [], [d], [1]],
    lambda d: ["cmd", [], "Tensor.add", [d, d], {}],
])
def test_a_rejected_request_holding_a_pointer_record_deletes_nothing(bob, alice, make):
    z = torch.tensor([42.0]).send(alice)
    error(bob, make(desc("alice", z.id_at_location)))
    assert torch.equal(alice._objects[z.id_at_location], torch.tensor([42.0])) and bob._objects == {}


def test_an_optimizer_state_sharing_memory_with_a_parameter_is_refused(bob):
    p = torch.ones(3, requires_grad=True).send(bob)
    (p * 1).sum().backward()
    base = torch.ones(3).send(bob)
    before = bob._objects[p.id_at_location].detach().clone()
    expanded = torch.ones(1).send(bob).expand(3)  # right shape, overlapping memory
    for state in ({"momentum_buffer": Ref(expanded.id_at_location)},):
        type_name, _ = error(bob, step(p, hyper={"lr": 0.5, "momentum": 0.9}, state=state))
        assert type_name == "MalformedMessageError"
    # a second parameter and a state that alias each other
    group = [{"lr": 0.5, "momentum": 0.9}, [Ref(p.id_at_location)], [{"momentum_buffer": Ref(p.id_at_location)}]]
    assert error(bob, ["optim_step", [], "SGD", [group]])[0] == "MalformedMessageError"
    assert torch.equal(bob._objects[p.id_at_location].detach(), before) and base.shape == (3,)
