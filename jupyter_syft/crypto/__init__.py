"""Encrypted computation (Parts 09-12 bis): fixed precision, additive secret sharing, Beaver
triples and comparisons. TorchHook puts the methods of ``api.py`` on tensors, modules and
optimizers."""
from .additive_sharing import AdditiveSharingTensor
from .fixed_precision import FixedPrecisionTensor, SharedPointer
from .api import MODULE_API, OPTIMIZER_API, TENSOR_API

__all__ = ["AdditiveSharingTensor", "FixedPrecisionTensor", "SharedPointer",
           "TENSOR_API", "MODULE_API", "OPTIMIZER_API"]
