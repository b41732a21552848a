"""Tracing: run a function once on placeholders and write down every torch call it makes.

A placeholder is a real tensor (a copy of the example argument or state tensor) that also knows
its value number. Its ``__torch_function__`` computes each call for real, so shapes, autograd
and in-place updates behave exactly as in eager PyTorch, and records the call as a step. Calls
that do not involve a placeholder (``torch.zeros(3)`` inside the function) are computed once and
enter the plan as constants, as they did in PySyft.
"""
import contextlib
import inspect
from typing import Any, Callable, Dict, List, Sequence, Tuple

import torch
from torch import nn
from torch._C import DisableTorchFunctionSubclass
from torch.overrides import TorchFunctionMode

from .. import codec, commands
from ..codec import Var
from ..exceptions import PlanBuildError, UnsupportedTypeError
from .record import PlanRecord, Step

_T = torch.Tensor
# Calls that read only a tensor's metadata: answered, never recorded.
_METADATA = {
    _T.shape.__get__, _T.dtype.__get__, _T.ndim.__get__, _T.device.__get__, _T.layout.__get__,
    _T.is_cpu.__get__, _T.is_cuda.__get__, _T.is_sparse.__get__, _T.is_quantized.__get__,
    _T.is_meta.__get__, _T.requires_grad.__get__, _T.is_leaf.__get__, _T.grad_fn.__get__,
    _T.itemsize.__get__, _T.nbytes.__get__, _T.size, _T.dim, _T.numel, _T.nelement,
    _T.element_size, _T.__len__, _T.__hash__, _T.is_floating_point, _T.is_complex, _T.ndimension,
    _T.get_device, _T.__repr__, _T.__format__, _T.is_contiguous,
}
# Calls that turn a value into Python data: a plan cannot branch on what it has not seen.
_VALUE_READS = {_T.item, _T.tolist, _T.numpy, _T.__bool__, _T.__int__, _T.__float__,
                _T.__index__, _T.__complex__, _T.__array__}

_FACTORY_FUNCS = {getattr(torch, name) for name in commands._FACTORIES}

_ACTIVE: List["Tracer"] = []  # the tracer of the plan being built (plans do not nest)


class _FactoryCalls(TorchFunctionMode):
    """Active only while a plan is built: a tensor factory called inside the function
    (``torch.randn(3)``, ``torch.zeros(n)``) becomes a step, so each run makes its own tensor
    (fresh noise every call) instead of reusing the one made while tracing."""

    def __init__(self, tracer: "Tracer") -> None:
        super().__init__()
        self.tracer = tracer

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _FACTORY_FUNCS:
            return self.tracer.record(func, args, kwargs)
        return func(*args, **kwargs)  # the mode is off in here: placeholders record as usual


class Placeholder(torch.Tensor):
    """A value of a plan being built: computes as a plain tensor and records what it does."""

    _var = -1
    _tracer = None

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        tracer = _ACTIVE[-1] if _ACTIVE else None
        if func in _METADATA or tracer is None:
            with DisableTorchFunctionSubclass():
                return func(*args, **kwargs)
        if func in _VALUE_READS:
            raise PlanBuildError(
                f"{tracer.name}: {func.__name__}() reads a tensor's values while the plan is being "
                "built; a plan records torch operations, so Python `if`/`for` over tensor values "
                "cannot be part of it")
        return tracer.record(func, args, kwargs)


def _without_defaults(func: Callable, kwargs: dict) -> dict:
    """kwargs minus those equal to the function's defaults (F.relu passes inplace=False on):
    the same call, and a listing that reads as the user wrote it."""
    if not kwargs:
        return kwargs
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return kwargs
    kept = {}
    for key, value in kwargs.items():
        default = params[key].default if key in params else inspect.Parameter.empty
        if not (value is default or (type(value) is type(default) and type(value) in (bool, int, str)
                                     and value == default)):
            kept[key] = value
    return kept


def _plain(t: torch.Tensor, keep_grad: bool = True) -> torch.Tensor:
    copy = t.detach().clone()
    return copy.requires_grad_(t.requires_grad and keep_grad)


class Tracer:
    def __init__(self, name: str) -> None:
        self.name = name
        self.steps: List[Step] = []
        self.count = 0  # values numbered so far

    def placeholder(self, example: torch.Tensor) -> Placeholder:
        with DisableTorchFunctionSubclass():
            ph = _plain(example).as_subclass(Placeholder)
        return self._number(ph)

    def _number(self, ph: Placeholder) -> Placeholder:
        ph._var, ph._tracer = self.count, self
        self.count += 1
        return ph

    def _where(self) -> str:
        return f"{self.name}, step {len(self.steps) + 1}"

    def ref(self, value: Any) -> Any:
        """An argument as the plan keeps it: placeholders become Vars, the rest constants."""
        if isinstance(value, Placeholder):
            if value._tracer is not self:
                raise PlanBuildError(f"{self._where()}: a value from another plan's build was used")
            return Var(value._var)
        if isinstance(value, torch.Tensor):
            if hasattr(value, "_id_at_location"):
                raise PlanBuildError(f"{self._where()}: a pointer cannot be part of a plan; "
                                     "build the plan with local tensors, then send it")
            return value  # a constant, copied into the plan when it is sent
        if isinstance(value, torch.Size):
            return tuple(int(d) for d in value)
        if isinstance(value, list):
            return [self.ref(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.ref(v) for v in value)
        if isinstance(value, dict):
            return {k: self.ref(v) for k, v in value.items()}
        return value

    def record(self, func: Callable, args: tuple, kwargs: dict) -> Any:
        try:
            name = commands.op_name(func)
        except Exception:
            label = getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))
            raise PlanBuildError(f"{self._where()}: {label} is not on jupyter_syft's allow-list "
                                 "of torch operations, so a plan cannot record it") from None
        kept = _without_defaults(func, kwargs)
        step = Step(name, [self.ref(a) for a in args], {k: self.ref(v) for k, v in kept.items()},
                    None, torch.is_grad_enabled(), func)
        try:
            codec.encode(step.to_wire())  # fail now, not when the plan is sent
        except UnsupportedTypeError as e:
            raise PlanBuildError(f"{self._where()} ({name}): {e}") from None
        with DisableTorchFunctionSubclass():
            result = func(*args, **kwargs)
        step.out, result = self._outputs(name, result)
        self.steps.append(step)
        return result

    def _wrap(self, t: torch.Tensor) -> Tuple[int, Placeholder]:
        if isinstance(t, Placeholder) and t._tracer is self:  # an in-place op: a new name for it
            self._number(t)
            return t._var, t
        with DisableTorchFunctionSubclass():
            ph = t.as_subclass(Placeholder)
        self._number(ph)
        return ph._var, ph

    def _outputs(self, name: str, result: Any) -> Tuple[Any, Any]:
        if result is None:
            return None, None
        if isinstance(result, torch.Tensor):
            return self._wrap(result)
        if isinstance(result, (tuple, list)) and not isinstance(result, torch.Size):
            out, items = [], []
            for item in result:
                if isinstance(item, torch.Tensor):
                    index, item = self._wrap(item)
                    out.append(index)
                elif item is None:
                    out.append(None)
                else:
                    raise PlanBuildError(f"{self._where()} ({name}) gives a {type(item).__name__}; "
                                         "a plan's steps make tensors")
                items.append(item)
            if isinstance(result, list):
                return out, items
            if codec._is_return_type(result):
                return out, type(result)(items)
            return out, tuple(items)
        raise PlanBuildError(
            f"{self._where()} ({name}) gives a Python {type(result).__name__}, not a tensor; a plan "
            "records tensor operations, so it cannot use that value")

    def outputs(self, result: Any) -> Any:
        """What the plan returns, as Vars."""
        if result is None:
            return None
        if isinstance(result, Placeholder) and result._tracer is self:
            return Var(result._var)
        if isinstance(result, (tuple, list)):
            return tuple(self.outputs(r) for r in result)
        raise PlanBuildError(
            f"{self.name} returns a {type(result).__name__} that it did not compute from its "
            "arguments or state; a plan returns tensors it computed (or None)")


@contextlib.contextmanager
def _parameters_replaced(module: nn.Module, replacements: Dict[str, torch.Tensor]):
    """Run a module with its parameters and buffers replaced by placeholders, then put the
    originals back."""
    saved = []
    try:
        for full_name, value in replacements.items():
            owner_name, _, attr = full_name.rpartition(".")
            owner = module.get_submodule(owner_name) if owner_name else module
            table = owner._parameters if attr in owner._parameters else owner._buffers
            saved.append((table, attr, table[attr]))
            table[attr] = value
        yield
    finally:
        for table, attr, original in reversed(saved):
            table[attr] = original


def module_state(module: nn.Module) -> List[Tuple[str, torch.Tensor]]:
    """A module plan's state: its parameters, then its buffers, in registration order."""
    return list(module.named_parameters()) + [(n, b) for n, b in module.named_buffers() if b is not None]


def trace(name: str, function: Callable, example_args: Sequence[torch.Tensor],
          state: Sequence[torch.Tensor], module: nn.Module = None,
          pass_state: bool = False) -> PlanRecord:
    """Run function once on placeholders; the record of what it did."""
    for i, a in enumerate(example_args):
        if not isinstance(a, torch.Tensor) or hasattr(a, "_id_at_location"):
            raise PlanBuildError(f"{name}: argument {i + 1} is a {type(a).__name__}; a plan is "
                                 "built with local tensors (or args_shape=[...])")
    if _ACTIVE:
        raise PlanBuildError(f"{name}: a plan cannot be built while another plan is being built")
    tracer = Tracer(name)
    state_ph = [tracer.placeholder(t) for t in state]
    arg_ph = [tracer.placeholder(a) for a in example_args]
    _ACTIVE.append(tracer)
    try:
        with _FactoryCalls(tracer):
            if module is not None:
                names = [n for n, _ in module_state(module)]
                with _parameters_replaced(module, dict(zip(names, state_ph))):
                    result = function(*arg_ph)
            elif pass_state:
                result = function(*arg_ph, StateReader(state_ph))
            else:
                result = function(*arg_ph)
    finally:
        _ACTIVE.pop()
    outputs = tracer.outputs(result)
    arg_specs = [(tuple(a.shape), a.dtype) for a in example_args]
    record = PlanRecord(name, arg_specs, list(state), tracer.steps, outputs)
    _check_replay(record, example_args, result)
    return record


def _shapes(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return (tuple(value.shape), value.dtype)
    if isinstance(value, (tuple, list)):
        return [_shapes(v) for v in value]
    return value


def _cloned(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return _plain(value)
    if type(value) in (list, tuple):
        return type(value)(_cloned(v) for v in value)
    if type(value) is dict:
        return {k: _cloned(v) for k, v in value.items()}
    return value


def _check_replay(record: PlanRecord, example_args: Sequence[torch.Tensor], traced: Any) -> None:
    """Run the record once on copies: a few torch calls (``x.set_(...)``) change a tensor
    without passing through __torch_function__, so tracing cannot see them; a result of another
    shape or dtype than the traced one gives them away."""
    from . import execute

    steps = [Step(s.op, _cloned(s.args), _cloned(s.kwargs), s.out, s.grad_enabled, s.func)
             for s in record.steps]  # constants cloned too: an in-place step must not apply twice
    copy = PlanRecord(record.name, record.arg_specs, [_plain(t) for t in record.state],
                      steps, record.outputs)
    with torch.random.fork_rng():
        replayed = execute.run(copy, [_plain(a) for a in example_args])
    if _shapes(replayed) != _shapes(traced):
        raise PlanBuildError(
            f"{record.name} gives another result when its record is run than when it was traced: "
            "it calls something that bypasses torch's __torch_function__ (like Tensor.set_), "
            "which a plan cannot record")


class StateReader:
    """The ``state`` argument of a plan function: ``bias, = state.read()``."""

    def __init__(self, tensors: Sequence[torch.Tensor]) -> None:
        self._tensors = list(tensors)

    def read(self) -> List[torch.Tensor]:
        return list(self._tensors)

    def __repr__(self) -> str:
        return f"<State: {len(self._tensors)} tensor(s)>"
