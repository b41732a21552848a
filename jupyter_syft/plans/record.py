"""A plan as data: numbered values and the torch operations between them.

Values are numbered in the order they come into being: the state tensors first, then the
arguments, then each step's results. A step names its operation by its wire name (the one the
allow-list knows), its arguments as constants and ``Var(index)`` references, and the numbers of
the values it makes. This is all a worker ever receives of a plan: no code, no pickle.
"""
from typing import Any, List, Optional, Sequence, Tuple

import torch

from .. import codec
from ..codec import Var

FORMAT_VERSION = 1


class Step:
    """One operation: ``out = op(*args, **kwargs)``, run with grad enabled or not."""

    __slots__ = ("op", "args", "kwargs", "out", "grad_enabled", "func")

    def __init__(self, op: str, args: list, kwargs: dict, out: Any, grad_enabled: bool = True,
                 func: Any = None) -> None:
        self.op, self.args, self.kwargs, self.out = op, args, kwargs, out
        self.grad_enabled = grad_enabled
        self.func = func  # the resolved torch callable (filled in by tracing or validation)

    def to_wire(self) -> list:
        return [self.op, self.args, self.kwargs, self.out, self.grad_enabled]


class PlanRecord:
    """What a traced plan is: its name, argument specs, state tensors, steps and outputs.

    ``arg_specs`` are ``(shape, dtype)`` pairs from tracing, with -1 for a size that may vary.
    ``state`` holds the state tensors themselves (a module plan's parameters, by reference).
    """

    id: Optional[int] = None  # set when a worker stores it
    owner_id: Any = None

    def __init__(self, name: str, arg_specs: List[Tuple[tuple, torch.dtype]],
                 state: List[torch.Tensor], steps: List[Step], outputs: Any) -> None:
        self.name, self.arg_specs, self.state = name, arg_specs, state
        self.steps, self.outputs = steps, outputs

    def __repr__(self) -> str:  # how a worker's _objects shows it, as PySyft showed a Plan
        return f"<Plan {self.name} id:{self.id} owner:{self.owner_id} built>\n{self.listing()}"

    @property
    def n_values(self) -> int:
        return len(self.state) + len(self.arg_specs) + sum(len(_out_indices(s.out)) for s in self.steps)

    def to_bytes(self) -> bytes:
        """The record on the wire (read back, with every check, by ``validate.read_plan``)."""
        return codec.encode([
            FORMAT_VERSION, self.name,
            [[list(shape), dtype] for shape, dtype in self.arg_specs],
            [[list(t.shape), t.dtype] for t in self.state],
            [_state_payload(t) for t in self.state],
            [step.to_wire() for step in self.steps],
            self.outputs,
        ])

    def listing(self) -> str:
        """The plan as PySyft printed it: a ``def`` with one line per step."""
        return code_listing(self)


def _state_payload(t: torch.Tensor) -> torch.Tensor:
    # A parameter travels as a plain tensor that keeps requires_grad (its grad stays here).
    plain = t.detach().clone()
    plain.requires_grad_(t.requires_grad)
    return plain


def _out_indices(out: Any) -> List[int]:
    if out is None:
        return []
    if type(out) is int:
        return [out]
    return [i for i in out if i is not None]


# --- the listing -------------------------------------------------------------------------
def _name_of(index: int, n_state: int) -> str:
    # PySyft numbered every value from 1 and showed state as `_state`.
    if index < n_state:
        return "_state" if n_state == 1 else f"_state_{index + 1}"
    return f"_{index + 1}"


def _show(value: Any, n_state: int) -> str:
    if type(value) is Var:
        return _name_of(value.index, n_state)
    if isinstance(value, torch.Tensor):
        if value.numel() <= 6:
            return " ".join(repr(value.detach()).split())
        return f"<tensor {list(value.shape)} {str(value.dtype).replace('torch.', '')}>"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v, n_state) for v in value) + "]"
    if isinstance(value, tuple) and not isinstance(value, torch.Size):
        inner = ", ".join(_show(v, n_state) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


# torch hands `x + y` to __torch_function__ as Tensor.add; PySyft listed it as `__add__`.
_OPERATORS = {"add": "__add__", "sub": "__sub__", "mul": "__mul__", "div": "__truediv__",
              "matmul": "__matmul__"}


def _call_text(step: Step, n_state: int) -> str:
    shown = [_show(a, n_state) for a in step.args]
    keywords = [f"{k}={_show(v, n_state)}" for k, v in step.kwargs.items()]
    if step.op.startswith("Tensor.") and shown:  # a method: PySyft showed `_1.abs()`
        attr, target, rest = step.op[len("Tensor."):], shown[0], shown[1:] + keywords
        if attr.endswith(".__get__"):
            return f"{target}.{attr[:-len('.__get__')]}"
        if attr.endswith(".__set__"):
            return f"{target}.{attr[:-len('.__set__')]} = {', '.join(rest)}"
        if attr in _OPERATORS and len(shown) == 2 and not keywords:
            attr = _OPERATORS[attr]
        return f"{target}.{attr}({', '.join(rest)})"
    return f"{step.op}({', '.join(shown + keywords)})"


def _result_text(out: Any, n_state: int) -> str:
    if type(out) is int:
        return _name_of(out, n_state)
    return ", ".join("_" if i is None else _name_of(i, n_state) for i in out)


def code_listing(record: Optional[PlanRecord], name: Optional[str] = None) -> str:
    if record is None:  # an unbuilt plan, as PySyft printed it
        return f"def {name}():\n    return "
    n_state = len(record.state)
    params = ", ".join(f"arg_{n_state + i + 1}" for i in range(len(record.arg_specs)))
    lines = [f"def {record.name}({params}):"]
    for step in record.steps:
        call = _call_text(step, n_state)
        if step.out is None:
            lines.append(f"    {call}")
        else:
            lines.append(f"    {_result_text(step.out, n_state)} = {call}")
    lines.append(f"    return {_return_text(record.outputs, n_state)}")
    return "\n".join(lines)


def _return_text(outputs: Any, n_state: int) -> str:
    if outputs is None:
        return ""
    if isinstance(outputs, (list, tuple)):
        return ", ".join(_show(o, n_state) for o in outputs)
    return _show(outputs, n_state)


def substitute(value: Any, values: Sequence[Any]) -> Any:
    """value with every Var replaced by the value it names (lists and tuples are rebuilt)."""
    if type(value) is Var:
        return values[value.index]
    if type(value) is list:
        return [substitute(v, values) for v in value]
    if type(value) is tuple:
        return tuple(substitute(v, values) for v in value)
    if type(value) is dict:
        return {k: substitute(v, values) for k, v in value.items()}
    return value
