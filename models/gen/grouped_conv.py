#!/usr/bin/env python3
"""One grouped 3x3 convolution with 4 channels per group, random weights (a speed probe).

    python models/gen/grouped_conv.py OUT.onnx

The shape of ResNeXt-50 32x4d's first-stage grouped convolution (``layer1.*.conv2``):
input [N, 128, 56, 56], 128 output channels, 32 groups (4 input and 4 output channels per
group), 3x3 kernel, stride 1, padding 1, with a bias and no activation. 14.45 M
multiply-accumulates. It isolates the layer kind ResNeXt spends its time in and peers handle
worst (few channels per group); docs/benchmarks.md reports its throughput in GMAC/s.
Input ``input`` [N, 128, 56, 56], output ``output`` [N, 128, 56, 56].
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _builder import Net, main  # noqa: E402

CHANNELS, GROUPS, SIZE = 128, 32, 56


def build() -> Net:
    net = Net("grouped_conv_3x3_g32_c128", seed=20170405, input_chw=(CHANNELS, SIZE, SIZE),
              doc="one grouped 3x3 conv, 4 channels per group, random weights, mote models/gen")
    x = net.conv("input", "conv", CHANNELS, 3, 1, groups=GROUPS, bias=True)
    net.output(x, "output")
    return net


if __name__ == "__main__":
    main(build)
