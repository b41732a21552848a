"""Bytes <-> messages. msgpack for structure; tensors as dtype name + shape + raw buffer.

Nothing received is unpickled, ``torch.load``-ed or evaluated: every extension type below is
rebuilt by hand from checked fields, and dtypes come from a fixed table.
"""
import ctypes
import math
import struct
from typing import Any, Callable, Optional

import msgpack
import torch

from .exceptions import MalformedMessageError, UnsupportedTypeError

# Extension codes on the wire.
TENSOR, REF, TUPLE, DTYPE, SLICE, ELLIPSIS, DEVICE, COMPLEX, META = range(1, 10)

_DTYPES = {
    str(d).split(".")[1]: d
    for d in (
        torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.complex64,
        torch.complex128, torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8,
        torch.bool,
    )
}
_DTYPE_NAMES = {d: n for n, d in _DTYPES.items()}
_ID = struct.Struct("<q")
_MAX_DIMS = 64


class Ref:
    """A remote object named by its id, as it appears in a decoded message."""

    __slots__ = ("id",)

    def __init__(self, obj_id: int) -> None:
        self.id = obj_id


class Meta:
    """Describes a tensor a worker just stored: what a caller needs to build a pointer."""

    __slots__ = ("id", "shape", "dtype", "requires_grad")

    def __init__(self, obj_id: int, shape, dtype: torch.dtype, requires_grad: bool) -> None:
        self.id, self.shape, self.dtype, self.requires_grad = obj_id, shape, dtype, requires_grad


def dtype_name(dtype: torch.dtype) -> str:
    try:
        return _DTYPE_NAMES[dtype]
    except KeyError:
        raise UnsupportedTypeError(f"tensors of dtype {dtype} cannot be sent to a worker") from None


def _tensor_payload(t: torch.Tensor) -> list:
    if t.layout is not torch.strided or t.device.type != "cpu":
        raise UnsupportedTypeError(
            f"only dense CPU tensors can be sent to a worker, not {t.layout} on {t.device}"
        )
    requires_grad = t.requires_grad
    data = t.detach().contiguous()
    raw = ctypes.string_at(data.data_ptr(), data.nbytes) if data.nbytes else b""
    return [dtype_name(t.dtype), list(t.shape), raw, requires_grad, t.grad if t.is_leaf else None]


def _default(obj: Any) -> msgpack.ExtType:
    from .pointers import PointerTensor  # pointers never import the codec: no cycle

    if isinstance(obj, PointerTensor):
        return msgpack.ExtType(REF, _ID.pack(obj._id_at_location))
    if isinstance(obj, torch.Tensor):
        return msgpack.ExtType(TENSOR, _pack(_tensor_payload(obj)))
    if isinstance(obj, tuple):
        return msgpack.ExtType(TUPLE, _pack(list(obj)))
    if isinstance(obj, Ref):
        return msgpack.ExtType(REF, _ID.pack(obj.id))
    if isinstance(obj, Meta):
        return msgpack.ExtType(META, _pack([obj.id, list(obj.shape), dtype_name(obj.dtype), obj.requires_grad]))
    if isinstance(obj, torch.dtype):
        return msgpack.ExtType(DTYPE, dtype_name(obj).encode())
    if isinstance(obj, slice):
        return msgpack.ExtType(SLICE, _pack([obj.start, obj.stop, obj.step]))
    if obj is Ellipsis:
        return msgpack.ExtType(ELLIPSIS, b"")
    if isinstance(obj, torch.device):
        return msgpack.ExtType(DEVICE, str(obj).encode())
    if isinstance(obj, complex):
        return msgpack.ExtType(COMPLEX, struct.pack("<dd", obj.real, obj.imag))
    if isinstance(obj, bool):  # strict_types sends numpy-like bool subclasses here
        return bool(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    raise UnsupportedTypeError(f"a value of type {type(obj).__name__} cannot be sent to a worker")


def _pack(obj: Any) -> bytes:
    return msgpack.packb(obj, default=_default, strict_types=True, use_bin_type=True)


def encode(message: Any) -> bytes:
    """Message (lists, dicts, scalars, tensors, pointers, ...) -> bytes."""
    return _pack(message)


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise MalformedMessageError(what)


def _tensor_from_payload(payload: Any) -> torch.Tensor:
    _check(isinstance(payload, list) and len(payload) == 5, "tensor record has the wrong layout")
    name, shape, raw, requires_grad, grad = payload
    dtype = _DTYPES.get(name) if isinstance(name, str) else None
    _check(dtype is not None, f"unknown tensor dtype {name!r}")
    _check(isinstance(shape, list) and len(shape) <= _MAX_DIMS, "tensor shape is not a list of sizes")
    _check(all(type(s) is int and s >= 0 for s in shape), "tensor shape holds a bad size")
    _check(isinstance(raw, bytes), "tensor data is not bytes")
    _check(math.prod(shape) * dtype.itemsize == len(raw), "tensor data does not match its shape")
    if raw:
        t = torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)
    else:
        t = torch.empty(shape, dtype=dtype)
    if requires_grad:
        _check(t.is_floating_point() or t.is_complex(), "only float tensors can require grad")
        t.requires_grad_(True)
    if grad is not None:
        _check(isinstance(grad, torch.Tensor) and grad.shape == t.shape, "tensor grad does not match")
        t.grad = grad
    return t


def _read_id(data: bytes) -> int:
    _check(len(data) == _ID.size, "object id has the wrong size")
    return _ID.unpack(data)[0]


def _ext_hook(code: int, data: bytes, on_ref: Optional[Callable], on_meta: Optional[Callable]) -> Any:
    if code == TENSOR:
        return _tensor_from_payload(_unpack(data, on_ref, on_meta))
    if code == REF:
        obj_id = _read_id(data)
        return on_ref(obj_id) if on_ref else Ref(obj_id)
    if code == TUPLE:
        items = _unpack(data, on_ref, on_meta)
        _check(isinstance(items, list), "tuple record is not a list")
        return tuple(items)
    if code == META:
        fields = _unpack(data, None, None)
        _check(isinstance(fields, list) and len(fields) == 4, "tensor description has the wrong layout")
        obj_id, shape, name, requires_grad = fields
        _check(type(obj_id) is int and isinstance(shape, list) and name in _DTYPES, "bad tensor description")
        meta = Meta(obj_id, tuple(shape), _DTYPES[name], bool(requires_grad))
        return on_meta(meta) if on_meta else meta
    if code == DTYPE:
        name = data.decode("ascii", "replace")
        _check(name in _DTYPES, f"unknown dtype {name!r}")
        return _DTYPES[name]
    if code == SLICE:
        parts = _unpack(data, on_ref, on_meta)
        _check(isinstance(parts, list) and len(parts) == 3, "slice record has the wrong layout")
        return slice(*parts)
    if code == ELLIPSIS:
        return Ellipsis
    if code == DEVICE:
        try:
            return torch.device(data.decode("ascii"))
        except (UnicodeDecodeError, RuntimeError):
            raise MalformedMessageError("bad device name") from None
    if code == COMPLEX:
        _check(len(data) == 16, "complex number has the wrong size")
        return complex(*struct.unpack("<dd", data))
    raise MalformedMessageError(f"unknown extension type {code}")


def _unpack(data: bytes, on_ref: Optional[Callable], on_meta: Optional[Callable]) -> Any:
    return msgpack.unpackb(
        data,
        ext_hook=lambda code, payload: _ext_hook(code, payload, on_ref, on_meta),
        raw=False,
        use_list=True,
        strict_map_key=True,
    )


def decode(data: Any, on_ref: Optional[Callable] = None, on_meta: Optional[Callable] = None) -> Any:
    """bytes -> message. on_ref/on_meta turn remote ids into objects while decoding.

    Every failure to read the bytes is a MalformedMessageError; errors raised by the callbacks
    (an unknown id, say) pass through unchanged.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MalformedMessageError(f"a message must be bytes, not {type(data).__name__}")
    try:
        return _unpack(data, on_ref, on_meta)
    except MalformedMessageError:
        raise
    except (msgpack.UnpackException, ValueError, TypeError, RuntimeError, RecursionError) as e:
        raise MalformedMessageError(f"cannot read message: {type(e).__name__}: {e}") from None
