"""Part 08's plans, shared by the plan, protocol and view tests."""
import torch.nn.functional as F
from torch import nn

import jupyter_syft as sy


class Net(sy.Plan):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(2, 3)
        self.fc2 = nn.Linear(3, 2)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return F.log_softmax(x, dim=0)


def incrementers(n=3):
    """Part 08 bis's plans: inc1, inc2, ... each `x + 1`, built for shape (1,)."""
    plans = []
    for i in range(1, n + 1):
        def inc(x):
            return x + 1
        inc.__name__ = f"inc{i}"
        plans.append(sy.func2plan(args_shape=[(1,)])(inc))
    return plans
