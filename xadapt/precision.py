"""The numeric precision a run computes in, chosen from the hardware.

`auto` means bf16 autocast where the hardware multiplies bf16 matrices natively (CUDA devices
that support bf16; CPUs with AMX or AVX512-BF16) and fp32 everywhere else: on an AVX2-only CPU
bf16 matrix products are emulated and slower than fp32. Under bf16 only the matrix products run
in bf16 (`torch.autocast`); master weights, gradients and the optimiser state stay fp32, and so do
the parts bf16 measurably hurts: losses and the softmax inside them (autocast upcasts
cross-entropy), LayerNorm over the fp32 residual stream, and the invertible adapter's inverse
(`fp32_region`). Perplexities and the drift analysis are measurements and always run in fp32.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from xadapt.errors import XadaptError

AUTO, FP32, BF16 = "auto", "fp32", "bf16"
PRECISIONS = (AUTO, FP32, BF16)
NATIVE_BF16_ISA = ("AMX", "AVX512-BF16")  # CPU instruction sets with bf16 matrix instructions (`environment.cpu()`)
PRECISION_HELP = ("Numeric precision: auto (bf16 autocast on GPUs with bf16 and on CPUs with AMX or AVX512-BF16, "
                  "fp32 elsewhere), fp32 or bf16. Weights and optimiser state stay fp32.")


@dataclass(frozen=True)
class Precision:
    """A resolved precision (`fp32` or `bf16`) and why it was chosen."""

    name: str
    reason: str


def choose_precision(requested: str, *, cuda: bool, cuda_bf16: bool, cpu_isa: list[str]) -> Precision:
    """The precision `requested` (auto, fp32 or bf16) means on a machine with these capabilities."""
    if requested not in PRECISIONS:
        raise XadaptError(f"precision must be one of {', '.join(PRECISIONS)}, got {requested!r}")
    if requested == FP32:
        return Precision(FP32, "asked for")
    if cuda:
        if cuda_bf16:
            return Precision(BF16, "asked for" if requested == BF16 else "the GPU supports bf16")
        if requested == BF16:
            raise XadaptError("--precision bf16: this GPU does not support bf16; use --precision fp32 or auto")
        return Precision(FP32, "the GPU has no bf16")
    native = [isa for isa in NATIVE_BF16_ISA if isa in cpu_isa]
    if requested == BF16:
        return Precision(BF16, "asked for" + ("" if native else " (this CPU has no bf16 matrix instructions: slower than fp32)"))
    if native:
        return Precision(BF16, f"the CPU has {native[0]}")
    return Precision(FP32, "the CPU has no AMX or AVX512-BF16 (bf16 would be emulated, slower than fp32)")


def resolve_precision(requested: str) -> Precision:
    """`choose_precision` on this machine."""
    from xadapt.environment import cpu

    cuda = torch.cuda.is_available()
    return choose_precision(requested, cuda=cuda, cuda_bf16=cuda and torch.cuda.is_bf16_supported(), cpu_isa=cpu()["isa"])


def autocast(precision: str, device_type: str):
    """The autocast context of `precision` (fp32: autocast off) on `device_type`."""
    return torch.autocast(device_type, dtype=torch.bfloat16, enabled=precision == BF16)


@contextmanager
def fp32_region(tensor: torch.Tensor) -> Iterator[torch.Tensor]:
    """Autocast off, and `tensor` in fp32: for a computation bf16 would hurt."""
    with torch.autocast(tensor.device.type, enabled=False):
        yield tensor.float()
