"""The operations a worker runs: their names on the wire, and the checks around each call.

Names are built from ``torch.overrides.get_overridable_functions()``, the functions torch routes
through ``__torch_function__`` (``torch.add``, ``Tensor.add``, ``Tensor.__add__``,
``torch.nn.functional.relu``, ``Tensor.grad.__get__``), plus a few listed here by hand. A name is
known only if torch routes it AND it is on the reviewed list in allowlist.py; a worker resolves
a name only through this table, so no other Python object can be reached from a message.

``resolve`` gives the worker a checked callable, not torch's function itself. Around each call it
refuses, with a ResourceLimitError naming the limit:

- any tensor argument with more elements than the worker's ``MAX_TENSOR_NUMEL``;
- a result that would be larger, judged BEFORE running by the operation's size rule (see
  allowlist.py: broadcast shapes, a formula of its own, or a run on meta tensors), so
  ``torch.ones(2**40)`` allocates nothing;
- after running, any result tensor over the limit (a view like ``expand(2**62)`` costs nothing
  to make and is dropped before anything reads it), or more than ``MAX_RESULT_TENSORS`` of them.

Operations that draw random numbers run on the serving worker's own generator state when it has
one (``BaseWorker(own_rng=True)``). The limits and the generator are those of the worker whose
request this thread is serving (``serving``); plans run their steps through the same callables.
"""
import inspect
import math
import threading
import warnings
from typing import Any, Callable, Dict, Optional

import torch
from torch.overrides import get_overridable_functions

from . import allowlist
from .exceptions import OperationNotAllowedError, ResourceLimitError

# Default limits; BaseWorker has them as class attributes (a server may lower or raise them).
MAX_TENSOR_NUMEL = 2 ** 27  # elements in any tensor argument, result or view (a 512 MiB float32)
MAX_RESULT_TENSORS = 2 ** 16  # tensors in one result (split, unbind)
MAX_OP_WORK = 2 ** 36  # steps of one pooling or convolution: output elements x kernel elements

# Tensor methods that route through __torch_function__ without being listed as overridable.
_UNLISTED_METHODS = ("new_zeros", "new_ones", "new_full", "new_tensor", "unflatten")

# Functions that route through __torch_function__ without being listed as overridable;
# `torch.autograd.grad` is how a training plan takes its gradients.
_UNLISTED_FUNCTIONS = {"torch.autograd.grad": torch.autograd.grad}

# Property setters torch routes through __torch_function__ but does not list as overridable;
# `optimizer.zero_grad()` sets `p.grad = None`, and training code sets `.data` and `.requires_grad`.
_SETTERS = ("grad", "data", "requires_grad")

# Tensor factories, for ``bob.remote.torch.zeros(2, 3)``: torch does not route them through
# __torch_function__ (they take no tensor), so they are listed by hand. torch.empty is left out:
# it hands back uninitialised memory.
_FACTORIES = ("zeros", "ones", "full", "rand", "randn", "randint", "randperm", "arange",
              "linspace", "logspace", "eye", "tensor")

_Tensor = torch.Tensor
_SEQUENCES = (list, tuple)


def _tensor_attribute_names() -> Dict[int, str]:
    """id(descriptor) -> attribute name, for the property namespaces torch reports."""
    names = {}
    for name in dir(torch.Tensor):
        try:
            names[id(inspect.getattr_static(torch.Tensor, name))] = name
        except AttributeError:
            pass
    return names


def _namespace_name(namespace: Any, attribute_names: Dict[int, str]) -> Optional[str]:
    if namespace is torch.Tensor:
        return "Tensor"
    if inspect.ismodule(namespace):
        return namespace.__name__
    attr = attribute_names.get(id(namespace))  # a property or getset descriptor of Tensor
    return f"Tensor.{attr}" if attr else None


_ROUTED: Dict[str, Callable] = {}  # every name torch routes (and those listed above), reviewed or not
_BY_FUNC: Dict[Any, str] = {}  # allowed callables -> wire name (the calling side)
_BY_NAME: Dict[str, Callable] = {}  # allowed wire name -> torch's callable
_CHECKED: Dict[str, Callable] = {}  # allowed wire name -> the callable a worker runs


def routed_names() -> Dict[str, Callable]:
    """Every name torch routes through __torch_function__ (private ones too), with the names
    listed by hand above: what allowlist.py must review."""
    if not _ROUTED:
        _build()
    return _ROUTED


def _build() -> None:
    attribute_names = _tensor_attribute_names()
    routed: Dict[str, Callable] = {}
    for namespace, funcs in get_overridable_functions().items():
        prefix = _namespace_name(namespace, attribute_names)
        if prefix is None:
            continue
        for func in funcs:
            routed.setdefault(f"{prefix}.{getattr(func, '__name__', '')}", func)
    for name in _UNLISTED_METHODS:
        routed[f"Tensor.{name}"] = getattr(torch.Tensor, name)
    routed.update(_UNLISTED_FUNCTIONS)
    for name in _FACTORIES:  # named both ways: plans record them as steps
        routed[f"torch.{name}"] = getattr(torch, name)
    for attr in _SETTERS:
        routed[f"Tensor.{attr}.__set__"] = getattr(torch.Tensor, attr).__set__
    by_name = {name: func for name, func in routed.items() if name in allowlist.ALLOWED}
    by_func = {func: name for name, func in by_name.items()}
    # Some methods reach __torch_function__ as torch.Tensor's own attribute (x.pow(2)), an
    # object other than the one torch lists (TensorBase.pow): both map to the same name.
    for name in by_name:
        prefix, _, attr = name.partition(".")
        if prefix == "Tensor" and "." not in attr:
            method = getattr(torch.Tensor, attr, None)
            if method is not None and method not in by_func:
                by_func[method] = name
    checked = {name: _checked(name, func, allowlist.RULES[name]) for name, func in by_name.items()}
    _ROUTED.update(routed)
    _BY_NAME.update(by_name)
    _CHECKED.update(checked)
    _BY_FUNC.update(by_func)  # last: the calling side's "built" flag


def names_by_function() -> Dict[Any, str]:
    """The caller's lookup table, function -> wire name (built on first use)."""
    if not _BY_FUNC:
        _build()
    return _BY_FUNC


def op_name(func: Any) -> str:
    """Caller side: the wire name of a torch callable, or OperationNotAllowedError."""
    if not _BY_FUNC:
        _build()
    try:
        return _BY_FUNC[func]
    except (KeyError, TypeError):
        label = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
        label = _short(label) if type(label) is str else short_repr(func)
        raise OperationNotAllowedError(
            f"{label} cannot run on a remote tensor: it is not on jupyter_syft's allow-list "
            "of torch operations. Call .get() to bring the tensor home first."
        ) from None


def resolve(name: Any) -> Callable:
    """Worker side: the checked callable for a wire name, or OperationNotAllowedError."""
    if not _BY_FUNC:
        _build()
    func = _CHECKED.get(name) if type(name) is str else None
    if func is None:
        raise OperationNotAllowedError(
            f"operation {short_repr(name)} is not on this worker's allow-list of torch operations")
    return func


def _short(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


_PLAIN = (int, float, bool, type(None))


def short_repr(value: Any, depth: int = 0) -> str:
    """A bounded description of a value from a message, for an error reply: short strings and
    numbers as Python shows them, anything else by its type (a reply never echoes a tensor, or a
    list of 20,000 of them, which took 16 s to print)."""
    kind = type(value)
    if kind is str or kind is bytes:
        return repr(value[:97]) + "..." if len(value) > 100 else repr(value)
    if kind in _PLAIN:
        return _short(repr(value))
    if kind in _SEQUENCES and len(value) <= 4 and depth < 2:
        items = ", ".join(short_repr(v, depth + 1) for v in value)
        return f"[{items}]" if kind is list else f"({items}{',' if len(value) == 1 else ''})"
    if kind in _SEQUENCES or kind is dict:
        return f"a {kind.__name__} of {len(value)} items"
    return f"a {kind.__name__}"


# --- whose request is being served --------------------------------------------------------------
class _Defaults:
    """The limits outside any worker's request (a plan run in the notebook, say)."""

    MAX_TENSOR_NUMEL = MAX_TENSOR_NUMEL
    MAX_RESULT_TENSORS = MAX_RESULT_TENSORS
    MAX_OP_WORK = MAX_OP_WORK
    _rng = None


class _Serving(threading.local):
    worker: Any = _Defaults


_serving = _Serving()


def serving(worker: Any) -> Any:
    """Make ``worker``'s limits and generator those of this thread's operations; returns what
    was in force before, for ``done_serving``. Requests nest (a worker's handler may call
    another worker in this process), so each one restores its caller's."""
    previous = _serving.worker
    _serving.worker = worker
    return previous


def done_serving(previous: Any) -> None:
    _serving.worker = previous


class GeneratorState:
    """A worker's own random stream: the state torch's CPU generator is set to while that
    worker's random operations run (one lock for all: the generator is global)."""

    __slots__ = ("state",)

    def __init__(self, seed: int) -> None:
        generator = torch.Generator()
        generator.manual_seed(seed)
        self.state = generator.get_state()


_RNG_LOCK = threading.Lock()


def _run_random(func: Callable, args: tuple, kwargs: dict, worker: Any) -> Any:
    rng = worker._rng
    if rng is None:
        return func(*args, **kwargs)
    generator = torch.default_generator
    with _RNG_LOCK:
        saved = generator.get_state()
        generator.set_state(rng.state)
        try:
            return func(*args, **kwargs)
        finally:
            rng.state = generator.get_state()
            generator.set_state(saved)


# --- refusals ----------------------------------------------------------------------------------
def _too_many_elements(name: str, count: Any, worker: Any, what: str) -> ResourceLimitError:
    shown = f"{int(count):,}" if type(count) is int or math.isfinite(count) else "too many"
    return ResourceLimitError(
        f"{name}: {what} {shown} elements; this worker allows at most "
        f"{worker.MAX_TENSOR_NUMEL:,} in a tensor (MAX_TENSOR_NUMEL)")


def _limit(name: str, count: Any, worker: Any, what: str = "the result would hold") -> None:
    if not count <= worker.MAX_TENSOR_NUMEL:  # also refuses a NaN count
        raise _too_many_elements(name, count, worker, what)


def _check_work(name: str, steps: int, worker: Any) -> None:
    """A kernel size is a loop count: max_pool1d of a million values with a kernel of half a
    million takes 2.5e11 steps (and a 10**8-element input, days)."""
    if steps > worker.MAX_OP_WORK:
        raise ResourceLimitError(
            f"{name}: it would take {steps:,} steps (output elements x kernel elements); this worker "
            f"allows at most {worker.MAX_OP_WORK:,} in one operation (MAX_OP_WORK)")


def _check_count(name: str, count: int, worker: Any) -> None:
    if count > worker.MAX_RESULT_TENSORS:
        raise ResourceLimitError(
            f"{name}: the result would be {count:,} tensors; this worker returns at most "
            f"{worker.MAX_RESULT_TENSORS:,} from one operation (MAX_RESULT_TENSORS)")


def _check_inputs(values: Any, name: str, worker: Any, depth: int = 0) -> None:
    """Every tensor among the arguments (in lists too) within the element limit."""
    for value in values:
        if isinstance(value, _Tensor):
            count = value.numel()
            if count > worker.MAX_TENSOR_NUMEL:
                raise _too_many_elements(name, count, worker, "an argument holds")
        elif type(value) in _SEQUENCES and depth < 64:
            _check_inputs(value, name, worker, depth + 1)


def _check_result(result: Any, name: str, worker: Any) -> None:
    """After running: no tensor of the result over the element limit, and not too many."""
    if isinstance(result, _Tensor):
        count = result.numel()
        if count > worker.MAX_TENSOR_NUMEL:
            raise _too_many_elements(name, count, worker, "the result holds")
    elif isinstance(result, _SEQUENCES) and not isinstance(result, torch.Size):
        _check_count(name, len(result), worker)
        for item in result:
            if isinstance(item, _Tensor) or (isinstance(item, _SEQUENCES) and not isinstance(item, torch.Size)):
                _check_result(item, name, worker)


def _broadcast_numel(shapes) -> int:
    """Elements in the broadcast of these shapes, taking the larger size where two differ (an
    upper bound also for shapes torch would refuse to broadcast)."""
    ndim = max(len(s) for s in shapes)
    total = 1
    for i in range(1, ndim + 1):
        total *= max(s[-i] if len(s) >= i else 1 for s in shapes)
    return total


def _is_local(t: Any) -> bool:
    """A tensor with data here (not a pointer held by a worker in a chain: the worker it points
    to checks its own calls)."""
    return type(t) is _Tensor or (isinstance(t, _Tensor) and not hasattr(t, "_id_at_location"))


# --- the checked callables ---------------------------------------------------------------------
def _checked(name: str, func: Callable, rule: str) -> Callable:
    random = name in allowlist.RANDOM
    precheck = _FORMULAS.get(name)
    if precheck is None and rule == allowlist.META:
        precheck = _meta_check
    if rule == allowlist.BROADCAST and precheck is None and not random:
        return _broadcast_checked(name, func)

    broadcast = rule == allowlist.BROADCAST

    def run(*args, **kwargs):
        worker = _serving.worker
        cap = worker.MAX_TENSOR_NUMEL
        for value in args:  # _check_inputs, inlined for the top level
            if isinstance(value, _Tensor):
                if value.numel() > cap:
                    raise _too_many_elements(name, value.numel(), worker, "an argument holds")
            elif type(value) in _SEQUENCES:
                _check_inputs(value, name, worker)
        if kwargs:
            _check_inputs(kwargs.values(), name, worker)
        if broadcast:
            _broadcast_check(name, args, kwargs, worker)
        if precheck is not None:
            precheck(name, func, args, kwargs, worker)
        result = _run_random(func, args, kwargs, worker) if random else func(*args, **kwargs)
        if type(result) is _Tensor:
            if result.numel() > cap:
                raise _too_many_elements(name, result.numel(), worker, "the result holds")
        elif result is not None:
            _check_result(result, name, worker)
        return result

    run.__name__ = run.__qualname__ = name
    run.__wrapped__ = func
    return run


def _broadcast_check(name: str, args: tuple, kwargs: dict, worker: Any) -> None:
    shapes = [v.shape for v in (*args, *kwargs.values()) if isinstance(v, _Tensor)]
    if len(shapes) > 1:
        _limit(name, _broadcast_numel(shapes), worker)


def _broadcast_checked(name: str, func: Callable) -> Callable:
    """The common case (x + y). The broadcast of some shapes has at most the product of their
    element counts, so when that product is within the limit (small tensors) no shape is read."""

    def run(*args, **kwargs):
        worker = _serving.worker
        cap = worker.MAX_TENSOR_NUMEL
        bound = 1
        for value in (args if not kwargs else (*args, *kwargs.values())):
            if isinstance(value, _Tensor):
                count = value.numel()
                if count > cap:
                    raise _too_many_elements(name, count, worker, "an argument holds")
                bound *= count
            elif type(value) in _SEQUENCES:
                _check_inputs(value, name, worker)
        if bound > cap:
            _broadcast_check(name, args, kwargs, worker)
        result = func(*args, **kwargs)
        if type(result) is _Tensor:
            count = result.numel()
            if count > cap:
                raise _too_many_elements(name, count, worker, "the result holds")
        else:
            _check_result(result, name, worker)
        return result

    run.__name__ = run.__qualname__ = name
    run.__wrapped__ = func
    return run


# --- size rules computed before running (allowlist.FORMULA) -----------------------------------
def _arg(args: tuple, kwargs: dict, index: int, key: str, default: Any = None) -> Any:
    return args[index] if len(args) > index else kwargs.get(key, default)


def _ints(value: Any, n: int) -> Optional[list]:
    """An int or a sequence of n ints as a list of n ints; None if it is neither."""
    if type(value) is int:
        return [value] * n
    if type(value) in _SEQUENCES and len(value) == n and all(type(v) is int for v in value):
        return list(value)
    if type(value) in _SEQUENCES and len(value) == 1 and type(value[0]) is int:
        return [value[0]] * n
    return None


def _linear(name, func, args, kwargs, worker) -> None:
    """F.linear(x, weight): x's rows times weight's outputs."""
    x, weight = _arg(args, kwargs, 0, "input"), _arg(args, kwargs, 1, "weight")
    if isinstance(x, _Tensor) and isinstance(weight, _Tensor) and x.dim() and weight.dim() == 2:
        rows = x.numel() // x.shape[-1] if x.shape[-1] else math.prod(x.shape[:-1])
        if rows * weight.shape[0] > worker.MAX_TENSOR_NUMEL:
            _limit(name, rows * weight.shape[0], worker)


def _conv(name, func, args, kwargs, worker) -> None:
    """Result N x C_out x out_1 x ... and the unfolded-input buffer that torch's portable
    convolution makes (C_in x kernel x out per sample; double and integer dtypes use it)."""
    x, weight = _arg(args, kwargs, 0, "input"), _arg(args, kwargs, 1, "weight")
    if not (_is_local(x) and _is_local(weight)) or weight.dim() < 3:
        return
    k = weight.dim() - 2
    if x.dim() < k + 1:
        return  # torch refuses it
    stride = _ints(_arg(args, kwargs, 3, "stride", 1), k)
    padding = _arg(args, kwargs, 4, "padding", 0)
    dilation = _ints(_arg(args, kwargs, 5, "dilation", 1), k)
    spatial, kernel = x.shape[-k:], weight.shape[2:]
    if type(padding) is str and padding == "same":
        out = list(spatial)
    else:
        pads = [0] * k if type(padding) is str and padding == "valid" else _ints(padding, k)
        if pads is None or stride is None or dilation is None or min(stride) < 1 or min(pads) < 0:
            return  # torch refuses it before allocating
        out = [max((s + 2 * p - d * (kk - 1) - 1) // st + 1, 0)
               for s, p, d, kk, st in zip(spatial, pads, dilation, kernel, stride)]
    batch = math.prod(x.shape[:-k - 1])
    result = batch * weight.shape[0] * math.prod(out)
    _limit(name, result, worker)
    _limit(name, x.shape[-k - 1] * math.prod(kernel) * math.prod(out), worker,
           "its working buffer (input channels x kernel x output positions) would hold")
    _check_work(name, result * weight.shape[1] * math.prod(kernel), worker)


def _conv_transpose(name, func, args, kwargs, worker) -> None:
    _meta_check(name, func, args, kwargs, worker)
    x, weight = _arg(args, kwargs, 0, "input"), _arg(args, kwargs, 1, "weight")
    if _is_local(x) and _is_local(weight) and weight.dim() >= 3 and x.dim() >= weight.dim() - 1:
        k = weight.dim() - 2
        _limit(name, weight.shape[1] * math.prod(weight.shape[2:]) * math.prod(x.shape[-k:]), worker,
               "its working buffer (output channels x kernel x input positions) would hold")
        _check_work(name, x.numel() * weight.shape[1] * math.prod(weight.shape[2:]), worker)


def _pool(k: int, kernel_at: int) -> Callable:
    """Max, average and power pooling: torch keeps padding at most half the kernel, so each
    pooled dimension of size s gives at most s + 1 positions; each reads a kernel's worth."""

    def check(name, func, args, kwargs, worker) -> None:
        x = _arg(args, kwargs, 0, "input")
        if _is_local(x) and x.dim() >= k:
            out = math.prod(x.shape[:-k]) * math.prod(s + 1 for s in x.shape[-k:])
            _limit(name, out, worker)
            kernel = _ints(_arg(args, kwargs, kernel_at, "kernel_size"), k)
            if kernel is not None:
                _check_work(name, out * math.prod(max(v, 1) for v in kernel), worker)

    return check


def _cat(name, func, args, kwargs, worker) -> None:
    tensors = _arg(args, kwargs, 0, "tensors")
    if type(tensors) in _SEQUENCES:
        _limit(name, sum(t.numel() for t in tensors if isinstance(t, _Tensor)), worker)


_BASIC_INDEX = (int, slice, type(None), type(Ellipsis), bool)


def _index_bound(x: _Tensor, index: Any) -> Optional[int]:
    """At most how many elements x[index] has; None if the index has a form not worked out here."""
    items = index if type(index) is tuple else (index,)
    consumed = 0
    for item in items:
        if item is None or item is Ellipsis or type(item) is bool:
            continue
        consumed += item.dim() if isinstance(item, _Tensor) and item.dtype in (torch.bool, torch.uint8) else 1
    dim, rest, advanced = 0, 1, []
    for item in items:
        kind = type(item)
        if item is None or kind is bool:
            continue
        if item is Ellipsis:
            span = max(x.dim() - consumed, 0)
            rest *= math.prod(x.shape[dim:dim + span])
            dim += span
        elif kind is int:
            dim += 1
        elif kind is slice:
            rest *= x.shape[dim] if dim < x.dim() else 1
            dim += 1
        elif isinstance(item, _Tensor):
            if item.dtype in (torch.bool, torch.uint8):  # a mask picks at most its own size
                advanced.append((item.numel(),))
                dim += item.dim()
            else:
                advanced.append(tuple(item.shape))
                dim += 1
        elif kind in _SEQUENCES:
            count = _count_index_list(item)
            if count is None:
                return None
            advanced.append((count,))
            dim += 1
        else:  # not an index torch takes (a float, a string): torch refuses it before allocating
            dim += 1
    rest *= math.prod(x.shape[dim:])
    return (_broadcast_numel(advanced) if advanced else 1) * rest


def _count_index_list(values: Any, depth: int = 0) -> Optional[int]:
    """Elements of a nested list of ints or bools used as an index (an upper bound for both ways
    torch may read it); None if it holds anything else."""
    count = 0
    for v in values:
        if type(v) in (int, bool):
            count += 1
        elif type(v) in _SEQUENCES and depth < 32:
            inner = _count_index_list(v, depth + 1)
            if inner is None:
                return None
            count += inner
        else:
            return None
    return max(count, 1)


def _getitem(name, func, args, kwargs, worker) -> None:
    """x[index] (and x[index] = value, index_put): the indexed region's size, before any index
    list is built. Basic indexing (ints, slices, None, ...) makes a view and needs no check."""
    if len(args) < 2 or not _is_local(args[0]):
        return
    x, index = args[0], args[1]
    if type(index) in _BASIC_INDEX or (type(index) is tuple and all(type(i) in _BASIC_INDEX for i in index)):
        return
    bound = _index_bound(x, index)
    if bound is None:  # a list holding tensors or slices: torch may read it as several indices
        raise ResourceLimitError(f"{name}: an index list holding tensors or slices cannot be checked "
                                 "before running here; index with a tuple of them instead")
    _limit(name, bound, worker)


def _index_put(name, func, args, kwargs, worker) -> None:
    x, indices = _arg(args, kwargs, 0, "input"), _arg(args, kwargs, 1, "indices")
    if _is_local(x) and type(indices) in _SEQUENCES:
        _getitem(name, func, (x, tuple(indices)), {}, worker)


def _masked_scatter(name, func, args, kwargs, worker) -> None:
    x, mask = _arg(args, kwargs, 0, "input"), _arg(args, kwargs, 1, "mask")
    if isinstance(x, _Tensor) and isinstance(mask, _Tensor):
        _limit(name, _broadcast_numel([x.shape, mask.shape]), worker)


def _index_select(name, func, args, kwargs, worker) -> None:
    x, dim, index = _arg(args, kwargs, 0, "input"), _arg(args, kwargs, 1, "dim"), _arg(args, kwargs, 2, "index")
    if _is_local(x) and isinstance(index, _Tensor) and type(dim) is int and -x.dim() <= dim < max(x.dim(), 1):
        rest = math.prod(s for i, s in enumerate(x.shape) if i != dim % max(x.dim(), 1))
        _limit(name, rest * index.numel(), worker)


def _embedding(name, func, args, kwargs, worker) -> None:
    indices, weight = _arg(args, kwargs, 0, "input"), _arg(args, kwargs, 1, "weight")
    if isinstance(indices, _Tensor) and isinstance(weight, _Tensor):
        _limit(name, indices.numel() * (weight.shape[1] if weight.dim() == 2 else 1), worker)


def _nonzero(name, func, args, kwargs, worker) -> None:
    x = _arg(args, kwargs, 0, "input")
    if _is_local(x) and x.numel():
        _limit(name, int(torch.count_nonzero(x)) * max(x.dim(), 1), worker)


def _where(name, func, args, kwargs, worker) -> None:
    if len(args) + len(kwargs) == 1:  # torch.where(condition): the indices of non-zeros
        _nonzero(name, func, args, kwargs, worker)
    else:
        _broadcast_check(name, args, kwargs, worker)


def _is_integer(t: _Tensor) -> bool:
    return not (t.is_floating_point() or t.is_complex() or t.dtype is torch.bool)


def _bincount(name, func, args, kwargs, worker) -> None:
    """One count per value up to the largest: bincount(tensor([2**40])) would be 2**40 counts."""
    x, minlength = _arg(args, kwargs, 0, "input"), _arg(args, kwargs, 2, "minlength", 0)
    if type(minlength) is int:
        _limit(name, minlength, worker)
    if _is_local(x) and x.numel() and _is_integer(x):
        _limit(name, int(x.max()) + 1, worker)


def _one_hot(name, func, args, kwargs, worker) -> None:
    x, classes = _arg(args, kwargs, 0, "tensor"), _arg(args, kwargs, 1, "num_classes", -1)
    if not _is_local(x):
        return
    if classes == -1 and x.numel() and _is_integer(x):
        classes = int(x.max()) + 1
    if type(classes) is int and classes > 0:
        _limit(name, x.numel() * classes, worker)


def _repeat_interleave(name, func, args, kwargs, worker) -> None:
    x, repeats, dim = _arg(args, kwargs, 0, "input"), _arg(args, kwargs, 1, "repeats"), _arg(args, kwargs, 2, "dim")
    if not _is_local(x):
        return
    if repeats is None:  # torch.repeat_interleave(repeats): each index repeated that often
        if x.numel():
            _limit(name, float(x.double().sum()), worker)
        return
    if type(repeats) is int:
        _limit(name, x.numel() * repeats, worker)
    elif _is_local(repeats):
        if repeats.numel() == 1:
            _limit(name, x.numel() * float(repeats.double().sum()), worker)
        else:
            per_index = 1
            if type(dim) is int and x.dim() and -x.dim() <= dim < x.dim() and x.shape[dim]:
                per_index = x.numel() // x.shape[dim]
            _limit(name, per_index * float(repeats.double().sum()), worker)


def _interpolate(name, func, args, kwargs, worker) -> None:
    x = _arg(args, kwargs, 0, "input")
    if not _is_local(x) or x.dim() < 3:
        return
    k = x.dim() - 2
    size, scale = _arg(args, kwargs, 1, "size"), _arg(args, kwargs, 2, "scale_factor")
    if size is not None:
        sizes = _ints(size, k)
    elif type(scale) in (int, float) or type(scale) in _SEQUENCES:
        scales = [scale] * k if type(scale) in (int, float) else list(scale)
        if len(scales) != k or not all(type(f) in (int, float) and math.isfinite(f) for f in scales):
            return  # torch refuses it
        sizes = [math.floor(s * f) for s, f in zip(x.shape[2:], scales)]
    else:
        return
    if sizes is None:
        return _meta_check(name, func, args, kwargs, worker)
    _limit(name, x.shape[0] * x.shape[1] * math.prod(max(s, 0) for s in sizes), worker)


def _quantile(name, func, args, kwargs, worker) -> None:
    x, q, dim = _arg(args, kwargs, 0, "input"), _arg(args, kwargs, 1, "q"), _arg(args, kwargs, 2, "dim")
    if not _is_local(x):
        return
    count = q.numel() if isinstance(q, _Tensor) else 1
    if type(dim) is int and x.dim() and -x.dim() <= dim < x.dim():
        count *= x.numel() // x.shape[dim] if x.shape[dim] else 0
    _limit(name, count, worker)


def _sizes_from(args: tuple, kwargs: dict, key: str) -> Optional[list]:
    """x.repeat(2, 3), x.repeat((2, 3)), x.repeat(repeats=(2, 3)): the sizes as a list of ints."""
    sizes = args[1:] if len(args) > 1 else kwargs.get(key)
    if len(sizes or ()) == 1 and type(sizes[0]) in (*_SEQUENCES, torch.Size):
        sizes = sizes[0]
    if type(sizes) in (*_SEQUENCES, torch.Size) and all(type(v) is int for v in sizes):
        return list(sizes)
    return None


def _repeat(name, func, args, kwargs, worker) -> None:
    """repeat and tile: the tensor's elements times the product of the repetitions."""
    x = _arg(args, kwargs, 0, "input")
    sizes = _sizes_from(args, kwargs, "repeats" if name.endswith("repeat") else "dims")
    if not _is_local(x):
        return
    if sizes is None:
        return _meta_check(name, func, args, kwargs, worker)
    _limit(name, x.numel() * math.prod(max(v, 0) for v in sizes), worker)


def _pad(name, func, args, kwargs, worker) -> None:
    """F.pad: each padded dimension grows by its two pads (negative pads crop)."""
    x, pad = _arg(args, kwargs, 0, "input"), _arg(args, kwargs, 1, "pad")
    if not _is_local(x):
        return
    if (type(pad) not in _SEQUENCES or len(pad) % 2 or len(pad) // 2 > x.dim()
            or not all(type(p) is int for p in pad)):
        return _meta_check(name, func, args, kwargs, worker)
    shape = list(x.shape)
    for i in range(len(pad) // 2):
        shape[-1 - i] += pad[2 * i] + pad[2 * i + 1]
    _limit(name, math.prod(max(s, 0) for s in shape), worker)


def _cov(name, func, args, kwargs, worker) -> None:
    """cov and corrcoef of (variables, observations): a variables x variables matrix (from
    (n, 1) data that is n squared)."""
    x = _arg(args, kwargs, 0, "input")
    if _is_local(x):
        _limit(name, x.shape[0] ** 2 if x.dim() == 2 else 1, worker)


def _histogram(name, func, args, kwargs, worker) -> None:
    bins = _arg(args, kwargs, 1, "bins", 100)
    if type(bins) is int:
        _limit(name, bins + 1, worker)


def _dense_block(t: _Tensor) -> bool:
    """Whether t's elements fill one block of memory, each once (a contiguous tensor, or a
    permutation of one's dimensions)."""
    expected = 1
    for size, stride in sorted(((s, st) for s, st in zip(t.shape, t.stride()) if s != 1), key=lambda p: p[1]):
        if stride != expected:
            return False
        expected *= size
    return True


def _as_strided(name, func, args, kwargs, worker) -> None:
    """A view of the tensor's own elements only: checked against the view, not the storage it
    shares (x[2:3].as_strided((6,), (1,), 0) would read all of x's base)."""
    x = _arg(args, kwargs, 0, "input")
    size, stride = _arg(args, kwargs, 1, "size"), _arg(args, kwargs, 2, "stride")
    offset = _arg(args, kwargs, 3, "storage_offset")
    if not _is_local(x):
        return
    if (type(size) not in (*_SEQUENCES, torch.Size) or type(stride) not in (*_SEQUENCES, torch.Size)
            or len(size) != len(stride) or not all(type(v) is int and v >= 0 for v in (*size, *stride))
            or (offset is not None and type(offset) is not int)):
        raise ValueError(f"{name} needs a size and a stride of as many non-negative ints, and an int offset")
    count = math.prod(size)
    _limit(name, count, worker)
    if count == 0:
        return
    start = x.storage_offset() if offset is None else offset
    last = start + sum((s - 1) * st for s, st in zip(size, stride))
    first_own, last_own = x.storage_offset(), x.storage_offset() + x.numel() - 1
    if not _dense_block(x):
        raise ValueError(f"{name} works here on tensors whose elements are contiguous in memory; "
                         "call .contiguous() first")
    if start < first_own or last > last_own:
        raise IndexError(f"{name} would reach memory outside the tensor's own {x.numel()} elements "
                         f"(positions {start - first_own} to {last - first_own} of 0 to {x.numel() - 1})")


def _parts(name, func, args, kwargs, worker) -> None:
    """How many tensors a split makes, before it makes them."""
    x = args[0] if args else kwargs.get("input", kwargs.get("tensor"))
    if not _is_local(x):
        return
    op = name.rsplit(".", 1)[1]
    count = None
    if op == "unbind":
        dim = _arg(args, kwargs, 1, "dim", 0)
        if type(dim) is int and -x.dim() <= dim < x.dim():
            count = x.shape[dim]
    elif op == "chunk":  # at most one chunk per index along dim
        chunks, dim = _arg(args, kwargs, 1, "chunks"), _arg(args, kwargs, 2, "dim", 0)
        if type(chunks) is int and type(dim) is int and -x.dim() <= dim < x.dim():
            count = min(chunks, max(x.shape[dim], 1))
    elif op in ("split", "split_with_sizes"):
        sizes = _arg(args, kwargs, 1, "split_size_or_sections",
                     kwargs.get("split_size", kwargs.get("split_sizes")))
        dim = _arg(args, kwargs, 2, "dim", 0)
        if type(sizes) is int and sizes > 0 and type(dim) is int and -x.dim() <= dim < x.dim():
            count = -(-x.shape[dim] // sizes)
        elif type(sizes) in _SEQUENCES:
            count = len(sizes)
    else:  # tensor_split, hsplit, vsplit, dsplit
        sections = _arg(args, kwargs, 1, "indices_or_sections",
                        kwargs.get("sections", kwargs.get("indices", kwargs.get("tensor_indices_or_sections"))))
        if type(sections) is int:
            count = sections
        elif type(sections) in _SEQUENCES:
            count = len(sections) + 1
        elif isinstance(sections, _Tensor):
            count = int(sections) if sections.dim() == 0 and _is_integer(sections) else sections.numel() + 1
    if type(count) is int:
        _check_count(name, count, worker)


# --- size from a run on meta tensors (allowlist.META) ------------------------------------------
def _to_meta(value: Any, depth: int = 0) -> Any:
    if isinstance(value, _Tensor):
        return torch.empty_strided(value.shape, value.stride(), dtype=value.dtype, device="meta")
    if type(value) in _SEQUENCES and depth < 64:
        return type(value)(_to_meta(v, depth + 1) for v in value)
    return value


def _has_pointer(values: Any, depth: int = 0) -> bool:
    for value in values:
        if isinstance(value, _Tensor) and hasattr(value, "_id_at_location"):
            return True
        if type(value) in _SEQUENCES and depth < 64 and _has_pointer(value, depth + 1):
            return True
    return False


_FACTORY_NAMES = frozenset(allowlist.FACTORIES)


def _meta_check(name, func, args, kwargs, worker) -> None:
    """Run the operation on meta tensors (shapes without data; nothing is allocated) and check
    the shapes it gives. Argument errors come out as the real call would raise them."""
    if _has_pointer(args) or _has_pointer(kwargs.values()):
        return  # a chain: the worker the pointers lead to checks its own call
    meta_args = _to_meta(args)
    meta_kwargs = {key: _to_meta(value) for key, value in kwargs.items()}
    if name in _FACTORY_NAMES:
        meta_kwargs["device"] = "meta"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shapes = func(*meta_args, **meta_kwargs)
    except NotImplementedError:
        raise ResourceLimitError(f"{name}: the size of its result cannot be checked before running it "
                                 "with these arguments, so this worker does not run it") from None
    except RuntimeError as e:
        if "meta" in str(e).lower():
            raise ResourceLimitError(f"{name}: the size of its result cannot be checked before running "
                                     "it with these arguments, so this worker does not run it") from None
        raise
    _check_meta_result(shapes, name, worker)


def _check_meta_result(result: Any, name: str, worker: Any) -> None:
    if isinstance(result, _Tensor):
        _limit(name, result.numel(), worker)
    elif isinstance(result, _SEQUENCES) and not isinstance(result, torch.Size):
        _check_count(name, len(result), worker)
        for item in result:
            _check_meta_result(item, name, worker)


_FORMULAS: Dict[str, Callable] = {}
for _name in ("torch.nn.functional.linear",):
    _FORMULAS[_name] = _linear
for _name in ("torch.conv1d", "torch.conv2d", "torch.conv3d", "torch.nn.functional.conv1d",
              "torch.nn.functional.conv2d", "torch.nn.functional.conv3d"):
    _FORMULAS[_name] = _conv
for _name in ("torch.conv_transpose1d", "torch.conv_transpose2d", "torch.conv_transpose3d",
              "torch.nn.functional.conv_transpose1d", "torch.nn.functional.conv_transpose2d",
              "torch.nn.functional.conv_transpose3d"):
    _FORMULAS[_name] = _conv_transpose
for _name in allowlist.SIZED:
    _short_name = _name.rsplit(".", 1)[1]
    if "pool" in _short_name:  # lp_pool takes its norm first, then the kernel size
        _FORMULAS[_name] = _pool(int(_short_name.split("pool", 1)[1][0]), 2 if _short_name.startswith("lp_") else 1)
for _name in ("torch.cat", "torch.concat", "torch.concatenate", "torch.stack", "torch.hstack", "torch.vstack",
              "torch.dstack", "torch.column_stack", "torch.row_stack"):
    _FORMULAS[_name] = _cat
_FORMULAS.update({
    "Tensor.__getitem__": _getitem, "Tensor.__setitem__": _getitem,
    "Tensor.index_put": _index_put, "Tensor.index_put_": _index_put, "torch.index_put": _index_put,
    "Tensor.masked_scatter": _masked_scatter, "torch.masked_scatter": _masked_scatter,
    "Tensor.index_select": _index_select, "torch.index_select": _index_select,
    "torch.nn.functional.embedding": _embedding,
    "Tensor.nonzero": _nonzero, "torch.nonzero": _nonzero, "Tensor.argwhere": _nonzero, "torch.argwhere": _nonzero,
    "Tensor.where": _where, "torch.where": _where,
    "Tensor.bincount": _bincount, "torch.bincount": _bincount,
    "torch.nn.functional.one_hot": _one_hot,
    "Tensor.repeat_interleave": _repeat_interleave, "torch.repeat_interleave": _repeat_interleave,
    "torch.nn.functional.interpolate": _interpolate,
    "Tensor.quantile": _quantile, "torch.quantile": _quantile, "Tensor.nanquantile": _quantile,
    "torch.nanquantile": _quantile,
    "Tensor.as_strided": _as_strided, "torch.as_strided": _as_strided,
    "Tensor.cov": _cov, "torch.cov": _cov, "Tensor.corrcoef": _cov, "torch.corrcoef": _cov,
    "Tensor.histogram": _histogram, "torch.histogram": _histogram,
    "Tensor.repeat": _repeat, "Tensor.tile": _repeat, "torch.tile": _repeat,
    "torch.nn.functional.pad": _pad,
})
for _name in allowlist.PARTS:
    _FORMULAS[_name] = _parts
