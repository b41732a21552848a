"""Part 10's Boston housing split, made from the CSV that ships with jupyter_syft.

PySyft's Part 10 unpickled ``../data/BostonHousing/boston_housing.pickle``, a file that was
never part of PySyft: it held the split Keras's ``boston_housing.load_data()`` returned,
``((x_train, y_train), (x_test, y_test))``. ``boston_housing()`` makes that split from
``boston_house_prices.csv`` (see README.md for its source and licence) the way Keras did: the
506 rows in a random order drawn from ``numpy.random.RandomState(seed)``, the first 80% for
training. Nothing is downloaded.
"""
import pickle
from pathlib import Path
from typing import Tuple, Union

import numpy as np

CSV = Path(__file__).parent / "boston_house_prices.csv"

Split = Tuple[Tuple[np.ndarray, np.ndarray], Tuple[np.ndarray, np.ndarray]]


def boston_housing(test_split: float = 0.2, seed: int = 113) -> Split:
    """``((X, y), (X_test, y_test))``: float64 arrays of 13 features and the median home value
    (in $1000s). With the defaults, 404 training rows and 102 test rows, as in Keras."""
    if not 0.0 <= test_split < 1.0:
        raise ValueError("test_split must be at least 0 and below 1")
    table = np.loadtxt(CSV, delimiter=",", skiprows=2, dtype=np.float64)  # a count line, the names
    x, y = table[:, :-1], table[:, -1]
    order = np.random.RandomState(seed).permutation(len(x))
    x, y = x[order], y[order]
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train].copy(), y[:n_train].copy()), (x[n_train:].copy(), y[n_train:].copy())


def write_boston_pickle(path: Union[str, Path], test_split: float = 0.2, seed: int = 113) -> Path:
    """Write ``boston_housing()``'s tuple with pickle protocol 3, for running PySyft's original
    Part 10 unchanged: ``write_boston_pickle("data/BostonHousing/boston_housing.pickle")``
    (folders are made as needed). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(boston_housing(test_split, seed), f, protocol=3)
    return path
