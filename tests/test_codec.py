"""The wire format: what it carries, and that it refuses what it cannot read or must not carry."""
import struct

import msgpack
import pytest
import torch

from jupyter_syft import codec
from jupyter_syft.exceptions import MalformedMessageError, UnsupportedTypeError


def roundtrip(value):
    return codec.decode(codec.encode(value))


def test_tensor_records_round_trip():
    for t in (torch.arange(12.0).view(3, 4), torch.arange(12.0).view(3, 4).t(),
              torch.tensor(2.5, dtype=torch.float64), torch.empty(0, 2, dtype=torch.int32),
              torch.tensor([[True]]), torch.tensor([1 + 1j], dtype=torch.complex128)):
        back = roundtrip(t)
        assert back.dtype == t.dtype and back.shape == t.shape and torch.equal(back, t)
        assert t.numel() == 0 or back.data_ptr() != t.data_ptr()  # a copy


def test_requires_grad_and_grad_travel():
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    t.grad = torch.tensor([0.5, 0.25])
    back = roundtrip(t)
    assert back.requires_grad and back.is_leaf and torch.equal(back.grad, t.grad)


def test_argument_types_round_trip():
    args = [None, True, 3, 2.5, "sum", 1 + 2j, slice(1, None, 2), Ellipsis, (1, (2, 3)), [1, [2]],
            torch.float16, torch.device("cpu"), torch.Size([2, 3]), {"dim": 1, "keepdim": True}]
    back = roundtrip(args)
    assert back[:9] == args[:9]
    assert back[9] == [1, [2]] and isinstance(back[8], tuple) and isinstance(back[9], list)
    assert back[10] is torch.float16 and back[11] == torch.device("cpu")
    assert back[12] == (2, 3) and back[13] == {"dim": 1, "keepdim": True}


def test_unsupported_values_are_refused_by_name():
    for value in (object(), {1, 2}, lambda: 0, torch.eye(2).to_sparse(), torch.zeros(1, dtype=torch.uint16)
                  if hasattr(torch, "uint16") else object()):
        with pytest.raises(UnsupportedTypeError):
            codec.encode([value])


@pytest.mark.parametrize("data", [b"", b"\xc1", b"\x93\x01", b"\xd4\x63\x00", b"\xc7\x08\x02abc",
                                  "text", None, 12])
def test_garbage_is_a_malformed_message(data):
    with pytest.raises(MalformedMessageError):
        codec.decode(data)


def _tensor_record(code=0, requires_grad=0, has_grad=0, dims=(2,), data=b"\x00" * 8):
    head = struct.pack("<BBBB", code, requires_grad, has_grad, len(dims))
    return head + struct.pack(f"<{len(dims)}q", *dims) + data


@pytest.mark.parametrize("record, reason", [
    (_tensor_record(dims=(10**12,)), "shorter than its shape"),      # no huge allocation
    (_tensor_record(dims=(-1,)), "negative"),
    (_tensor_record(code=200), "unknown dtype"),
    (_tensor_record(data=b"\x00" * 9), "trailing"),
    (_tensor_record(dims=(2,) * 65, data=b""), "cut short"),
    (_tensor_record(code=6, requires_grad=1, data=b"\x00" * 16), "only float"),  # int64 + grad
    (_tensor_record(requires_grad=1, has_grad=1), "cut short"),
    (_tensor_record()[:5], "cut short"),
])
def test_bad_tensor_records_are_refused(record, reason):
    with pytest.raises(MalformedMessageError, match=reason):
        codec.tensor_from_bytes(record)
    # and the same inside a message, as a worker would meet it
    with pytest.raises(MalformedMessageError, match=reason):
        codec.decode(msgpack.packb(["store", [], msgpack.ExtType(codec.TENSOR, record), 1]))


def test_reply_framing():
    maker = codec.ExtDecoder()
    assert codec.decode_reply(codec.encode_value_reply([1, None]), maker) == (True, [1, None])
    ok, t = codec.decode_reply(codec.encode_tensor_reply(torch.tensor([1, 2])), maker)
    assert ok and torch.equal(t, torch.tensor([1, 2]))
    assert codec.decode_reply(codec.encode_error_reply("ValueError", "bad"), maker) == (False, ("ValueError", "bad"))
    ok, meta = codec.decode_reply(codec.encode_pointer_reply(7, torch.zeros(2, 3)), maker)
    assert ok and meta.id == 7 and tuple(meta.shape) == (2, 3) and meta.dtype == torch.float32
    for bad in (b"", b"Z\x90", b"P\x93\x01\x02\x03", b"P\x94\x01\xcc\xff\xc2\x90", b"E\x01", b"T\x00"):
        with pytest.raises(MalformedMessageError):
            codec.decode_reply(bad, maker)


def test_lazy_conjugate_and_negative_views_travel_as_their_values():
    c = torch.tensor([1 - 2j, 3 + 4j]).conj()
    assert c.is_conj() and torch.equal(codec.tensor_from_bytes(codec.tensor_to_bytes(c)), c.resolve_conj())
    n = torch.tensor([1.0, 2.0])._neg_view()
    assert n.is_neg() and torch.equal(codec.tensor_from_bytes(codec.tensor_to_bytes(n)), torch.tensor([-1.0, -2.0]))


@pytest.mark.parametrize("record", [
    codec._TENSOR_HEAD.pack(0, 0, 0, 3) + codec._DIMS[3].pack(2**62, 2**62, 0),  # overflowing shape
    codec._TENSOR_HEAD.pack(0, 2, 0, 0) + b"\0" * 4,  # a bool byte that is not 0 or 1
    codec._TENSOR_HEAD.pack(0, 0, 1, 0) + b"\0" * 4 + codec._TENSOR_HEAD.pack(0, 0, 0, 0) + b"\0" * 4,  # grad without requires_grad
    codec._TENSOR_HEAD.pack(6, 1, 0, 0) + b"\0" * 8,  # an int tensor requiring grad
    # a grad with a grad of its own (nesting without end, in principle)
    codec._TENSOR_HEAD.pack(0, 1, 1, 0) + b"\0" * 4 + codec._TENSOR_HEAD.pack(0, 1, 1, 0) + b"\0" * 4
    + codec._TENSOR_HEAD.pack(0, 0, 0, 0) + b"\0" * 4,
])
def test_bad_tensor_records_are_malformed_messages(record):
    with pytest.raises(MalformedMessageError):
        codec.tensor_from_bytes(record)
    with pytest.raises(MalformedMessageError):
        codec.decode_reply(b"T" + record, codec.ExtDecoder())
