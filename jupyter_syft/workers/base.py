"""BaseWorker: serves commands that arrive as bytes, and sends commands to other workers.

Serving (``recv_msg``) never raises: every failure becomes an error reply, and a failed command
leaves the worker's objects as they were. Calling (``run``, ``send_tensor``, ``fetch``,
``delete_remote``) turns replies back into pointers, tensors or the original exception.
"""
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


# Listeners told (event, worker) when a worker is "created" or "removed"; views use this.
WorkerListener = Callable[[str, "BaseWorker"], None]
_worker_listeners: List[WorkerListener] = []


def subscribe_workers(listener: WorkerListener) -> None:
    _worker_listeners.append(listener)


def unsubscribe_workers(listener: WorkerListener) -> None:
    if listener in _worker_listeners:
        _worker_listeners.remove(listener)


def _notify_workers(event: str, worker: "BaseWorker") -> None:
    for listener in list(_worker_listeners):
        try:
            listener(event, worker)
        except Exception:  # a broken view must never break a worker
            pass


def remove_worker(worker: "BaseWorker") -> None:
    """Forget a worker and drop its objects (pointers to it then report them missing)."""
    if _WORKERS.get(worker.id) is worker:
        del _WORKERS[worker.id]
    worker._removed = True
    worker._store.clear()
    for other in _WORKERS.values():
        other._pending_deletes.pop(worker, None)
    _notify_workers("removed", worker)


def all_workers() -> List["BaseWorker"]:
    return list(_WORKERS.values())


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
        self._store = ObjectStore(id)
        self._pointer_listeners: List[PointerListener] = []
        self._pending_deletes: Dict["BaseWorker", List[int]] = {}
        self._removed = False
        self._handlers = {"store": self._on_store, "get": self._on_get, "del": self._on_del,
                          "cmd": self._on_cmd}
        _WORKERS[id] = self
        _notify_workers("created", self)

    @property
    def _objects(self) -> Dict[int, torch.Tensor]:
        """The tensors this worker holds, by id: a plain dict, as in PySyft."""
        collect_garbage(self)
        return self._store.objects

    @property
    def store(self) -> ObjectStore:
        collect_garbage(self)
        return self._store

    def __repr__(self) -> str:
        return f"<{type(self).__name__} id:{self.id} #objects:{len(self.store)}>"

    # --- serving: bytes in, bytes out ----------------------------------------------------
    # A request is [kind, ids of dead pointers' objects to delete first, *fields of the kind].
    def recv_msg(self, data: bytes) -> bytes:
        try:
            resolver = _Resolver(self)
            message = codec.decode(data, resolver)
            if type(message) is not list or len(message) < 2 or type(message[1]) is not list:
                raise MalformedMessageError("a message must be a list: [kind, ids to delete, ...]")
            handler = self._handlers.get(message[0]) if type(message[0]) is str else None
            if handler is None:
                raise MalformedMessageError(f"unknown message kind {message[0]!r}")
            if message[1]:
                self._store.discard(message[1])
            return handler(message[2:], resolver.inputs)
        except Exception as e:  # reported to the caller, never raised in the worker
            return codec.encode_error_reply(type(e).__name__, str(e))

    def _fresh_id(self) -> int:
        obj_id = new_id()
        while obj_id in self._store.objects:  # ids are random; a collision must not overwrite
            obj_id = new_id()
        return obj_id

    def _not_found(self, obj_id: Any) -> ObjectNotFoundError:
        return ObjectNotFoundError(
            f"object {obj_id} is not on {self!r}: it was brought home with .get(), deleted, "
            "or never sent there"
        )

    def _on_store(self, fields: list, inputs) -> bytes:
        _check(len(fields) == 2 and isinstance(fields[0], torch.Tensor), "store needs a tensor and an id")
        tensor, obj_id = fields
        if type(obj_id) is not int or obj_id in self._store:
            obj_id = self._fresh_id()  # never overwrite a tensor some other pointer names
        self._store.set(obj_id, tensor)
        return codec.encode_pointer_reply(obj_id, tensor)

    def _on_get(self, fields: list, inputs) -> bytes:
        _check(len(fields) == 1 and type(fields[0]) is int, "get needs an id")
        obj = self._store.objects.get(fields[0])
        if obj is None:
            raise self._not_found(fields[0])
        reply = codec.encode_tensor_reply(obj)
        self._store.pop(fields[0])  # only once the reply exists: a failed get loses nothing
        return reply

    def _on_del(self, fields: list, inputs) -> bytes:
        _check(not fields, "del takes no fields: its ids come in the message's delete list")
        return codec.encode_value_reply(None)

    def _on_cmd(self, fields: list, inputs) -> bytes:
        if len(fields) != 3 or type(fields[1]) is not list or type(fields[2]) is not dict:
            raise MalformedMessageError(
                "cmd needs an operation name, a list of arguments and a dict of keyword arguments")
        func = commands.resolve(fields[0])
        result = func(*fields[1], **fields[2])
        if type(result) is torch.Tensor:
            for obj, _ in inputs:
                if obj is result:  # an in-place op: handled below
                    break
            else:  # the common case: one new tensor
                _check_storable(result)
                obj_id = self._fresh_id()
                reply = codec.encode_pointer_reply(obj_id, result)
                self._store.set(obj_id, result)  # only once the reply exists
                return reply
        stored: List[int] = []
        try:
            described = self._describe(result, inputs, stored)
            if type(described) is Meta:
                return codec.encode_pointer_reply(described.id, result)
            return codec.encode_value_reply(described)
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
                _check_storable(result)
                obj_id = self._fresh_id()
                self._store.set(obj_id, result)
                stored.append(obj_id)
            return Meta(obj_id, result.shape, result.dtype, result.requires_grad)
        if isinstance(result, (tuple, list)) and not isinstance(result, torch.Size):
            items = [self._describe(item, inputs, stored) for item in result]
            if isinstance(result, list):
                return items
            return type(result)(items) if codec._is_return_type(result) else tuple(items)
        if result is None or isinstance(result, (bool, int, float, complex, str, torch.dtype, torch.Size)):
            return result
        raise UnsupportedTypeError(
            f"the operation returned a {type(result).__name__}, which cannot be sent back from a worker"
        )

    # --- calling: requests to another worker ---------------------------------------------
    def _transport(self, location: "BaseWorker", data: bytes) -> bytes:
        """Deliver request bytes to location and return its reply bytes."""
        return location.recv_msg(data)

    def _request(self, location: "BaseWorker", kind: str, fields: list,
                 pointers: Optional[List[PointerTensor]] = None) -> Any:
        if location._removed:
            raise WorkerNotFoundError(f"worker {location.id!r} was removed; its tensors are gone")
        deletes = self._pending_deletes.pop(location, None) or []
        try:
            request = codec.encode([kind, deletes, *fields])
            reply_bytes = self._transport(location, request)
            ok, value = codec.decode_reply(reply_bytes, _PointerMaker(self, location, pointers))
        except BaseException:  # also an interrupt: the deletes must not be lost
            self._requeue_deletes(location, deletes)
            raise
        if ok:
            return value
        # The worker may have failed before it applied the deletes; sending them again is harmless.
        self._requeue_deletes(location, deletes)
        raise _rebuild_error(*value)

    def _requeue_deletes(self, location: "BaseWorker", deletes: List[int]) -> None:
        if deletes:
            self._pending_deletes.setdefault(location, []).extend(deletes)

    def run(self, location: "BaseWorker", name: str, args, kwargs, pointers: List[PointerTensor]) -> Any:
        """Run torch operation `name` on location; tensors in the result come back as pointers."""
        return self._request(location, "cmd", [name, list(args), kwargs], pointers)

    def send_tensor(self, tensor: torch.Tensor, location: "BaseWorker", garbage_collect_data: bool = True) -> PointerTensor:
        ptr = self._request(location, "store", [tensor, tensor.id])
        ptr.garbage_collect_data = garbage_collect_data
        return ptr

    def fetch(self, location: "BaseWorker", obj_id: int) -> torch.Tensor:
        return self._request(location, "get", [obj_id])

    # Dead pointers' ids wait here and ride along with the next request to their worker, so a
    # pointer's death costs no round trip of its own. Reading a worker's objects flushes them.
    _MAX_PENDING_DELETES = 1000

    def delete_remote(self, location: "BaseWorker", ids: List[int], now: bool = False) -> None:
        if location._removed:
            return  # its objects went with it
        queue = self._pending_deletes.setdefault(location, [])
        queue.extend(ids)
        if now or len(queue) >= self._MAX_PENDING_DELETES:
            self.flush_deletes(location)

    def flush_deletes(self, location: "BaseWorker") -> None:
        if self._pending_deletes.get(location):
            self._request(location, "del", [])

    # --- pointer events, for views; free when nobody listens -----------------------------
    def subscribe_pointers(self, listener: PointerListener) -> None:
        self._pointer_listeners.append(listener)

    def unsubscribe_pointers(self, listener: PointerListener) -> None:
        if listener in self._pointer_listeners:
            self._pointer_listeners.remove(listener)

    def _pointer_changed(self, ptr: PointerTensor) -> None:
        if self._pointer_listeners:
            self._notify_pointer(ptr.state, ptr)

    def _notify_pointer(self, event: str, ptr: PointerTensor) -> None:
        for listener in list(self._pointer_listeners):
            try:
                listener(event, ptr)
            except Exception:  # a broken view must never break a pointer
                pass


class _Resolver(codec.ExtDecoder):
    """Serving side: turns the remote ids in a request into this worker's objects, remembering
    each one so that an in-place result can be recognised as an input."""

    __slots__ = ("objects", "worker", "inputs")

    def __init__(self, worker: BaseWorker) -> None:
        self.worker, self.objects, self.inputs, self.depth = worker, worker._store.objects, [], 0

    def __call__(self, code: int, payload: bytes) -> Any:
        if code == codec.REF and len(payload) == 8:  # the common record, read without a detour
            obj_id = _unpack_id(payload)[0]
            obj = self.objects.get(obj_id)
            if obj is None:
                raise self.worker._not_found(obj_id)
            self.inputs.append((obj, obj_id))
            return obj
        return codec.ExtDecoder.__call__(self, code, payload)

    def ref(self, obj_id: int) -> Any:
        obj = self.objects.get(obj_id)
        if obj is None:
            raise self.worker._not_found(obj_id)
        self.inputs.append((obj, obj_id))
        return obj


class _PointerMaker(codec.ExtDecoder):
    """Calling side: turns the tensor descriptions in a reply into pointers."""

    __slots__ = ("owner", "location", "inputs")

    def __init__(self, owner: BaseWorker, location: BaseWorker, inputs) -> None:
        self.owner, self.location, self.inputs, self.depth = owner, location, inputs, 0

    def meta(self, meta: Meta) -> PointerTensor:
        return self.pointer(meta.id, meta.shape, meta.dtype, meta.requires_grad)

    def pointer(self, obj_id: int, shape, dtype: torch.dtype, requires_grad: bool) -> PointerTensor:
        for ptr in self.inputs or ():
            if ptr._id_at_location == obj_id:  # an in-place op handed back its input
                ptr._requires_grad = requires_grad
                return ptr
        return PointerTensor(self.location, obj_id, shape, dtype, requires_grad, owner=self.owner)


def collect_garbage(location: BaseWorker) -> None:
    """Deliver every queued delete addressed to location, from every worker in this process."""
    for worker in list(_WORKERS.values()):
        if worker._pending_deletes.get(location):
            worker.flush_deletes(location)


_unpack_id = codec._ID.unpack


def _check_storable(t: torch.Tensor) -> None:
    """A worker keeps only dense CPU tensors: what its codec can send back and its views show."""
    if t.layout is not torch.strided or not t.is_cpu:
        raise UnsupportedTypeError(
            f"the result is a {t.layout} tensor on {t.device}; a worker keeps only dense CPU tensors")


def _rebuild_error(type_name: Any, message: Any) -> Exception:
    cls = _ERROR_TYPES.get(type_name)
    if cls is None:
        return RuntimeError(f"{type_name}: {message}")
    if cls is KeyError:
        return RuntimeError(f"KeyError: {message}")
    return cls(message)
