"""The widgets: thin ipywidgets HTML views whose synced traits carry the snapshot they show.

The extra traits (`snapshot`, ...) travel with the widget state, so a saved notebook (and the
side panel) can read exactly what each view showed. Views hold ids and metadata only.
"""
from typing import Any, Dict

import ipywidgets as widgets
from traitlets import Dict as DictTrait
from traitlets import Unicode

from . import render


class WorkerView(widgets.HTML):
    """One worker's objects: id, dtype, shape, requires_grad, grad, a value preview, tags."""

    worker_id = Unicode("").tag(sync=True)
    snapshot = DictTrait().tag(sync=True)

    def show(self, snap: Dict[str, Any]) -> None:
        if snap != self.snapshot:
            with self.hold_sync():
                self.worker_id, self.snapshot = snap["worker_id"], snap
                self.value = render.worker_html(snap)

    def __repr__(self) -> str:
        return f"WorkerView({self.worker_id})"


class PointerView(widgets.HTML):
    """One pointer's metadata: owner:id -> location:id_at_location, shape, dtype, state."""

    snapshot = DictTrait().tag(sync=True)

    def show(self, snap: Dict[str, Any]) -> None:
        if snap != self.snapshot:
            with self.hold_sync():
                self.snapshot = snap
                self.value = render.pointer_html(snap)

    def __repr__(self) -> str:
        return f"PointerView({render.pointer_text(self.snapshot)})" if self.snapshot else "PointerView()"


class Dashboard(widgets.HTML):
    """A diagram: the notebook's variables, every worker's objects and traffic, and an arrow
    for each pointer (``me -> alice -> bob`` chains, remote models as groups). Its `snapshot`
    is the board (see snapshot.board_snapshot): names, paths and metadata only."""

    snapshot = DictTrait().tag(sync=True)

    def show(self, board: Dict[str, Any]) -> None:
        if board != self.snapshot:
            with self.hold_sync():
                self.snapshot = board
                self.value = render.dashboard_html(board)

    def __repr__(self) -> str:
        return "Dashboard()"


class TrainingView(widgets.HTML):
    """A federated training loop as it runs: each worker's batches this epoch, and the losses
    that came home with .get(), per worker. Its `snapshot` is the training log's numbers."""

    snapshot = DictTrait().tag(sync=True)

    def show(self, snap: Dict[str, Any]) -> None:
        if snap != self.snapshot:
            with self.hold_sync():
                self.snapshot = snap
                self.value = render.training_html(snap)

    def __repr__(self) -> str:
        return "TrainingView()"
