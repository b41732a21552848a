"""Object ids: random integers below 1e11, like PySyft 0.2."""
import random

_random = random.Random()


def new_id() -> int:
    return int(_random.random() * 1e11) or 1
