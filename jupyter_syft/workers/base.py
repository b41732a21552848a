"""BaseWorker: serves commands that arrive as bytes, and sends commands to other workers.

Serving (``recv_msg``) never raises: every failure becomes an error reply, and a failed command
leaves the worker's objects as they were. Calling (``run``, ``send_tensor``, ``fetch``,
``delete_remote``) turns replies back into pointers, tensors or the original exception.
"""
import secrets
from typing import Any, Callable, Dict, List, Optional, Union

import torch

from .. import codec, commands, optim, tags
from ..codec import Meta, PointerDesc
from ..exceptions import (MalformedMessageError, ObjectNotFoundError, OperationNotAllowedError,
                          SyftError, UnsupportedTypeError, WorkerNotFoundError,
                          TensorsNotCollocatedException, PointerFetchedError, RemoteValueError,
                          PointerDeletedError, CannotRequestObjectAttribute, PlanBuildError,
                         InvalidPlanError, PrivateDataError, WorkerUnreachableError, ResourceLimitError)
from ..ids import new_id
from ..pointers import PointerTensor
from ..crypto import party
from ..plans import serve as plan_serving
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
        RemoteValueError, SyftError, PointerDeletedError, CannotRequestObjectAttribute,
        WorkerNotFoundError, PlanBuildError, InvalidPlanError, PrivateDataError,
        WorkerUnreachableError, PermissionError, ResourceLimitError,
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
    worker._generation += 1
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
        shown = (repr(worker[:77]) + "..." if type(worker) is str and len(worker) > 77
                 else repr(worker) if type(worker) in (str, int) else f"of type {type(worker).__name__}")
        raise WorkerNotFoundError(f"there is no worker with id {shown}") from None


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise MalformedMessageError(what)


class BaseWorker:
    # Limits on what one request may make this worker do; a server may tune them per worker.
    MAX_TENSOR_NUMEL = commands.MAX_TENSOR_NUMEL  # elements of any argument, result or view
    MAX_RESULT_TENSORS = commands.MAX_RESULT_TENSORS  # tensors in one operation's result
    MAX_OP_WORK = commands.MAX_OP_WORK  # steps of one pooling or convolution (output x kernel)
    MAX_DELETES = 10_000  # ids in one request's delete list (a million would be tried one by one)
    MAX_ERROR_CHARS = 1_000  # an error reply's message (torch's messages may hold argument values)

    def __init__(self, id: Any, is_client_worker: bool = False, own_rng: bool = False) -> None:
        self.id = id
        self.is_client_worker = is_client_worker
        self._rng: Optional[commands.GeneratorState] = None
        self.own_rng = own_rng
        self._store = ObjectStore(id)
        self._pointer_listeners: List[PointerListener] = []
        # Queued per location: ids of dead pointers' objects to delete, and [id] for "set this
        # tensor's grad to None" (zero_grad); both ride along with the next request there.
        self._pending_deletes: Dict["BaseWorker", list] = {}
        self._requests: Dict["BaseWorker", int] = {}  # requests sent per location
        self._generation = 0  # bumped whenever all objects go at once (clear_objects, removal)
        self.uses_frames = False  # network workers: requests carry large tensors as extra frames
        self._removed = False
        self._handlers = {"store": self._on_store, "get": self._on_get, "del": self._on_del,
                          "cmd": self._on_cmd, "attr": self._on_attr, "move": self._on_move,
                          "remote_send": self._on_remote_send, "remote_get": self._on_remote_get,
                          "store_all": self._on_store_all, "get_all": self._on_get_all,
                          "optim_step": self._on_optim_step, "search": self._on_search,
                          "batch": self._on_batch,
                          "store_plan": lambda f, i: plan_serving.on_store_plan(self, f, i),
                          "run_plan": lambda f, i: plan_serving.on_run_plan(self, f, i),
                          "store_protocol": lambda f, i: plan_serving.on_store_protocol(self, f, i),
                          "run_protocol": lambda f, i: plan_serving.on_run_protocol(self, f, i),
                          "mpc": lambda f, i: party.on_mpc(self, f, i)}
        # What crossed this worker's boundary: requests served, bytes in and out, and the bytes
        # of tensors that left it through .get() (federated learning's point is to keep that low).
        self.traffic = {"messages": 0, "bytes_in": 0, "bytes_out": 0, "bytes_got": 0}
        _WORKERS[id] = self
        _notify_workers("created", self)

    @property
    def secure_random(self):
        """This worker's cryptographic generator, for the shares and masks it makes."""
        rng = self.__dict__.get("_secure_random")
        if rng is None:
            from ..crypto.rng import SecureRandom
            rng = self._secure_random = SecureRandom()
        return rng

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

    def clear_objects(self) -> "BaseWorker":
        """Drop every object this worker holds (pointers it holds delete what they name)."""
        self._generation += 1
        self._store.clear()
        collect_garbage(self)
        return self

    @property
    def own_rng(self) -> bool:
        """Whether this worker's random operations (dropout, rand, shuffles, ...) draw from a
        generator of its own, seeded from ``secrets``, rather than torch's global one: a network
        server gives each client's namespace its own, so no client can see or shift another's
        random numbers. Off for a VirtualWorker: notebooks seed torch globally."""
        return self._rng is not None

    @own_rng.setter
    def own_rng(self, value: bool) -> None:
        if value and self._rng is None:
            self._rng = commands.GeneratorState(secrets.randbits(63))
        elif not value:
            self._rng = None

    def manual_seed(self, seed: int) -> "BaseWorker":
        """Seed this worker's own generator (for a worker with ``own_rng``; the process's
        generator is torch.manual_seed's)."""
        if self._rng is None:
            raise ValueError(f"{self.id} draws from torch's global generator (own_rng is off); "
                             "use torch.manual_seed")
        self._rng = commands.GeneratorState(seed)
        return self

    @property
    def remote(self) -> "RemoteFrameworks":
        """``bob.remote.torch.zeros(2, 3)``: make a tensor directly on this worker."""
        return RemoteFrameworks(self)

    # --- serving: bytes in, bytes out ----------------------------------------------------
    # A request is [kind, ids of dead pointers' objects to delete first, *fields of the kind].
    def recv_msg(self, data: bytes) -> bytes:
        serving = commands._serving  # this worker's limits and generator, for this thread's ops
        previous, serving.worker = serving.worker, self  # (commands.serving, inlined)
        try:
            resolver = _Resolver(self)
            message = codec.decode(data, resolver)
            if type(message) is not list or len(message) < 2 or type(message[1]) is not list:
                raise MalformedMessageError("a message must be a list: [kind, ids to delete, ...]")
            kind = message[0]
            handler = self._handlers.get(kind) if type(kind) is str else None
            if handler is None:
                raise MalformedMessageError(f"unknown message kind {commands.short_repr(kind)}")
            if message[1]:
                if len(message[1]) > self.MAX_DELETES:
                    raise MalformedMessageError(
                        f"a request deletes at most {self.MAX_DELETES:,} objects; this one lists "
                        f"{len(message[1]):,} (MAX_DELETES)")
                self._housekeeping(message[1])
            reply = handler(message[2:], resolver.inputs)
            if kind == "get" or kind == "get_all":
                self.traffic["bytes_got"] += len(reply)
        except Exception as e:  # reported to the caller, never raised in the worker
            reply = codec.encode_error_reply(type(e).__name__, error_text(e, self.MAX_ERROR_CHARS))
        finally:
            serving.worker = previous
        traffic = self.traffic
        traffic["messages"] += 1
        traffic["bytes_in"] += len(data) if isinstance(data, (bytes, bytearray)) else 0
        traffic["bytes_out"] += len(reply)
        return reply

    def _housekeeping(self, items: list) -> None:
        """Deletes (ids) and grad clears ([id]) that rode along with a request; unknown ids
        are ignored, as a delete of something already gone is."""
        clears = [i[0] for i in items if type(i) is list and len(i) == 1]
        for obj_id in clears:
            obj = self._store.objects.get(obj_id) if type(obj_id) is int else None
            if isinstance(obj, torch.Tensor):  # a pointer passes the clear on down its chain
                obj.grad = None
        self._store.discard(items)

    def _check_size(self, t: torch.Tensor) -> None:
        if t.numel() > self.MAX_TENSOR_NUMEL:
            raise ResourceLimitError(
                f"a tensor of {t.numel():,} elements; this worker keeps at most "
                f"{self.MAX_TENSOR_NUMEL:,} in a tensor (MAX_TENSOR_NUMEL)")

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
        _check(len(fields) in (2, 4) and (type(fields[0]) is torch.Tensor or type(fields[0]) is PointerDesc),
               "store needs a tensor (or a pointer) and an id, then maybe tags and a description")
        value, obj_id = fields[:2]
        if type(value) is torch.Tensor:
            self._check_size(value)
        labels, description = fields[2:] if len(fields) == 4 else ([], None)
        _check(type(labels) is list, "store's tags must be a list")
        labels = tags.check_tags(labels)  # checked before anything is kept
        if description is not None:
            tags.check_description(description)
        if type(obj_id) is not int or obj_id <= 0 or obj_id in self._store:
            obj_id = self._fresh_id()  # never overwrite a tensor some other pointer names
        if type(value) is PointerDesc:  # a pointer sent on: this worker now owns a pointer to it
            location = get_worker(value.location_id)
            if location is self:
                raise ValueError(f"the tensor is on {self.id} already; it keeps no pointers to "
                                 "its own objects (use .get() or .remote_get() instead)")
            if location.is_client_worker:
                raise ValueError(f"{location.id} is a client worker and stores nothing to point to")
            value = PointerTensor(location, value.id_at_location, value.shape, value.dtype,
                                  value.requires_grad, owner=self, id=obj_id)
            value._grad_cacheable = False  # whoever holds the other links may change the grad
        if labels or description is not None:
            tags.set_tags(value, labels, description)
        self._store.set(obj_id, value)
        return codec.encode_pointer_reply(obj_id, value)

    def _on_get(self, fields: list, inputs) -> bytes:
        _check(len(fields) == 1 and type(fields[0]) is int, "get needs an id")
        obj = self._store.objects.get(fields[0])
        if obj is None:
            raise self._not_found(fields[0])
        if isinstance(obj, PointerTensor):  # a pointer goes home as a pointer, with its own id
            reply = codec.encode_value_reply(PointerDesc.of(obj))
            obj.garbage_collect_data = False  # what it names now belongs to the new pointer
        elif not isinstance(obj, torch.Tensor):  # a plan
            reply = plan_serving.get_reply(obj)
        elif tags.tags_of(obj) or tags.description_of(obj) is not None:  # they come home too
            reply = codec.encode_value_reply([obj, tags.tags_of(obj), tags.description_of(obj)])
        else:
            reply = codec.encode_tensor_reply(obj)
        self._store.pop(fields[0])  # only once the reply exists: a failed get loses nothing
        return reply

    def _on_get_all(self, fields: list, inputs) -> bytes:
        _check(len(fields) == 1 and type(fields[0]) is list, "get_all needs a list of ids")
        ids = fields[0]
        objs = [self._store.objects.get(i) if type(i) is int else None for i in ids]
        for i, obj in zip(ids, objs):
            if obj is None:
                raise self._not_found(i)
            _check(type(obj) is torch.Tensor or (isinstance(obj, torch.Tensor) and not isinstance(obj, PointerTensor)),
                   "get_all brings home tensors, not pointers or plans")
        reply = codec.encode_value_reply(objs)
        self._store.discard(ids)  # only once the reply exists
        return reply

    def _on_store_all(self, fields: list, inputs) -> bytes:
        """Many tensors in one request (a model's parameters); replies with their descriptions."""
        _check(len(fields) == 2 and type(fields[0]) is list and type(fields[1]) is list
               and len(fields[0]) == len(fields[1]), "store_all needs a list of tensors and of ids")
        for t in fields[0]:
            _check(type(t) is torch.Tensor, "store_all stores tensors only")
            self._check_size(t)
        metas = []
        for tensor, obj_id in zip(*fields):
            if type(obj_id) is not int or obj_id <= 0 or obj_id in self._store:
                obj_id = self._fresh_id()
            self._store.set(obj_id, tensor)
            metas.append(Meta(obj_id, tensor.shape, tensor.dtype, tensor.requires_grad))
        return codec.encode_value_reply(metas)

    def _on_attr(self, fields: list, inputs) -> bytes:
        """Describe an attribute of a stored tensor (.grad, .data), or None if it has none."""
        _check(len(fields) == 2 and type(fields[0]) is int
               and fields[1] in (*codec.POINTER_ATTRIBUTES, "grad_fn"),
               "attr needs an id and grad, data or grad_fn")
        obj = self._store.objects.get(fields[0])
        if obj is None:
            raise self._not_found(fields[0])
        value = getattr(obj, fields[1])
        if fields[1] == "grad_fn":  # only its name leaves the worker
            return codec.encode_value_reply(None if value is None else type(value).__name__)
        if value is None:
            return codec.encode_value_reply(None)
        return codec.encode_value_reply([list(value.shape), value.dtype])

    def _on_optim_step(self, fields: list, inputs) -> bytes:
        new_states = optim.serve_step(self, fields, inputs)
        stored: List[int] = []
        try:
            described = [[{key: (value.item() if key == "step" and type(value) is torch.Tensor
                                  else self._describe(value, inputs, stored))  # a count: a number
                           for key, value in state.items()}
                          for state in group] for group in new_states]
            return codec.encode_value_reply(described)
        except Exception:
            self._store.discard(stored)
            raise

    # A batch of at most this many rows is made in one message (a million indices is 8 MB).
    MAX_BATCH_ROWS = 1_000_000

    def _on_batch(self, fields: list, inputs) -> bytes:
        """The rows of data and targets at the given indices, kept here as two new tensors."""
        _check(len(fields) == 3 and type(fields[2]) is list and len(fields[2]) <= self.MAX_BATCH_ROWS,
               "batch needs data, targets and a list of row indices")
        data, targets, indices = fields
        for t in (data, targets):
            _check(isinstance(t, torch.Tensor) and not isinstance(t, PointerTensor) and t.dim() > 0,
                   "batch takes rows of stored tensors")
        _check(all(type(i) is int for i in indices), "batch indices must be ints")
        for t in (data, targets):
            # a batch is at most the whole dataset: no request can make the worker allocate more
            if len(indices) > t.shape[0]:
                raise ValueError(f"a batch of {len(indices)} rows from {t.shape[0]} rows")
        rows = torch.tensor(indices, dtype=torch.long)
        for t in (data, targets):
            if len(indices) and (int(rows.min()) < 0 or int(rows.max()) >= t.shape[0]):
                raise IndexError(f"a batch index is out of range for {t.shape[0]} rows")
        stored: List[int] = []
        try:
            pair = [self._describe(t.index_select(0, rows), [], stored) for t in (data, targets)]
            return codec.encode_value_reply(pair)
        except Exception:
            self._store.discard(stored)
            raise

    def search(self, query: Any) -> List[Any]:
        """This worker's own objects whose tags include every term of the query (or the one
        object a term names by id), as PySyft's ``worker.search`` gave them."""
        return [obj for _, obj in tags.search(self.store.objects, query)]

    def _on_search(self, fields: list, inputs) -> bytes:
        _check(len(fields) == 1, "search needs a query")
        entries = []
        for obj_id, obj in tags.search(self._store.objects, fields[0]):
            if isinstance(obj, torch.Tensor):
                entries.append([obj_id, obj.dtype, list(obj.shape), bool(obj.requires_grad),
                                tags.tags_of(obj), tags.description_of(obj)])
            else:  # a plan or a protocol
                entries.append(plan_serving.search_entry(obj_id, obj))
        return codec.encode_value_reply(entries)

    def _take(self, obj_id: Any) -> Any:
        _check(type(obj_id) is int, "an object id must be an int")
        obj = self._store.objects.get(obj_id)
        if obj is None:
            raise self._not_found(obj_id)
        return obj

    def _pass_on(self, obj: Any, obj_id: int, destination_id: Any) -> int:
        """Send a stored object (tensor or pointer) to another worker, straight from here;
        returns its id there. Our copy stays until the caller drops it."""
        destination = get_worker(destination_id)
        if destination is self:
            raise ValueError(f"the object is already on {self.id}")
        value = PointerDesc.of(obj) if isinstance(obj, PointerTensor) else obj
        labels, description = tags.tags_of(obj), tags.description_of(obj)
        extra = [labels, description] if labels or description is not None else []
        ptr = self._request(destination, "store", [value, obj_id, *extra])
        ptr.garbage_collect_data = False  # the caller's pointer will name it, not this one
        if isinstance(obj, PointerTensor):
            obj.garbage_collect_data = False  # the copy at the destination now owns the chain
        return ptr._id_at_location

    def _on_move(self, fields: list, inputs) -> bytes:
        _check(len(fields) == 2, "move needs an id and a worker id")
        obj = self._take(fields[0])
        new_id = self._pass_on(obj, fields[0], fields[1])
        self._store.pop(fields[0])
        return codec.encode_value_reply(new_id)

    def _on_remote_send(self, fields: list, inputs) -> bytes:
        _check(len(fields) == 2, "remote_send needs an id and a worker id")
        obj = self._take(fields[0])
        new_id = self._pass_on(obj, fields[0], fields[1])
        ptr = PointerTensor(get_worker(fields[1]), new_id, obj.shape, obj.dtype,
                            obj.requires_grad, owner=self, id=fields[0])
        self._store.set(fields[0], ptr)  # replaces the tensor: a chain me -> self -> destination
        return codec.encode_value_reply(None)

    def _on_remote_get(self, fields: list, inputs) -> bytes:
        _check(len(fields) == 1, "remote_get needs an id")
        obj = self._take(fields[0])
        if not isinstance(obj, PointerTensor):
            raise ValueError(f"object {fields[0]} on {self.id} is not a pointer: nothing to fetch from elsewhere")
        tensor = obj.get()
        self._store.set(fields[0], tensor)
        return codec.encode_value_reply(tensor.requires_grad)

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
        """Store the tensors of a result; replace them by their Meta for the reply. A result
        that is one of the request's inputs (an in-place op) is named by its position there,
        as a negative id: -1 for the first input, -2 for the second, ..."""
        if isinstance(result, torch.Tensor):
            for index in range(len(inputs) - 1, -1, -1):  # from the end: out= comes last
                if inputs[index][0] is result:  # nothing new to store
                    obj_id = -index - 1
                    break
            else:
                _check_storable(result)
                obj_id = self._fresh_id()
                if isinstance(result, PointerTensor):
                    result._id = obj_id  # a pointer a worker keeps is known by its key there
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
                 pointers: Optional[List[PointerTensor]] = None, quiet: bool = False) -> Any:
        if location._removed:
            raise WorkerNotFoundError(f"worker {location.id!r} was removed; its tensors are gone")
        deletes = self._pending_deletes.pop(location, None) or []
        if len(deletes) > self._DELETES_PER_REQUEST:  # the rest ride on the next request
            self._pending_deletes[location] = deletes[self._DELETES_PER_REQUEST:]
            deletes = deletes[:self._DELETES_PER_REQUEST]
        self._requests[location] = self._requests.get(location, 0) + 1
        try:
            if location.uses_frames:  # large tensors travel as frames of their own, not copied in
                with codec.collect_frames() as frames:
                    request = codec.encode([kind, deletes, *fields])
                reply_bytes, reply_frames = location.recv_frames(request, frames)
                with codec.provide_frames(reply_frames):
                    ok, value = codec.decode_reply(reply_bytes, _PointerMaker(self, location, pointers, quiet))
            else:
                request = codec.encode([kind, deletes, *fields])
                reply_bytes = self._transport(location, request)
                ok, value = codec.decode_reply(reply_bytes, _PointerMaker(self, location, pointers, quiet))
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
        labels, description = tags.tags_of(tensor), tags.description_of(tensor)
        if labels or description is not None:  # they travel with the tensor
            ptr = self._request(location, "store", [tensor, tensor.id, labels, description])
            tags.set_tags(ptr, labels, description)
        else:
            ptr = self._request(location, "store", [tensor, tensor.id])
        ptr.garbage_collect_data = garbage_collect_data
        return ptr

    def make_batch(self, data: PointerTensor, targets: PointerTensor, indices: List[int]):
        """Pointers to the rows of data and targets at indices, made on their worker."""
        for ptr in (data, targets):
            if not isinstance(ptr, PointerTensor):
                raise TypeError("a federated batch is made of pointers to a worker's data")
            ptr.check_live()
        if targets._location is not data._location:
            raise TensorsNotCollocatedException(
                f"the data is on {data._location.id} but its targets are on {targets._location.id}")
        pair = self._request(data._location, "batch", [data, targets, list(indices)], [data, targets])
        return pair[0], pair[1]

    def request_search(self, query: Any, location: "BaseWorker") -> List[PointerTensor]:
        """Pointers to location's objects that match the query. They do not delete what they
        name when they go: the objects are someone else's (as in PySyft)."""
        query = tags.check_query(query)
        found = self._request(location, "search", [query])
        pointers = []
        for entry in found:
            if type(entry) is list and entry and type(entry[0]) is str:  # a plan or a protocol
                pointers.append(plan_serving.pointer_from_search(self, location, entry))
                continue
            if (type(entry) is not list or len(entry) != 6 or type(entry[0]) is not int
                    or not isinstance(entry[1], torch.dtype) or type(entry[2]) is not list):
                raise MalformedMessageError("a search result has the wrong layout")
            obj_id, dtype, shape, requires_grad, labels, description = entry
            ptr = PointerTensor(location, obj_id, shape, dtype, requires_grad is True, owner=self,
                                garbage_collect_data=False)
            tags.set_tags(ptr, labels if type(labels) is list else [],
                          description if type(description) is str else None)
            pointers.append(ptr)
        return pointers

    def fetch(self, location: "BaseWorker", obj_id: int) -> torch.Tensor:
        value = self._request(location, "get", [obj_id])
        if type(value) is list:  # a tagged tensor: [tensor, tags, description]
            if len(value) != 3 or not isinstance(value[0], torch.Tensor) or type(value[1]) is not list:
                raise MalformedMessageError("a tagged get reply has the wrong layout")
            tensor, labels, description = value
            tags.set_tags(tensor, labels, description if type(description) is str else None)
            return tensor
        return value

    def send_tensors(self, tensors: List[torch.Tensor], location: "BaseWorker") -> List[PointerTensor]:
        """Send several tensors in one request (a model's parameters). The pointers are made
        without telling views: a model swaps them into its own Parameter objects first."""
        pointers = self._request(location, "store_all", [list(tensors), [t.id for t in tensors]],
                                 quiet=True)
        for t, ptr in zip(tensors, pointers):  # the grads went along: known until the next request
            ptr._grad_known = (self._grad_epoch(location),
                               t.requires_grad and t.is_leaf and t.grad is not None)
        return pointers

    def _grad_epoch(self, location: "BaseWorker") -> tuple:
        """What a cached answer to "has this remote tensor a grad?" is valid for: the same
        worker, no request sent to it since, and its objects not cleared since. Pointers that
        were sent on (others may reach the tensor through them) are never cached."""
        return (location, self._requests.get(location, 0), location._generation)

    def clear_grad_later(self, ptr: PointerTensor) -> None:
        """``ptr.grad = None`` (what zero_grad does): queued to ride on the next request."""
        self._pending_deletes.setdefault(ptr._location, []).append([ptr._id_at_location])
        ptr._grad_known = (self._grad_epoch(ptr._location), False)

    def optimizer_step(self, location: "BaseWorker", name: str, groups: list, known: list) -> list:
        """One optimizer step over the parameters on location; returns their new states."""
        return self._request(location, "optim_step", [name, groups], known)

    def fetch_all(self, location: "BaseWorker", ids: List[int]) -> List[torch.Tensor]:
        """Bring several tensors home in one request; none leaves unless all can."""
        return self._request(location, "get_all", [list(ids)])

    def restore(self, ptrs: List[PointerTensor], values: list) -> None:
        """Undo .get() on pointers to one worker after a later step failed: the values go back
        under their old ids and the pointers are live again."""
        if not ptrs:
            return
        location = ptrs[0]._location
        for ptr, value in zip(ptrs, values):
            if isinstance(value, PointerTensor):  # the inner link of a chain goes back as such
                value.garbage_collect_data = False
                value = PointerDesc.of(value)
            stored = self._request(location, "store", [value, ptr._id_at_location], quiet=True)
            stored.garbage_collect_data = False  # ptr owns it again, not this temporary
            ptr._id_at_location = stored._id_at_location
            ptr._set_state("live")

    def send_pointer(self, ptr: PointerTensor, location: "BaseWorker") -> PointerTensor:
        """x_ptr.send(alice): alice keeps a pointer of her own to what x_ptr names."""
        if not ptr.garbage_collect_data:
            raise ValueError(
                f"{ptr!r} does not own its tensor (it came from a search, or was sent on "
                "already), so it cannot hand it on: alice's pointer would delete it. Use "
                ".copy().send(...) to chain a copy")
        new = self._request(location, "store", [PointerDesc.of(ptr), ptr._id])
        ptr.garbage_collect_data = False  # alice's pointer owns the remote tensor now
        ptr._grad_known = ptr._grad_pointer = None
        ptr._grad_cacheable = new._grad_cacheable = False  # others reach the grad too
        new._may_chain = True
        return new

    def move(self, location: "BaseWorker", obj_id: int, destination: "BaseWorker") -> int:
        if destination._removed:
            raise WorkerNotFoundError(f"worker {destination.id!r} was removed; nothing was moved")
        return self._request(location, "move", [obj_id, destination.id])

    def remote_send(self, location: "BaseWorker", obj_id: int, destination: "BaseWorker") -> None:
        self._request(location, "remote_send", [obj_id, destination.id])

    def remote_get(self, ptr: PointerTensor) -> None:
        ptr._requires_grad = self._request(ptr._location, "remote_get", [ptr._id_at_location]) is True

    def attribute_pointer(self, ptr: PointerTensor, attr: str) -> Optional[PointerTensor]:
        """ptr.grad / ptr.data: a pointer naming that attribute of ptr's remote tensor, or None
        when the attribute is None there (a tensor with no grad yet)."""
        if ptr._point_to_attr:  # x.grad.data: the worker keeps it as a tensor of its own
            return self.run(ptr._location, f"Tensor.{attr}.__get__", [ptr], {}, [ptr])
        if attr == "grad" and ptr._grad_cacheable:
            known = ptr._grad_known
            if known is not None and known[0] == self._grad_epoch(ptr._location):
                if not known[1]:
                    return None
                cached = ptr._grad_pointer  # attribute pointers hold nothing: reuse the last one
                if cached is not None and cached._state == "live":
                    return cached
                ptr._grad_pointer = self._attribute_pointer(ptr, attr, ptr.shape, ptr.dtype)
                return ptr._grad_pointer
        described = self._request(ptr._location, "attr", [ptr._id_at_location, attr])
        if attr == "grad" and ptr._grad_cacheable:
            ptr._grad_known = (self._grad_epoch(ptr._location), described is not None)
        if described is None:
            return None
        if (type(described) is not list or len(described) != 2
                or not isinstance(described[1], torch.dtype) or type(described[0]) is not list
                or not all(type(d) is int and d >= 0 for d in described[0])):
            raise MalformedMessageError("an attribute reply must be [shape, dtype]")
        return self._attribute_pointer(ptr, attr, described[0], described[1])

    def remote_grad_fn(self, ptr: PointerTensor) -> Optional["RemoteGradFn"]:
        name = self._request(ptr._location, "attr", [ptr._id_at_location, "grad_fn"])
        if name is None:
            return None
        if type(name) is not str:
            raise MalformedMessageError("a grad_fn reply must be a name")
        return RemoteGradFn(name, ptr._location.id)

    def _attribute_pointer(self, ptr: PointerTensor, attr: str, shape, dtype) -> PointerTensor:
        """A pointer to an attribute owns nothing: it never deletes what it names."""
        attr_ptr = PointerTensor(ptr._location, ptr._id_at_location, shape, dtype, False,
                                 owner=self, garbage_collect_data=False, notify=False)
        attr_ptr._point_to_attr = attr
        if self._pointer_listeners:
            self._notify_pointer("created", attr_ptr)
        return attr_ptr

    # Dead pointers' ids wait here and ride along with the next request to their worker, so a
    # pointer's death costs no round trip of its own. Reading a worker's objects flushes them.
    # A request carries at most _DELETES_PER_REQUEST of them, well below a worker's MAX_DELETES.
    _MAX_PENDING_DELETES = 1000
    _DELETES_PER_REQUEST = 4000

    def delete_remote(self, location: "BaseWorker", ids: List[int], now: bool = False) -> None:
        if location._removed:
            return  # its objects went with it
        queue = self._pending_deletes.setdefault(location, [])
        queue.extend(ids)
        if now or len(queue) >= self._MAX_PENDING_DELETES:
            self.flush_deletes(location)

    def flush_deletes(self, location: "BaseWorker") -> None:
        while self._pending_deletes.get(location):  # each request takes a batch of them
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

    def attr_ref(self, obj_id: int, attr: str) -> Any:
        obj = self.objects.get(obj_id)
        if obj is None:
            raise self.worker._not_found(obj_id)
        value = getattr(obj, attr)  # grad or data: the codec lets no other name through
        if value is None:
            raise ValueError(f"object {obj_id} on {self.worker.id} has no {attr}")
        self.inputs.append((value, obj_id))
        return value

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

    __slots__ = ("owner", "location", "inputs", "notify")

    def __init__(self, owner: BaseWorker, location: BaseWorker, inputs, quiet: bool = False) -> None:
        self.owner, self.location, self.inputs, self.depth = owner, location, inputs, 0
        self.notify = not quiet

    def meta(self, meta: Meta) -> PointerTensor:
        return self.pointer(meta.id, meta.shape, meta.dtype, meta.requires_grad)

    def pointer(self, obj_id: int, shape, dtype: torch.dtype, requires_grad: bool) -> PointerTensor:
        if obj_id < 0:  # an in-place op handed back one of our inputs, named by its position
            index = -obj_id - 1
            if not self.inputs or index >= len(self.inputs):
                raise MalformedMessageError(f"the reply names input {index}, which was not sent")
            ptr = self.inputs[index]
            ptr._requires_grad = requires_grad
            return ptr
        ptr = PointerTensor(self.location, obj_id, shape, dtype, requires_grad, owner=self.owner,
                            notify=self.notify)
        if self.inputs:  # a result computed through a chain is a chain too
            for p in self.inputs:
                if p._may_chain:
                    ptr._may_chain = True
                    ptr._grad_cacheable = False
                    break
        return ptr

    def pointer_desc(self, desc: PointerDesc) -> PointerTensor:
        """A pointer that came home from a worker (the inner link of a chain), with its old id."""
        if get_worker(desc.location_id) is self.owner:
            raise MalformedMessageError(f"a pointer to {self.owner.id}'s own object came back")
        ptr = PointerTensor(get_worker(desc.location_id), desc.id_at_location, desc.shape,
                            desc.dtype, desc.requires_grad, owner=self.owner, id=desc.id)
        if desc.is_param:
            from ..nn import ParameterPointer
            ptr.__class__ = ParameterPointer
        ptr._grad_cacheable = False  # the inner link of a chain
        ptr._may_chain = True
        return ptr


def collect_garbage(location: BaseWorker) -> None:
    """Deliver every queued delete in this process. A delete can free a pointer that a worker
    held (a chain), which queues the next delete down the chain; so repeat until none is left."""
    for _ in range(64):  # a chain longer than this is flushed on the next read
        pending = [(worker, loc) for worker in list(_WORKERS.values())
                   for loc, ids in list(worker._pending_deletes.items()) if ids]
        if not pending:
            return
        for worker, loc in pending:
            worker.flush_deletes(loc)


class RemoteGradFn:
    """What ``ptr.grad_fn`` gives: the name of the remote tensor's autograd node (the node
    itself stays on the worker with its graph)."""

    __slots__ = ("name", "location_id")

    def __init__(self, name: str, location_id: Any) -> None:
        self.name, self.location_id = name, location_id

    def __repr__(self) -> str:
        return f"<{self.name} on {self.location_id}>"


class RemoteFrameworks:
    """``bob.remote``: what can be called on bob by name; only ``torch`` for now."""

    def __init__(self, worker: BaseWorker) -> None:
        self.torch = RemoteNamespace(worker, "torch")


class RemoteNamespace:
    """``bob.remote.torch``: tensor factories run on bob, e.g. ``bob.remote.torch.zeros(2, 3)``."""

    def __init__(self, worker: BaseWorker, prefix: str) -> None:
        self._worker, self._prefix = worker, prefix

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        full = f"{self._prefix}.{name}"
        if not callable(getattr(torch, name, None)):
            raise AttributeError(f"torch has no function {name!r} to run on {self._worker.id}")

        def call(*args, **kwargs):
            import jupyter_syft
            from ..pointers import _scan

            pointers: List[torch.Tensor] = []
            local: List[torch.Tensor] = []
            _scan(args, pointers, local)
            _scan(kwargs.values(), pointers, local)
            for ptr in pointers:
                ptr.check_live()
                if ptr._location is not self._worker:
                    raise TensorsNotCollocatedException(
                        f"{full} runs on {self._worker.id}, but {ptr!r} is on {ptr._location.id}")
            return jupyter_syft.local_worker.run(self._worker, full, args, kwargs, pointers)

        call.__name__ = name
        return call


_unpack_id = codec._ID.unpack


def _check_storable(t: torch.Tensor) -> None:
    """A worker keeps only dense CPU tensors: what its codec can send back and its views show."""
    if t.layout is not torch.strided or not t.is_cpu:
        raise UnsupportedTypeError(
            f"the result is a {t.layout} tensor on {t.device}; a worker keeps only dense CPU tensors")


def error_text(error: BaseException, limit: int) -> str:
    """An exception's message for an error reply: argument values torch may have printed in it
    (tensor reprs) left out, and cut to at most ``limit`` characters."""
    try:
        text = str(error)
    except Exception:  # a message that cannot even be made
        return f"({type(error).__name__} without a readable message)"
    if type(text) is not str:
        return f"({type(error).__name__} without a readable message)"
    text = _without_tensor_reprs(text[:100 * limit])
    if len(text) > limit:
        text = text[:limit - 40].rstrip() + f" ... [cut at {limit:,} characters]"
    return text


def _without_tensor_reprs(text: str) -> str:
    """Replace every ``tensor(...)`` (with its nested brackets) by ``tensor(...)``."""
    if "tensor(" not in text:
        return text
    out, i = [], 0
    while True:
        start = text.find("tensor(", i)
        if start < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:start] + "tensor(...)")
        depth, j = 0, start + len("tensor")
        while j < len(text):
            if text[j] in "([{":
                depth += 1
            elif text[j] in ")]}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        i = j + 1


def _rebuild_error(type_name: Any, message: Any) -> Exception:
    cls = _ERROR_TYPES.get(type_name)
    if cls is None:
        return RuntimeError(f"{type_name}: {message}")
    if cls is KeyError:
        return RuntimeError(f"KeyError: {message}")
    return cls(message)
