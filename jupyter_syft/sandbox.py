"""``sy.create_sandbox(globals())`` (Parts 05 and 07): six workers, the hook, a grid, and seven
small datasets split across the workers and tagged, as PySyft 0.2's sandbox made them.

The datasets are scikit-learn's bundled copies, read from disk; the Boston housing data, which
scikit-learn no longer ships, comes with this package (see ``data/README.md``). Nothing is
downloaded.
"""
import csv
import importlib.util
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import torch

from .exceptions import SyftError

WORKER_NAMES = ("bob", "theo", "jason", "alice", "andy", "jon")
_BOSTON_CSV = Path(__file__).parent / "data" / "boston_house_prices.csv"
# The first line is the one PySyft's tags came from (the reStructuredText label scikit-learn
# used); the rest is ours.
_BOSTON_DESCR = """.. _boston_dataset:

Boston house prices dataset
---------------------------
506 towns around Boston (1970 census): 13 features per town, such as the crime rate, rooms per
dwelling and distance to employment centres, and the median value of owner-occupied homes in
$1000s as the target. Shipped with jupyter_syft; see jupyter_syft/data/README.md for its source,
its licence and a note on its B column."""


class DependencyError(SyftError, ImportError):
    """A package the sandbox needs is not installed."""


def load_boston() -> SimpleNamespace:
    with open(_BOSTON_CSV, newline="") as f:
        rows = list(csv.reader(f))[2:]  # a count line, then the column names
    values = torch.tensor([[float(v) for v in row] for row in rows], dtype=torch.float64)
    return SimpleNamespace(data=values[:, :-1], target=values[:, -1], DESCR=_BOSTON_DESCR)


def _tagged(dataset: Any, tags: List[str]) -> tuple:
    """Data and target as float tensors, tagged with the given tags, #data or #target, and the
    lower-cased words of the description's first line (as PySyft tagged them)."""
    words = [w for w in dataset.DESCR.split("\n")[0].lower().split(" ") if w]
    pair = []
    for values, kind in ((dataset.data, "#data"), (dataset.target, "#target")):
        t = torch.as_tensor(values).float().tag(*tags, kind, *words).describe(dataset.DESCR)
        pair.append(t)
    return tuple(pair)


def _distribute(t: torch.Tensor, workers: list) -> None:
    """Consecutive, nearly equal parts, one per worker (the last takes the rest). The pointers
    are dropped without deleting: the data stays on the workers, to be found by search."""
    size = t.shape[0] // len(workers)
    for i, worker in enumerate(workers):
        part = t[i * size:(i + 1) * size] if i < len(workers) - 1 else t[i * size:]
        part = part.tag(*t.tags).describe(t.description)
        part.send(worker, garbage_collect_data=False)


def create_sandbox(gbs: Dict[str, Any], verbose: bool = True, download_data: bool = True) -> None:
    """Set up the sandbox in the namespace ``gbs`` (pass ``globals()``), printing as PySyft did."""
    import jupyter_syft as sy

    if download_data and importlib.util.find_spec("sklearn") is None:
        raise DependencyError("the sandbox's datasets come from scikit-learn, which is not "
                              "installed: pip install scikit-learn")

    def say(text: str) -> None:
        if verbose:
            print(text)

    print("Setting up Sandbox...")
    say("\t- Hooking PyTorch")
    hook = sy.TorchHook(torch)  # our own import: a notebook's `th` may be anything
    say("\t- Creating Virtual Workers:")
    workers = []
    for name in WORKER_NAMES:
        say(f"\t\t- {name}")
        workers.append(sy.VirtualWorker(hook, id=name))
    say("\tStoring hook and workers as global variables...")
    gbs["hook"] = hook
    gbs.update(zip(WORKER_NAMES, workers))
    gbs["workers"] = workers

    if download_data:
        from sklearn import datasets as skl

        say("\tLoading datasets from SciKit Learn...")
        loaded = []
        # (progress line, loader, tags); the Digits line has one tab, as PySyft printed it
        for line, loader, tags in (
                ("\t\t- Boston Housing Dataset", load_boston, ["#boston", "#housing", "#boston_housing"]),
                ("\t\t- Diabetes Dataset", skl.load_diabetes, ["#diabetes"]),
                ("\t\t- Breast Cancer Dataset", skl.load_breast_cancer, []),
                ("\t- Digits Dataset", skl.load_digits, []),
                ("\t\t- Iris Dataset", skl.load_iris, []),
                ("\t\t- Wine Dataset", skl.load_wine, []),
                ("\t\t- Linnerud Dataset", skl.load_linnerud, [])):
            say(line)
            loaded.append(_tagged(loader(), tags))
        say("\tDistributing Datasets Amongst Workers...")
        for data, target in loaded:
            _distribute(data, workers)
            _distribute(target, workers)

    say("\tCollecting workers into a VirtualGrid...")
    gbs["grid"] = sy.PrivateGridNetwork(*workers)
    print("Done!")
