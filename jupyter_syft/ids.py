"""Object ids: random integers below 1e11, like PySyft 0.2's.

Always 11 digits (PySyft's were usually 10 or 11): a printed dict of ids then breaks into lines
the same way every time, which keeps notebooks' stored outputs comparable."""
import random

_random = random.Random()


def new_id() -> int:
    return _random.randrange(10**10, 10**11)
