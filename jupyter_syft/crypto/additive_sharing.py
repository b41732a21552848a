"""AdditiveSharingTensor: an integer tensor split into random shares held by several workers.

Each worker holds an ordinary int64 tensor; the shares add up to the secret modulo 2**62 (the
field PySyft 0.2.4 used), and any subset short of all of them is uniformly random. The caller
holds one pointer per share. Addition is local to each worker; multiplication uses a Beaver
triple from the crypto provider; comparisons use ``compare.msb``.

Like a pointer, the tensor has no data of its own: torch hands every operation on it to
``__torch_dispatch__``, which turns it into steps on the workers (``party.py``). Under
``FixedPrecisionTensor`` the same steps carry real numbers, and torch's autograd runs on top.
"""
import math
from typing import Any, Callable, Dict, List, Sequence

import torch

from ..exceptions import TensorsNotCollocatedException
from ..ids import new_id
from . import registry
from ..pointers import PointerTensor
from .rng import FIELD, MASK, broadcast_shape, generator

aten = torch.ops.aten


def me_and_provider(x: "AdditiveSharingTensor", what: str):
    import jupyter_syft

    if x.crypto_provider is None:
        raise AttributeError(
            "For multiplication a crypto_provider must be passed." if what == "multiplication" else
            f"{what} of shared values needs a crypto provider: share with "
            ".share(bob, alice, crypto_provider=james)")
    return jupyter_syft.local_worker, x.crypto_provider


class ShareDict(dict):
    """``x.child`` of a shared tensor: the pointer to each share by worker id, plus the field."""

    field = FIELD

    def __init__(self, items, crypto_provider) -> None:
        super().__init__(items)
        self.crypto_provider = crypto_provider


class AdditiveSharingTensor(torch.Tensor):
    @staticmethod
    def __new__(cls, shares: Sequence[PointerTensor], crypto_provider=None, shape=None):
        t = torch.Tensor._make_wrapper_subclass(cls, shares[0].shape if shape is None else shape,
                                                dtype=torch.int64)
        t._shares = list(shares)
        t._provider = crypto_provider
        t.secret_id = new_id()
        t.encoding = "integers"  # FixedPrecisionTensor says "fixed precision ..." for its own
        registry.track(t)
        return t

    def __init__(self, *args, **kwargs) -> None:
        pass

    __torch_function__ = torch._C._disabled_torch_function_impl

    # --- what PySyft showed ------------------------------------------------------------------
    @property
    def parties(self) -> list:
        return [s._location for s in self._shares]

    @property
    def crypto_provider(self):
        return self._provider

    @property
    def field(self) -> int:
        return FIELD

    @property
    def child(self) -> ShareDict:
        return ShareDict(((s._location.id, s) for s in self._shares), self._provider)

    @property
    def locations(self) -> list:
        return self.parties

    def share_lines(self) -> List[str]:
        # PySyft printed the share pointers without their "(Wrapper)>" head
        lines = [f"\t-> [PointerTensor | {s._owner.id}:{s._id} -> {s._location.id}:{s._id_at_location}]"
                 + ("" if s._state == "live" else f" ({s._state})") for s in self._shares]
        if self._provider is not None:
            lines.append(f"\t*crypto provider: {self._provider.id}*")
        return lines

    def __repr__(self) -> str:
        return "\n".join(["(Wrapper)>[AdditiveSharingTensor]"] + self.share_lines())

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)

    # --- the PySyft API ------------------------------------------------------------------------
    def get(self) -> torch.Tensor:
        """Bring every share home (they leave their workers) and add them up."""
        return reconstruct([s.get() for s in self._shares])

    def copy(self) -> "AdditiveSharingTensor":
        return self.clone()

    def refresh(self) -> "AdditiveSharingTensor":
        """The same secret under fresh shares (a sharing of zero added)."""
        return refresh(self)

    def share(self, *workers, **kwargs):
        raise TypeError("this tensor is already shared; .get() it first to share it again")

    def send(self, *workers, **kwargs):
        raise TypeError("a shared tensor's shares are already on their workers; .get() it first")

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        handler = _HANDLERS.get(func) or _HANDLERS.get(func.overloadpacket)
        if handler is None:
            raise NotImplementedError(
                f"{func.overloadpacket.__name__} is not available on secret-shared tensors "
                "(available: + - * mm matmul sum > < >= <= == max argmax relu view, and shape changes)")
        return handler(func, args, kwargs or {})


# --- sharing and reconstructing --------------------------------------------------------------------
def share_local(secret: torch.Tensor, parties: list, crypto_provider=None) -> AdditiveSharingTensor:
    """Split a local int64 tensor into shares and send one to each party."""
    import jupyter_syft
    from .party import split

    me = jupyter_syft.local_worker
    shares = split(generator(), secret.detach().to(torch.int64), len(parties))
    pointers = [me.send_tensor(s, p) for s, p in zip(shares, parties)]
    return AdditiveSharingTensor(pointers, crypto_provider)


def share_remote(ptr: PointerTensor, parties: list, crypto_provider=None) -> AdditiveSharingTensor:
    """Share a tensor from the worker that holds it: the other parties get their shares from
    there, and the secret never comes to the caller."""
    import jupyter_syft
    from ..workers import get_worker

    me = jupyter_syft.local_worker
    placed = me._request(ptr._location, "mpc", ["share", ptr, [p.id for p in parties]], [ptr])
    shares = [PointerTensor(get_worker(w), i, ptr.shape, torch.int64, owner=me) for w, i in placed]
    return AdditiveSharingTensor(shares, crypto_provider)


def reconstruct(shares: List[torch.Tensor]) -> torch.Tensor:
    total = shares[0].clone()
    for s in shares[1:]:
        total.add_(s)
    total.bitwise_and_(MASK)
    return torch.where(total >= FIELD // 2, total - FIELD, total)


def refresh(x: AdditiveSharingTensor) -> AdditiveSharingTensor:
    zeros = share_zero_like(x)
    return AdditiveSharingTensor([torch.add(a, b) for a, b in zip(x._shares, zeros)], x._provider)


def share_zero_like(x: AdditiveSharingTensor) -> List[PointerTensor]:
    import jupyter_syft
    from .party import split

    me = jupyter_syft.local_worker
    parts = split(generator(), torch.zeros(x.shape, dtype=torch.int64), len(x._shares))
    return [me.send_tensor(s, p) for s, p in zip(parts, x.parties)]


# --- the ring operations, on shared or public int64 operands ----------------------------------------
def _same_parties(a: AdditiveSharingTensor, b: AdditiveSharingTensor) -> None:
    if [p.id for p in a.parties] != [p.id for p in b.parties]:
        raise TensorsNotCollocatedException(
            "the two shared tensors are shared between different workers: "
            f"{[p.id for p in a.parties]} and {[p.id for p in b.parties]}")


def _provider(a, b):
    pa = a._provider if isinstance(a, AdditiveSharingTensor) else None
    pb = b._provider if isinstance(b, AdditiveSharingTensor) else None
    return pa if pa is not None else pb


def _public(value) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        if value.is_floating_point():
            raise TypeError("a float cannot be combined with a shared integer tensor; "
                            "use fix_precision() on both sides")
        return value.to(torch.int64)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"cannot combine a shared tensor with a {type(value).__name__}")
    return torch.tensor(value, dtype=torch.int64)


def add(a, b, sign: int = 1) -> AdditiveSharingTensor:
    if isinstance(a, AdditiveSharingTensor) and isinstance(b, AdditiveSharingTensor):
        _same_parties(a, b)
        op = torch.add if sign == 1 else torch.sub
        return AdditiveSharingTensor([op(x, y) for x, y in zip(a._shares, b._shares)], _provider(a, b))
    if isinstance(b, AdditiveSharingTensor):  # public - shared = -(shared - public)
        return neg(add(b, a, -1)) if sign == -1 else add(b, a)
    import jupyter_syft

    me = jupyter_syft.local_worker
    pub = _public(b) if sign == 1 else -_public(b)
    shape = broadcast_shape(a.shape, pub.shape)
    rest = pub.expand(shape).mul(0) if tuple(shape) != tuple(a.shape) else None
    out = [me._request(p, "mpc", ["public_add", s, pub if i == 0 else rest], [s])
           for i, (p, s) in enumerate(zip(a.parties, a._shares))]
    return AdditiveSharingTensor(out, a._provider)


def neg(a: AdditiveSharingTensor) -> AdditiveSharingTensor:
    return AdditiveSharingTensor([torch.neg(s) for s in a._shares], a._provider)


def mul(a, b, divisor: int = 1, op: str = "mul") -> AdditiveSharingTensor:
    """a*b (op "mul") or a@b (op "matmul"), divided by a public divisor (fixed precision)."""
    if isinstance(a, AdditiveSharingTensor) and isinstance(b, AdditiveSharingTensor):
        _same_parties(a, b)
        return _beaver(op, a, b, divisor)
    if isinstance(a, AdditiveSharingTensor):
        return _public_mul(a, _public(b), divisor, op, public_right=True)
    return _public_mul(b, _public(a), divisor, op, public_right=False)


def _public_mul(a: AdditiveSharingTensor, pub: torch.Tensor, divisor: int, op: str,
                public_right: bool) -> AdditiveSharingTensor:
    import jupyter_syft

    me = jupyter_syft.local_worker
    n = len(a._shares)
    _check_divisor(n, divisor)
    out = [me._request(p, "mpc", ["public_mul", s, pub, op, public_right, divisor, i], [s])
           for i, (p, s) in enumerate(zip(a.parties, a._shares))]
    return AdditiveSharingTensor(out, a._provider)



def _check_divisor(n: int, divisor: int) -> None:
    if divisor > 1 and n != 2:
        raise NotImplementedError(
            "fixed-precision multiplication and division of shared values need exactly 2 share "
            f"holders here; this tensor is shared between {n}")


def divide(a: AdditiveSharingTensor, divisor: int) -> AdditiveSharingTensor:
    """a / divisor for a public positive integer, rounded (off by at most one unit)."""
    return _public_mul(a, torch.tensor(1), divisor, "mul", True)


def _beaver(op: str, x: AdditiveSharingTensor, y: AdditiveSharingTensor, divisor: int) -> AdditiveSharingTensor:
    me, provider = me_and_provider(x if x._provider is not None else y, "multiplication")
    parties, n = x.parties, len(x._shares)
    _check_divisor(n, divisor)
    if op == "matmul" and (x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[0]):
        raise RuntimeError(f"mm of shared tensors of shapes {tuple(x.shape)} and {tuple(y.shape)}: "
                           "needs (m, k) and (k, n)")
    out_shape = (x.shape[0], y.shape[1]) if op == "matmul" else broadcast_shape(x.shape, y.shape)
    ids = [p.id for p in parties]
    dealer, number, c_last, tags = me._request(provider, "mpc", ["triple", op, list(x.shape), list(y.shape), ids])
    registry.activity.record(provider.id, "triple", math.prod(out_shape), ids)
    d = e = None
    for p, xs, ys, tag in zip(parties, x._shares, y._shares, tags):
        di, ei = me._request(p, "mpc", ["beaver_open", op, xs, ys, dealer, number, tag])
        d, e = (di, ei) if d is None else (d.add_(di), e.add_(ei))
    d.bitwise_and_(MASK)
    e.bitwise_and_(MASK)
    out = [me._request(p, "mpc", ["beaver_close", op, d, e, dealer, number, i, n, divisor,
                                  c_last if i == n - 1 else None])
           for i, p in enumerate(parties)]
    return AdditiveSharingTensor(out, x._provider if x._provider is not None else y._provider)


# --- comparisons ------------------------------------------------------------------------------------
def is_negative(a: AdditiveSharingTensor) -> AdditiveSharingTensor:
    from .compare import msb

    return msb(a)


def compare(a, b, how: str) -> AdditiveSharingTensor:
    """Shares of 1 where a <how> b holds, 0 elsewhere (how: gt lt ge le eq ne)."""
    if how in ("eq", "ne"):
        # a == b exactly when neither a < b nor b < a: one comparison over both differences.
        diff = _diff(a, b)
        n = diff.numel()
        signs = is_negative(cat([diff.reshape(-1), neg(diff).reshape(-1)]))
        unequal = add(_rows(signs, 0, n), _rows(signs, n, 2 * n)).reshape(diff.shape)
        return unequal if how == "ne" else add(neg(unequal), 1)
    if how == "gt":
        return is_negative(_diff(b, a))
    if how == "lt":
        return is_negative(_diff(a, b))
    if how == "ge":
        return add(neg(is_negative(_diff(a, b))), 1)
    if how == "le":
        return add(neg(is_negative(_diff(b, a))), 1)
    raise ValueError(how)


def _diff(a, b) -> AdditiveSharingTensor:
    if isinstance(a, AdditiveSharingTensor):
        return add(a, b, -1)
    return neg(add(b, a, -1))


def cat(items: List[AdditiveSharingTensor], dim: int = 0) -> AdditiveSharingTensor:
    for x in items[1:]:
        _same_parties(items[0], x)
    shares = [torch.cat([x._shares[i] for x in items], dim) for i in range(len(items[0]._shares))]
    return AdditiveSharingTensor(shares, items[0]._provider)


def _rows(x, start: int, stop: int, step: int = 1):
    if isinstance(x, AdditiveSharingTensor):
        return AdditiveSharingTensor([s[start:stop:step] for s in x._shares], x._provider)
    return x[start:stop:step]


def relu(a: AdditiveSharingTensor, keep_mask: bool = False):
    """max(a, 0) = a * [a > 0], and [a > 0] = msb(-a); with keep_mask, also the 0/1 shares
    (torch's relu gradient is 0 at 0, so the mask is strict)."""
    positive = is_negative(neg(a))
    out = mul(a, positive)
    return (out, positive) if keep_mask else out


def as_shared(public: torch.Tensor, like: AdditiveSharingTensor) -> AdditiveSharingTensor:
    """A public tensor as a (trivial) sharing: the first party holds it, the others zeros."""
    import jupyter_syft

    me = jupyter_syft.local_worker
    public = _public(public)
    parts = [public] + [torch.zeros_like(public) for _ in like._shares[1:]]
    return AdditiveSharingTensor([me.send_tensor(t, p) for t, p in zip(parts, like.parties)], like._provider)


def max_along(a: AdditiveSharingTensor, dim: int, with_index: bool):
    """Maximum along dim by a tournament: log2(n) rounds of one comparison each (all pairs of a
    round at once); with_index also carries the winner's index."""
    dim = dim % a.dim()
    values = a.movedim(dim, 0) if dim else a
    n = values.shape[0]
    index = None
    if with_index:
        index = torch.arange(n).view(n, *([1] * (values.dim() - 1))).expand(values.shape).contiguous()
    while n > 1:
        half = n // 2
        # neighbours meet (0 vs 1, 2 vs 3, ...): the left one always has the lower indices, so a
        # tie keeps the first maximum, as torch does
        left, right = _rows(values, 0, 2 * half, 2), _rows(values, 1, 2 * half, 2)
        diff = add(left, right, -1)
        take_left = add(neg(is_negative(diff)), 1)  # left >= right
        chosen = add(right, mul(take_left, diff))
        if with_index:
            li, ri = _rows(index, 0, 2 * half, 2), _rows(index, 1, 2 * half, 2)
            gap = add(li, ri, -1) if isinstance(li, AdditiveSharingTensor) else li - ri
            chosen_index = add(mul(take_left, gap), ri)
        if n % 2:  # the last row waits for the next round
            values = cat([chosen, _rows(values, n - 1, n)])
            if with_index:
                tail = _rows(index, n - 1, n)
                index = cat([chosen_index, tail if isinstance(tail, AdditiveSharingTensor)
                             else as_shared(tail, chosen_index)])
        else:
            values = chosen
            index = chosen_index if with_index else None
        n = values.shape[0]
    values = values.squeeze(0)
    if with_index:
        if not isinstance(index, AdditiveSharingTensor):  # a single row: index 0 everywhere
            index = as_shared(index, values.unsqueeze(0))
        return values, index.squeeze(0)
    return values


def slice_rows(x, dim: int = 0, start=None, end=None, step: int = 1):
    """aten.slice as Python indexing (what a pointer sends as a command)."""
    return x[(slice(None),) * (dim % x.dim()) + (slice(start, end, step),)]


# --- torch operations -----------------------------------------------------------------------------
def _unwrap_shape_op(func):
    """Shape changes and copies: the same call on every share, one request per worker."""
    def run(f, args, kwargs):
        x, rest = args[0], args[1:]
        return AdditiveSharingTensor([func(s, *rest, **kwargs) for s in x._shares], x._provider)
    return run


def _binary(how):
    def run(func, args, kwargs):
        a, b = args[0], args[1]
        alpha = kwargs.get("alpha", 1)
        if how == "add":
            return add(a, b if alpha == 1 else mul(b, alpha) if isinstance(b, AdditiveSharingTensor) else b * alpha)
        if how == "sub":
            return add(a, b if alpha == 1 else mul(b, alpha) if isinstance(b, AdditiveSharingTensor) else b * alpha, -1)
        if how == "rsub":
            return _diff(b, a)
        if how == "mul":
            return mul(a, b)
        if how == "mm":
            return mul(a, b, op="matmul")
        return compare(a, b, how)
    return run


def _sum(func, args, kwargs):
    x = args[0]
    rest = args[1:]
    return AdditiveSharingTensor([torch.sum(s, *rest, **kwargs) for s in x._shares], x._provider)


def _max(func, args, kwargs):
    x = args[0]
    if len(args) == 1 and "dim" not in kwargs:
        # PySyft 0.2.4 gave the maximum of a whole tensor as a 1-element tensor: tensor([4])
        return max_along(x.reshape(-1), 0, False).reshape(1)
    dim = args[1] if len(args) > 1 else kwargs["dim"]
    keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
    values, index = max_along(x, dim, True)
    if keepdim:
        values, index = values.unsqueeze(dim), index.unsqueeze(dim)
    return values, index


def _argmax(func, args, kwargs):
    x = args[0]
    dim = args[1] if len(args) > 1 else kwargs.get("dim")
    keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
    if dim is None:
        _, index = max_along(x.reshape(-1), 0, True)
        return index
    _, index = max_along(x, dim, True)
    return index.unsqueeze(dim) if keepdim else index


def _detach(func, args, kwargs):
    x = args[0]
    return AdditiveSharingTensor(x._shares, x._provider)


def _relu(func, args, kwargs):
    return relu(args[0])


_HANDLERS: Dict[Any, Callable] = {
    aten.add.Tensor: _binary("add"), aten.add.Scalar: _binary("add"),
    aten.sub.Tensor: _binary("sub"), aten.sub.Scalar: _binary("sub"), aten.rsub.Scalar: _binary("rsub"),
    aten.rsub.Tensor: _binary("rsub"),
    aten.mul.Tensor: _binary("mul"), aten.mul.Scalar: _binary("mul"), aten.mm.default: _binary("mm"),
    aten.gt.Tensor: _binary("gt"), aten.gt.Scalar: _binary("gt"), aten.lt.Tensor: _binary("lt"),
    aten.lt.Scalar: _binary("lt"), aten.ge.Tensor: _binary("ge"), aten.ge.Scalar: _binary("ge"),
    aten.le.Tensor: _binary("le"), aten.le.Scalar: _binary("le"), aten.eq.Tensor: _binary("eq"),
    aten.eq.Scalar: _binary("eq"), aten.ne.Tensor: _binary("ne"), aten.ne.Scalar: _binary("ne"),
    aten.neg.default: lambda f, a, k: neg(a[0]),
    aten.sum.default: _sum, aten.sum.dim_IntList: _sum,
    aten.max.default: _max, aten.max.dim: _max, aten.argmax.default: _argmax,
    aten.relu.default: _relu,
    aten.detach.default: _detach, aten.alias.default: _detach,
    aten.clone.default: _unwrap_shape_op(torch.clone),
    # a share may be a transposed view on its worker while the wrapper looks contiguous:
    # reshape copies when it must
    aten.view.default: _unwrap_shape_op(torch.reshape),
    aten._unsafe_view.default: _unwrap_shape_op(torch.reshape),
    aten.reshape.default: _unwrap_shape_op(torch.reshape),
    aten.t.default: _unwrap_shape_op(torch.t),
    aten.transpose.int: _unwrap_shape_op(torch.transpose),
    aten.permute.default: _unwrap_shape_op(torch.permute),
    aten.expand.default: _unwrap_shape_op(torch.Tensor.expand),
    aten.unsqueeze.default: _unwrap_shape_op(torch.unsqueeze),
    aten.squeeze.dim: _unwrap_shape_op(torch.squeeze), aten.squeeze.default: _unwrap_shape_op(torch.squeeze),
    aten.squeeze.dims: _unwrap_shape_op(torch.squeeze),
    aten.movedim.int: _unwrap_shape_op(torch.movedim),
    aten.select.int: _unwrap_shape_op(torch.select),
    aten.slice.Tensor: _unwrap_shape_op(lambda x, *a, **k: slice_rows(x, *a, **k)),
}
