"""Neural networks: ``Module`` and its containers, layers, activations, losses, ``init`` and
``functional`` (the same names as ``torch.nn``)."""

from . import functional, init
from .activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .dropout import Dropout
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import IncompatibleKeys, Module, ModuleList, Parameter, Sequential
from .padding import (
    CircularPad1d,
    CircularPad2d,
    ConstantPad1d,
    ConstantPad2d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReplicationPad1d,
    ReplicationPad2d,
    ZeroPad1d,
    ZeroPad2d,
)
from .pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "Flatten", "Identity",
    "IncompatibleKeys", "L1Loss", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Module",
    "ModuleList", "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Softplus",
    "Tanh", "functional", "init",
]

# -- shape, indexing, sorting and scan ops (issue 10) --
from .flatten import Unflatten  # noqa: E402

__all__ += ["Unflatten"]

# -- normalisation, embeddings, activations and containers (issue 10) --
from .activation import (  # noqa: E402
    ELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    Mish,
    PReLU,
    ReLU6,
    SiLU,
    Softsign,
)
from .module import ModuleDict, ParameterDict, ParameterList  # noqa: E402
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm  # noqa: E402
from .sparse import Embedding  # noqa: E402

__all__ += [
    "BatchNorm1d", "BatchNorm2d", "ELU", "Embedding", "Hardsigmoid", "Hardswish", "Hardtanh",
    "LayerNorm", "Mish", "ModuleDict", "PReLU", "ParameterDict", "ParameterList", "ReLU6",
    "SiLU", "Softsign",
]
# -- math ops (issue 10) --
from .activation import GELU  # noqa: E402

__all__ += ["GELU"]
# -- convolution, pooling, padding and interpolation (issue 10) --
__all__ += [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
    "AvgPool1d", "AvgPool2d", "CircularPad1d", "CircularPad2d", "ConstantPad1d", "ConstantPad2d",
    "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d",
    "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "Upsample",
    "UpsamplingBilinear2d", "UpsamplingNearest2d", "ZeroPad1d", "ZeroPad2d",
]
