"""Protocols (Part 08 bis): plans assigned to workers and run one after the other, the output of
each moving straight to the next worker.

``Protocol([("worker1", plan1), ...])`` names fictive workers; ``deploy(alice, bob, ...)`` maps
them to real ones and sends each plan there; ``run(x)`` sends x to the first worker, runs its
plan, moves the result on, and so on, printing each move as PySyft did. A protocol sent to a
worker (``protocol.send(james)``) can be found by its tags and run there, or fetched.
"""
from typing import Any, Callable, List, Optional, Sequence, Tuple

import msgpack

from .. import codec, tags as tag_rules
from ..exceptions import InvalidPlanError, MalformedMessageError
from ..ids import new_id
from .plan import Plan, PointerPlan, _local_worker
from .validate import MAX_NAME_CHARS, read_plan

FORMAT_VERSION = 1
MAX_PROTOCOL_PLANS = 64


def _worker_label(worker: Any) -> str:
    return str(getattr(worker, "id", worker))


def _is_worker(value: Any) -> bool:
    from ..workers import BaseWorker

    return isinstance(value, BaseWorker)


class Protocol:
    def __init__(self, plans: Sequence[Tuple[Any, Any]] = None, id: Optional[int] = None,
                 owner=None, tags: Sequence[str] = (), description: Optional[str] = None) -> None:
        self.plans: List[Tuple[Any, Any]] = [tuple(pair) for pair in (plans or [])]
        for worker, plan in self.plans:
            if not isinstance(plan, (Plan, PointerPlan)):
                raise TypeError(f"a protocol pairs workers with plans, not with a {type(plan).__name__}")
        self.id = new_id() if id is None else id
        self._owner = owner
        self.tags: List[str] = tag_rules.check_tags(tags)
        self.description = description
        self.workers_resolved = bool(self.plans) and all(_is_worker(w) for w, _ in self.plans)
        self.location = None
        self._id_at_location: Optional[int] = None

    @property
    def owner(self):
        return self._owner or _local_worker()

    def __repr__(self) -> str:
        text = f"<Protocol id:{self.id} owner:{self.owner.id}{' resolved' if self.workers_resolved else ''}>"
        for worker, plan in self.plans:
            text += f"\n - {_worker_label(worker)}: {plan!r}"
        return text

    __str__ = __repr__

    def tag(self, *new_tags: str) -> "Protocol":
        self.tags = tag_rules.check_tags([*self.tags, *new_tags])
        return self

    def describe(self, description: str) -> "Protocol":
        self.description = tag_rules.check_description(description)
        return self

    # --- deploying and running ---------------------------------------------------------
    def deploy(self, *workers) -> "Protocol":
        """Send each plan to its worker: one worker per plan, or one per fictive worker."""
        from ..workers import get_worker

        if self.workers_resolved:
            raise RuntimeError(f"This protocol is already deployed to "
                               f"{', '.join(_worker_label(w) for w, _ in self.plans)}.")
        workers = [get_worker(w) for w in workers]
        fictive = list(dict.fromkeys(w for w, _ in self.plans))  # in order of first appearance
        if len(workers) == len(self.plans):
            assigned = workers
        elif len(workers) == len(fictive):
            by_name = dict(zip(fictive, workers))
            assigned = [by_name[w] for w, _ in self.plans]
        else:
            raise RuntimeError(f"This protocol is designed for {len(fictive)} workers, but "
                               f"{len(workers)} were provided.")
        for worker, (_, plan) in zip(assigned, self.plans):
            if isinstance(plan, PointerPlan):
                raise RuntimeError(f"{plan!r} is on a worker already; a protocol deploys local plans")
        self.plans = [(w, plan.send(w)) for w, (_, plan) in zip(assigned, self.plans)]
        self.workers_resolved = True
        return self

    def __call__(self, *args):
        return self.run(*args)

    def run(self, *args):
        if not self.workers_resolved:
            raise RuntimeError("Plans have not been allocated to existing workers. "
                               "Call deploy(*workers) to do so.")
        if self.location is not None:
            where = next((a.location for a in args if hasattr(a, "_id_at_location")), self.owner)
            if any(not hasattr(a, "_id_at_location") for a in args):
                where = self.owner
            if where is not self.location:
                raise RuntimeError(f"This protocol has been sent to {self.location.id}, but you "
                                   f"provided local arguments or pointers to {where.id}.")
            print("send remote run request to", self.location.id)
            result, lines = self.owner._request(self.location, "run_protocol",
                                                [self._id_at_location, list(args)], list(args))
            for line in lines if type(lines) is list else ():
                print(line)
            return result
        return run_chain(self.owner, self.plans, args, print)

    def send(self, location) -> None:
        """Keep this protocol on a worker, where others can find it by its tags."""
        from ..workers import get_worker

        location = get_worker(location)
        for _, plan in self.plans:
            if isinstance(plan, PointerPlan):  # the copy on the worker names them now: keep them
                plan.garbage_collect_data = False
        self._id_at_location = self.owner._request(
            location, "store_protocol", [self._to_wire(), self.id, self.tags, self.description])
        self.location = location

    def _to_wire(self) -> bytes:
        entries = []
        for worker, plan in self.plans:
            if isinstance(plan, PointerPlan):
                entries.append([_worker_label(worker), "pointer", [plan.location.id, plan.id_at_location]])
            else:
                if not plan.is_built:
                    raise RuntimeError("A plan needs to be built before being sent to a worker.")
                entries.append([_worker_label(worker), "plan", [plan.id, plan._record_for_sending().to_bytes()]])
        return codec.encode([FORMAT_VERSION, entries])


def run_chain(owner, steps: Sequence[Tuple[Any, PointerPlan]], args: Sequence[Any],
              say: Callable[[str], None]) -> Any:
    """Send the arguments to the first worker, run its plan, move the results on, and so on."""
    previous = None
    values = list(args)
    result = None
    for worker, plan in steps:
        if previous is not None and previous is not worker:
            say(f"move {previous.id}  ->  {worker.id}")
            values = [v.move(worker) for v in values]
        elif previous is None:
            say(f"send {worker.id}")
            values = [_send_from(owner, v, worker) for v in values]
        previous = worker
        result = plan(*values)
        values = list(result) if isinstance(result, tuple) else [result]
    return result


def _send_from(owner, value: Any, worker) -> Any:
    if hasattr(value, "_id_at_location"):  # the caller's data stays where it is: a copy travels
        return value.copy() if value.location is worker else value.copy().move(worker)
    return owner.send_tensor(value, worker)


class StoredProtocol:
    """A protocol as a worker keeps it: plans (checked) or references to deployed ones."""

    id: Optional[int] = None
    owner_id: Any = None

    def __init__(self, entries: List[Tuple[str, str, Any]]) -> None:
        self.entries = entries  # (slot, "plan", (plan id, PlanRecord)) or (slot, "pointer", (worker id, plan id))

    @property
    def resolved(self) -> bool:
        return bool(self.entries) and all(kind == "pointer" for _, kind, _ in self.entries)

    def __repr__(self) -> str:
        text = f"<Protocol id:{self.id} owner:{self.owner_id}{' resolved' if self.resolved else ''}>"
        for slot, kind, value in self.entries:
            shown = (f"[PointerPlan | {self.owner_id}:? -> {value[0]}:{value[1]}]" if kind == "pointer"
                     else repr(value[1]))
            text += f"\n - {slot}: {shown}"
        return text

    def to_wire(self) -> bytes:
        return codec.encode([FORMAT_VERSION, [
            [slot, kind, [value[0], value[1].to_bytes()] if kind == "plan" else list(value)]
            for slot, kind, value in self.entries]])


def read_protocol(data: Any) -> StoredProtocol:
    """bytes -> a checked StoredProtocol (each plan in it checked as any plan is)."""
    if not isinstance(data, (bytes, bytearray)):
        raise InvalidPlanError("a protocol must be bytes")
    try:
        raw = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except (msgpack.UnpackException, ValueError, TypeError, RecursionError) as e:
        raise InvalidPlanError(f"the protocol is malformed: {type(e).__name__}") from None
    if type(raw) is not list or len(raw) != 2 or raw[0] != FORMAT_VERSION or type(raw[1]) is not list:
        raise InvalidPlanError(f"a protocol is [{FORMAT_VERSION}, [entries]]")
    if not raw[1] or len(raw[1]) > MAX_PROTOCOL_PLANS:
        raise InvalidPlanError(f"a protocol holds 1 to {MAX_PROTOCOL_PLANS} plans")
    entries = []
    for i, entry in enumerate(raw[1]):
        where = f"protocol plan {i + 1}"
        if type(entry) is not list or len(entry) != 3 or type(entry[2]) is not list or len(entry[2]) != 2:
            raise InvalidPlanError(f"{where}: an entry is [worker, kind, value]")
        slot, kind, value = entry
        if not _printable_id(slot):
            raise InvalidPlanError(f"{where}: a worker name is printable, at most {MAX_NAME_CHARS} characters")
        if kind == "plan" and type(value[0]) is int and type(value[1]) is bytes:
            entries.append((str(slot), "plan", (value[0], read_plan(value[1]))))
        elif kind == "pointer" and _printable_id(value[0]) and type(value[1]) is int:
            entries.append((str(slot), "pointer", (value[0], value[1])))
        else:
            raise InvalidPlanError(f"{where}: a plan's bytes or a deployed plan's [worker, id]")
    kinds = {kind for _, kind, _ in entries}
    if len(kinds) > 1:
        raise InvalidPlanError("a protocol is either deployed everywhere or nowhere")
    return StoredProtocol(entries)


def _printable_id(value: Any) -> bool:
    """A worker id a protocol may name: an int, or a short printable string (it is printed in
    reprs and errors, so no newlines and no megabytes)."""
    if type(value) is int:
        return True
    return type(value) is str and 0 < len(value) <= MAX_NAME_CHARS and value.isprintable()


def protocol_from_wire(owner, data: bytes, protocol_id: int, labels, description) -> Protocol:
    """A protocol brought home: its plans come back local, labelled with the id of the worker
    now holding them (PySyft showed ` - me: <Plan ...>`), or as pointers if it was deployed."""
    from ..workers import get_worker

    stored = read_protocol(data)
    plans = []
    for slot, kind, value in stored.entries:
        if kind == "plan":
            plan_id, record = value
            plans.append((owner.id, Plan.from_record(record, plan_id)))
        else:
            worker = get_worker(value[0])
            plans.append((worker, PointerPlan(worker, value[1], owner, garbage_collect_data=False)))
    return Protocol(plans, id=protocol_id, owner=owner, tags=labels if type(labels) is list else (),
                    description=description if type(description) is str else None)


class PointerProtocol:
    """A protocol a worker keeps (found by ``request_search``); ``.get()`` brings it home."""

    def __init__(self, location, id_at_location: int, owner, id: Optional[int] = None,
                 garbage_collect_data: bool = True) -> None:
        self.location, self.id_at_location, self.owner = location, id_at_location, owner
        self.id = new_id() if id is None else id
        self.garbage_collect_data = garbage_collect_data
        self._live = True

    def __repr__(self) -> str:
        return f"[PointerProtocol | {self.owner.id}:{self.id} -> {self.location.id}:{self.id_at_location}]"

    def get(self) -> Protocol:
        if not self._live:
            raise RuntimeError(f"{self!r} was brought home with .get() already")
        value = self.owner._request(self.location, "get", [self.id_at_location])
        if type(value) is not list or len(value) != 4 or value[0] != "protocol":
            raise MalformedMessageError("a protocol's get reply has the wrong layout")
        protocol = protocol_from_wire(self.owner, value[1], self.id_at_location, value[2], value[3])
        self._live = False
        return protocol

    def __del__(self) -> None:
        try:
            if self._live and self.garbage_collect_data:
                self._live = False
                self.owner.delete_remote(self.location, [self.id_at_location])
        except Exception:
            pass
