"""Part 10's data: jupyter_syft.data.boston_housing, Keras's split of the shipped Boston CSV."""
import pickle

import numpy as np
import pytest

from jupyter_syft.data import boston_housing, write_boston_pickle
from jupyter_syft.data.boston import CSV


def test_split_sizes_types_and_keras_order():
    (X, y), (X_test, y_test) = boston_housing()
    assert X.shape == (404, 13) and y.shape == (404,)
    assert X_test.shape == (102, 13) and y_test.shape == (102,)
    assert {a.dtype for a in (X, y, X_test, y_test)} == {np.dtype(np.float64)}
    # the first rows of Keras's boston_housing.load_data() (seed 113)
    assert X[0].tolist() == [1.23247, 0.0, 8.14, 0.0, 0.538, 6.142, 91.7, 3.9769, 4.0, 307.0, 21.0,
                             396.9, 18.72]
    assert y[:5].tolist() == [15.2, 42.3, 50.0, 21.1, 17.7]
    assert y_test[:5].tolist() == [7.2, 18.8, 19.0, 27.0, 22.2]
    assert set(np.unique(X[:, 3])) == {0.0, 1.0}  # Part 10 leaves this binary column unscaled


def test_split_is_a_permutation_of_the_csv_and_repeatable():
    table = np.loadtxt(CSV, delimiter=",", skiprows=2)
    (X, y), (X_test, y_test) = boston_housing()
    rows = np.vstack([np.column_stack([X, y]), np.column_stack([X_test, y_test])])
    assert sorted(map(tuple, rows)) == sorted(map(tuple, table))
    again = boston_housing()
    assert np.array_equal(again[0][0], X) and np.array_equal(again[1][1], y_test)
    other = boston_housing(seed=1)
    assert not np.array_equal(other[0][0], X)
    (X5, _), (X5_test, _) = boston_housing(test_split=0.5)
    assert len(X5) == len(X5_test) == 253
    with pytest.raises(ValueError):
        boston_housing(test_split=1.0)


def test_pickle_for_pysyfts_part10(tmp_path):
    path = write_boston_pickle(tmp_path / "BostonHousing" / "boston_housing.pickle")
    raw = path.read_bytes()
    assert raw[:2] == b"\x80\x03"  # protocol 3
    with open(path, "rb") as f:
        ((X, y), (X_test, y_test)) = pickle.load(f)
    (X0, y0), (X0_test, y0_test) = boston_housing()
    assert all(np.array_equal(a, b) for a, b in ((X, X0), (y, y0), (X_test, X0_test), (y_test, y0_test)))
