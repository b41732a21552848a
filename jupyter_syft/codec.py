"""Bytes <-> messages. msgpack for structure; tensors as dtype + shape + raw buffer.

Nothing received is unpickled, ``torch.load``-ed or evaluated: every extension type below is
rebuilt by hand from checked fields, and dtypes come from a fixed table. Tensors and tensor
descriptions use fixed struct layouts, which keeps a small command at a few microseconds.
"""
import contextlib
import ctypes
import math
import struct
import threading
from typing import Any, Optional

import msgpack
import torch

from .exceptions import MalformedMessageError, UnsupportedTypeError

# Extension codes on the wire.
(TENSOR, REF, TUPLE, DTYPE, SLICE, ELLIPSIS, DEVICE, COMPLEX, META, RETURN_TYPE, POINTER, ATTR_REF,
 MEMORY_FORMAT, VAR, FRAME_TENSOR) = range(1, 16)

# Attributes a pointer may name on its remote tensor (``ptr.grad``, ``ptr.data``).
POINTER_ATTRIBUTES = ("grad", "data")

# The wire code of a dtype is its index here; append only.
_DTYPE_TABLE = (
    torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.complex64,
    torch.complex128, torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool,
)
_DTYPE_CODES = {d: i for i, d in enumerate(_DTYPE_TABLE)}
# torch.zeros_like(p, memory_format=torch.preserve_format) is how optimizers make their state.
_MEMORY_FORMATS = (torch.preserve_format, torch.contiguous_format, torch.channels_last,
                   torch.channels_last_3d)
_MAX_DIMS = 64

_ID = struct.Struct("<q")
_TENSOR_HEAD = struct.Struct("<BBBB")  # dtype code, requires_grad, has_grad, ndim; then dims, data
_META_HEAD = struct.Struct("<qBBB")  # id, dtype code, requires_grad, ndim; then dims


def _ext(code: int, data: bytes) -> msgpack.ExtType:
    return tuple.__new__(msgpack.ExtType, (code, data))  # skips ExtType's Python-level checks


class Ref:
    """A remote object named by its id, as it appears in a decoded message."""

    __slots__ = ("id",)

    def __init__(self, obj_id: int) -> None:
        self.id = obj_id


class Var:
    """A numbered value inside a plan (an argument, a state tensor or a step's result); only a
    plan's own decoder accepts it."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __eq__(self, other: Any) -> bool:
        return type(other) is Var and other.index == self.index

    def __hash__(self) -> int:
        return hash(("Var", self.index))

    def __repr__(self) -> str:
        return f"Var({self.index})"


_VAR = struct.Struct("<I")


class PointerDesc:
    """A pointer itself, sent on (``x_ptr.send(alice)``) or brought home: the receiver makes its
    own pointer to ``id_at_location`` on worker ``location_id``, with id ``id``."""

    __slots__ = ("location_id", "id_at_location", "id", "shape", "dtype", "requires_grad", "is_param")

    def __init__(self, location_id: Any, id_at_location: int, ptr_id: int, shape, dtype: torch.dtype,
                 requires_grad: bool, is_param: bool = False) -> None:
        self.location_id, self.id_at_location, self.id = location_id, id_at_location, ptr_id
        self.shape, self.dtype, self.requires_grad, self.is_param = shape, dtype, requires_grad, is_param

    @classmethod
    def of(cls, ptr) -> "PointerDesc":
        return cls(ptr._location.id, ptr._id_at_location, ptr._id, tuple(ptr.shape), ptr.dtype,
                   ptr._requires_grad, bool(getattr(ptr, "_is_param", False)))


def _encode_pointer_desc(d: PointerDesc) -> msgpack.ExtType:
    return _ext(POINTER, msgpack.packb(
        [d.location_id, d.id_at_location, d.id, _dtype_code(d.dtype), d.requires_grad,
         list(d.shape), d.is_param], use_bin_type=True))


def _decode_pointer_desc(data: bytes) -> PointerDesc:
    try:
        loc, id_at, ptr_id, code, requires_grad, shape, is_param = msgpack.unpackb(data, raw=False)
    except (TypeError, ValueError, msgpack.UnpackException):
        raise MalformedMessageError("pointer record has the wrong layout") from None
    _check(type(loc) in (str, int) and type(id_at) is int and type(ptr_id) is int,
           "pointer record has a bad worker or id")
    _check(type(code) is int and 0 <= code < len(_DTYPE_TABLE), f"unknown dtype code {code}")
    _check(type(shape) is list and len(shape) <= _MAX_DIMS
           and all(type(d) is int and d >= 0 for d in shape), "pointer record has a bad shape")
    return PointerDesc(loc, id_at, ptr_id, tuple(shape), _DTYPE_TABLE[code], requires_grad is True,
                       is_param is True)


class Meta:
    """Describes a tensor a worker holds: what a caller needs to build a pointer."""

    __slots__ = ("id", "shape", "dtype", "requires_grad")

    def __init__(self, obj_id: int, shape, dtype: torch.dtype, requires_grad: bool) -> None:
        self.id, self.shape, self.dtype, self.requires_grad = obj_id, shape, dtype, requires_grad


def _dtype_code(dtype: torch.dtype) -> int:
    try:
        return _DTYPE_CODES[dtype]
    except KeyError:
        raise UnsupportedTypeError(f"tensors of dtype {dtype} cannot be sent to a worker") from None


_DIMS = [struct.Struct(f"<{n}q") for n in range(_MAX_DIMS + 1)]  # shape layouts by ndim


def _dims(shape) -> bytes:
    return _DIMS[len(shape)].pack(*shape)


def tensor_to_bytes(t: torch.Tensor) -> bytes:
    if t.layout is not _strided or t.device.type != "cpu":
        raise UnsupportedTypeError(
            f"only dense CPU tensors can be sent to a worker, not {t.layout} on {t.device}"
        )
    requires_grad = t.requires_grad
    if t.is_conj() or t.is_neg():  # lazy views: their memory is not their values
        t = t.resolve_conj().resolve_neg()
    data = t if t.is_contiguous() else t.detach().contiguous()
    grad = t.grad if requires_grad and t.is_leaf else None
    shape = data.shape
    head = _pack_head(_dtype_code(t.dtype), requires_grad, grad is not None, len(shape))
    nbytes = data.nbytes
    raw = _string_at(data.data_ptr(), nbytes) if nbytes else b""
    if grad is None:
        return b"".join((head, _DIMS[len(shape)].pack(*shape), raw))
    return b"".join((head, _DIMS[len(shape)].pack(*shape), raw, tensor_to_bytes(grad)))


_strided = torch.strided
_pack_head = _TENSOR_HEAD.pack
_string_at = ctypes.string_at


def meta_to_bytes(meta: Meta) -> bytes:
    head = _META_HEAD.pack(meta.id, _dtype_code(meta.dtype), meta.requires_grad, len(meta.shape))
    return head + _dims(meta.shape)


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise MalformedMessageError(what)


def _read_dims(data: bytes, offset: int, ndim: int):
    _check(ndim <= _MAX_DIMS and len(data) >= offset + 8 * ndim, "tensor shape is cut short")
    dims = _DIMS[ndim].unpack_from(data, offset)
    _check(not dims or min(dims) >= 0, "tensor shape holds a negative size")
    return dims, offset + 8 * ndim


def _address(data: bytes) -> int:
    """Where a bytes object keeps its contents (to copy tensor data straight out of it)."""
    return ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value


# Per dtype code: the dtype, its item size, and whether such a tensor may require grad.
_DTYPE_INFO = tuple((d, d.itemsize, d.is_floating_point or d.is_complex) for d in _DTYPE_TABLE)
_HEAD_SIZE = _TENSOR_HEAD.size
_unpack_head = _TENSOR_HEAD.unpack_from


def _tensor_from(data: bytes, offset: int, base: int, is_grad: bool = False):
    # The hot path of every transfer: checks are inlined, the error texts are the same.
    end = len(data)
    if end < offset + _HEAD_SIZE:
        raise MalformedMessageError("tensor record is cut short")
    code, requires_grad, has_grad, ndim = _unpack_head(data, offset)
    if code >= len(_DTYPE_INFO):
        raise MalformedMessageError(f"unknown dtype code {code}")
    if requires_grad > 1 or has_grad > 1 or (has_grad and not requires_grad):
        raise MalformedMessageError("tensor record has bad grad flags")
    if is_grad and (requires_grad or has_grad):
        raise MalformedMessageError("a grad record cannot have a grad of its own")
    dtype, itemsize, gradable = _DTYPE_INFO[code]
    offset += _HEAD_SIZE
    if ndim > _MAX_DIMS or end < offset + 8 * ndim:
        raise MalformedMessageError("tensor shape is cut short")
    dims = _DIMS[ndim].unpack_from(data, offset)
    if dims and min(dims) < 0:
        raise MalformedMessageError("tensor shape holds a negative size")
    offset += 8 * ndim
    nbytes = math.prod(dims) * itemsize
    if end < offset + nbytes:
        raise MalformedMessageError("tensor data is shorter than its shape says")
    try:
        t = torch.empty(dims, dtype=dtype)
    except (RuntimeError, OverflowError, MemoryError) as e:
        raise MalformedMessageError(f"tensor shape {list(dims)} cannot be made: {e}") from None
    if nbytes:  # one copy, from the message into the new tensor; the bounds were checked above
        _memmove(t.data_ptr(), base + offset, nbytes)
    offset += nbytes
    if requires_grad:
        if not gradable:
            raise MalformedMessageError("only float tensors can require grad")
        t.requires_grad_(True)
    if has_grad:
        grad, offset = _tensor_from(data, offset, base, is_grad=True)
        _check(grad.shape == t.shape and grad.dtype == t.dtype, "tensor grad does not match the tensor")
        t.grad = grad
    return t, offset


_memmove = ctypes.memmove


def tensor_from_bytes(data: bytes, offset: int = 0) -> torch.Tensor:
    """A new tensor from data[offset:], which must hold exactly one tensor record."""
    data = bytes(data)  # a no-op for bytes; the address below must be of an immutable object
    t, end = _tensor_from(data, offset, _address(data))
    _check(end == len(data), "tensor record has trailing bytes")
    return t


def meta_from_bytes(data: bytes) -> Meta:
    _check(len(data) >= _META_HEAD.size, "tensor description is cut short")
    obj_id, code, requires_grad, ndim = _META_HEAD.unpack_from(data)
    _check(code < len(_DTYPE_TABLE), f"unknown dtype code {code}")
    dims, end = _read_dims(memoryview(data), _META_HEAD.size, ndim)
    _check(end == len(data), "tensor description has trailing bytes")
    return Meta(obj_id, dims, _DTYPE_TABLE[code], bool(requires_grad))


def _is_return_type(obj: Any) -> bool:
    """torch's named results, like torch.return_types.max (values, indices)."""
    return type(obj).__module__ == "torch.return_types" and isinstance(obj, tuple)


def _encode_return_type(obj: Any) -> msgpack.ExtType:
    return _ext(RETURN_TYPE, msgpack.packb([type(obj).__name__, list(obj)], default=_default, strict_types=True))


def _encode_pointer(obj, _new=tuple.__new__, _ExtType=msgpack.ExtType, _pack_id=_ID.pack) -> msgpack.ExtType:
    attr = obj._point_to_attr
    if attr is None:
        return _new(_ExtType, (REF, _pack_id(obj._id_at_location)))
    return _new(_ExtType, (ATTR_REF, _pack_id(obj._id_at_location) + attr.encode()))


def _default(obj: Any) -> Any:
    encoder = _ENCODERS.get(type(obj))
    if encoder is not None:
        return encoder(obj)
    if isinstance(obj, torch.Tensor):
        if hasattr(obj, "_id_at_location"):  # a PointerTensor (or subclass): its remote id
            return _encode_pointer(obj)
        return _encode_tensor(obj)
    if _is_return_type(obj):
        return _encode_return_type(obj)
    if isinstance(obj, tuple):  # torch.Size, named tuples
        return _ext(TUPLE, msgpack.packb(list(obj), default=_default, strict_types=True))
    if isinstance(obj, bool):  # strict_types sends subclasses of the basic types here
        return bool(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, str):
        return str(obj)
    raise UnsupportedTypeError(f"a value of type {type(obj).__name__} cannot be sent to a worker")


# --- large tensors as separate frames (network workers) ---------------------------------------
# Inside `collect_frames()`, a tensor of at least FRAME_MIN_BYTES is not copied into the message:
# its memory is handed to the transport as a frame of its own (ZeroMQ sends it without a copy),
# and the message holds a FRAME_TENSOR record naming it. Inside `provide_frames(frames)`, such
# records become tensors over those frames' memory (copied only if a frame is read-only).
FRAME_MIN_BYTES = 64 * 1024
MAX_FRAMES = 1024
_frames = threading.local()
_FRAME_INDEX = struct.Struct("<I")


@contextlib.contextmanager
def collect_frames():
    previous, _frames.out = getattr(_frames, "out", None), []
    try:
        yield _frames.out
    finally:
        _frames.out = previous


@contextlib.contextmanager
def provide_frames(frames):
    previous, _frames.given = getattr(_frames, "given", None), list(frames)
    try:
        yield
    finally:
        _frames.given = previous


def _encode_tensor(t: torch.Tensor) -> msgpack.ExtType:
    out = getattr(_frames, "out", None)
    if (out is not None and t.layout is _strided and t.device.type == "cpu" and t.dtype is not torch.bfloat16
            and t.nbytes >= FRAME_MIN_BYTES and len(out) < MAX_FRAMES
            and not (t.requires_grad and t.is_leaf and t.grad is not None)):
        data = t.detach()
        if data.is_conj() or data.is_neg():
            data = data.resolve_conj().resolve_neg()
        data = data.contiguous()
        out.append(memoryview(data.numpy()).cast("B"))  # keeps the tensor alive until sent
        head = _pack_head(_dtype_code(t.dtype), t.requires_grad, 0, t.dim())
        return _ext(FRAME_TENSOR, b"".join((head, _dims(t.shape), _FRAME_INDEX.pack(len(out) - 1))))
    return _ext(TENSOR, tensor_to_bytes(t))


def _decode_frame_tensor(data: bytes, hook) -> torch.Tensor:
    given = getattr(_frames, "given", None)
    _check(given is not None, "a frame record outside a framed message")
    _check(len(data) >= _HEAD_SIZE, "frame record is cut short")
    code, requires_grad, has_grad, ndim = _unpack_head(data, 0)
    _check(code < len(_DTYPE_INFO) and requires_grad <= 1 and has_grad == 0, "frame record has a bad head")
    dtype, itemsize, gradable = _DTYPE_INFO[code]
    dims, end = _read_dims(data, _HEAD_SIZE, ndim)
    _check(len(data) == end + 4, "frame record has the wrong size")
    index = _FRAME_INDEX.unpack_from(data, end)[0]
    _check(index < len(given), f"frame {index} was not sent")
    buffer = memoryview(given[index]).cast("B")
    nbytes = math.prod(dims) * itemsize
    _check(buffer.nbytes == nbytes, "a frame's size does not match its tensor's shape")
    import numpy

    source = numpy.frombuffer(buffer, dtype=numpy.uint8) if nbytes else None
    if source is not None and not buffer.readonly and source.ctypes.data % itemsize == 0:
        # the tensor is made over the received frame itself (it keeps the frame alive): no copy
        t = torch.frombuffer(buffer, dtype=dtype).reshape(dims)
    else:
        try:
            t = torch.empty(dims, dtype=dtype)
        except (RuntimeError, OverflowError, MemoryError) as e:
            raise MalformedMessageError(f"tensor shape {list(dims)} cannot be made: {e}") from None
        if nbytes:
            _memmove(t.data_ptr(), source.ctypes.data, nbytes)
    if requires_grad:
        _check(gradable, "only float tensors can require grad")
        t.requires_grad_(True)
    return t


_ENCODERS = {
    torch.Tensor: _encode_tensor,
    torch.nn.Parameter: _encode_tensor,
    tuple: lambda t: _ext(TUPLE, msgpack.packb(list(t), default=_default, strict_types=True)),
    Ref: lambda r: _ext(REF, _ID.pack(r.id)),
    Meta: lambda m: _ext(META, meta_to_bytes(m)),
    PointerDesc: _encode_pointer_desc,
    torch.dtype: lambda d: _ext(DTYPE, bytes((_dtype_code(d),))),
    slice: lambda s: _ext(SLICE, msgpack.packb([s.start, s.stop, s.step], default=_default, strict_types=True)),
    type(Ellipsis): lambda e: _ext(ELLIPSIS, b""),
    torch.device: lambda d: _ext(DEVICE, str(d).encode()),
    complex: lambda c: _ext(COMPLEX, struct.pack("<dd", c.real, c.imag)),
    torch.memory_format: lambda f: _ext(MEMORY_FORMAT, bytes((_MEMORY_FORMATS.index(f),))),
    Var: lambda v: _ext(VAR, _VAR.pack(v.index)),
}

# One packer for top-level messages; nested records use msgpack.packb (a packer is not reentrant).
_packer = msgpack.Packer(default=_default, strict_types=True, use_bin_type=True, autoreset=True)


def register_pointer_type(cls: type) -> None:
    """Pointers encode as a reference to their remote id (fast path for an exact type)."""
    _ENCODERS[cls] = _encode_pointer


def encode(message: Any) -> bytes:
    """Message (lists, dicts, scalars, tensors, pointers, ...) -> bytes."""
    return _packer.pack(message)


def _decode_slice(data: bytes, hook) -> slice:
    parts = msgpack.unpackb(data, ext_hook=hook, raw=False)
    _check(isinstance(parts, list) and len(parts) == 3, "slice record has the wrong layout")
    _check(all(p is None or type(p) is int for p in parts), "slice bounds must be integers")
    return slice(*parts)


def _decode_tuple(data: bytes, hook) -> tuple:
    items = msgpack.unpackb(data, ext_hook=hook, raw=False)
    _check(isinstance(items, list), "tuple record is not a list")
    return tuple(items)


def _decode_return_type(data: bytes, hook) -> tuple:
    fields = msgpack.unpackb(data, ext_hook=hook, raw=False)
    _check(isinstance(fields, list) and len(fields) == 2 and isinstance(fields[0], str)
           and isinstance(fields[1], list), "named result record has the wrong layout")
    cls = getattr(torch.return_types, fields[0], None) if not fields[0].startswith("_") else None
    _check(isinstance(cls, type) and issubclass(cls, tuple), f"unknown named result {fields[0]!r}")
    try:
        return cls(fields[1])
    except TypeError:
        raise MalformedMessageError(f"{fields[0]} cannot hold {len(fields[1])} items") from None


def _decode_dtype(data: bytes, hook) -> torch.dtype:
    _check(len(data) == 1 and data[0] < len(_DTYPE_TABLE), "unknown dtype")
    return _DTYPE_TABLE[data[0]]


def _decode_device(data: bytes, hook) -> torch.device:
    try:
        return torch.device(data.decode("ascii"))
    except (UnicodeDecodeError, RuntimeError):
        raise MalformedMessageError("bad device name") from None


def _decode_complex(data: bytes, hook) -> complex:
    _check(len(data) == 16, "complex number has the wrong size")
    return complex(*struct.unpack("<dd", data))


def _decode_ellipsis(data: bytes, hook):
    return Ellipsis


def _decode_memory_format(data: bytes, hook) -> torch.memory_format:
    _check(len(data) == 1 and data[0] < len(_MEMORY_FORMATS), "unknown memory format")
    return _MEMORY_FORMATS[data[0]]


_DECODERS = {
    FRAME_TENSOR: _decode_frame_tensor,
    MEMORY_FORMAT: _decode_memory_format,
    TENSOR: lambda data, hook: tensor_from_bytes(data),
    TUPLE: _decode_tuple,
    RETURN_TYPE: _decode_return_type,
    DTYPE: _decode_dtype,
    SLICE: _decode_slice,
    ELLIPSIS: _decode_ellipsis,
    DEVICE: _decode_device,
    COMPLEX: _decode_complex,
}


# Records nest (a tuple in a tuple, ...); each level reads a new msgpack buffer on the C stack,
# so the depth is capped far below where a crafted message could overflow it.
MAX_NESTING = 32


class ExtDecoder:
    """Turns extension records into objects while msgpack reads a message. Subclasses decide
    what a remote id (``ref``) and a tensor description (``meta``) become. A class, not a
    closure: a closure that refers to itself makes a reference cycle, and pointers caught in
    one would outlive their last name."""

    __slots__ = ("depth",)

    def __init__(self) -> None:
        self.depth = 0

    def ref(self, obj_id: int) -> Any:
        return Ref(obj_id)

    def meta(self, meta: Meta) -> Any:
        return meta

    def attr_ref(self, obj_id: int, attr: str) -> Any:
        raise MalformedMessageError("an attribute reference is not expected here")

    def pointer_desc(self, desc: PointerDesc) -> Any:
        return desc

    def var(self, index: int) -> Any:
        raise MalformedMessageError("a plan value reference is not expected here")

    def pointer(self, obj_id: int, shape: list, dtype: torch.dtype, requires_grad: bool) -> Any:
        """A reply's single tensor (the common case; no Meta record to build)."""
        return self.meta(Meta(obj_id, tuple(shape), dtype, requires_grad))

    def __call__(self, code: int, payload: bytes) -> Any:
        if code == REF:
            _check(len(payload) == 8, "object id has the wrong size")
            return self.ref(_ID.unpack(payload)[0])
        if code == META:
            return self.meta(meta_from_bytes(payload))
        if code == ATTR_REF:
            _check(len(payload) > 8, "attribute reference has the wrong size")
            attr = bytes(payload[8:]).decode("ascii", "replace")
            _check(attr in POINTER_ATTRIBUTES,  # the name is not echoed: it may be any length
                   f"a pointer can name only {' or '.join(POINTER_ATTRIBUTES)} of a tensor")
            return self.attr_ref(_ID.unpack_from(payload)[0], attr)
        if code == POINTER:
            return self.pointer_desc(_decode_pointer_desc(payload))
        if code == VAR:
            _check(len(payload) == 4, "plan value reference has the wrong size")
            return self.var(_VAR.unpack(payload)[0])
        decoder = _DECODERS.get(code)
        _check(decoder is not None, f"unknown extension type {code}")
        _check(self.depth < MAX_NESTING, f"message nests deeper than {MAX_NESTING} levels")
        self.depth += 1
        try:
            return decoder(payload, self)
        finally:
            self.depth -= 1


def decode(data: Any, decoder: Optional[ExtDecoder] = None) -> Any:
    """bytes -> message, with decoder turning remote ids and descriptions into objects.

    Every failure to read the bytes is a MalformedMessageError; errors raised by the decoder's
    own ref/meta (an unknown id, say) pass through unchanged.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MalformedMessageError(f"a message must be bytes, not {type(data).__name__}")
    try:
        return msgpack.unpackb(data, ext_hook=decoder or ExtDecoder(), raw=False, strict_map_key=True)
    except MalformedMessageError:
        raise
    except (msgpack.UnpackException, ValueError, TypeError, RuntimeError, RecursionError,
            struct.error) as e:
        raise MalformedMessageError(f"cannot read message: {type(e).__name__}: {e}") from None


# --- replies: one status byte, then msgpack -------------------------------------------------
# b"P": a single tensor the worker holds, as [id, dtype code, requires_grad, shape] (the common
# case, read without extension hooks); b"T": one tensor record, no msgpack (what .get() returns);
# b"V": any other value; b"E": [exception type name, message].
_REPLY_POINTER, _REPLY_VALUE, _REPLY_ERROR, _REPLY_TENSOR = b"P", b"V", b"E", b"T"
_P, _V, _E, _T = b"PVET"  # the same, as the ints data[0] gives
_plain_packer = msgpack.Packer(use_bin_type=True, autoreset=True)


def encode_pointer_reply(obj_id: int, tensor: torch.Tensor) -> bytes:
    return _REPLY_POINTER + _plain_packer.pack(
        [obj_id, _dtype_code(tensor.dtype), tensor.requires_grad, list(tensor.shape)])


def encode_value_reply(value: Any) -> bytes:
    return _REPLY_VALUE + _packer.pack(value)


def encode_tensor_reply(tensor: torch.Tensor) -> bytes:
    if getattr(_frames, "out", None) is not None:  # a large one goes as a frame of its own
        return encode_value_reply(tensor)
    return _REPLY_TENSOR + tensor_to_bytes(tensor)


# An error reply is small whatever made it: a worker cuts its messages shorter (MAX_ERROR_CHARS);
# this bound holds for any other sender of error replies too.
MAX_ERROR_REPLY_CHARS = 4000


def encode_error_reply(type_name: str, message: str) -> bytes:
    if len(type_name) > 100:
        type_name = type_name[:100]
    if len(message) > MAX_ERROR_REPLY_CHARS:
        message = message[:MAX_ERROR_REPLY_CHARS - 3] + "..."
    return _REPLY_ERROR + _plain_packer.pack([type_name, message])


def decode_reply(data: Any, decoder: ExtDecoder) -> Any:
    """Reply bytes -> (True, value) or (False, (exception type name, message))."""
    _check(isinstance(data, (bytes, bytearray)) and len(data) > 0, "a reply must be non-empty bytes")
    kind, body = data[0], memoryview(data)[1:]
    if kind == _T:
        return True, tensor_from_bytes(data, 1)
    if kind == _V:
        return True, decode(body, decoder)
    try:
        fields = msgpack.unpackb(body, raw=False)
    except (msgpack.UnpackException, ValueError) as e:
        raise MalformedMessageError(f"cannot read reply: {e}") from None
    if kind == _P:
        try:
            obj_id, code, requires_grad, shape = fields
            dtype = _DTYPE_TABLE[code]
        except (TypeError, ValueError, IndexError):
            raise MalformedMessageError("pointer reply has the wrong layout") from None
        _check(type(obj_id) is int and code >= 0 and type(shape) is list and len(shape) <= _MAX_DIMS,
               "pointer reply has a bad id or shape")
        for d in shape:
            _check(type(d) is int and d >= 0, "pointer reply has a bad shape")
        return True, decoder.pointer(obj_id, shape, dtype, requires_grad is True)
    if kind == _E:
        _check(isinstance(fields, list) and len(fields) == 2, "error reply has the wrong layout")
        return False, (str(fields[0]), str(fields[1]))
    raise MalformedMessageError(f"unknown reply kind {bytes([kind])!r}")
