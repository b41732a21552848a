"""``sy.PrivateGridNetwork(*workers)``: search several workers at once (Part 05)."""
from typing import Any, Dict, List


class PrivateGridNetwork:
    def __init__(self, *workers) -> None:
        from .workers import get_worker

        self._ids = [get_worker(w).id for w in workers]  # looked up again at each search

    @property
    def workers(self) -> List:
        """The grid's workers as they are now (a removed one drops out; a re-created one is
        found again by its id)."""
        from .workers.base import _WORKERS

        return [_WORKERS[i] for i in self._ids if i in _WORKERS]

    def search(self, *query) -> Dict[Any, List]:
        """{worker id: [pointers]} for the workers holding objects tagged with every term."""
        import jupyter_syft

        results = {}
        for worker in self.workers:
            found = jupyter_syft.local_worker.request_search(list(query), location=worker)
            if found:
                results[worker.id] = found
        return results

    def __repr__(self) -> str:
        return f"<PrivateGridNetwork of {', '.join(str(w.id) for w in self.workers)}>"
