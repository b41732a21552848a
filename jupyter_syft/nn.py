"""Remote models: ``model.send(bob)``, ``model.get()``, ``.move()``, ``.copy()``, ``.location``.

A sent module keeps its Parameter objects: each one is swapped in place
(``torch.utils.swap_tensors``) with a pointer to its remote copy, so an optimizer built before
``send`` still holds the very objects it updates. ``get`` swaps the fetched tensors back in.
"""
import copy
import weakref
from typing import Dict, List, Optional, Tuple

import torch
from torch import nn

from . import codec, optim
from .pointers import FETCHED, PointerTensor
from .workers import BaseWorker, get_worker


class ParameterPointer(PointerTensor):
    """A pointer standing in for an nn.Parameter; ``isinstance(p, nn.Parameter)`` stays true."""

    _is_param = True  # what nn.Parameter's isinstance check looks for

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def get(self) -> nn.Parameter:
        tensor = super().get()
        return _as_parameter(tensor) if type(tensor) is torch.Tensor else tensor


codec.register_pointer_type(ParameterPointer)


def _as_parameter(t: torch.Tensor) -> nn.Parameter:
    param = nn.Parameter(t.detach(), requires_grad=t.requires_grad)
    if t.grad is not None:
        param.grad = t.grad
    return param


def _tensors(module: nn.Module) -> List[Tuple[nn.Module, str, torch.Tensor]]:
    """Every parameter and buffer, each once (shared parameters appear once)."""
    seen, found = set(), []
    for sub in module.modules():
        for table in (sub._parameters, sub._buffers):
            for name, t in table.items():
                if t is not None and id(t) not in seen:
                    seen.add(id(t))
                    found.append((sub, name, t))
    return found


def _check_swappable(module: nn.Module, tensors) -> None:
    """Refuse before anything moves if a tensor cannot be swapped in place; say which one."""
    for t in tensors:
        uses = t._use_count()
        if uses > 2 or (uses == 2 and not t.is_leaf):
            raise RuntimeError(
                f"{_label(module, t)} is still used by a local autograd graph (an output or loss "
                "computed with this model and kept in a variable); delete that variable, or "
                "compute it under torch.no_grad(), then send the model")
        if weakref.getweakrefcount(t):
            raise RuntimeError(f"{_label(module, t)} has a weak reference to it, so it cannot be "
                               "swapped in place; drop the weak reference first")


def _label(module: nn.Module, t: torch.Tensor) -> str:
    for name, value in [*module.named_parameters(), *module.named_buffers()]:
        if value is t:
            return f"{type(module).__name__}.{name}"
    return type(module).__name__


def _swap_all(olds: list, news: list) -> None:
    """Swap each old tensor's contents with its new one, all or none."""
    done = 0
    try:
        for old, new in zip(olds, news):
            torch.utils.swap_tensors(old, new)
            done += 1
    except RuntimeError as e:
        for old, new in zip(olds[:done], news[:done]):
            torch.utils.swap_tensors(old, new)  # a swap undoes itself
        raise RuntimeError(f"cannot swap a model's tensor in place ({e})") from None


def module_send(self: nn.Module, *workers, **kwargs) -> nn.Module:
    """Send every parameter and buffer to a worker in one message; the module is changed in
    place and returned, as in PySyft."""
    import jupyter_syft

    if len(workers) != 1:
        raise TypeError("a model is sent to one worker, like model.send(bob)")
    location = get_worker(workers[0])
    tensors = [t for _, _, t in _tensors(self)]
    remote = {t._location for t in tensors if isinstance(t, PointerTensor)}
    if remote:
        if remote == {location} and all(isinstance(t, PointerTensor) for t in tensors):
            return self  # already there
        names = ", ".join(sorted(str(w.id) for w in remote))
        raise ValueError(
            f"{type(self).__name__} has parameters on {names} already; bring it home with "
            f".get() or use .move({location.id}) instead of .send()")
    if not tensors:
        return self
    _check_swappable(self, tensors)
    optim.remote_parameters_seen = True
    pointers = jupyter_syft.local_worker.send_tensors(tensors, location)
    for t, ptr in zip(tensors, pointers):
        if isinstance(t, nn.Parameter):
            ptr.__class__ = ParameterPointer
    # On failure the pointers, swapped back, die here and delete the copies on the worker.
    _swap_all(tensors, pointers)
    return self


def module_get(self: nn.Module) -> nn.Module:
    """Bring every parameter and buffer home (one message per worker); in place. A shared
    model's parameters come home as fixed-precision tensors."""
    import jupyter_syft
    from .crypto.api import module_get_shared

    if module_get_shared(self):
        return self

    by_worker: Dict[BaseWorker, list] = {}
    for _, _, t in _tensors(self):
        if isinstance(t, PointerTensor):
            t.check_live()
            by_worker.setdefault(t._location, []).append(t)
    for location, pointers in by_worker.items():
        _check_swappable(self, pointers)
    fetched: List[tuple] = []  # all workers first: a failure on one puts back what came home
    try:
        for location, pointers in by_worker.items():
            ids = [p._id_at_location for p in pointers]
            fetched.append((pointers, jupyter_syft.local_worker.fetch_all(location, ids)))
    except BaseException:
        for pointers, tensors in fetched:
            for p in pointers:
                p._set_state(FETCHED)
            jupyter_syft.local_worker.restore(pointers, tensors)
        raise
    for pointers, tensors in fetched:
        news = [_as_parameter(t) if isinstance(p, ParameterPointer) else t
                for p, t in zip(pointers, tensors)]
        for ptr in pointers:
            ptr._set_state(FETCHED)
        _swap_all(pointers, news)
    return self


def module_move(self: nn.Module, worker) -> None:
    """Move every parameter to another worker, worker to worker. Returns None, as in PySyft."""
    destination = get_worker(worker)
    for _, _, t in _tensors(self):
        if not isinstance(t, PointerTensor):
            raise ValueError(f"{type(self).__name__} is not on a worker; use .send({destination.id})")
        t.check_live()
    moved = []  # (pointer, where it was): a failure part way moves those back
    try:
        for _, _, t in _tensors(self):
            origin = t._location
            t.move(destination)
            moved.append((t, origin))
    except BaseException:
        for t, origin in reversed(moved):
            t.move(origin)
        raise


def module_copy(self: nn.Module) -> nn.Module:
    """A deep copy of a local model (``model.copy().send(bob)`` in Part 04)."""
    if any(isinstance(t, PointerTensor) for _, _, t in _tensors(self)):
        raise RuntimeError(
            f"{type(self).__name__} is on a worker; copy it before sending it, or .get() it first")
    return copy.deepcopy(self)


def _module_location(self: nn.Module) -> Optional[BaseWorker]:
    for _, _, t in _tensors(self):
        return t._location if isinstance(t, PointerTensor) else None
    return None


def _module_owner(self: nn.Module) -> BaseWorker:
    import jupyter_syft

    for _, _, t in _tensors(self):
        if isinstance(t, PointerTensor):
            return t._owner
    return jupyter_syft.local_worker


MODULE_API = {
    "send": module_send, "get": module_get, "move": module_move, "copy": module_copy,
    # torch.jit.unused: TorchScript compiles a module's properties unless told not to
    "location": property(torch.jit.unused(_module_location)),
    "owner": property(torch.jit.unused(_module_owner)),
}
