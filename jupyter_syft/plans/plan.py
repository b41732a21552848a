"""Plans as PySyft 0.2 users wrote them: ``@sy.func2plan(...)``, ``class Net(sy.Plan)``,
``plan.build(x)``, ``plan.send(bob)`` giving a ``PointerPlan``, and ``pointer_plan(x_ptr)``,
which runs every step on bob in one request.
"""
from typing import Any, List, Optional, Sequence

import torch
from torch import nn

from .. import tags as tag_rules
from ..exceptions import MalformedMessageError, TensorsNotCollocatedException
from ..ids import new_id
from . import execute, trace
from .record import PlanRecord, code_listing
from .validate import MAX_NAME_CHARS, read_plan


def _plan_name(name: str) -> str:
    """A name a worker accepts (a Python identifier of at most 100 characters): a lambda's
    `<lambda>` becomes `lambda_`."""
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in str(name)).strip("_") or "plan"
    cleaned = cleaned if cleaned.isidentifier() else f"plan_{cleaned}"
    return cleaned[:MAX_NAME_CHARS]


def _local_worker():
    import jupyter_syft

    return jupyter_syft.local_worker


class Plan(nn.Module):
    """A function (or a module's ``forward``) recorded as a list of torch operations.

    Subclass it like an ``nn.Module`` and write ``forward``; or decorate a function with
    ``sy.func2plan()``. A plan is built by running it once on example tensors.
    """

    def __init__(self, name: Optional[str] = None, function=None, args_shape=None,
                 state: Sequence[torch.Tensor] = None, id: Optional[int] = None, owner=None,
                 tags: Sequence[str] = (), description: Optional[str] = None) -> None:
        super().__init__()
        self.name = _plan_name(name or type(self).__name__)
        self.function = function
        self._plan_id = new_id() if id is None else id
        self._plan_owner = owner
        self.record: Optional[PlanRecord] = None
        self._state_tensors: Optional[List[torch.Tensor]] = list(state) if state is not None else None
        self.args_shape = args_shape
        self.tags: List[str] = tag_rules.check_tags(tags)
        self.description = description
        if args_shape is not None:
            self._build_from_shapes(args_shape)

    # --- what PySyft's plans showed ----------------------------------------------------
    @property
    def id(self) -> int:
        return self._plan_id

    @property
    def owner(self):
        return self._plan_owner or _local_worker()

    @property
    def is_built(self) -> bool:
        return self.record is not None

    @property
    def state(self) -> "trace.StateReader":
        """``plan.state.read()``: the plan's state tensors (a module plan's parameters)."""
        return trace.StateReader(self._state())

    def code(self) -> str:
        return code_listing(self.record, self.name)

    def __repr__(self) -> str:
        built = " built" if self.is_built else ""
        return (f"<{type(self).__name__} {self.name} id:{self.id} owner:{self.owner.id}{built}>\n"
                f"{self.code()}")

    __str__ = __repr__

    def tag(self, *new_tags: str) -> "Plan":
        self.tags = tag_rules.check_tags([*self.tags, *new_tags])
        return self

    def describe(self, description: str) -> "Plan":
        self.description = tag_rules.check_description(description)
        return self

    # --- building ------------------------------------------------------------------------
    def _state(self) -> List[torch.Tensor]:
        if self.function is None and self._state_tensors is None:  # a module plan
            return [t for _, t in trace.module_state(self)]
        if self.record is not None and self.function is None:  # fetched: its record holds it
            return list(self.record.state)
        return list(self._state_tensors or [])

    def build(self, *args: torch.Tensor) -> None:
        """Run the plan once on example tensors and keep the record of what it did."""
        if self.function is not None:
            self.record = trace.trace(self.name, self.function, args, self._state(),
                                      pass_state=self._state_tensors is not None)
        elif type(self).forward is not Plan.forward:
            self.record = trace.trace(self.name, self.forward, args, self._state(), module=self)
        else:
            raise TypeError(f"{self.name} has nothing to build: give a function or define forward()")

    def _build_from_shapes(self, args_shape) -> None:
        if (not isinstance(args_shape, (list, tuple))
                or not all(isinstance(s, (list, tuple)) and all(type(d) is int for d in s) for s in args_shape)):
            raise TypeError(f"{self.name}: args_shape is a list with one shape per argument, "
                            "like args_shape=[(2,)] or [(-1, 1), (1, 2)]")
        shapes = [tuple(s) for s in args_shape]
        # -1 means "any size": the example uses 1 there, and the record keeps the -1
        self.build(*[torch.ones([1 if d == -1 else d for d in shape]) for shape in shapes])
        self.record.arg_specs = [(shape, dtype) for shape, (_, dtype) in zip(shapes, self.record.arg_specs)]

    def forward(self, *args):  # replaced by subclasses; a function plan has none
        raise NotImplementedError

    # --- running -------------------------------------------------------------------------
    def __call__(self, *args: Any) -> Any:
        for arg in args:
            if hasattr(arg, "_id_at_location"):
                raise TensorsNotCollocatedException(
                    f"{self.name} is here, on {self.owner.id}, but an argument is on "
                    f"{arg.location.id}: send the plan there first, "
                    f"plan.send({arg.location.id})(x_ptr)")
        if not self.is_built:
            with torch.random.fork_rng():  # building draws no random numbers the call would see
                self.build(*args)
        # a module plan runs with its parameters as they are now (a layer may have been replaced)
        record = self._record_for_sending() if self.function is None and self._state_tensors is None else self.record
        return execute.run(record, args)

    # --- moving --------------------------------------------------------------------------
    def send(self, *locations) -> "PointerPlan":
        if not self.is_built:
            raise RuntimeError("A plan needs to be built before being sent to a worker.")
        if len(locations) != 1:
            raise TypeError("send() takes one worker, like plan.send(bob)")
        from ..workers import get_worker

        location = get_worker(locations[0])
        owner = self.owner
        data = self._record_for_sending().to_bytes()
        obj_id = owner._request(location, "store_plan", [data, self.id, self.tags, self.description])
        if type(obj_id) is not int:
            raise MalformedMessageError("a store_plan reply must be an id")
        return PointerPlan(location, obj_id, owner, name=self.name)

    def _record_for_sending(self) -> PlanRecord:
        record = self.record
        state = self._state()  # a module plan sends its parameters as they are now
        if len(state) != len(record.state):
            raise RuntimeError(f"{self.name} changed its parameters after it was built; build it again")
        return PlanRecord(record.name, record.arg_specs, state, record.steps, record.outputs)

    def get(self) -> "Plan":
        raise RuntimeError(f"{self.name} is a local plan already; .get() brings home a PointerPlan")

    @classmethod
    def from_record(cls, record: PlanRecord, id: int, tags=(), description=None) -> "Plan":
        plan = cls(name=record.name, id=id, tags=tags, description=description)
        plan.record = record
        plan._state_tensors = list(record.state)
        return plan


def func2plan(args_shape=None, state=None):
    """``@sy.func2plan(args_shape=[(-1, 1)], state=(tensor,))``: the function as a Plan,
    built at once when args_shape is given."""
    if callable(args_shape) and state is None:  # used bare: @sy.func2plan
        return Plan(name=args_shape.__name__, function=args_shape)

    def make(function) -> Plan:
        return Plan(name=function.__name__, function=function, args_shape=args_shape, state=state)

    return make


class PointerPlan:
    """A plan held by a worker: calling it runs the whole plan there in one request."""

    def __init__(self, location, id_at_location: int, owner, id: Optional[int] = None,
                 garbage_collect_data: bool = True, name: str = "plan") -> None:
        self.location, self.id_at_location, self.owner = location, id_at_location, owner
        self.id = new_id() if id is None else id
        self.name = name
        self.garbage_collect_data = garbage_collect_data
        self._live = True

    def __repr__(self) -> str:
        return f"[{type(self).__name__} | {self.owner.id}:{self.id} -> {self.location.id}:{self.id_at_location}]"

    def _check_live(self) -> None:
        if not self._live:
            raise RuntimeError(f"{self!r} was brought home with .get(); call the plan it gave")

    def __call__(self, *args: Any) -> Any:
        self._check_live()
        pointers = []
        args = [self._as_pointer(arg) for arg in args]
        for arg in args:
            arg.check_live()
            if arg.location is not self.location:
                raise TensorsNotCollocatedException(
                    f"{self.name} is on {self.location.id} but an argument is on {arg.location.id}")
            pointers.append(arg)
        return self.owner._request(self.location, "run_plan", [self.id_at_location, list(args)], pointers)

    def _as_pointer(self, arg: Any) -> Any:
        if hasattr(arg, "_id_at_location"):
            return arg
        # Part 08 passes `device_1.search(...)[0]`: a virtual worker's own tensor, which the
        # notebook can hold; it is named by its id there, as PySyft did.
        for obj_id, obj in self.location._store.objects.items() if isinstance(arg, torch.Tensor) else ():
            if obj is arg:
                from ..pointers import PointerTensor

                return PointerTensor(self.location, obj_id, arg.shape, arg.dtype, arg.requires_grad,
                                     owner=self.owner, garbage_collect_data=False, notify=False)
        raise TensorsNotCollocatedException(
            f"{self.name} runs on {self.location.id}; its arguments must be pointers to tensors "
            f"there, not a local {type(arg).__name__} (send it first)")

    def get(self) -> Plan:
        """Bring the plan home (checked as any plan a worker receives)."""
        self._check_live()
        value = self.owner._request(self.location, "get", [self.id_at_location])
        if type(value) is not list or len(value) != 4 or value[0] != "plan":
            raise MalformedMessageError("a plan's get reply has the wrong layout")
        record = read_plan(value[1])
        self._live = False
        return Plan.from_record(record, self.id_at_location,
                                tags=value[2] if type(value[2]) is list else (),
                                description=value[3] if type(value[3]) is str else None)

    def __del__(self) -> None:
        try:
            if self._live and self.garbage_collect_data:
                self._live = False
                self.owner.delete_remote(self.location, [self.id_at_location])
        except Exception:  # at interpreter shutdown, or with the worker gone
            pass
