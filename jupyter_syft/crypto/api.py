"""The PySyft 0.2 methods for encrypted computation, as TorchHook puts them on torch.Tensor,
nn.Module and torch.optim.Optimizer: fix_precision, float_precision, share (and their short
names). Tensors of our own wrapper types define their own versions."""
import torch
from torch import nn

from ..pointers import PointerTensor
from . import additive_sharing as ring
from .fixed_precision import FixedPrecisionTensor, SharedPointer, _parties, encode


def _provider(crypto_provider):
    from ..workers import get_worker

    return get_worker(crypto_provider) if crypto_provider is not None else None


def fix_precision(self: torch.Tensor, base: int = 10, precision_fractional: int = 3, **kwargs):
    """x as integers x * base**precision_fractional (PySyft's default: 3 decimal digits)."""
    if type(base) is not int or not 2 <= base <= 16 or type(precision_fractional) is not int \
            or not 0 <= precision_fractional <= 16:
        raise ValueError("fix_precision() takes a base from 2 to 16 and precision_fractional from 0 to 16")
    if self.is_complex():
        raise TypeError("complex tensors have no fixed-precision form")
    dtype = self.dtype if self.is_floating_point() else torch.float32
    if isinstance(self, PointerTensor):
        import jupyter_syft

        self.check_live()
        if not self.is_floating_point():
            raise TypeError("fix_precision() of a remote tensor needs a float tensor")
        ints = jupyter_syft.local_worker._request(
            self._location, "mpc", ["encode", self, base, precision_fractional], [self])
        return FixedPrecisionTensor(ints, base, precision_fractional, dtype=dtype)
    return FixedPrecisionTensor(encode(self.to(dtype), base, precision_fractional), base,
                                precision_fractional, dtype=dtype)


def float_precision(self: torch.Tensor):
    raise TypeError("float_precision() decodes a fixed-precision tensor; this one is a plain "
                    f"{self.dtype} tensor")


def share(self: torch.Tensor, *workers, crypto_provider=None, requires_grad: bool = False, **kwargs):
    """Split an integer tensor into additive shares, one per worker."""
    if self.is_floating_point():
        raise TypeError("FloatTensor cannot be additively shared, Use fix_precision.")
    if self.is_complex() or self.dtype == torch.bool:
        raise TypeError(f"a {self.dtype} tensor cannot be additively shared; share integers, "
                        "or floats after fix_precision()")
    provider = _provider(crypto_provider)
    parties = _parties(workers, provider)
    if isinstance(self, PointerTensor):
        self.check_live()
        return SharedPointer(ring.share_remote(self, parties, provider), self)
    return ring.share_local(self, parties, provider)


TENSOR_API = {"fix_precision": fix_precision, "fix_prec": fix_precision,
              "float_precision": float_precision, "float_prec": float_precision, "share": share}


# --- modules ---------------------------------------------------------------------------------------
def _replace_parameters(module: nn.Module, convert) -> nn.Module:
    for m in module.modules():
        for name, p in list(m._parameters.items()):
            if p is not None:
                m._parameters[name] = nn.Parameter(convert(p), requires_grad=_wants_grad(p, convert))
    return module


def _wants_grad(p, convert) -> bool:
    return getattr(convert, "requires_grad", p.requires_grad)


def module_fix_precision(self: nn.Module, base: int = 10, precision_fractional: int = 3, **kwargs) -> nn.Module:
    """Every parameter in fixed precision, in place (PySyft's model.fix_precision())."""
    def convert(p):
        if isinstance(p, FixedPrecisionTensor):
            raise TypeError("this model is already in fixed precision")
        return fix_precision(p.detach(), base, precision_fractional)
    return _replace_parameters(self, convert)


def module_share(self: nn.Module, *workers, crypto_provider=None, requires_grad: bool = False, **kwargs) -> nn.Module:
    """Every parameter secret-shared between the workers, in place."""
    provider = _provider(crypto_provider)
    parties = _parties(workers, provider)

    def convert(p):
        if not isinstance(p, FixedPrecisionTensor):
            raise TypeError("a model's float parameters cannot be additively shared: "
                            "call model.fix_precision() first")
        return p._like(ring.share_local(p.child, parties, provider), False)
    convert.requires_grad = requires_grad
    return _replace_parameters(self, convert)


def module_float_precision(self: nn.Module) -> nn.Module:
    def convert(p):
        if not isinstance(p, FixedPrecisionTensor):
            raise TypeError("this model is not in fixed precision")
        return p.float_precision()
    convert.requires_grad = True
    return _replace_parameters(self, convert)


def module_get_shared(self: nn.Module) -> bool:
    """model.get() of a shared model: every parameter's shares come home (still fixed
    precision). Returns False when the model has no shared parameters."""
    shared = [p for p in self.parameters() if isinstance(p, FixedPrecisionTensor) and p.is_shared]
    if not shared:
        return False

    def convert(p):
        return p.get() if isinstance(p, FixedPrecisionTensor) and p.is_shared else p.detach()
    convert.requires_grad = False
    _replace_parameters(self, convert)
    return True


MODULE_API = {"fix_precision": module_fix_precision, "fix_prec": module_fix_precision,
              "float_precision": module_float_precision, "float_prec": module_float_precision,
              "share": module_share}


def optimizer_fix_precision(self, *args, **kwargs):
    """PySyft encoded the learning rate; here the step encodes it as it multiplies, so the
    optimizer is ready as it is."""
    return self


OPTIMIZER_API = {"fix_precision": optimizer_fix_precision, "fix_prec": optimizer_fix_precision}
