"""``%syft``: the dashboard, one worker's view, deleting a pointer for sure, resetting workers.

Every problem is one printed line; nothing here raises into the cell.
"""
import shlex

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.display import display

from ..exceptions import WorkerNotFoundError
from ..pointers import LIVE, PointerTensor
from ..workers.base import BaseWorker, all_workers, get_worker
from ..workers.client import NetworkWorker
from ..widgets import remote
from .output_cache import CachedPointer

USAGE = ("usage: %syft [dashboard] | %syft show WORKER_OR_POINTER | %syft del POINTER [POINTER ...] "
         "| %syft reset [WORKER ...] | %syft training")


@magics_class
class SyftMagics(Magics):
    def __init__(self, shell, live) -> None:
        super().__init__(shell)
        self.live = live

    @line_magic
    def syft(self, line: str = "") -> None:
        try:
            words = shlex.split(line)
        except ValueError as e:
            print(f"%syft: {e}; {USAGE}")
            return
        command, args = (words[0], words[1:]) if words else ("dashboard", [])
        handler = {"dashboard": self._dashboard, "show": self._show, "del": self._delete,
                   "reset": self._reset, "training": self._training, "help": self._help}.get(command)
        if handler is None:
            print(f"%syft: unknown command {command!r}; {USAGE}")
            return
        try:
            handler(args)
        except Exception as e:  # one line, never a traceback from our internals
            print(f"%syft {command}: {type(e).__name__}: {e}")

    def _training(self, args) -> None:
        """A live view of the next federated training loop (run it in a later cell)."""
        if args:
            print(f"%syft training takes no arguments; {USAGE}")
            return
        display(self.live.training_view())

    def _help(self, args) -> None:
        print(USAGE)

    def _dashboard(self, args) -> None:
        if args:
            print(f"%syft dashboard takes no arguments; {USAGE}")
            return
        self.live.after_cell()
        display(self.live.dashboard_view())

    def _lookup(self, name: str):
        """A name in the user's namespace (dotted names like ``model.weight`` follow public
        attributes), else a worker id."""
        first, *attrs = name.split(".")
        value = self.shell.user_ns.get(first)
        for attr in attrs:
            if not attr.isidentifier() or attr.startswith("_"):
                return None
            value = getattr(value, attr, None)
        if isinstance(value, CachedPointer):
            value = value._ref()
        if isinstance(value, (PointerTensor, BaseWorker)):
            return value
        try:
            return get_worker(name)
        except WorkerNotFoundError:  # `%syft show 0` for a worker whose id is the int 0
            matches = [w for w in all_workers() if str(w.id) == name]
            return matches[0] if len(matches) == 1 else None

    def _show(self, args) -> None:
        if len(args) != 1:
            print(f"%syft show needs one worker or pointer; {USAGE}")
            return
        target = self._lookup(args[0])
        if target is None:
            print(f"%syft show: no worker or pointer named {args[0]!r}")
        elif isinstance(target, BaseWorker):
            if target not in all_workers():
                print(f"%syft show: worker {target.id!r} was deleted")
                return
            self.live.after_cell()
            display(self.live.worker_view(target))
        else:
            if target.location not in all_workers():
                print(f"%syft show: {args[0]} points to worker {target.location.id!r}, which is gone")
                return
            display(self.live.pointer_view(target))

    def _delete(self, args) -> None:
        if not args:
            print(f"%syft del needs pointer names; {USAGE}")
            return
        for name in dict.fromkeys(args):  # each name once, in order
            target = self._lookup(name)
            if not isinstance(target, PointerTensor):
                print(f"%syft del: {name!r} is not a pointer")
                continue
            if target.state != LIVE:
                print(f"%syft del: {name} was already {target.state}")
            elif target.location not in all_workers():
                print(f"%syft del: {name} points to worker {target.location.id!r}, which is gone")
            elif target.point_to_attr:
                print(f"%syft del: {name} points to the .{target.point_to_attr} of a tensor, "
                      "which it does not own; delete the tensor's pointer instead")
                continue
            else:
                target.delete_remote()  # whatever else still holds this pointer
            if "." not in name:
                self.shell.user_ns.pop(name, None)
        self.live.after_cell()

    def _reset(self, args) -> None:
        """Delete the objects of the named workers, or of every worker."""
        workers = all_workers()
        if args:
            by_id = {str(w.id): w for w in workers}
            unknown = [a for a in args if a not in by_id]
            if unknown:
                print(f"%syft reset: no worker named {unknown[0]!r}; nothing was deleted")
                return
            workers = [by_id[a] for a in args]
        failed = []
        for worker in workers:
            if remote.is_network(worker):  # its objects live in its server (an actor): delete them there
                try:
                    _reset_network_worker(worker)
                except Exception as e:
                    failed.append(worker)
                    print(f"%syft reset: {worker.id}: {type(e).__name__}: {e}")
                continue
            for other in all_workers():
                other._pending_deletes.pop(worker, None)
            worker.clear_objects()
        names = ", ".join(str(w.id) for w in workers if not w.is_client_worker and w not in failed)
        print(f"%syft: deleted the objects of {names or 'no workers'}")


def _reset_network_worker(worker: NetworkWorker) -> None:
    """Delete what this notebook keeps on a network worker (what its summary lists; the data
    owner's objects are not the notebook's to delete): one summary, then one delete request."""
    import jupyter_syft

    local = jupyter_syft.local_worker
    rows = local._request(worker, "summary", [])
    # a row marked private (index 5) is the data owner's, e.g. a Ray-hosted worker's partition
    ids = [row[0] for row in rows if type(row) is list and row and type(row[0]) is int
           and not (len(row) > 5 and row[5] is True)]
    if ids:
        local._pending_deletes.setdefault(worker, []).extend(ids)
        local.flush_deletes(worker)
