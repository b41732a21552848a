"""The worker's side of plans: store one (after every check), run one in a single request,
hand one back, and say what it is in search results and views."""
from typing import Any, List

import torch

from .. import codec, tags
from ..exceptions import MalformedMessageError
from . import execute
from .plan import PointerPlan
from .protocol import StoredProtocol, read_protocol, run_chain
from .record import PlanRecord
from .validate import read_plan


def on_store_plan(worker, fields: list, inputs) -> bytes:
    if len(fields) != 4 or type(fields[0]) is not bytes or type(fields[2]) is not list:
        raise MalformedMessageError("store_plan needs the plan's bytes, an id, tags and a description")
    labels = tags.check_tags(fields[2])
    description = tags.check_description(fields[3]) if fields[3] is not None else None
    record = read_plan(fields[0])  # refused here, before anything is kept
    return codec.encode_value_reply(keep(worker, record, fields[1], labels, description))


def keep(worker, obj: Any, obj_id: Any, labels: List[str], description) -> int:
    """Store a plan or protocol under the id asked for, or a fresh one if that is taken (never
    overwrite what another pointer names); returns the id."""
    if type(obj_id) is not int or obj_id <= 0 or obj_id in worker._store:
        obj_id = worker._fresh_id()
    obj.id, obj.owner_id = obj_id, worker.id
    if labels:
        obj.__dict__["_syft_tags"] = list(labels)
    if description is not None:
        obj.__dict__["_syft_description"] = description
    worker._store.set(obj_id, obj)
    return obj_id


def on_run_plan(worker, fields: list, inputs) -> bytes:
    if len(fields) != 2 or type(fields[1]) is not list:
        raise MalformedMessageError("run_plan needs a plan id and a list of arguments")
    plan = worker._store.objects.get(fields[0]) if type(fields[0]) is int else None
    if not isinstance(plan, PlanRecord):
        raise worker._not_found(fields[0]) if plan is None else TypeError(
            f"object {fields[0]} on {worker.id} is not a plan")
    result = _unshared(execute.run(plan, fields[1]), plan)
    stored: List[int] = []
    try:
        return codec.encode_value_reply(worker._describe(result, inputs, stored))
    except Exception:
        worker._store.discard(stored)
        raise


def _storages(value: Any, found: set) -> set:
    if isinstance(value, torch.Tensor):
        found.add(value.untyped_storage().data_ptr())
    elif isinstance(value, (list, tuple, dict)):
        for v in (value.values() if isinstance(value, dict) else value):
            _storages(v, found)
    return found


def _unshared(result: Any, plan: PlanRecord) -> Any:
    """A result that shares memory with the plan's state or constants is copied: otherwise the
    caller's pointer to it could change the plan for everyone who calls it later."""
    tensors = []
    _collect(result, tensors)
    if not tensors:
        return result
    shared = plan.__dict__.get("_shared_storages")
    if shared is None:  # found once: a stored plan's state and constants keep their memory
        shared = _storages(plan.state, set())
        for step in plan.steps:
            _storages(step.args, shared)
            _storages(step.kwargs, shared)
        plan.__dict__["_shared_storages"] = shared
    if not any(t.untyped_storage().data_ptr() in shared for t in tensors):
        return result
    return _copy_shared(result, shared)


def _collect(value: Any, into: list) -> None:
    if isinstance(value, torch.Tensor):
        into.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _collect(v, into)


def _copy_shared(value: Any, shared: set) -> Any:
    if isinstance(value, torch.Tensor):
        return value.clone() if value.untyped_storage().data_ptr() in shared else value
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_shared(v, shared) for v in value)
    return value


def on_store_protocol(worker, fields: list, inputs) -> bytes:
    if len(fields) != 4 or type(fields[0]) is not bytes or type(fields[2]) is not list:
        raise MalformedMessageError("store_protocol needs its bytes, an id, tags and a description")
    labels = tags.check_tags(fields[2])
    description = tags.check_description(fields[3]) if fields[3] is not None else None
    stored = read_protocol(fields[0])
    return codec.encode_value_reply(keep(worker, stored, fields[1], labels, description))


def on_run_protocol(worker, fields: list, inputs) -> bytes:
    """Run a deployed protocol from here: this worker sends, runs and moves, as the notebook
    would; the lines it would have printed go back in the reply."""
    from ..workers import get_worker

    if len(fields) != 2 or type(fields[1]) is not list:
        raise MalformedMessageError("run_protocol needs a protocol id and a list of arguments")
    stored = worker._store.objects.get(fields[0]) if type(fields[0]) is int else None
    if not isinstance(stored, StoredProtocol):
        raise worker._not_found(fields[0]) if stored is None else TypeError(
            f"object {fields[0]} on {worker.id} is not a protocol")
    if not stored.resolved:
        raise RuntimeError("Plans have not been allocated to existing workers. Call deploy(*workers) to do so.")
    for arg in fields[1]:
        if not isinstance(arg, torch.Tensor) or hasattr(arg, "_id_at_location"):
            raise TypeError(f"a protocol on {worker.id} runs on tensors {worker.id} holds")
    steps = []
    for _, _, (worker_id, plan_id) in stored.entries:
        location = get_worker(worker_id)
        steps.append((location, PointerPlan(location, plan_id, worker, garbage_collect_data=False)))
    lines: List[str] = []
    result = run_chain(worker, steps, fields[1], lines.append)
    stored_ids: List[int] = []
    try:
        return codec.encode_value_reply([worker._describe(result, [], stored_ids), lines])
    except Exception:
        worker._store.discard(stored_ids)
        raise


def get_reply(obj: Any) -> bytes:
    """What .get() of a stored plan or protocol sends home: its bytes, tags and description."""
    if isinstance(obj, PlanRecord):
        return codec.encode_value_reply(["plan", obj.to_bytes(), tags.tags_of(obj), tags.description_of(obj)])
    if isinstance(obj, StoredProtocol):
        return codec.encode_value_reply(["protocol", obj.to_wire(), tags.tags_of(obj), tags.description_of(obj)])
    raise TypeError(f"a {type(obj).__name__} cannot be brought home")


def search_entry(obj_id: int, obj: Any) -> list:
    if isinstance(obj, PlanRecord):
        return ["plan", obj_id, obj.name]
    return ["protocol", obj_id]


def pointer_from_search(owner, location, entry: list) -> Any:
    """The caller's pointer for a plan (or protocol) a search found; like PySyft's, it does not
    delete what it names when it goes."""
    from .protocol import PointerProtocol

    if len(entry) == 3 and entry[0] == "plan" and type(entry[1]) is int and type(entry[2]) is str:
        return PointerPlan(location, entry[1], owner, garbage_collect_data=False, name=entry[2])
    if len(entry) == 2 and entry[0] == "protocol" and type(entry[1]) is int:
        return PointerProtocol(location, entry[1], owner, garbage_collect_data=False)
    raise MalformedMessageError("a search result has the wrong layout")
