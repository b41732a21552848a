"""A worker's receive path: whatever bytes arrive, it answers with an error reply naming the
problem, keeps serving, and keeps every object it held."""
import random

import msgpack
import pytest
import torch

from jupyter_syft import codec
from jupyter_syft.codec import ExtDecoder, Ref
from jupyter_syft.exceptions import OperationNotAllowedError, UnsupportedTypeError

PLAIN = ExtDecoder()


def reply_error(reply: bytes):
    ok, value = codec.decode_reply(reply, PLAIN)
    assert not ok, value
    return value  # (type name, message)


@pytest.fixture
def loaded_bob(bob):
    x = torch.tensor([1.0, 2.0, 3.0]).send(bob)
    y = torch.tensor([4.0, 5.0, 6.0]).send(bob)
    snapshot = {k: v.clone() for k, v in bob._objects.items()}
    return bob, x, y, snapshot


def assert_intact_and_serving(bob, x, y, snapshot):
    assert bob._objects.keys() == snapshot.keys()
    for k, v in snapshot.items():
        assert torch.equal(bob._objects[k], v)
    assert torch.equal((x + y).get(), torch.tensor([5.0, 7.0, 9.0]))


def cmd(name, args=(), kwargs=None):
    return codec.encode(["cmd", [], name, list(args), kwargs or {}])


def test_random_bytes_get_error_replies(loaded_bob):
    bob, x, y, snapshot = loaded_bob
    rng = random.Random(1234)
    kinds = set()
    for _ in range(3000):
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
        reply = bob.recv_msg(data)
        kinds.add(reply_error(reply)[0])
    assert kinds <= {"MalformedMessageError", "ObjectNotFoundError", "UnsupportedTypeError"}
    assert_intact_and_serving(bob, x, y, snapshot)


def test_random_bytes_after_a_valid_prefix(loaded_bob):
    bob, x, y, snapshot = loaded_bob
    rng = random.Random(99)
    prefix = msgpack.packb(["cmd", [], "Tensor.add"])[:6]
    for _ in range(1000):
        data = prefix + bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40)))
        reply_error(bob.recv_msg(data))
    assert_intact_and_serving(bob, x, y, snapshot)


def test_every_truncation_of_valid_messages(loaded_bob):
    bob, x, y, snapshot = loaded_bob
    valid = [
        cmd("Tensor.add", [Ref(x.id_at_location), Ref(y.id_at_location)]),
        codec.encode(["store", [], torch.arange(10.0), 77]),
        codec.encode(["get", [], x.id_at_location]),
        codec.encode(["del", [x.id_at_location]]),
        cmd("torch.max", [Ref(x.id_at_location)], {"dim": 0}),
    ]
    for message in valid:
        for cut in range(len(message)):
            error_type, text = reply_error(bob.recv_msg(message[:cut]))
            assert error_type == "MalformedMessageError" and text
    assert_intact_and_serving(bob, x, y, snapshot)


@pytest.mark.parametrize("name", [
    "__reduce__", "os.system", "builtins.eval", "eval", "Tensor.__reduce_ex__", "Tensor._values",
    "Tensor.__class__", "Tensor.__init_subclass__", "Tensor.storage", "Tensor.untyped_storage",
    "Tensor.data_ptr", "Tensor.numpy", "Tensor.register_hook", "Tensor.apply_", "torch.load",
    "torch.save", "torch.from_file", "torch._C._set_grad_enabled", "subprocess.run",
    "Tensor.__setstate__", "Tensor.set_", "torch.nn.functional.__builtins__", "", "Tensor",
    "torch", "Tensor.add.__globals__", 123, None, ["Tensor.add"], b"Tensor.add",
])
def test_operations_outside_the_allow_list_are_refused(loaded_bob, name):
    bob, x, y, snapshot = loaded_bob
    error_type, text = reply_error(bob.recv_msg(cmd(name, [Ref(x.id_at_location)])))
    assert error_type == "OperationNotAllowedError"
    assert "allow-list" in text and repr(name) in text
    assert_intact_and_serving(bob, x, y, snapshot)


@pytest.mark.parametrize("message, fragment", [
    ({"kind": "cmd"}, "must be a list"),
    ([], "must be a list"),
    (["cmd"], "must be a list"),
    (["cmd", "not a list"], "must be a list"),
    (["launch", []], "unknown message kind"),
    ([7, []], "unknown message kind"),
    (["cmd", [], "Tensor.add", "args", {}], "cmd needs"),
    (["cmd", [], "Tensor.add", [], {}, "extra"], "cmd needs"),
    (["store", [], "not a tensor", 5], "store needs"),
    (["get", [], "five"], "get needs"),
    (["del", [], 1], "del takes no fields"),
])
def test_ill_formed_messages_are_named(loaded_bob, message, fragment):
    bob, x, y, snapshot = loaded_bob
    error_type, text = reply_error(bob.recv_msg(msgpack.packb(message)))
    assert error_type == "MalformedMessageError" and fragment in text
    assert_intact_and_serving(bob, x, y, snapshot)


def test_unknown_ids_and_bad_arguments(loaded_bob):
    bob, x, y, snapshot = loaded_bob
    assert reply_error(bob.recv_msg(cmd("Tensor.add", [Ref(424242), Ref(x.id_at_location)])))[0] == "ObjectNotFoundError"
    assert reply_error(bob.recv_msg(codec.encode(["get", [], 424242])))[0] == "ObjectNotFoundError"
    assert reply_error(bob.recv_msg(cmd("Tensor.add", [Ref(x.id_at_location), "text"])))[0] == "TypeError"
    assert reply_error(bob.recv_msg(cmd("Tensor.add", [Ref(x.id_at_location)], {"nope": 1})))[0] == "TypeError"
    # a result that cannot be sent back (a grad_fn node) is refused and not kept
    z = torch.tensor([1.0], requires_grad=True).send(bob) * 2
    kept = set(bob._objects)
    assert reply_error(bob.recv_msg(cmd("Tensor.grad_fn.__get__", [Ref(z.id_at_location)])))[0] == "UnsupportedTypeError"
    assert set(bob._objects) == kept
    del z
    assert_intact_and_serving(bob, x, y, snapshot)


def test_a_failed_get_loses_nothing(loaded_bob, monkeypatch):
    bob, x, y, snapshot = loaded_bob

    def broken(tensor):
        raise RuntimeError("the wire broke")

    monkeypatch.setattr(codec, "encode_tensor_reply", broken)
    with pytest.raises(RuntimeError, match="the wire broke"):
        x.get()
    monkeypatch.undo()
    assert x.state == "live"
    assert_intact_and_serving(bob, x, y, snapshot)


def test_store_never_overwrites_an_existing_id(loaded_bob):
    bob, x, y, snapshot = loaded_bob
    ok, meta = codec.decode_reply(bob.recv_msg(codec.encode(["store", [], torch.zeros(3), x.id_at_location])), PLAIN)
    assert ok and meta.id != x.id_at_location
    del bob._objects[meta.id]
    assert_intact_and_serving(bob, x, y, snapshot)


def test_deeply_nested_records_are_refused_not_crashing(loaded_bob):
    bob, x, y, snapshot = loaded_bob
    inner = msgpack.packb([1])
    for _ in range(300):  # each level is a record inside a record
        inner = msgpack.packb([msgpack.ExtType(codec.TUPLE, inner)])
    message = msgpack.packb(["cmd", [], "torch.add", [1, msgpack.ExtType(codec.TUPLE, inner)], {}])
    error_type, text = reply_error(bob.recv_msg(message))
    assert error_type == "MalformedMessageError" and "nests deeper" in text
    assert_intact_and_serving(bob, x, y, snapshot)


@pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental")
def test_results_a_worker_cannot_keep_are_refused_and_not_stored(loaded_bob):
    bob, x, y, snapshot = loaded_bob
    with pytest.raises(UnsupportedTypeError, match="complex32"):
        y.chalf()  # a dtype the codec cannot carry
    with pytest.raises(UnsupportedTypeError, match="dense CPU"):
        y.to("meta")
    with pytest.raises(OperationNotAllowedError, match="allow-list"):
        y.to_sparse()  # sparse layouts are off the allow-list
    assert_intact_and_serving(bob, x, y, snapshot)


@pytest.mark.parametrize("call", [
    lambda p: p.const_data_ptr(), lambda p: torch.empty_like(p), lambda p: p.resize_(2, 5),
    lambda p: p.unsqueeze_(0), lambda p: p.t_(), lambda p: p.as_strided_((1,), (1,)),
])
def test_memory_and_shape_changing_in_place_ops_are_refused(loaded_bob, call):
    bob, x, y, snapshot = loaded_bob
    with pytest.raises(OperationNotAllowedError, match="allow-list"):
        call(x)
    assert x.shape == (3,)
    assert_intact_and_serving(bob, x, y, snapshot)


def test_bad_ids_in_a_delete_list_are_skipped(loaded_bob):
    bob, x, y, snapshot = loaded_bob
    doomed = torch.tensor([9.0]).send(bob, garbage_collect_data=False)
    reply = bob.recv_msg(codec.encode(["del", [doomed.id_at_location, [1], "x", None]]))
    assert codec.decode_reply(reply, PLAIN) == (True, None)
    assert_intact_and_serving(bob, x, y, snapshot)
