"""What %load_ext jupyter_syft costs per cell, and how fast a big worker renders.

    python bench/bench_extension.py [--quick]

Runs a real IPython shell in this process (widgets on dummy comms). Per-cell cost: `pass` cells
with 1,000 objects across 3 workers whose views (and a pointer view and the dashboard) are on
screen, against the same shell with the extension unloaded; rounds alternate so drift cancels.
Render: a worker view of a worker holding 100,000 objects, first render and a refresh.
Targets: <= 2 ms more per unchanged cell; < 100 ms to render the big worker.
"""
import argparse
import statistics
import sys
import time

import torch
from IPython.core.interactiveshell import InteractiveShell


def cell_ms(shell, cells: int) -> float:
    start = time.perf_counter()
    for _ in range(cells):
        shell.run_cell("pass", store_history=True)
    return (time.perf_counter() - start) / cells * 1e3


def per_cell_cost(rounds: int, cells: int):
    shell = InteractiveShell.instance()
    shell.run_cell("import torch", store_history=True)
    shell.run_cell("%load_ext jupyter_syft", store_history=True)
    shell.run_cell(
        "import syft as sy\nhook = sy.TorchHook(torch)\n"
        "workers = [sy.VirtualWorker(hook, id=n) for n in ('bob', 'alice', 'carol')]\n"
        "ptrs = [torch.tensor([float(i)]).send(workers[i % 3]) for i in range(1000)]",
        store_history=True)
    sy = shell.user_ns["sy"]
    assert sum(len(w._objects) for w in shell.user_ns["workers"]) == 1000
    without, with_ext = [], []
    for _ in range(rounds):
        shell.run_cell("%unload_ext jupyter_syft", store_history=True)
        without.append(cell_ms(shell, cells))
        shell.run_cell("%load_ext jupyter_syft", store_history=True)
        from jupyter_syft.ipython.extension import loaded
        live = loaded().live
        for worker in shell.user_ns["workers"]:
            live.worker_view(worker)
        live.pointer_view(shell.user_ns["ptrs"][0])
        live.dashboard_view()
        with_ext.append(cell_ms(shell, cells))
    return statistics.median(without), statistics.median(with_ext), sy


def render_ms(repeats: int):
    from jupyter_syft.widgets import LiveViews
    import jupyter_syft as sy

    big = sy.VirtualWorker(sy.hook, id="big")
    for i in range(100_000):
        big._store.set(i + 1, torch.tensor([float(i)]))
    live = LiveViews()
    live.attach()
    first = []
    for _ in range(repeats):
        live.worker_views.pop("big", None)
        start = time.perf_counter()
        view = live.worker_view(big)
        first.append((time.perf_counter() - start) * 1e3)
    refresh = []
    for i in range(repeats):
        big._store.set(10**9 + i, torch.tensor([1.0]))
        start = time.perf_counter()
        live.after_cell()
        refresh.append((time.perf_counter() - start) * 1e3)
    count = view.snapshot["count"]
    rows = len(view.snapshot["rows"])
    live.detach()
    sy.remove_worker(big)
    return statistics.median(first), statistics.median(refresh), count, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few rounds (smoke test)")
    args = parser.parse_args()
    rounds, cells, repeats = (2, 20, 2) if args.quick else (9, 300, 7)
    without, with_ext, _ = per_cell_cost(rounds, cells)
    first, refresh, count, rows = render_ms(repeats)
    delta = with_ext - without
    print(f"jupyter_syft extension benchmark: python {sys.version.split()[0]}, torch {torch.__version__}")
    print(f"per-cell cost of an unchanged `pass` cell, 1,000 objects on 3 workers, views on screen "
          f"(median of {rounds} alternating rounds of {cells} cells)")
    print(f"  without the extension {without:8.3f} ms")
    print(f"  with the extension    {with_ext:8.3f} ms")
    print(f"  extra per cell        {delta:8.3f} ms   target <= 2 ms: {'ok' if delta <= 2 else 'MISSED'}")
    print(f"worker with {count:,} objects ({rows} rows shown), median of {repeats}")
    print(f"  first render          {first:8.3f} ms   target < 100 ms: {'ok' if first < 100 else 'MISSED'}")
    print(f"  refresh after a cell  {refresh:8.3f} ms   target < 100 ms: {'ok' if refresh < 100 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
