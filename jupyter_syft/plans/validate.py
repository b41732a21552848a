"""Reading a plan from bytes, with every check made before any of it can run.

A worker treats a plan as hostile input. ``read_plan`` refuses, with an error naming the first
offending step: an operation off the allow-list (private names included), a value used before it
is defined (so no forward reference and no cycle), results numbered out of order, a state tensor
that is not what the plan declares, more steps or bytes than the limits, and anything in the
bytes that names a worker's objects (a plan carries data, never references to a store).
"""
from typing import Any, List, Tuple

import msgpack
import torch

from .. import codec, commands
from ..codec import Var
from ..exceptions import InvalidPlanError, MalformedMessageError, OperationNotAllowedError
from .record import FORMAT_VERSION, PlanRecord, Step

MAX_PLAN_BYTES = 128 * 2 ** 20  # a plan's state travels inside it; 128 MiB is a large model
MAX_PLAN_STEPS = 10_000  # a training step of a deep network is a few hundred
MAX_PLAN_ARGS = 64
MAX_PLAN_STATE = 4096
MAX_NAME_CHARS = 100
_FIELDS = 7  # version, name, arg specs, state specs, state, steps, outputs


class _PlanDecoder(codec.ExtDecoder):
    """Accepts Vars; refuses references to stored objects and pointer records."""

    __slots__ = ()

    def var(self, index: int) -> Var:
        return Var(index)

    def ref(self, obj_id: int) -> Any:
        raise InvalidPlanError("a plan cannot name a worker's stored objects")

    def pointer_desc(self, desc) -> Any:
        raise InvalidPlanError("a plan cannot carry pointers")


def _short(name: Any) -> str:
    text = name if type(name) is str else str(name) if type(name) in (int, bool) else type(name).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _spec(value: Any, what: str) -> Tuple[tuple, torch.dtype]:
    if (type(value) is not list or len(value) != 2 or type(value[0]) is not list
            or len(value[0]) > codec._MAX_DIMS or not isinstance(value[1], torch.dtype)
            or not all(type(d) is int and d >= -1 for d in value[0])):
        raise InvalidPlanError(f"{what} must be [shape, dtype]")
    return tuple(value[0]), value[1]


def read_plan(data: Any) -> PlanRecord:
    """bytes -> a checked PlanRecord whose steps hold their resolved torch callables."""
    if not isinstance(data, (bytes, bytearray)):
        raise InvalidPlanError(f"a plan must be bytes, not {type(data).__name__}")
    if len(data) > MAX_PLAN_BYTES:
        raise InvalidPlanError(f"the plan is {len(data)} bytes; this worker takes at most {MAX_PLAN_BYTES}")
    unpacker = msgpack.Unpacker(ext_hook=_PlanDecoder(), raw=False, strict_map_key=True,
                                max_buffer_size=max(len(data), 1))
    unpacker.feed(data)
    try:
        return _read(unpacker)
    except InvalidPlanError:
        raise
    except MalformedMessageError as e:
        raise InvalidPlanError(f"the plan is malformed: {e}") from None
    except (msgpack.UnpackException, ValueError, TypeError, RuntimeError, RecursionError,
            StopIteration) as e:
        raise InvalidPlanError(f"the plan is malformed: {type(e).__name__}") from None


def _read(unpacker: msgpack.Unpacker) -> PlanRecord:
    if unpacker.read_array_header() != _FIELDS:
        raise InvalidPlanError(f"a plan has {_FIELDS} fields")
    version, name = unpacker.unpack(), unpacker.unpack()
    if version != FORMAT_VERSION:
        raise InvalidPlanError(f"plan format {_short(version)} is not {FORMAT_VERSION}")
    if type(name) is not str or not name.isidentifier() or len(name) > MAX_NAME_CHARS:
        raise InvalidPlanError(f"a plan's name must be a Python identifier of at most {MAX_NAME_CHARS} characters")
    arg_specs, state_specs = unpacker.unpack(), unpacker.unpack()
    if type(arg_specs) is not list or len(arg_specs) > MAX_PLAN_ARGS:
        raise InvalidPlanError(f"plan {name}: at most {MAX_PLAN_ARGS} arguments")
    if type(state_specs) is not list or len(state_specs) > MAX_PLAN_STATE:
        raise InvalidPlanError(f"plan {name}: at most {MAX_PLAN_STATE} state tensors")
    arg_specs = [_spec(s, f"plan {name}: argument {i + 1}'s spec") for i, s in enumerate(arg_specs)]
    state_specs = [_spec(s, f"plan {name}: state tensor {i + 1}'s spec") for i, s in enumerate(state_specs)]
    state = unpacker.unpack()
    if type(state) is not list or len(state) != len(state_specs):
        raise InvalidPlanError(f"plan {name} declares {len(state_specs)} state tensors but carries "
                               f"{len(state) if type(state) is list else 'no list of'}")
    for i, (t, (shape, dtype)) in enumerate(zip(state, state_specs)):
        if type(t) is not torch.Tensor:
            raise InvalidPlanError(f"plan {name}: state tensor {i + 1} is not a tensor")
        if tuple(t.shape) != shape or t.dtype != dtype:
            raise InvalidPlanError(
                f"plan {name}: state tensor {i + 1} is declared as {list(shape)} {dtype} but "
                f"holds {list(t.shape)} {t.dtype}")
    n_steps = unpacker.read_array_header()  # counted before a single step is read
    if n_steps > MAX_PLAN_STEPS:
        raise InvalidPlanError(f"plan {name} has {n_steps} steps; this worker runs at most {MAX_PLAN_STEPS}")
    defined = len(state) + len(arg_specs)
    steps: List[Step] = []
    for i in range(n_steps):
        step, defined = _read_step(name, i, unpacker.unpack(), defined)
        steps.append(step)
    outputs = unpacker.unpack()
    _check_refs(outputs, defined, f"plan {name}: its result", allow_constants=False)
    try:
        unpacker.unpack()
    except msgpack.OutOfData:
        return PlanRecord(name, arg_specs, state, steps, outputs)
    raise InvalidPlanError(f"plan {name} has trailing bytes")


def _read_step(name: str, i: int, raw: Any, defined: int) -> Tuple[Step, int]:
    where = f"plan {name}, step {i + 1}"
    if type(raw) is not list or len(raw) != 5:
        raise InvalidPlanError(f"{where}: a step is [operation, args, kwargs, results, grad mode]")
    op, args, kwargs, out, grad_enabled = raw
    where = f"{where} ({_short(op)})"
    try:
        func = commands.resolve(op)
    except OperationNotAllowedError:
        raise InvalidPlanError(f"{where}: the operation is not on this worker's allow-list") from None
    if (type(args) is not list or type(kwargs) is not dict or type(grad_enabled) is not bool
            or not all(type(k) is str and k.isidentifier() for k in kwargs)):
        raise InvalidPlanError(f"{where}: args must be a list, kwargs a dict with names for keys, "
                               "the grad mode a bool")
    _check_refs(args, defined, where)
    _check_refs(kwargs, defined, where)
    for index in _out_list(out, where):
        if index is not None:
            if index != defined:
                raise InvalidPlanError(f"{where} defines _{index + 1 if type(index) is int else '?'} "
                                       f"where _{defined + 1} comes next")
            defined += 1
    return Step(op, args, kwargs, out, grad_enabled, func), defined


def _out_list(out: Any, where: str) -> list:
    if out is None:
        return []
    if type(out) is int:
        return [out]
    if type(out) is list and all(i is None or type(i) is int for i in out):
        return out
    raise InvalidPlanError(f"{where}: its results must be numbered values")


MAX_ARG_NESTING = 32  # lists in lists in a step's arguments (torch.cat takes one level)


def _check_refs(value: Any, defined: int, where: str, allow_constants: bool = True,
                depth: int = 0) -> None:
    if type(value) is Var:
        if value.index >= defined:
            raise InvalidPlanError(f"{where} uses _{value.index + 1} before it is defined")
    elif isinstance(value, (list, tuple, dict)):
        if depth >= MAX_ARG_NESTING:
            raise InvalidPlanError(f"{where}: arguments nest deeper than {MAX_ARG_NESTING} levels")
        for v in (value.values() if isinstance(value, dict) else value):
            _check_refs(v, defined, where, allow_constants, depth + 1)
    elif not allow_constants and value is not None:
        raise InvalidPlanError(f"{where} must be values the plan computed")
