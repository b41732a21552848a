"""The operation allow-list: which torch calls a worker runs, and their names on the wire.

Names are built from ``torch.overrides.get_overridable_functions()``, the functions torch routes
through ``__torch_function__``: ``torch.add``, ``Tensor.add``, ``Tensor.__add__``,
``torch.nn.functional.relu``, ``Tensor.grad.__get__``. A worker resolves a name only through this
table, so no other Python object can be reached from a message.
"""
import inspect
from typing import Any, Callable, Dict, Optional

import torch
from torch.overrides import get_overridable_functions

from .exceptions import OperationNotAllowedError

# Dunders that are ordinary tensor maths; every other underscore name stays out.
_ALLOWED_DUNDERS = {
    "__add__", "__radd__", "__iadd__", "__sub__", "__rsub__", "__isub__", "__mul__", "__rmul__",
    "__imul__", "__truediv__", "__rtruediv__", "__itruediv__", "__div__", "__rdiv__", "__idiv__",
    "__floordiv__", "__rfloordiv__", "__ifloordiv__", "__mod__", "__rmod__", "__imod__",
    "__pow__", "__rpow__", "__ipow__", "__matmul__", "__rmatmul__", "__neg__", "__pos__",
    "__abs__", "__invert__", "__and__", "__rand__", "__iand__", "__or__", "__ror__", "__ior__",
    "__xor__", "__rxor__", "__ixor__", "__lshift__", "__rlshift__", "__ilshift__", "__rshift__",
    "__rrshift__", "__irshift__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__",
    "__getitem__", "__setitem__", "__get__", "__set__", "__reversed__",
}

# Public names that would hand out memory, storage, Python values or run callables; that return
# uninitialised memory; or that change a tensor's shape in place (a pointer's shape is fixed).
_DENIED = {
    "Tensor.storage", "Tensor.untyped_storage", "Tensor.data_ptr", "Tensor.const_data_ptr",
    "Tensor.numpy", "Tensor.tolist", "Tensor.item", "Tensor.share_memory_", "Tensor.pin_memory",
    "Tensor.apply_", "Tensor.map_", "Tensor.map2_", "Tensor.register_hook",
    "Tensor.register_post_accumulate_grad_hook", "Tensor.set_", "Tensor.record_stream",
    "Tensor.module_load", "Tensor.cuda", "Tensor.ipu", "Tensor.xpu", "Tensor.mps",
    "Tensor.is_shared", "Tensor.storage_type", "Tensor.storage_offset",
    "torch.empty_like", "Tensor.resize", "Tensor.resize_", "Tensor.resize_as", "Tensor.resize_as_",
    "Tensor.resize_as_sparse_", "Tensor.sparse_resize_", "Tensor.sparse_resize_and_clear_",
    "Tensor.as_strided_", "Tensor.squeeze_", "Tensor.unsqueeze_", "Tensor.t_", "Tensor.transpose_",
    "Tensor.swapaxes_", "Tensor.swapdims_",
}

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


def _allowed(name: str) -> bool:
    if name in _DENIED:
        return False
    return all(not part.startswith("_") or part in _ALLOWED_DUNDERS for part in name.split("."))


_BY_FUNC: Dict[Any, str] = {}
_BY_NAME: Dict[str, Callable] = {}


def _build() -> None:
    attribute_names = _tensor_attribute_names()
    for namespace, funcs in get_overridable_functions().items():
        prefix = _namespace_name(namespace, attribute_names)
        if prefix is None:
            continue
        for func in funcs:
            name = f"{prefix}.{getattr(func, '__name__', '')}"
            if _allowed(name) and name not in _BY_NAME:
                _BY_NAME[name] = func
                _BY_FUNC[func] = name
    # Some methods reach __torch_function__ as torch.Tensor's own attribute (x.pow(2)), an
    # object other than the one torch lists (TensorBase.pow): both map to the same name.
    for name in list(_BY_NAME):
        prefix, _, attr = name.partition(".")
        if prefix == "Tensor" and "." not in attr:
            method = getattr(torch.Tensor, attr, None)
            if method is not None and method not in _BY_FUNC:
                _BY_FUNC[method] = name
    for name in _UNLISTED_METHODS:
        method = getattr(torch.Tensor, name)
        _BY_NAME[f"Tensor.{name}"] = method
        _BY_FUNC[method] = f"Tensor.{name}"
    for name, func in _UNLISTED_FUNCTIONS.items():
        _BY_NAME[name] = func
        _BY_FUNC[func] = name
    for name in _FACTORIES:  # named both ways: plans record them as steps
        _BY_NAME[f"torch.{name}"] = getattr(torch, name)
        _BY_FUNC[getattr(torch, name)] = f"torch.{name}"
    for attr in _SETTERS:
        setter = getattr(torch.Tensor, attr).__set__
        _BY_NAME[f"Tensor.{attr}.__set__"] = setter
        _BY_FUNC[setter] = f"Tensor.{attr}.__set__"


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
        label = getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))
        raise OperationNotAllowedError(
            f"{label} cannot run on a remote tensor: it is not on jupyter_syft's allow-list "
            "of torch operations. Call .get() to bring the tensor home first."
        ) from None


def resolve(name: Any) -> Callable:
    """Worker side: the torch callable for a wire name, or OperationNotAllowedError."""
    if not _BY_NAME:
        _build()
    func = _BY_NAME.get(name) if isinstance(name, str) else None
    if func is None:
        raise OperationNotAllowedError(
            f"operation {name!r} is not on this worker's allow-list of torch operations"
        )
    return func
