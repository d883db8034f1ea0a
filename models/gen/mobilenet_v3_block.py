#!/usr/bin/env python3
"""A few MobileNetV3 blocks (Howard et al. 2019) plus assorted exporter idioms, random weights.

    python models/gen/mobilenet_v3_block.py OUT.onnx

Input ``input`` [N, 3, 64, 64], output ``probs`` [N, 10] (Softmax over the classes).
Graph, in torchvision-style module names:
  features.0  3x3 stride-2 conv to 16 + BN + HardSwish (the ONNX op)               -> 16x32x32
  features.1  stride-2 block as mobilenet_v3_small's first: 3x3 depthwise + BN + ReLU,
              squeeze-excitation (GlobalAveragePool -> 1x1 Conv 16->8 + bias -> Relu -> 1x1 Conv
              8->16 + bias -> HardSigmoid(1/6, 0.5) -> Mul(scale, x) broadcasting [N,C,1,1]),
              1x1 projection + BN                                                   -> 16x16x16
  features.2  expansion 1x1 to 48 + BN + hard-swish written out as x * Clip(x + 3, 0, 6) / 6
              (Add, Clip, Mul, Div with Constant operands, as `x * F.relu6(x + 3) / 6` exports);
              5x5 depthwise with reflect padding exported as Pad(mode=reflect) + Conv(pads 0)
              + BN + the same hard-swish pattern; squeeze-excitation (48->16->48); 1x1 projection
              to 24 + BN                                                            -> 24x16x16
  features.3  residual block: 1x1 to 72 + BN + ReLU, 3x3 depthwise + BN + ReLU, 1x1 to 24 + BN,
              Add with the block input                                              -> 24x16x16
  features.4  AveragePool 3x3 stride 2 pad 1 with count_include_pad=0                -> 24x8x8
  features.5  1x1 conv + BN + HardSwish, Resize x2 (linear, half_pixel, scales [1,1,2,2]),
              Add with the output of features.3                                     -> 24x16x16
  features.6  1x1 conv to 96 + BN + HardSwish
  head        GlobalAveragePool, Flatten, Gemm 96->64, HardSwish, Gemm 64->10, Softmax(axis=1).
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _builder import Net, main  # noqa: E402


def hardswish_pattern(net: Net, x: str, mod: str) -> str:
    """x * relu6(x + 3) / 6 -> Add, Clip, Mul, Div."""
    three = net.const_node(np.array(3.0, np.float32), mod)
    y = net.binary("Add", x, three, mod)
    y = net.relu6(y, mod, const_nodes=True)
    y = net.binary("Mul", x, y, mod)
    six = net.const_node(np.array(6.0, np.float32), mod)
    return net.binary("Div", y, six, mod)


def squeeze_excitation(net: Net, x: str, mod: str, squeeze: int) -> str:
    c = net.shapes[x][1]
    s = net.global_avgpool(x, f"{mod}.avgpool")
    s = net.conv(s, f"{mod}.fc1", squeeze, 1, bias=True)
    s = net.relu(s, f"{mod}.relu")
    s = net.conv(s, f"{mod}.fc2", c, 1, bias=True, gain=1.0)
    s = net.same_shape("HardSigmoid", s, f"{mod}.scale_activation", alpha=1.0 / 6, beta=0.5)
    return net.binary("Mul", s, x, mod)


def build() -> Net:
    net = Net("mobilenet_v3_block", seed=20190506, input_chw=(3, 64, 64),
              doc="MobileNetV3-style blocks (Howard et al. 2019), random weights, mote models/gen")
    x = net.conv_bn("input", "features.0.0", "features.0.1", 16, 3, 2, act="hardswish",
                    mod_act="features.0.2")

    # features.1: dw 3x3 s2 + ReLU, SE, project (no residual: stride 2).
    b = "features.1.block"
    y = net.conv_bn(x, f"{b}.0.0", f"{b}.0.1", 16, 3, 2, groups=16, act="relu", mod_act=f"{b}.0.2")
    y = squeeze_excitation(net, y, f"{b}.1", 8)
    x = net.conv_bn(y, f"{b}.2.0", f"{b}.2.1", 16, 1, act=None)

    # features.2: expand + hard-swish pattern, reflect-padded dw 5x5 + pattern, SE, project.
    b = "features.2.block"
    y = net.conv_bn(x, f"{b}.0.0", f"{b}.0.1", 48, 1, act=None, gain=2.0)
    y = hardswish_pattern(net, y, f"{b}.0.2")
    pads = net.const_node(np.array([0, 0, 2, 2, 0, 0, 2, 2], np.int64), f"{b}.1.0")
    (p,) = net.node("Pad", [y, pads], f"{b}.1.0", mode="reflect")
    n, c, h, w = net.shapes[y]
    net.shapes[p] = [n, c, h + 4, w + 4]
    y = net.conv(p, f"{b}.1.0", 48, 5, 1, pad=0, groups=48)
    y = net.bn(y, f"{b}.1.1")
    y = hardswish_pattern(net, y, f"{b}.1.2")
    y = squeeze_excitation(net, y, f"{b}.2", 16)
    x = net.conv_bn(y, f"{b}.3.0", f"{b}.3.1", 24, 1, act=None)

    # features.3: residual inverted bottleneck with ReLU.
    b = "features.3.block"
    y = net.conv_bn(x, f"{b}.0.0", f"{b}.0.1", 72, 1, act="relu", mod_act=f"{b}.0.2")
    y = net.conv_bn(y, f"{b}.1.0", f"{b}.1.1", 72, 3, 1, groups=72, act="relu", mod_act=f"{b}.1.2")
    y = net.conv_bn(y, f"{b}.2.0", f"{b}.2.1", 24, 1, act=None, scale=0.5)
    x = skip = net.binary("Add", y, x, "features.3")

    # features.4: average pooling that excludes the padding from the divisor.
    x = net.avgpool(x, "features.4", 3, 2, 1, count_include_pad=0)

    # features.5: 1x1 conv + HardSwish, bilinear x2 upsampling, add the skip.
    x = net.conv_bn(x, "features.5.0", "features.5.1", 24, 1, act="hardswish", mod_act="features.5.2",
                    scale=0.5)
    scales = net.const_node(np.array([1.0, 1.0, 2.0, 2.0], np.float32), "features.5.3")
    (up,) = net.node("Resize", [x, "", scales], "features.5.3", coordinate_transformation_mode="half_pixel",
                     cubic_coeff_a=-0.75, mode="linear", nearest_mode="floor")
    n, c, h, w = net.shapes[x]
    net.shapes[up] = [n, c, 2 * h, 2 * w]
    x = net.binary("Add", up, skip, "features.5")

    x = net.conv_bn(x, "features.6.0", "features.6.1", 96, 1, act="hardswish", mod_act="features.6.2")
    x = net.global_avgpool(x, "avgpool")
    x = net.flatten(x, "")
    x = net.gemm(x, "classifier.0", 64)
    x = net.same_shape("HardSwish", x, "classifier.1")
    x = net.gemm(x, "classifier.3", 10)
    x = net.same_shape("Softmax", x, "", axis=1)
    net.output(x, "probs")
    return net


if __name__ == "__main__":
    main(build)
