"""Part 07's training epoch, written once for both sides of the benchmark: bench_part07.py runs
it with jupyter_syft, peer_part07_pysyft024.py with PySyft 0.2.4 (so keep it Python 3.7
compatible). `sy` is the library, `gbs` the namespace create_sandbox filled."""
import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH, LR = 32, 0.1


class Net(nn.Module):
    def __init__(self, n_features):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(n_features, 32)
        self.fc2 = nn.Linear(32, 24)
        self.fc3 = nn.Linear(24, 1)

    def forward(self, x):
        x = x.view(-1, self.fc1.in_features)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def federated_setup(sy, gbs):
    """The tutorial's cells before its training loop."""
    grid = gbs["grid"]
    data, target = grid.search("#boston", "#data"), grid.search("#boston", "#target")
    datasets = [sy.BaseDataset(data[w][0], target[w][0]) for w in data.keys()]
    dataset = sy.FederatedDataset(datasets)
    torch.manual_seed(0)
    model = Net(data["alice"][0].shape[1])
    optimizers = {w: torch.optim.Adam(model.parameters(), lr=LR) for w in dataset.workers}
    loader = sy.FederatedDataLoader(dataset, batch_size=BATCH, shuffle=False, drop_last=False)
    return model, optimizers, loader


def federated_epoch(model, optimizers, loader):
    """One epoch of the tutorial's loop; returns (batches, summed loss)."""
    batches, total = 0, 0.0
    model.train()
    for data, target in loader:
        model.send(data.location)
        optimizer = optimizers[data.location.id]
        optimizer.zero_grad()
        pred = model(data)
        loss = F.mse_loss(pred.view(-1), target)
        loss.backward()
        optimizer.step()
        model.get()
        total += float(loss.get().detach())
        batches += 1
    return batches, total


def local_setup(parts):
    """The same model, optimizers and batches, all local: parts is [(worker id, data, target)]."""
    torch.manual_seed(0)
    model = Net(parts[0][1].shape[1])
    optimizers = {w: torch.optim.Adam(model.parameters(), lr=LR) for w, _, _ in parts}
    batches = [(w, d[i:i + BATCH], t[i:i + BATCH]) for w, d, t in parts
               for i in range(0, d.shape[0], BATCH)]
    return model, optimizers, batches


def local_epoch(model, optimizers, batches):
    total = 0.0
    model.train()
    for w, data, target in batches:
        optimizer = optimizers[w]
        optimizer.zero_grad()
        loss = F.mse_loss(model(data).view(-1), target)
        loss.backward()
        optimizer.step()
        total += float(loss.detach())
    return len(batches), total
