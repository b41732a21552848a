"""BaseWorker: serves commands that arrive as bytes, and sends commands to other workers.

Serving (``recv_msg``) never raises: every failure becomes an error reply, and a failed command
leaves the worker's objects as they were. Calling (``run``, ``send_tensor``, ``fetch``,
``delete_remote``) turns replies back into pointers, tensors or the original exception.
"""
import builtins
from typing import Any, Callable, Dict, List, Optional, Union

import torch

from .. import codec, commands
from ..codec import Meta
from ..exceptions import (MalformedMessageError, ObjectNotFoundError, OperationNotAllowedError,
                          SyftError, UnsupportedTypeError, WorkerNotFoundError,
                          TensorsNotCollocatedException, PointerFetchedError, RemoteValueError)
from ..ids import new_id
from ..pointers import PointerTensor
from ..store import ObjectStore

# Every worker by id, so that re-running `VirtualWorker(hook, id="bob")` finds bob again.
_WORKERS: Dict[Any, "BaseWorker"] = {}

# Exception types a reply may name; anything else arrives as a RuntimeError naming its type.
_ERROR_TYPES: Dict[str, type] = {
    cls.__name__: cls
    for cls in (
        RuntimeError, TypeError, ValueError, IndexError, KeyError, NotImplementedError,
        ZeroDivisionError, OverflowError, AttributeError, ArithmeticError, AssertionError,
        ObjectNotFoundError, OperationNotAllowedError, MalformedMessageError,
        UnsupportedTypeError, TensorsNotCollocatedException, PointerFetchedError,
        RemoteValueError, SyftError,
    )
}
_ERROR_TYPES["LinAlgError"] = torch.linalg.LinAlgError
_ERROR_TYPES["_LinAlgError"] = torch.linalg.LinAlgError
_ERROR_TYPES["OutOfMemoryError"] = torch.OutOfMemoryError

PointerListener = Callable[[str, PointerTensor], None]


def get_worker(worker: Union[str, int, "BaseWorker"]) -> "BaseWorker":
    if isinstance(worker, BaseWorker):
        return worker
    try:
        return _WORKERS[worker]
    except (KeyError, TypeError):
        raise WorkerNotFoundError(f"there is no worker with id {worker!r}") from None


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise MalformedMessageError(what)


class BaseWorker:
    def __init__(self, id: Any, is_client_worker: bool = False) -> None:
        self.id = id
        self.is_client_worker = is_client_worker
        self._store = ObjectStore()
        self._pointer_listeners: List[PointerListener] = []
        self._handlers = {"store": self._on_store, "get": self._on_get, "del": self._on_del,
                          "cmd": self._on_cmd}
        _WORKERS[id] = self

    @property
    def _objects(self) -> Dict[int, torch.Tensor]:
        """The tensors this worker holds, by id: a plain dict, as in PySyft."""
        return self._store.objects

    @property
    def store(self) -> ObjectStore:
        return self._store

    def __repr__(self) -> str:
        return f"<{type(self).__name__} id:{self.id} #objects:{len(self._store)}>"

    # --- serving: bytes in, bytes out ----------------------------------------------------
    def recv_msg(self, data: bytes) -> bytes:
        try:
            inputs: List[Any] = []
            message = codec.decode(data, on_ref=lambda obj_id: self._resolve(obj_id, inputs))
            _check(isinstance(message, list) and message, "a message must be a non-empty list")
            handler = self._handlers.get(message[0]) if isinstance(message[0], str) else None
            _check(handler is not None, f"unknown message kind {message[0]!r}")
            return handler(message, inputs)
        except Exception as e:  # reported to the caller, never raised in the worker
            return codec.encode(["err", type(e).__name__, str(e)])

    def _resolve(self, obj_id: int, inputs: List[Any]) -> Any:
        try:
            obj = self._store.objects[obj_id]
        except KeyError:
            raise ObjectNotFoundError(
                f"object {obj_id} is not on {self!r}: it was brought home with .get(), deleted, "
                "or never sent there"
            ) from None
        inputs.append((obj, obj_id))
        return obj

    def _on_store(self, message: list, inputs) -> bytes:
        _check(len(message) == 3 and isinstance(message[1], torch.Tensor), "store needs a tensor and an id")
        tensor, obj_id = message[1], message[2]
        if type(obj_id) is not int or obj_id in self._store:
            obj_id = new_id()  # never overwrite a tensor some other pointer names
        self._store.set(obj_id, tensor)
        return codec.encode(["ok", Meta(obj_id, tensor.shape, tensor.dtype, tensor.requires_grad)])

    def _on_get(self, message: list, inputs) -> bytes:
        _check(len(message) == 2 and type(message[1]) is int, "get needs an id")
        reply = codec.encode(["ok", self._resolve(message[1], inputs)])
        self._store.pop(message[1])  # only once the reply exists: a failed get loses nothing
        return reply

    def _on_del(self, message: list, inputs) -> bytes:
        _check(len(message) == 2 and isinstance(message[1], list), "del needs a list of ids")
        self._store.discard(i for i in message[1] if type(i) is int)
        return codec.encode(["ok", None])

    def _on_cmd(self, message: list, inputs) -> bytes:
        _check(len(message) == 4 and isinstance(message[2], list) and isinstance(message[3], dict),
               "cmd needs an operation name, a list of arguments and a dict of keyword arguments")
        func = commands.resolve(message[1])
        result = func(*message[2], **message[3])
        stored: List[int] = []
        try:
            return codec.encode(["ok", self._describe(result, inputs, stored)])
        except Exception:
            self._store.discard(stored)  # a result we cannot reply with is not kept
            raise

    def _describe(self, result: Any, inputs, stored: List[int]) -> Any:
        """Store the tensors of a result; replace them by their Meta for the reply."""
        if isinstance(result, torch.Tensor):
            for obj, obj_id in inputs:
                if obj is result:  # an in-place op returned its input: same id, nothing new
                    break
            else:
                obj_id = new_id()
                self._store.set(obj_id, result)
                stored.append(obj_id)
            return Meta(obj_id, result.shape, result.dtype, result.requires_grad)
        if isinstance(result, (tuple, list)) and not isinstance(result, torch.Size):
            items = [self._describe(item, inputs, stored) for item in result]
            return items if isinstance(result, list) else tuple(items)
        if result is None or isinstance(result, (bool, int, float, complex, str, torch.dtype, torch.Size)):
            return result
        raise UnsupportedTypeError(
            f"the operation returned a {type(result).__name__}, which cannot be sent back from a worker"
        )

    # --- calling: requests to another worker ---------------------------------------------
    def _transport(self, location: "BaseWorker", data: bytes) -> bytes:
        """Deliver request bytes to location and return its reply bytes."""
        return location.recv_msg(data)

    def _request(self, location: "BaseWorker", message: list,
                 pointers: Optional[List[PointerTensor]] = None) -> Any:
        reply_bytes = self._transport(location, codec.encode(message))

        def on_meta(meta: Meta) -> PointerTensor:
            for ptr in pointers or ():
                if ptr._id_at_location == meta.id:  # an in-place op handed back its input
                    ptr._requires_grad = meta.requires_grad
                    return ptr
            return PointerTensor(location, meta.id, meta.shape, meta.dtype, meta.requires_grad, owner=self)

        reply = codec.decode(reply_bytes, on_meta=on_meta)
        if reply[0] == "ok":
            return reply[1]
        raise _rebuild_error(reply[1], reply[2])

    def run(self, location: "BaseWorker", name: str, args, kwargs, pointers: List[PointerTensor]) -> Any:
        """Run torch operation `name` on location; tensors in the result come back as pointers."""
        return self._request(location, ["cmd", name, list(args), kwargs], pointers)

    def send_tensor(self, tensor: torch.Tensor, location: "BaseWorker", garbage_collect_data: bool = True) -> PointerTensor:
        ptr = self._request(location, ["store", tensor, tensor.id])
        ptr.garbage_collect_data = garbage_collect_data
        return ptr

    def fetch(self, location: "BaseWorker", obj_id: int) -> torch.Tensor:
        return self._request(location, ["get", obj_id])

    def delete_remote(self, location: "BaseWorker", ids: List[int]) -> None:
        self._request(location, ["del", list(ids)])

    # --- pointer events, for views; free when nobody listens -----------------------------
    def subscribe_pointers(self, listener: PointerListener) -> None:
        self._pointer_listeners.append(listener)

    def unsubscribe_pointers(self, listener: PointerListener) -> None:
        if listener in self._pointer_listeners:
            self._pointer_listeners.remove(listener)

    def _pointer_created(self, ptr: PointerTensor) -> None:
        if self._pointer_listeners:
            self._notify_pointer("created", ptr)

    def _pointer_changed(self, ptr: PointerTensor) -> None:
        if self._pointer_listeners:
            self._notify_pointer(ptr.state, ptr)

    def _notify_pointer(self, event: str, ptr: PointerTensor) -> None:
        for listener in list(self._pointer_listeners):
            try:
                listener(event, ptr)
            except Exception:  # a broken view must never break a pointer
                pass


def _rebuild_error(type_name: Any, message: Any) -> Exception:
    cls = _ERROR_TYPES.get(type_name)
    if cls is None:
        return RuntimeError(f"{type_name}: {message}")
    if cls is KeyError:
        return RuntimeError(f"KeyError: {message}")
    return cls(message)
