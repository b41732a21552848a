"""sy.create_sandbox (Parts 05 and 07): the workers, globals, text and tagged datasets PySyft
0.2.4's sandbox made, from data on disk."""
import torch

import jupyter_syft as sy
from jupyter_syft import sandbox
from jupyter_syft.workers import all_workers, remove_worker

PROGRESS = """Setting up Sandbox...
\t- Hooking PyTorch
\t- Creating Virtual Workers:
\t\t- bob
\t\t- theo
\t\t- jason
\t\t- alice
\t\t- andy
\t\t- jon
\tStoring hook and workers as global variables...
\tLoading datasets from SciKit Learn...
\t\t- Boston Housing Dataset
\t\t- Diabetes Dataset
\t\t- Breast Cancer Dataset
\t- Digits Dataset
\t\t- Iris Dataset
\t\t- Wine Dataset
\t\t- Linnerud Dataset
\tDistributing Datasets Amongst Workers...
\tCollecting workers into a VirtualGrid...
Done!
"""


def _fresh():
    for w in list(all_workers()):
        if w.id in sandbox.WORKER_NAMES:
            remove_worker(w)


def test_the_sandbox_prints_and_fills_the_namespace(capsys):
    _fresh()
    gbs = {"torch": torch}
    sy.create_sandbox(gbs)
    assert capsys.readouterr().out == PROGRESS
    assert [w.id for w in gbs["workers"]] == list(sandbox.WORKER_NAMES)
    assert all(gbs[name] is w for name, w in zip(sandbox.WORKER_NAMES, gbs["workers"]))
    assert repr(gbs["workers"][0]) == "<VirtualWorker id:bob #objects:14>"
    assert all(len(w._objects) == 14 for w in gbs["workers"])  # 7 datasets x data and target
    assert isinstance(gbs["grid"], sy.PrivateGridNetwork) and gbs["hook"] is sy.hook
    boston = gbs["grid"].search("#boston", "#data")
    assert list(boston) == list(sandbox.WORKER_NAMES)
    assert [p.shape[0] for ps in boston.values() for p in ps] == [84] * 5 + [86]
    assert boston["alice"][0].shape[1] == 13  # Part 07 reads the feature count this way
    data = gbs["bob"].search(["#boston", "#data"])[0]
    assert data.tags == ["#boston", "#housing", "#boston_housing", "#data", "..", "_boston_dataset:"]
    assert data.description.startswith(".. _boston_dataset:") and data.dtype == torch.float32
    target = gbs["bob"].search(["#boston", "#target"])[0]
    assert target.shape == (84,)
    assert len(gbs["grid"].search("#diabetes", "#target")) == 6
    assert len(gbs["grid"].search("_iris_dataset:", "#data")) == 6  # words of scikit-learn's first line
    _fresh()


def test_quiet_sandbox_prints_two_lines(capsys):
    _fresh()
    sy.create_sandbox({"torch": torch, "th": 0.5}, verbose=False)  # a notebook's own `th`
    assert capsys.readouterr().out == "Setting up Sandbox...\nDone!\n"
    _fresh()


def test_the_shipped_boston_data():
    boston = sandbox.load_boston()
    assert boston.data.shape == (506, 13) and boston.target.shape == (506,)
    assert float(boston.data[0, 0]) == 0.00632 and float(boston.target[0]) == 24.0
