"""Metadata of workers and pointers, as plain dicts: all a view ever holds (no tensors, no pointers).

The dashboard and the side panel share one shape, the *board* (``board_snapshot``)::

    {"version": 3,
     "workers": [{"worker_id": "bob", "count": 3, "gone": False, "more": 0,
                  "traffic": {"messages": 12, "bytes_in": 900, "bytes_out": 400, "bytes_got": 0},
                  "rows": [object rows; a pointer a worker keeps has "pointer": ["bob", id];
                           a plan or a protocol a worker keeps has "kind" (see plan_row, protocol_row)]}],
     "variables": [
        {"name": "x", "kind": "pointer", "type": "PointerTensor", "state": "live", "attr": None,
         "shape": [4], "dtype": "int64", "path": [["me", 1], ["alice", 2], ["bob", 3]], "end": "tensor"},
        {"name": "mp", "kind": "multi", "type": "MultiPointerTensor", "shape": [2], "dtype": "int64",
         "pointers": [{"state": "live", "path": [...], "end": "tensor"}, ...]},
        {"name": "model", "kind": "model", "type": "Linear",
         "params": [{"name": "weight", "state": "live", "shape": [1, 2], "dtype": "float32",
                     "path": [["me", 4], ["bob", 5]], "end": "tensor"}, ...]},
        {"name": "pp", "kind": "plan_pointer", "type": "PointerPlan", "plan": "inc1", "state": "live",
         "path": [["me", 7], ["bob", 8]], "end": "plan"},
        {"name": "protocol", "kind": "protocol", "type": "Protocol", "deployed": True, "at": None,
         "steps": [{"worker": "alice", "plan": "inc1", "state": "live", "path": [["me", 9], ["alice", 10]],
                    "end": "plan"}, ...]}],
     "groups": [{"worker_id": "bob", "name": "model", "type": "Linear",
                 "params": [{"name": "weight", "id": 5}, {"name": "bias", "id": 6}]}],
     "more_variables": 0}

A network worker (a NetworkWorker: its objects live in a server process) is a worker like any
other, with rows from its server's last summary (widgets/remote.py) and one more field::

    "network": {"address": "tcp://127.0.0.1:5555", "status": "ok", "error": "", "requests": 12}

status "ok", "unknown" (not asked yet), "unreachable" or "error" (then no rows); "requests": how
many requests this notebook's code sent it. Its rows may have "private": True (the data owner's
rule: it computes there, it never leaves); their preview then says so instead of values. Its
"traffic" is {} (the bytes are counted in the server process).

A path is where a pointer leads, hop by hop: ``[owner, pointer id]``, then ``[worker, id]`` for
each object it names, following pointers that workers keep (``me -> alice -> bob``). ``end`` says
what the last hop found: "tensor", "missing" (not on that worker), "gone" (the worker was removed),
"fetched"/"deleted" (a pointer on the way was used up), "too long", or on a network worker
"unreachable"/"unknown" (its server did not answer / was not asked yet); a pointer to a plan or a
protocol ends in "plan" or "protocol".

A protocol's ``steps`` are its plans in the order they run: ``protocol.run(x)`` sends x to the first
step's worker, runs its plan there and moves the result on to the next. An undeployed protocol's
steps name fictive workers and have no path; ``at`` is where ``protocol.send(james)`` put it.
Version 2 had no plans or protocols.

Secret sharing (widgets/sharing.py) adds optional fields, so the version stays 3: a row that is a
share has ``"share": {"secret": id, "k": 1, "n": 2, "encoding": "integers"}``, one that a crypto
provider delivered (a comparison's mask) ``"dealt": {"provider": "james", "kind": "comparison",
"part": "r"}``; the board has::

    "shared": [{"id": 33029218810, "shape": [2], "encoding": "integers", "crypto_provider": "james",
                "names": ["x"], "more_names": 0,
                "shares": [{"worker": "bob", "id": 78065190337, "state": "live"}, ...]}],
    "more_shared": 0,
    "providers": {"james": {"triples": 1, "triple_elements": 2, "comparisons": 1, "compared": 2,
                            "parties": ["bob", "alice"]}}

A shared value is not among "variables" (a panel that does not know it draws nothing for it); its
"names" are the notebook names holding it (``model.weight`` for a shared model's parameter). A
provider that dealt something during the running cell (or the cell that just ended) has
``"fresh": True``.
"""
import itertools
from typing import Any, Dict, Iterable, List, Optional, Tuple

import torch
from torch import nn

from ..multi_pointer import MultiPointerTensor
from ..plans.plan import PointerPlan
from ..plans.protocol import PointerProtocol, Protocol, StoredProtocol
from ..plans.record import PlanRecord, code_listing
from ..pointers import LIVE, PointerTensor
from ..tags import tags_of
from . import remote, sharing

PAGE_SIZE = 50  # rows a worker view shows; a worker with 100,000 objects renders its first page
PREVIEW_CHARS = 48
CODE_STEPS = 12  # a plan's listing (a tooltip) shows its first steps only

Hop = List[Any]  # [worker id as str, object id]


def _first_values(t: torch.Tensor, k: int) -> list:
    """The first k values in row-major order, gathered by index: never a copy of the whole
    tensor (flatten() would copy an expanded one, which can be far larger than its storage)."""
    t = t.detach()
    if t.is_contiguous():
        return t.view(-1)[:k].tolist()
    index = torch.unravel_index(torch.arange(min(k, t.numel())), t.shape)
    return t[index].tolist()


def _preview(t: Any) -> str:
    if not isinstance(t, torch.Tensor):
        return type(t).__name__
    try:
        values = _first_values(t, 8) if t.numel() else []
    except Exception:  # a tensor with no readable data (meta, ...): say so, never fail the view
        return "(no data)"
    text = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in values)
    text = f"[{text}{', …' if t.numel() > 8 else ''}]"
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"


def _dtype(t: torch.Tensor) -> str:
    return str(t.dtype).replace("torch.", "")


def pointer_row(obj_id: int, ptr: PointerTensor) -> Dict[str, Any]:
    """A pointer a worker keeps (a link of a chain): from its cached metadata only. Reading its
    values or .grad would send commands to the worker it names."""
    location = str(ptr._location.id)
    return {
        "id": obj_id,
        "dtype": _dtype(ptr),
        "shape": list(ptr.shape),
        "requires_grad": bool(ptr._requires_grad),
        "grad": False,
        "preview": f"→ {location}:{ptr._id_at_location}",
        "tags": [],
        "pointer": [location, ptr._id_at_location],
    }


def _plan_code(record: PlanRecord) -> str:
    """The plan as PySyft printed it (``def inc1(arg_1): ...``), its first CODE_STEPS steps."""
    steps = record.steps
    if len(steps) <= CODE_STEPS:
        return code_listing(record)
    short = PlanRecord(record.name, record.arg_specs, record.state, steps[:CODE_STEPS], None)
    lines = code_listing(short).splitlines()[:-1]  # not its return: the plan goes on
    return "\n".join(lines + [f"    … {len(steps) - CODE_STEPS} more ops"])


def plan_row(obj_id: int, record: PlanRecord) -> Dict[str, Any]:
    """A plan a worker keeps: what it is, not a tensor. A stored plan is always built (a worker
    only ever receives a plan's record, made by building it)."""
    try:
        code = _plan_code(record)
    except Exception:  # a constant that cannot be shown: the rest of the row still can
        code = ""
    return {
        "id": obj_id,
        "kind": "plan",
        "name": str(record.name),
        "ops": len(record.steps),
        "built": True,
        "state": len(record.state),
        "args": [[list(shape), str(dtype).replace("torch.", "")] for shape, dtype in record.arg_specs],
        "code": code,
        "tags": tags_of(record),
    }


def protocol_row(obj_id: int, stored: StoredProtocol) -> Dict[str, Any]:
    """A protocol a worker keeps: its plans in order. Deployed, each step names a plan another
    worker keeps (``at``: [worker, id]); not deployed, the plans travel inside it (``at`` None)."""
    steps = []
    for slot, kind, value in stored.entries:
        if kind == "pointer":
            steps.append({"worker": str(value[0]), "plan": None, "at": [str(value[0]), value[1]]})
        else:
            steps.append({"worker": str(slot), "plan": str(value[1].name), "at": None})
    return {"id": obj_id, "kind": "protocol", "plans": len(steps), "deployed": bool(stored.resolved),
            "steps": steps, "tags": tags_of(stored)}


def object_row(obj_id: int, t: Any) -> Dict[str, Any]:
    try:
        if isinstance(t, PointerTensor):
            return pointer_row(obj_id, t)
        if isinstance(t, PlanRecord):
            return plan_row(obj_id, t)
        if isinstance(t, StoredProtocol):
            return protocol_row(obj_id, t)
        return tensor_row(obj_id, t)
    except Exception:  # an object we cannot read: its type, never a failed view
        return {"id": obj_id, "dtype": type(t).__name__, "shape": [], "requires_grad": False,
                "grad": False, "preview": type(t).__name__, "tags": []}


def tensor_row(obj_id: int, t: Any) -> Dict[str, Any]:
    is_tensor = isinstance(t, torch.Tensor)
    return {
        "id": obj_id,
        "dtype": str(t.dtype).replace("torch.", "") if is_tensor else type(t).__name__,
        "shape": list(t.shape) if is_tensor else [],
        "requires_grad": bool(is_tensor and t.requires_grad),
        "grad": bool(is_tensor and t.is_leaf and t.grad is not None),
        "preview": _preview(t),
        "tags": sorted(str(tag) for tag in (getattr(t, "tags", None) or ())),
    }


def row_targets(row: Dict[str, Any]) -> List[Hop]:
    """The objects on other workers that a row names: a kept pointer's target, or each plan of
    a deployed protocol, in order."""
    if row.get("pointer"):
        return [row["pointer"]]
    if row.get("kind") == "protocol":
        return [s["at"] for s in row["steps"] if s["at"]]
    return []


def worker_snapshot(worker_id: Any, objects: Dict[int, Any], limit: int = PAGE_SIZE) -> Dict[str, Any]:
    """The first `limit` objects of a worker in insertion order, and how many there are; shares
    and what crypto providers delivered say so."""
    rows = [object_row(i, t) for i, t in itertools.islice(objects.items(), limit)]
    return {"worker_id": str(worker_id), "count": len(objects), "rows": sharing.Labels().rows(worker_id, rows),
            "gone": False}


def network_worker_snapshot(worker: Any, limit: int = PAGE_SIZE) -> Dict[str, Any]:
    """A network worker's view: the rows of its server's last summary (no request is sent here)."""
    rows = remote.rows_of(worker)
    return {"worker_id": str(worker.id), "count": len(rows),
            "rows": sharing.Labels().rows(worker.id, rows[:limit]), "gone": False,
            "network": remote.network_info(worker)}


def gone_worker_snapshot(worker_id: Any) -> Dict[str, Any]:
    return {"worker_id": str(worker_id), "count": 0, "rows": [], "gone": True}


def pointer_snapshot(ptr) -> Dict[str, Any]:
    return {
        "id": ptr._id,
        "owner": str(ptr._owner.id),
        "location": str(ptr._location.id),
        "id_at_location": ptr._id_at_location,
        "shape": list(ptr.shape),
        "dtype": _dtype(ptr),
        "state": ptr._state,
    }


# --- the board: workers, the notebook's variables, the chains between them ------------------
BOARD_VERSION = 3
BOARD_ROWS = 20  # objects per worker on the dashboard, besides those a variable or pointer names
MAX_HOPS = 16  # a chain longer than this ends in "too long"
MAX_VARIABLES = 100


def chain(ptr: PointerTensor) -> Tuple[List[Hop], str]:
    """(path, end): where ptr leads, through the pointers that workers keep. Reads the stores
    directly: no message is sent and no pending delete is delivered."""
    owner = ptr._owner
    path: List[Hop] = [[str(owner.id) if owner is not None else "me", ptr._id]]
    hop, seen = ptr, set()
    for _ in range(MAX_HOPS):
        location = hop._location
        if (location, hop._id_at_location) in seen:
            return path, "cycle"
        seen.add((location, hop._id_at_location))
        path.append([str(location.id), hop._id_at_location])
        if hop._state != LIVE:
            return path, hop._state
        if location._removed:
            return path, "gone"
        if remote.is_network(location):  # its server's summary; it keeps no pointers
            end = remote.store_of(location).end(hop._id_at_location)
            if end == "missing" and not hop.garbage_collect_data:
                end = "tensor"  # someone else's object (found by search): the data owner's
            return path, end
        obj = location._store.objects.get(hop._id_at_location)
        if obj is None:
            return path, "missing"
        if not isinstance(obj, PointerTensor):
            return path, "tensor"
        hop = obj
    return path, "too long"


def remote_tensor_ids(value: Any) -> tuple:
    """For a model, which of its tensors are pointers now (``net[0] = remote_fc`` changes this
    without rebinding a name or sending a message); empty for anything else."""
    if not issubclass(type(value), nn.Module):
        return ()
    try:
        return tuple(id(t) for _, t in _module_tensors(value) if isinstance(t, PointerTensor))
    except Exception:  # a module that cannot list its tensors (its __init__ never ran)
        return ()


def _pointer_entry(ptr: PointerTensor) -> Dict[str, Any]:
    path, end = chain(ptr)
    return {"state": ptr._state, "shape": list(ptr.shape), "dtype": _dtype(ptr), "path": path, "end": end}


def _module_tensors(module: nn.Module) -> List[Tuple[str, Any]]:
    return [*module.named_parameters(), *module.named_buffers()]


def _reference(owner: Any, own_id: Any, location: Any, id_at_location: Any, live: bool) -> Dict[str, Any]:
    """Where a plan's, a protocol's or a plan pointer's reference leads: one hop, read from the
    store directly (no message). "end" is what is there: "plan", "protocol", "tensor", or
    "missing"/"gone" (not there, worker removed), or "fetched" (brought home with .get())."""
    path = [[str(owner.id) if owner is not None else "me", own_id], [str(location.id), id_at_location]]
    found = None
    if not live:
        end = "fetched"
    elif getattr(location, "_removed", False):
        end = "gone"
    elif remote.is_network(location):
        end = remote.store_of(location).end(id_at_location)
    else:
        found = location._store.objects.get(id_at_location)
        end = ("missing" if found is None else "plan" if isinstance(found, PlanRecord)
               else "protocol" if isinstance(found, StoredProtocol) else "tensor")
    return {"state": LIVE if live else "fetched", "path": path, "end": end,
            "found": found.name if isinstance(found, PlanRecord) else None}


def _plan_pointer(ptr: PointerPlan) -> Dict[str, Any]:
    ref = _reference(ptr.owner, ptr.id, ptr.location, ptr.id_at_location, ptr._live)
    found = ref.pop("found")
    return {"plan": str(found or ptr.name), **ref}  # the worker's record knows the plan's name


def _protocol_entry(name: str, protocol: Protocol) -> Dict[str, Any]:
    steps = []
    for worker, plan in protocol.plans:
        label = str(getattr(worker, "id", worker))
        if isinstance(plan, PointerPlan):
            steps.append({"worker": label, **_plan_pointer(plan)})
        else:  # a local plan: where it goes is a name until deploy()
            steps.append({"worker": label, "plan": str(plan.name), "state": "local", "path": None,
                          "end": "local"})
    at = None
    if protocol.location is not None:
        at = _reference(protocol.owner, protocol.id, protocol.location, protocol._id_at_location, True)
        at.pop("found")
    return {"name": name, "kind": "protocol", "type": type(protocol).__name__,
            "deployed": bool(protocol.workers_resolved), "steps": steps, "at": at}


def variable_entry(name: str, value: Any) -> Optional[Dict[str, Any]]:
    """What a notebook variable shows on the board, or None if it holds nothing remote."""
    if isinstance(value, PointerPlan):
        return {"name": name, "kind": "plan_pointer", "type": type(value).__name__, **_plan_pointer(value)}
    if isinstance(value, PointerProtocol):
        ref = _reference(value.owner, value.id, value.location, value.id_at_location, value._live)
        ref.pop("found")
        return {"name": name, "kind": "protocol_pointer", "type": type(value).__name__, **ref}
    if isinstance(value, Protocol):
        return _protocol_entry(name, value) if value.plans else None
    if isinstance(value, PointerTensor):
        return {"name": name, "kind": "pointer", "type": type(value).__name__,
                "attr": value._point_to_attr, **_pointer_entry(value)}
    if isinstance(value, MultiPointerTensor):
        pointers = [_pointer_entry(p) for p in value.child.values() if isinstance(p, PointerTensor)]
        if not pointers:
            return None
        return {"name": name, "kind": "multi", "type": type(value).__name__,
                "shape": pointers[0]["shape"], "dtype": pointers[0]["dtype"], "pointers": pointers}
    if isinstance(value, nn.Module):
        params = [{"name": pname, **_pointer_entry(t)}
                  for pname, t in _module_tensors(value) if isinstance(t, PointerTensor)]
        if not params:
            return None  # a local model: nothing to draw
        return {"name": name, "kind": "model", "type": type(value).__name__, "params": params}
    return None


def _groups(models: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One group per model and worker: the parameters it keeps there. A module that is part of
    a bigger one (``layer = model[0]``) is drawn inside the bigger one's group."""
    claimed: set = set()
    groups: List[Dict[str, Any]] = []
    for entry in sorted(models, key=lambda e: -len(e["params"])):  # stable: namespace order
        by_worker: Dict[str, Dict[str, Any]] = {}
        for p in entry["params"]:
            if p["state"] != LIVE or len(p["path"]) < 2:
                continue
            worker_id, obj_id = p["path"][1]
            if (worker_id, obj_id) in claimed:
                continue
            claimed.add((worker_id, obj_id))
            group = by_worker.get(worker_id)
            if group is None:
                group = by_worker[worker_id] = {"worker_id": worker_id, "name": entry["name"],
                                                "type": entry["type"], "params": []}
                groups.append(group)
            group["params"].append({"name": p["name"], "id": obj_id})
    return groups


def entry_paths(v: Dict[str, Any]) -> List[List[Hop]]:
    """Every path a variable's entry holds: one per pointer, parameter or deployed plan."""
    kind = v["kind"]
    if kind == "multi":
        return [p["path"] for p in v["pointers"]]
    if kind == "model":
        return [p["path"] for p in v["params"]]
    if kind == "protocol":
        return [s["path"] for s in v["steps"] if s["path"]] + ([v["at"]["path"]] if v["at"] else [])
    return [v["path"]]


def _named_objects(variables: List[Dict[str, Any]]) -> Iterable[Hop]:
    for v in variables:
        for path in entry_paths(v):
            yield from path[1:]


def board_worker(worker: Any, wanted: Iterable[int], limit: int = BOARD_ROWS) -> Dict[str, Any]:
    """A worker's first `limit` objects in insertion order, then any of `wanted` not among them."""
    if remote.is_network(worker):
        return _network_board_worker(worker, wanted, limit)
    objects = worker._store.objects
    rows = [object_row(i, t) for i, t in itertools.islice(objects.items(), limit)]
    shown = {r["id"] for r in rows}
    for obj_id in wanted:
        if obj_id not in shown and obj_id in objects:
            shown.add(obj_id)
            rows.append(object_row(obj_id, objects[obj_id]))
    return {"worker_id": str(worker.id), "count": len(objects), "gone": False,
            "more": len(objects) - len(rows),
            "traffic": dict(getattr(worker, "traffic", None) or {}), "rows": rows}


def _network_board_worker(worker: Any, wanted: Iterable[int], limit: int) -> Dict[str, Any]:
    by_id = remote.store_of(worker).rows
    rows = list(itertools.islice(by_id.values(), limit))
    shown = {r["id"] for r in rows}
    for obj_id in wanted:
        if obj_id not in shown and obj_id in by_id:
            shown.add(obj_id)
            rows.append(by_id[obj_id])
    return {"worker_id": str(worker.id), "count": len(by_id), "gone": False,
            "more": len(by_id) - len(rows), "traffic": {}, "rows": rows,
            "network": remote.network_info(worker)}


def _owner_targets(entries: List[Dict[str, Any]], by_id: Dict[str, Any]) -> Dict[Tuple[str, Any], Dict[str, Any]]:
    """Objects on network workers that live pointers reach but their summaries do not list
    (the data owner's, found by search), with the pointer entry that reaches each."""
    found: Dict[Tuple[str, Any], Dict[str, Any]] = {}
    for v in entries:
        kind = v["kind"]
        pointers = [v] if kind == "pointer" else v["pointers"] if kind == "multi" else \
            v["params"] if kind == "model" else []
        for p in pointers:
            if p["state"] != LIVE or p["end"] != "tensor" or len(p["path"]) < 2:
                continue
            wid, obj_id = p["path"][-1]
            worker = by_id.get(wid)
            if worker is not None and remote.is_network(worker) and obj_id not in remote.store_of(worker).rows:
                found.setdefault((wid, obj_id), p)
    return found


def _row_at(worker: Any, obj_id: Any) -> Optional[Dict[str, Any]]:
    """The row of one object a worker holds, or None (read from the store, or for a network
    worker from its last summary)."""
    if remote.is_network(worker):
        return remote.store_of(worker).rows.get(obj_id)
    obj = worker._store.objects.get(obj_id)
    return None if obj is None else object_row(obj_id, obj)


_REMOTE_KINDS = (PointerTensor, MultiPointerTensor, PointerPlan, PointerProtocol, Protocol)


def board_snapshot(workers: List[Any], variables: Iterable[Tuple[str, Any]],
                   limit: int = BOARD_ROWS) -> Dict[str, Any]:
    """The board (see the module docstring) for these workers and (name, value) variables."""
    entries: List[Dict[str, Any]] = []
    more = 0
    secret_names: Dict[Any, List[str]] = {}  # secret id -> the names holding it
    for name, value in variables:
        try:
            for suffix, shared in sharing.shared_of(value):
                secret_names.setdefault(shared.secret_id, []).append(name + suffix)
        except Exception:  # a model that cannot list its parameters
            pass
        if len(entries) >= MAX_VARIABLES:  # only counted: no chains walked for the rest
            more += bool(isinstance(value, _REMOTE_KINDS) or remote_tensor_ids(value))
            continue
        try:
            entry = variable_entry(name, value)
        except Exception:  # an object we cannot read (a module missing its __init__, a mock)
            continue
        if entry is not None:
            entries.append(entry)
    groups = _groups([e for e in entries if e["kind"] == "model"])
    wanted: Dict[str, List[int]] = {}
    for worker_id, obj_id in _named_objects(entries):
        wanted.setdefault(worker_id, []).append(obj_id)
    for g in groups:
        wanted.setdefault(g["worker_id"], []).extend(p["id"] for p in g["params"])
    labels = sharing.Labels()
    shared = sharing.board_fields(labels, secret_names)
    for v in shared["shared"]:  # a drawn shared value's shares are drawn too
        for s in v["shares"]:
            if s["state"] == LIVE:
                wanted.setdefault(s["worker"], []).append(s["id"])
    for w in workers:
        wanted.setdefault(str(w.id), []).extend(labels.dealt_ids(w.id))
    by_id = {str(w.id): w for w in workers}
    boards = {wid: board_worker(w, wanted.get(wid, ()), limit) for wid, w in by_id.items()}
    # The objects that shown pointers (and deployed protocols) on workers name are shown too,
    # down each chain.
    shown = {wid: {r["id"] for r in b["rows"]} for wid, b in boards.items()}
    todo = [r for b in boards.values() for r in b["rows"]]
    while todo:
        row = todo.pop()
        for wid, obj_id in row_targets(row):
            if wid not in boards or obj_id in shown[wid]:
                continue
            shown[wid].add(obj_id)
            new_row = _row_at(by_id[wid], obj_id)
            if new_row is not None:
                boards[wid]["rows"].append(new_row)
                boards[wid]["more"] -= 1
                todo.append(new_row)
    for (wid, obj_id), entry in _owner_targets(entries, by_id).items():
        if obj_id not in shown[wid]:  # the data owner's objects that pointers name: drawn too
            shown[wid].add(obj_id)
            boards[wid]["rows"].append(remote.owner_row(obj_id, entry["shape"], entry["dtype"]))
    for wid, b in boards.items():
        b["rows"] = labels.rows(wid, b["rows"])
    return {"version": BOARD_VERSION, "workers": list(boards.values()), "variables": entries,
            "groups": groups, "more_variables": more, **shared}
