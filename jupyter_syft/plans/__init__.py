"""Plans and protocols: computations recorded as data, validated by the worker, run in one
request. ``trace`` captures, ``record`` is the op list, ``validate`` and ``execute`` are the
worker's side, ``plan`` and ``protocol`` what users call, ``serve`` the message handlers."""
from .plan import Plan, PointerPlan, func2plan
from .protocol import PointerProtocol, Protocol

__all__ = ["Plan", "PointerPlan", "func2plan", "Protocol", "PointerProtocol"]
