"""Data that ships with jupyter_syft (see README.md here): MNIST's subset (read by
``jupyter_syft.vision``) and the Boston housing table (the sandbox and Part 10)."""
from .boston import boston_housing, write_boston_pickle

__all__ = ["boston_housing", "write_boston_pickle"]
