"""``sy.PrivateGridNetwork(*workers)``: search several workers at once (Part 05)."""
from typing import Any, Dict, List


class PrivateGridNetwork:
    def __init__(self, *workers) -> None:
        from .workers import get_worker

        self.workers = [get_worker(w) for w in workers]

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
