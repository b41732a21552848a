"""FixedPrecisionTensor: real numbers as integers (x * 10**3 by default, as PySyft 0.2.4), so
that they can be secret-shared.

The integers (``.child``) are a local int64 tensor, a pointer to one on a worker, or an
AdditiveSharingTensor. The wrapper itself is a float tensor to torch, with no data: torch hands
every operation to ``__torch_dispatch__``, which runs it on the integers and rescales after a
product. Because the wrapper sits below torch's autograd, ``requires_grad=True`` gives encrypted
training with torch's own backward formulas: ``loss.backward()`` calls mm, t, sum, mul ... on
wrappers, and they run here like any other operation.
"""
from typing import Any, Callable, Dict

import torch

from ..pointers import PointerTensor
from . import additive_sharing as ring
from .additive_sharing import AdditiveSharingTensor
from .rng import FIELD

aten = torch.ops.aten
LIMIT = FIELD // 2  # integers must stay in (-2**61, 2**61)


def encode(x: torch.Tensor, base: int = 10, precision_fractional: int = 3) -> torch.Tensor:
    scale = base ** precision_fractional
    x = x.detach()
    if x.is_complex():
        raise TypeError("complex tensors have no fixed-precision form")
    if x.numel():
        if not torch.isfinite(x).all():
            raise ValueError("fix_precision: the tensor holds inf or nan, which have no fixed-point form")
        if float(x.abs().max()) * scale >= LIMIT:  # the value itself is not echoed: it may be private
            raise OverflowError(
                f"fix_precision: a value times {scale} does not fit the ring of 2**62 "
                f"(values must stay below {LIMIT / scale:.3g} in magnitude)")
    return (x.double() * scale).round().to(torch.int64)


class FixedPrecisionTensor(torch.Tensor):
    @staticmethod
    def __new__(cls, child, base: int = 10, precision_fractional: int = 3, requires_grad: bool = False,
                dtype: torch.dtype = torch.float32):
        t = torch.Tensor._make_wrapper_subclass(cls, child.shape, dtype=dtype, requires_grad=requires_grad)
        t.child = child
        t.base = base
        t.precision_fractional = precision_fractional
        return t

    __torch_function__ = torch._C._disabled_torch_function_impl

    @property
    def scale(self) -> int:
        return self.base ** self.precision_fractional

    @property
    def is_shared(self) -> bool:
        return isinstance(self.child, AdditiveSharingTensor)

    # --- what PySyft printed ---------------------------------------------------------------------
    def __repr__(self) -> str:
        child = self.child
        if isinstance(child, PointerTensor):
            return repr(child)
        chain = "(Wrapper)" + (">AutogradTensor" if self.requires_grad else "") + ">FixedPrecisionTensor>"
        if isinstance(child, AdditiveSharingTensor):
            text = "\n".join([chain + "[AdditiveSharingTensor]"] + child.share_lines())
        else:
            text = chain + repr(child)
        return ("Parameter containing:\n" + text) if getattr(self, "_is_param", False) else text

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)

    # --- the PySyft API ----------------------------------------------------------------------------
    def _like(self, child, requires_grad: bool = False) -> "FixedPrecisionTensor":
        return FixedPrecisionTensor(child, self.base, self.precision_fractional, requires_grad, self.dtype)

    def __init__(self, child=None, *args, **kwargs) -> None:
        if isinstance(child, AdditiveSharingTensor):  # views say what the shares encode
            child.encoding = f"fixed precision ({self.precision_fractional} digits, base {self.base})"

    def get(self) -> "FixedPrecisionTensor":
        """Shared: bring the shares home and add them up (still fixed precision).
        On a worker: bring the integers home."""
        if isinstance(self.child, (AdditiveSharingTensor, PointerTensor)):
            return self._like(self.child.get())
        raise RuntimeError(".get() brings home a shared or remote tensor, but this one is already local")

    def float_precision(self) -> torch.Tensor:
        """Back to floats. On a shared tensor, .get() it first."""
        if isinstance(self.child, AdditiveSharingTensor):
            raise TypeError("this tensor is secret-shared: .get() it first, then .float_precision()")
        if isinstance(self.child, PointerTensor):
            raise TypeError("this tensor is on a worker: .get() it first, then .float_precision()")
        return (self.child.double() / self.scale).to(self.dtype)

    float_prec = float_precision

    def share(self, *workers, crypto_provider=None, requires_grad: bool = False, **kwargs):
        from ..workers import get_worker

        provider = get_worker(crypto_provider) if crypto_provider is not None else None
        parties = _parties(workers, provider)
        if isinstance(self.child, AdditiveSharingTensor):
            raise TypeError("this tensor is already shared; .get() it first to share it again")
        if isinstance(self.child, PointerTensor):
            return SharedPointer(self._like(ring.share_remote(self.child, parties, provider), requires_grad),
                                 self.child)
        return self._like(ring.share_local(self.child, parties, provider), requires_grad)

    def fix_precision(self, *args, **kwargs):
        raise TypeError("this tensor is already in fixed precision")

    fix_prec = fix_precision

    def copy(self) -> "FixedPrecisionTensor":
        return self._like(self.child.clone(), self.requires_grad)

    def refresh(self) -> "FixedPrecisionTensor":
        """The same value under fresh shares; gradients pass through unchanged."""
        if not self.is_shared:
            return self
        return _Refresh.apply(self)

    def send(self, *workers, **kwargs):
        raise TypeError("send() a fixed-precision tensor's shares with .share(), or send the "
                        "float tensor before fix_precision()")

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        handler = _HANDLERS.get(func)
        if handler is None:
            raise NotImplementedError(
                f"{func.overloadpacket.__name__} is not available on fixed-precision tensors yet")
        return handler(args, kwargs or {})


class SharedPointer:
    """What sharing a tensor from a worker returns: in PySyft, a pointer to the shared tensor
    that the worker holds. ``.get()`` gives the shared tensor to the caller; the shares never
    leave their workers."""

    def __init__(self, shared: FixedPrecisionTensor, origin: PointerTensor) -> None:
        self._shared, self.location, self.owner = shared, origin._location, origin._owner
        self.id_at_location = origin._id_at_location

    def get(self):
        shared, self._shared = self._shared, None
        if shared is None:
            raise RuntimeError("this shared tensor was already brought home with .get()")
        return shared

    def __repr__(self) -> str:
        return (f"(Wrapper)>[PointerTensor | {self.owner.id}:… -> {self.location.id}:"
                f"{self.id_at_location}] (a shared tensor; .get() it to compute with it)")


def _parties(workers, provider=None) -> list:
    from ..workers import get_worker

    if len(workers) == 1 and isinstance(workers[0], (list, tuple)):
        workers = tuple(workers[0])
    parties = [get_worker(w) for w in workers]
    from ..workers import NetworkWorker
    if provider is not None and any(p is provider for p in parties):
        raise ValueError(f"the crypto provider ({provider.id}) must not hold a share: it deals the "
                         "triples, and with a share it could learn the secret")
    if any(isinstance(p, NetworkWorker) for p in parties):
        raise NotImplementedError("secret sharing runs between virtual workers in one kernel; "
                                  "network workers do not serve it yet")
    if len(parties) < 2:
        raise ValueError("share() needs at least two workers to hold the shares, like x.share(bob, alice)")
    if len({id(p) for p in parties}) != len(parties):
        raise ValueError("share() needs different workers: each holds one share")
    return parties


class _Refresh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x._like(ring.refresh(x.child))

    @staticmethod
    def backward(ctx, grad):
        return grad


# --- arithmetic on the integers ------------------------------------------------------------------
def _fp_of(args):
    for a in args:
        if isinstance(a, FixedPrecisionTensor):
            return a
        if isinstance(a, (list, tuple)):
            found = _fp_of(a)
            if found is not None:
                return found
    return None


def _as_int(value, like: FixedPrecisionTensor):
    """The integers of an operand: a fixed-precision tensor's child, a public number or float
    tensor encoded at like's precision."""
    if isinstance(value, FixedPrecisionTensor):
        if (value.base, value.precision_fractional) != (like.base, like.precision_fractional):
            raise ValueError(
                "fixed-precision tensors of different precisions cannot be combined "
                f"(base {value.base}, {value.precision_fractional} digits and base {like.base}, "
                f"{like.precision_fractional} digits); make both with the same fix_precision()")
        return value.child
    if isinstance(value, AdditiveSharingTensor):
        raise TypeError("a shared integer tensor cannot be combined with a fixed-precision one; "
                        "share fix_precision() tensors on both sides")
    if isinstance(value, torch.Tensor):
        return encode(value, like.base, like.precision_fractional)
    return encode(torch.tensor(float(value), dtype=torch.float64), like.base, like.precision_fractional)


def _exact_int(value):
    """A public factor that is a whole number multiplies exactly, without rescaling."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 31:
        return int(value)
    if type(value) is torch.Tensor and value.dim() == 0 and not value.is_floating_point():
        return int(value)
    if type(value) is torch.Tensor and value.dim() == 0 and float(value).is_integer():
        return int(value)
    return None


def _local_mul(a: torch.Tensor, b: torch.Tensor, divisor: int, matmul: bool = False) -> torch.Tensor:
    inner = a.shape[-1] if matmul and a.dim() else 1
    if a.numel() and b.numel():
        bound = float(a.abs().max()) * float(b.abs().max()) * inner
        if bound >= 2 ** 63:
            raise OverflowError("fixed-precision product overflows int64: the values are too large "
                                "for precision_fractional digits")
    z = a @ b if matmul else a * b
    return torch.div(z, divisor, rounding_mode="floor") if divisor > 1 else z


def mul_ints(a, b, divisor: int, matmul: bool = False):
    if isinstance(a, AdditiveSharingTensor) or isinstance(b, AdditiveSharingTensor):
        return ring.mul(a, b, divisor, "matmul" if matmul else "mul")
    return _local_mul(a, b, divisor, matmul)


def add_ints(a, b, sign: int = 1):
    if isinstance(a, AdditiveSharingTensor) or isinstance(b, AdditiveSharingTensor):
        return ring.add(a, b, sign)
    return a + b if sign == 1 else a - b


def _mul(args, kwargs):
    a, b = args[0], args[1]
    like = _fp_of(args)
    for x, y in ((a, b), (b, a)):
        if isinstance(x, FixedPrecisionTensor) and not isinstance(y, FixedPrecisionTensor):
            k = _exact_int(y)
            if k is not None:
                return like._like(mul_ints(x.child, torch.tensor(k), 1))
    return like._like(mul_ints(_as_int(a, like), _as_int(b, like), like.scale))


def _add(sign):
    def run(args, kwargs):
        a, b = args[0], args[1]
        like = _fp_of(args)
        alpha = kwargs.get("alpha", 1)
        bi = _as_int(b, like) if alpha == 1 else _mul([b, alpha], {}).child
        return like._like(add_ints(_as_int(a, like), bi, sign))
    return run


def _rsub(args, kwargs):
    like = _fp_of(args)
    return like._like(add_ints(_as_int(args[1], like), _as_int(args[0], like), -1))


def _div(args, kwargs):
    a, b = args[0], args[1]
    if isinstance(b, FixedPrecisionTensor):
        raise NotImplementedError("division by a fixed-precision tensor is not available; divide by a number")
    k = _exact_int(b)
    if k is not None and k > 0:
        child = ring.divide(a.child, k) if a.is_shared else torch.div(a.child, k, rounding_mode="floor")
        return a._like(child)
    value = float(b)
    return _mul([a, 1.0 / value], {})


def _mm(args, kwargs):
    a, b = args
    like = _fp_of(args)
    return like._like(mul_ints(_as_int(a, like), _as_int(b, like), like.scale, matmul=True))


def _addmm(args, kwargs):
    bias, m1, m2 = args
    like = _fp_of(args)
    beta, alpha = kwargs.get("beta", 1), kwargs.get("alpha", 1)
    product = _mm([m1, m2], {})
    if alpha != 1:
        product = _mul([product, alpha], {})
    if beta != 1:
        bias = _mul([bias, beta], {})
    return like._like(add_ints(product.child, _as_int(bias, like)))


def _pow(args, kwargs):
    x, exponent = args
    k = _exact_int(exponent)
    if k is None or k < 0:
        raise NotImplementedError("a fixed-precision tensor can be raised to a whole power >= 0 only")
    if k == 0:
        return x._like(_ones_int(x))
    result = x._like(x.child.clone() if not x.is_shared else x.child)
    for _ in range(k - 1):
        result = _mul([result, x], {})
    return result


def _ones_int(x: FixedPrecisionTensor) -> torch.Tensor:
    return torch.full(tuple(x.shape), x.scale, dtype=torch.int64)


def _relu(args, kwargs):
    x = args[0]
    if x.is_shared:
        out, positive = ring.relu(x.child, keep_mask=True)
        # Kept on the shared integers, which every alias of the result shares: autograd hands
        # the backward a new wrapper around the same child, not the result itself.
        out._positive = positive  # reused by the gradient: no second comparison
        return x._like(out)
    return x._like(torch.relu(x.child))


def _threshold_backward(args, kwargs):
    grad, result, threshold = args
    if threshold != 0:
        raise NotImplementedError("only relu's gradient (threshold 0) is available")
    positive = getattr(result.child, "_positive", None)
    if positive is None:
        positive = (result.child > 0).to(torch.int64) if not result.is_shared else \
            ring.is_negative(ring.neg(result.child))  # x > 0 exactly when -x < 0
    return grad._like(mul_ints(grad.child, positive, 1))


def _compare(how):
    def run(args, kwargs):
        a, b = args[0], args[1]
        like = _fp_of(args)
        ai, bi = _as_int(a, like), _as_int(b, like)
        if isinstance(ai, AdditiveSharingTensor) or isinstance(bi, AdditiveSharingTensor):
            bit = ring.compare(ai, bi, how)
            return like._like(ring.mul(bit, torch.tensor(like.scale)))
        bit = getattr(torch, how)(ai, bi).to(torch.int64)
        return like._like(bit * like.scale)
    return run


def _argmax(args, kwargs):
    x = args[0]
    dim = args[1] if len(args) > 1 else kwargs.get("dim")
    keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
    if x.is_shared:
        index = ring._argmax(None, [x.child, dim, keepdim], {})
        return x._like(ring.mul(index, torch.tensor(x.scale)))
    return x._like(torch.argmax(x.child, dim, keepdim) * x.scale)


def _max(args, kwargs):
    x = args[0]
    if x.is_shared:
        result = ring._max(None, [x.child, *args[1:]], kwargs)
        if isinstance(result, tuple):
            values, index = result
            return x._like(values), x._like(ring.mul(index, torch.tensor(x.scale)))
        return x._like(result)
    if len(args) == 1:
        return x._like(x.child.max())
    values, index = torch.max(x.child, *args[1:], **kwargs)
    return x._like(values), x._like(index * x.scale)


def _neg(args, kwargs):
    x = args[0]
    return x._like(ring.neg(x.child) if x.is_shared else -x.child)


def _same_op(func):
    """Shape changes, sums and copies: the same call on the integers."""
    def run(args, kwargs):
        x = args[0]
        return x._like(func(x.child, *args[1:], **kwargs))
    return run


def _detach(args, kwargs):
    return args[0]._like(args[0].child)


def _like_public(fill):
    def run(args, kwargs):
        x = args[0]
        value = fill(x)
        return x._like(value)
    return run


def _inplace(op):
    """x.add_(y) and friends (an optimizer's step): compute, then x takes the new integers."""
    def run(args, kwargs):
        x = args[0]
        x.child = op(args, kwargs).child
        return x
    return run


def _copy_(args, kwargs):
    x, src = args[0], args[1]
    x.child = _as_int(src, x) if not isinstance(src, FixedPrecisionTensor) else src.child
    return x


def _mean(args, kwargs):
    x = args[0]
    total = _same_op(torch.sum)(args, kwargs)
    n = x.numel() // max(total.numel(), 1)
    return _div([total, n], {})


def _sum(args, kwargs):
    return _same_op(torch.sum)(args, kwargs)


_HANDLERS: Dict[Any, Callable] = {
    aten.add.Tensor: _add(1), aten.add.Scalar: _add(1), aten.sub.Tensor: _add(-1), aten.sub.Scalar: _add(-1),
    aten.rsub.Scalar: _rsub, aten.rsub.Tensor: _rsub,
    aten.mul.Tensor: _mul, aten.mul.Scalar: _mul, aten.div.Tensor: _div, aten.div.Scalar: _div,
    aten.mm.default: _mm, aten.addmm.default: _addmm,
    aten.pow.Tensor_Scalar: _pow, aten.neg.default: _neg,
    aten.relu.default: _relu, aten.threshold_backward.default: _threshold_backward,
    aten.gt.Tensor: _compare("gt"), aten.gt.Scalar: _compare("gt"),
    aten.lt.Tensor: _compare("lt"), aten.lt.Scalar: _compare("lt"),
    aten.ge.Tensor: _compare("ge"), aten.ge.Scalar: _compare("ge"),
    aten.le.Tensor: _compare("le"), aten.le.Scalar: _compare("le"),
    aten.eq.Tensor: _compare("eq"), aten.eq.Scalar: _compare("eq"),
    aten.ne.Tensor: _compare("ne"), aten.ne.Scalar: _compare("ne"),
    aten.argmax.default: _argmax, aten.max.default: _max, aten.max.dim: _max,
    aten.sum.default: _sum, aten.sum.dim_IntList: _sum, aten.mean.default: _mean, aten.mean.dim: _mean,
    aten.detach.default: _detach, aten.alias.default: _detach,
    aten.clone.default: _same_op(torch.clone),
    aten.view.default: _same_op(torch.reshape), aten._unsafe_view.default: _same_op(torch.reshape),
    aten.reshape.default: _same_op(torch.reshape),
    aten.t.default: _same_op(torch.t), aten.transpose.int: _same_op(torch.transpose),
    aten.permute.default: _same_op(torch.permute), aten.expand.default: _same_op(torch.Tensor.expand),
    aten.unsqueeze.default: _same_op(torch.unsqueeze), aten.squeeze.dim: _same_op(torch.squeeze),
    aten.squeeze.default: _same_op(torch.squeeze), aten.squeeze.dims: _same_op(torch.squeeze),
    aten.select.int: _same_op(torch.select), aten.slice.Tensor: _same_op(lambda x, *a, **k: ring.slice_rows(x, *a, **k)),
    aten.ones_like.default: _like_public(_ones_int),
    aten.zeros_like.default: _like_public(lambda x: torch.zeros(tuple(x.shape), dtype=torch.int64)),
    aten.add_.Tensor: _inplace(_add(1)), aten.sub_.Tensor: _inplace(_add(-1)),
    aten.mul_.Tensor: _inplace(_mul), aten.mul_.Scalar: _inplace(_mul), aten.div_.Tensor: _inplace(_div),
    aten.copy_.default: _copy_,
}
