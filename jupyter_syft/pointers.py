"""PointerTensor: a torch.Tensor with no storage that stands for a tensor held by a worker.

Torch hands every call that involves a pointer to ``__torch_function__``; there we either answer
from the cached metadata (shape, dtype, ...), refuse (values that need ``.get()``), or send the
call to the pointer's worker as a command. Plain tensors never reach this code.
"""
from typing import Any, Callable, Dict, List

import torch
from torch._C import DisableTorchFunctionSubclass

from . import codec, commands, tags, training
from .exceptions import (CannotRequestObjectAttribute, PointerDeletedError, PointerFetchedError,
                         RemoteValueError, TensorsNotCollocatedException)
from .ids import new_id

LIVE, FETCHED, DELETED = "live", "fetched", "deleted"


class PointerTensor(torch.Tensor):
    """Points to the tensor ``id_at_location`` stored on ``location``; owned by ``owner``.

    An attribute pointer (``ptr.grad``, ``ptr.data``) names an attribute of that tensor
    (``point_to_attr``); it stores nothing of its own, so it never deletes anything.
    """

    _point_to_attr = None  # set on attribute pointers only
    # What the owner last learnt of the remote tensor's grad: (BaseWorker._grad_epoch then,
    # whether a grad exists). Valid until the owner sends that worker anything.
    _grad_known = None
    _grad_pointer = None  # the attribute pointer last handed out for .grad, while it is known
    _grad_cacheable = True  # False for links of chains: others may change the grad
    _may_chain = False  # may name a pointer on its worker (a chain): no whole-step shortcuts

    @staticmethod
    def __new__(cls, location, id_at_location: int, shape, dtype: torch.dtype,
                requires_grad: bool = False, owner=None, id: int = None,
                garbage_collect_data: bool = True, notify: bool = True):
        ptr = torch.Tensor._make_wrapper_subclass(cls, shape, dtype=dtype)
        ptr._location = location
        ptr._id_at_location = id_at_location
        ptr._owner = owner
        ptr._id = new_id() if id is None else id
        ptr._requires_grad = requires_grad
        ptr._state = LIVE
        ptr.garbage_collect_data = garbage_collect_data
        if notify and owner is not None and owner._pointer_listeners:
            owner._notify_pointer("created", ptr)
        return ptr

    def __init__(self, *args, **kwargs) -> None:  # everything happened in __new__
        pass

    # --- what PySyft 0.2 pointers exposed -------------------------------------------------
    @property
    def location(self):
        return self._location

    @property
    def owner(self):
        return self._owner

    @property
    def id_at_location(self) -> int:
        return self._id_at_location

    @property
    def id(self) -> int:
        return self._id

    @property
    def state(self) -> str:
        """'live', 'fetched' (after .get()) or 'deleted'."""
        return self._state

    @property
    def point_to_attr(self):
        return self._point_to_attr

    def __repr__(self) -> str:
        text = (f"(Wrapper)>[PointerTensor | {self._owner.id}:{self._id} -> "
                f"{self._location.id}:{self._id_at_location}]")
        if self._point_to_attr:
            text += "::" + self._point_to_attr.replace(".", "::")
        if self._state != LIVE:
            text += f" ({self._state}: {_STATE_HINTS[self._state]})"
        if "_syft_tags" in self.__dict__ or "_syft_description" in self.__dict__:
            text += tags.tag_lines(self, tensor_first=False)
        return text

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)

    def check_live(self) -> None:
        if self._state == FETCHED:
            raise PointerFetchedError(
                f"the tensor this pointer named ({self._location.id}:{self._id_at_location}) was "
                "already brought home with .get(); use the tensor that .get() returned"
            )
        if self._state == DELETED:
            raise PointerDeletedError(
                f"the tensor this pointer named ({self._location.id}:{self._id_at_location}) "
                "was deleted from its worker"
            )

    def get(self) -> torch.Tensor:
        """Bring the tensor home; it leaves the worker and this pointer becomes 'fetched'.
        On a pointer to a pointer, what comes home is the inner pointer."""
        self.check_live()
        if self._point_to_attr:
            raise CannotRequestObjectAttribute(
                f"{self!r} points to the .{self._point_to_attr} of a tensor on "
                f"{self._location.id}, not to a tensor of its own; .get() the tensor itself, "
                f"or copy the attribute first: x.{self._point_to_attr}.copy().get()")
        tensor = self._owner.fetch(self._location, self._id_at_location)
        self._set_state(FETCHED)
        if training.log.listeners and type(tensor) is torch.Tensor and tensor.dim() == 0 \
                and tensor.is_floating_point():  # a loss came home: a training view plots it
            training.log.loss(self._location.id, float(tensor.detach()))
        return tensor

    def send(self, *locations, **kwargs) -> "PointerTensor":
        """Send this pointer on: the new worker keeps it (a pointer to a pointer) and you get a
        pointer to it. Deleting the new pointer deletes down the whole chain."""
        from .workers import get_worker

        self.check_live()
        if len(locations) != 1:
            raise TypeError("a pointer is sent on to exactly one worker, like x_ptr.send(alice)")
        if self._point_to_attr:
            raise CannotRequestObjectAttribute(
                f"{self!r} points to an attribute; send the tensor's pointer instead")
        destination = _destination(self, get_worker(locations[0]), "send")
        return self._owner.send_pointer(self, destination)

    def move(self, location) -> "PointerTensor":
        """Move the tensor to another worker, worker to worker; this pointer follows it (same id)."""
        from .workers import get_worker

        self.check_live()
        destination = get_worker(location)
        if self._point_to_attr:
            raise CannotRequestObjectAttribute(
                f"{self!r} points to an attribute; move the tensor's pointer instead")
        if destination is not self._location:
            _destination(self, destination, "move")
            self._grad_known = self._grad_pointer = None
            self._id_at_location = self._owner.move(self._location, self._id_at_location, destination)
            self._location = destination
            self._owner._pointer_changed(self)
        return self

    def remote_send(self, location) -> "PointerTensor":
        """Have this pointer's worker send the tensor on and keep a pointer to it:
        me -> bob becomes me -> bob -> alice."""
        from .workers import get_worker

        self.check_live()
        destination = _destination(self, get_worker(location), "remote_send")
        self._owner.remote_send(self._location, self._id_at_location, destination)
        self._may_chain = True
        self._grad_known = self._grad_pointer = None
        self._grad_cacheable = False  # now a chain: the grad is read through bob
        return self

    def remote_get(self) -> "PointerTensor":
        """On a pointer to a pointer: bring the tensor to the middle worker (me -> alice -> bob
        becomes me -> alice)."""
        self.check_live()
        self._owner.remote_get(self)
        return self

    def copy(self) -> "PointerTensor":
        """A new remote tensor with the same values, on the same worker."""
        return self.clone()

    # `grad` and `data` name attributes of the remote tensor (PySyft's attribute pointers).
    @property
    def grad(self):
        self.check_live()
        return self._owner.attribute_pointer(self, "grad")

    @grad.setter
    def grad(self, value) -> None:
        if value is None and self._point_to_attr is None and self._state == LIVE:
            self._owner.clear_grad_later(self)  # optimizer.zero_grad(): rides on the next message
        else:
            _remote(_T.grad.__set__, (self, value), {})

    @property
    def grad_fn(self):
        """The name of the remote tensor's autograd node, or None for a leaf."""
        self.check_live()
        return self._owner.remote_grad_fn(self)

    @property
    def data(self):
        self.check_live()
        return self._owner.attribute_pointer(self, "data")

    @data.setter
    def data(self, value) -> None:
        if isinstance(value, torch.Tensor) and tuple(value.shape) != tuple(self.shape):
            raise ValueError(f"a pointer's shape is fixed: cannot set .data of shape "
                             f"{tuple(self.shape)} to a tensor of shape {tuple(value.shape)}")
        _remote(_T.data.__set__, (self, value), {})

    def delete_remote(self) -> None:
        """Delete the remote tensor now, whatever else still refers to this pointer."""
        if self._point_to_attr:
            raise CannotRequestObjectAttribute(
                f"{self!r} points to the .{self._point_to_attr} of a tensor, which it does not "
                "own; delete the tensor's own pointer instead")
        if self._state == LIVE:
            self._set_state(DELETED)
            self._owner.delete_remote(self._location, [self._id_at_location], now=True)

    def _set_state(self, state: str) -> None:
        self._state = state
        self._owner._pointer_changed(self)

    def __del__(self) -> None:
        # Refcount-driven: the last reference going away frees the remote tensor.
        try:
            if self._state == LIVE:
                owner = self._owner
                if self.garbage_collect_data:
                    self._state = DELETED
                    owner.delete_remote(self._location, [self._id_at_location])
                if owner._pointer_listeners:
                    owner._notify_pointer("dropped", self)
        except Exception:  # during interpreter shutdown or with a worker gone
            pass

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if kwargs is None:
            kwargs = {}
        local = _LOCAL.get(func)
        if local is not None:
            return local(func, args, kwargs)
        return _remote(func, args, kwargs)

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        # Reached only if torch bypassed __torch_function__; a pointer has no data to compute on.
        raise RemoteValueError(f"{func} cannot run on a pointer's (absent) local data; call .get() first")


codec.register_pointer_type(PointerTensor)
_NAMES = commands.names_by_function()

_STATE_HINTS = {FETCHED: "its tensor was brought home with .get()", DELETED: "its tensor was deleted"}


def _destination(ptr: "PointerTensor", destination, verb: str):
    """Check where a pointer's tensor may go: not where it is, not to a client worker."""
    if destination is ptr._location:
        raise ValueError(f"the tensor is on {destination.id} already; nothing to {verb}")
    if destination.is_client_worker:
        raise ValueError(f"{destination.id} is a client worker and stores nothing; "
                         "use .get() to bring the tensor here")
    return destination


def _short(func: Any) -> str:
    return getattr(func, "__name__", None) or str(func)


def _scan(values, pointers: List[PointerTensor], local: List[torch.Tensor]) -> None:
    for value in values:
        if isinstance(value, torch.Tensor):
            (pointers if isinstance(value, PointerTensor) else local).append(value)
        elif isinstance(value, (list, tuple)) and not isinstance(value, torch.Size):
            _scan(value, pointers, local)
        elif isinstance(value, dict):
            _scan(value.values(), pointers, local)


def _collocated(name: str, args, kwargs) -> List[PointerTensor]:
    """The pointers in a call, checked to be live and on one worker with no local tensors."""
    if not kwargs and len(args) == 2:  # fast path for binary operators on two live pointers
        a, b = args
        if (type(a) is PointerTensor and type(b) is PointerTensor and a._state == LIVE
                and b._state == LIVE and a._location is b._location):
            return [a, b]
    pointers: List[PointerTensor] = []
    local: List[torch.Tensor] = []
    _scan(args, pointers, local)
    if kwargs:
        _scan(kwargs.values(), pointers, local)
    first = pointers[0]
    for ptr in pointers:
        ptr.check_live()
        if ptr._location is not first._location:
            raise TensorsNotCollocatedException(
                f"You tried to call {name} involving two tensors which are not on the same "
                f"machine! One tensor is on {first._location!r} while the other is on "
                f"{ptr._location!r}. Use a combination of .move(), .get(), and/or .send() to "
                "co-locate them to the same machine."
            )
    if local:
        raise TensorsNotCollocatedException(
            f"You tried to call {name} involving two tensors where one tensor is on "
            f"{first._location!r} (a PointerTensor) and the other is a local tensor. "
            f"Call .get() on the pointer, or .send({first._location.id}) on the local tensor.\n"
            f"Tensor A: {first!r}\nTensor B: {local[0]!r}"
        )
    return pointers


def _remote(func, args, kwargs):
    """Run a torch call on the worker of the pointers in its arguments."""
    name = _NAMES.get(func) or commands.op_name(func)
    pointers = _collocated(name, args, kwargs)
    first = pointers[0]
    return first._owner.run(first._location, name, args, kwargs, pointers)


def _set_requires_grad(func, args, kwargs):
    _remote(func, args, kwargs)
    args[0]._requires_grad = bool(args[1])  # the pointer caches it (it is read often)


def _from_metadata(func, args, kwargs):
    with DisableTorchFunctionSubclass():
        return func(*args, **kwargs)


def _requires_grad(func, args, kwargs):
    return args[0]._requires_grad


# How to say "do it on the fetched tensor" for each refused call.
_GET_FIRST_EXAMPLES = {
    "__bool__": "bool(x_ptr.get())", "__int__": "int(x_ptr.get())",
    "__float__": "float(x_ptr.get())", "__index__": "int(x_ptr.get())",
    "__complex__": "complex(x_ptr.get())", "__contains__": "value in x_ptr.get()",
    "__array__": "numpy.asarray(x_ptr.get())",
}


def _no_module_conversion(func, args, kwargs):
    # nn.Module._apply (model.double(), model.to(...), model.cpu()) asks this of each parameter
    raise RemoteValueError(
        "a model on a worker cannot change its dtype or device (.double(), .to(...)); "
        "call model.get() first, convert it, then send it again")


def _needs_get(func, args, kwargs):
    ptr = args[0] if args and isinstance(args[0], PointerTensor) else None
    where = f" on {ptr._location.id}" if ptr is not None else " on its worker"
    name = _short(func)
    if name in ("__reduce_ex__", "__deepcopy__"):
        raise RemoteValueError(
            "a pointer cannot be pickled or deep-copied: its tensor stays" + where +
            "; call .get() to bring the tensor home first")
    example = _GET_FIRST_EXAMPLES.get(name, f"x_ptr.get().{name}()")
    raise RemoteValueError(
        f"{name}() needs the tensor's values, which stay{where}; call .get() first, e.g. {example}")


_T = torch.Tensor
_LOCAL: Dict[Any, Callable] = {}
for _f in (_T.shape.__get__, _T.dtype.__get__, _T.ndim.__get__, _T.device.__get__,
           _T.layout.__get__, _T.itemsize.__get__, _T.nbytes.__get__, _T.is_cpu.__get__,
           _T.is_cuda.__get__, _T.is_sparse.__get__, _T.is_quantized.__get__,
           _T.is_meta.__get__, _T.size, _T.dim, _T.numel, _T.nelement, _T.element_size,
           _T.__len__, _T.__hash__, _T.is_floating_point, _T.is_complex, _T.ndimension,
           _T.get_device):
    _LOCAL[_f] = _from_metadata
_LOCAL[_T.requires_grad.__get__] = _requires_grad
_LOCAL[_T.requires_grad.__set__] = _set_requires_grad
for _f in (_T.item, _T.tolist, _T.numpy, _T.__bool__, _T.__int__, _T.__float__, _T.__index__,
           _T.__complex__, _T.__array__, _T.data_ptr, _T.storage, _T.untyped_storage,
           _T.__reduce_ex__, _T.__deepcopy__, _T.__dlpack__, _T.__contains__):
    _LOCAL[_f] = _needs_get
_LOCAL[torch._has_compatible_shallow_copy_type] = _no_module_conversion
