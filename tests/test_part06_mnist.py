"""Part 06 offline: MNIST from the shipped subset through the torchvision stand-in, and a CNN
trained federated reaching what the same training reaches locally."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import jupyter_syft as sy
from jupyter_syft import vision


class Net(nn.Module):  # Part 06's network
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5, 1)
        self.conv2 = nn.Conv2d(20, 50, 5, 1)
        self.fc1 = nn.Linear(4 * 4 * 50, 500)
        self.fc2 = nn.Linear(500, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2, 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2, 2)
        x = x.view(-1, 4 * 4 * 50)
        return F.log_softmax(self.fc2(F.relu(self.fc1(x))), dim=1)


def _mnist(train):
    from jupyter_syft import compat

    compat.install_torchvision_stand_in()  # what %load_ext does, when torchvision is missing
    from torchvision import datasets, transforms

    return datasets.MNIST("../data", train=train, download=True, transform=transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]))


def test_the_tutorials_loading_code_reads_the_shipped_subset(tmp_path):
    train, test = _mnist(True), _mnist(False)
    assert len(train) == 6000 and len(test) == 1000
    image, label = train[0]
    assert image.shape == (1, 28, 28) and label == 5  # MNIST's first training image is a 5
    assert abs(float(vision.read_idx(vision.SUBSET / "train-images-idx3-ubyte.gz").float().mean()) - 33.3) < 1.0
    bad = tmp_path / "MNIST" / "raw"
    bad.mkdir(parents=True)
    (bad / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + (1).to_bytes(4, "big")
                                                 + (28).to_bytes(4, "big") * 2)  # no pixels
    with pytest.raises(ValueError, match="holds 0 values"):
        vision.MNIST(tmp_path, train=False)  # the user's own files come first
    (bad / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 8)
    with pytest.raises(ValueError, match="not an idx file"):
        vision.MNIST(tmp_path, train=False)


def _accuracy(model, test):
    data = torch.stack([test[i][0] for i in range(len(test))])
    with torch.no_grad():
        return (model(data).argmax(1) == test.targets).float().mean().item()


def test_a_federated_cnn_matches_local_training(bob, alice):
    train, test = _mnist(True), _mnist(False)
    fed = train.federate((bob, alice))
    loader = sy.FederatedDataLoader(fed, batch_size=64, shuffle=False)
    local_loader = torch.utils.data.DataLoader(train, batch_size=64, shuffle=False)
    results = []
    for federated in (True, False):
        torch.manual_seed(1)
        model = Net()
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        for data, target in (loader if federated else local_loader):
            if federated:
                model.send(data.location)
            opt.zero_grad()
            loss = F.nll_loss(model(data), target)
            loss.backward()
            opt.step()
            if federated:
                model.get()
        results.append(_accuracy(model, test))
    federated_accuracy, local_accuracy = results
    assert local_accuracy > 0.6  # it learnt something in one epoch on 6,000 images
    assert abs(federated_accuracy - local_accuracy) <= 0.01
    assert len(bob._objects) == len(alice._objects) == 2  # the data stayed; nothing leaked
