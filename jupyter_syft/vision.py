"""``from torchvision import datasets, transforms`` for Part 06 when torchvision is missing.

On these machines no torchvision wheel imports beside the CPU torch (PyPI's are CUDA builds), so
``%load_ext jupyter_syft`` names this module ``torchvision`` when no real one is installed. It has
what Part 06 uses: ``datasets.MNIST`` and ``transforms.Compose/ToTensor/Normalize``. MNIST is
read from ``<root>/MNIST/raw/`` where torchvision keeps it, else from the subset that ships with
jupyter_syft (see ``data/README.md``). Nothing is downloaded.
"""
import gzip
import struct
import types
from pathlib import Path
from typing import Any, Callable, List, Optional

import torch

SUBSET = Path(__file__).parent / "data" / "mnist"
_FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def read_idx(path: Path) -> torch.Tensor:
    """An idx file (MNIST's format: a header, then unsigned bytes), plain or gzipped."""
    data = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
    if len(data) < 4:
        raise ValueError(f"{path} is not an idx file: it is cut short")
    zero, kind, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 8 or not 1 <= ndim <= 3 or len(data) < 4 + 4 * ndim:
        raise ValueError(f"{path} is not an idx file of unsigned bytes")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    body = data[4 + 4 * ndim:]
    if len(body) != torch.Size(shape).numel():
        raise ValueError(f"{path} holds {len(body)} values, not {shape}")
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).view(*shape)


def _find(root: Any, name: str) -> Path:
    for folder in (Path(root) / "MNIST" / "raw", SUBSET):
        for candidate in (folder / name, folder / (name + ".gz")):
            if candidate.exists():
                return candidate
    raise FileNotFoundError(f"{name} is neither in {Path(root) / 'MNIST' / 'raw'} nor shipped")


class MNIST(torch.utils.data.Dataset):
    """torchvision's MNIST, read from files: an item is (a 28x28 uint8 image, its label)."""

    def __init__(self, root: Any, train: bool = True, transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None, download: bool = False) -> None:
        images, labels = _FILES[bool(train)]
        self.root, self.train = root, bool(train)
        self.data = read_idx(_find(root, images))
        self.targets = read_idx(_find(root, labels)).long()
        if len(self.data) != len(self.targets):
            raise ValueError("MNIST images and labels differ in number")
        self.transform, self.target_transform = transform, target_transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        image, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self) -> str:
        return (f"Dataset MNIST\n    Number of datapoints: {len(self)}\n    Root location: {self.root}\n"
                f"    Split: {'Train' if self.train else 'Test'}")


class ToTensor:
    """An image (a uint8 tensor, H x W) as floats in [0, 1], channels first."""

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        image = torch.as_tensor(image)
        if image.dim() == 2:
            image = image.unsqueeze(0)
        return image.to(torch.float32).div(255)


class Normalize:
    def __init__(self, mean, std) -> None:
        self.mean = torch.as_tensor(mean, dtype=torch.float32).view(-1, 1, 1)
        self.std = torch.as_tensor(std, dtype=torch.float32).view(-1, 1, 1)

    def __call__(self, tensor: torch.Tensor) -> torch.Tensor:
        return (tensor - self.mean) / self.std


class Compose:
    def __init__(self, steps: List[Callable]) -> None:
        self.steps = list(steps)

    def __call__(self, value):
        for step in self.steps:
            value = step(value)
        return value


datasets = types.ModuleType("torchvision.datasets", "jupyter_syft's stand-in: MNIST only")
datasets.MNIST = MNIST
transforms = types.ModuleType("torchvision.transforms", "jupyter_syft's stand-in")
transforms.Compose, transforms.ToTensor, transforms.Normalize = Compose, ToTensor, Normalize
