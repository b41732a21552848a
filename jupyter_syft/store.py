"""ObjectStore: the dict behind ``worker._objects``, observable so views can follow it."""
from typing import Any, Callable, Dict, Iterable, List

# A listener receives (event, ids) with event "add", "remove" or "clear".
Listener = Callable[[str, List[int]], None]


class ObjectsDict(dict):
    """A worker's objects by id. It prints and behaves as the plain dict PySyft showed; it is a
    subclass only so that Jupyter can recognise ``bob._objects`` and show bob's live view."""

    __slots__ = ("worker_id",)


class ObjectStore:
    def __init__(self, worker_id: Any = None) -> None:
        self.objects: Dict[int, Any] = ObjectsDict()
        self.objects.worker_id = worker_id
        self._listeners: List[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self, event: str, ids: List[int]) -> None:
        for listener in list(self._listeners):
            try:
                listener(event, ids)
            except Exception:  # a broken view must never break the worker
                pass

    def __len__(self) -> int:
        return len(self.objects)

    def __contains__(self, obj_id: int) -> bool:
        return obj_id in self.objects

    def get(self, obj_id: int) -> Any:
        return self.objects[obj_id]

    def set(self, obj_id: int, obj: Any) -> None:
        self.objects[obj_id] = obj
        if self._listeners:
            self._notify("add", [obj_id])

    def pop(self, obj_id: int) -> Any:
        obj = self.objects.pop(obj_id)
        if self._listeners:
            self._notify("remove", [obj_id])
        return obj

    def discard(self, ids: Iterable[Any]) -> List[Any]:
        """Remove the ids present (others are ignored); returns those removed."""
        pop, removed = self.objects.pop, []
        for i in ids:
            if type(i) is int and pop(i, None) is not None:  # anything else is not an id
                removed.append(i)
        if removed and self._listeners:
            self._notify("remove", removed)
        return removed

    def clear(self) -> None:
        self.objects.clear()
        if self._listeners:
            self._notify("clear", [])
