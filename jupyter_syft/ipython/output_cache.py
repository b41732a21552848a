"""Displayed pointers must not be kept alive by IPython's output cache.

IPython keeps every displayed result in ``Out``, ``_N``, ``_``/``__``/``___`` and the execution
result, so ``del x_ptr`` after showing ``x_ptr`` would never free bob's tensor (PySyft never
solved this). We hand the cache a ``CachedPointer`` instead: it prints and works like the pointer
while the pointer lives, but holds it only weakly. Other values are cached as usual.
"""
import weakref
from typing import Any

from ..exceptions import PointerFetchedError
from ..pointers import PointerTensor


class CachedPointer:
    """What ``Out[N]`` and ``_`` hold for a displayed pointer: a weak reference that still prints
    and forwards attribute access, operators and torch calls to the live pointer."""

    __slots__ = ("_ref", "_text", "__weakref__")

    def __init__(self, ptr: PointerTensor) -> None:
        self._ref = weakref.ref(ptr)
        self._text = repr(ptr)

    def pointer(self) -> PointerTensor:
        ptr = self._ref()
        if ptr is None:
            error = PointerFetchedError(
                f"the pointer shown here ({self._text}) was deleted, and its remote tensor with it")
            error.__suppress_context__ = True
            raise error
        return ptr

    def __repr__(self) -> str:
        ptr = self._ref()
        return repr(ptr) if ptr is not None else f"{self._text} (deleted)"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pointer(), name)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return func(*_unwrap(args), **_unwrap(kwargs or {}))


def _unwrap(value: Any) -> Any:
    if isinstance(value, CachedPointer):
        return value.pointer()
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _forward(name: str):
    def method(self, *args):
        return getattr(self.pointer(), name)(*_unwrap(args))
    method.__name__ = name
    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__matmul__",
              "__rmatmul__", "__pow__", "__rpow__", "__and__", "__rand__", "__or__", "__ror__",
              "__xor__", "__rxor__", "__neg__", "__abs__", "__invert__", "__getitem__",
              "__setitem__", "__len__", "__iter__", "__bool__", "__eq__", "__ne__", "__lt__",
              "__le__", "__gt__", "__ge__"):
    setattr(CachedPointer, _name, _forward(_name))
CachedPointer.__hash__ = object.__hash__


_MAX_DEPTH = 8


def _holds_pointer(value: Any, depth: int = 0) -> bool:
    if type(value) is PointerTensor:
        return True
    if depth >= _MAX_DEPTH:
        return False
    if isinstance(value, (tuple, list, set, frozenset)):
        return any(_holds_pointer(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(_holds_pointer(v, depth + 1) for v in value.values())
    return False


def _weakened(value: Any, depth: int) -> Any:
    if type(value) is PointerTensor:
        return CachedPointer(value)
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {k: _weakened(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (tuple, list, set, frozenset)):
        items = [_weakened(v, depth + 1) for v in value]
        if isinstance(value, (list, set, frozenset)):
            return type(value)(items) if type(value) in (list, set, frozenset) else items
        if type(value).__module__ == "torch.return_types":  # torch.max(...) and friends
            return type(value)(items)
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    return value


def weaken(result: Any) -> Any:
    """The value to cache for a displayed result: pointers, also inside containers, weakly.
    A container that holds a pointer is cached as a copy that holds it weakly."""
    return _weakened(result, 0) if _holds_pointer(result) else result


class OutputCacheGuard:
    """Wraps the shell's displayhook so what it caches is weakened; ``remove()`` undoes it."""

    def __init__(self, shell) -> None:
        self.hook = shell.displayhook
        original_update, original_fill = self.hook.update_user_ns, self.hook.fill_exec_result
        self.hook.update_user_ns = lambda result: original_update(weaken(result))
        self.hook.fill_exec_result = lambda result: original_fill(weaken(result))

    def remove(self) -> None:
        for name in ("update_user_ns", "fill_exec_result"):
            self.hook.__dict__.pop(name, None)  # back to the class's own methods
