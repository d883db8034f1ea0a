#!/usr/bin/env python3
"""A small ShuffleNetV2-style network (Ma et al. 2018), random weights, torchvision layout.

    python models/gen/shufflenet_block.py OUT.onnx

Input ``input`` [N, 3, 64, 64], output ``logits`` [N, 10]. Graph, in torchvision's module names:
conv1 (3x3 stride-2 conv to 24 + BN + ReLU), maxpool 3x3/2; stage2.0, a stride-2 unit with both
branches (branch1: 3x3 depthwise stride 2 + BN, 1x1 conv + BN + ReLU; branch2: 1x1 conv + BN +
ReLU, 3x3 depthwise stride 2 + BN, 1x1 conv + BN + ReLU), Concat; stage2.1, a stride-1 unit: Split
of the channels in two halves, branch2 on the second half, Concat; each unit ends with the
channel shuffle of torchvision (groups 2), exported as Reshape -> Transpose(0, 2, 1, 3, 4) ->
Reshape, where both Reshape shapes are built at run time from the batch size, as torch.onnx.export
writes it with a dynamic batch: Shape -> Gather(0) -> Unsqueeze -> Concat with Constant dims.
Then conv5 (1x1 conv to 128 + BN + ReLU), GlobalAveragePool, Flatten, Gemm to 10.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _builder import Net, main  # noqa: E402


def dims_tensor(net: Net, x: str, mod: str, tail: list[int]) -> str:
    """Concat(Unsqueeze(Gather(Shape(x), 0)), [d1], [d2], ...) -> int64 shape for Reshape."""
    (shape,) = net.node("Shape", [x], mod)
    idx = net.const_node(np.array(0, np.int64), mod)
    (batch,) = net.node("Gather", [shape, idx], mod, axis=0)
    axes = net.const_node(np.array([0], np.int64), mod)
    (batch1,) = net.node("Unsqueeze", [batch, axes], mod)
    parts = [batch1] + [net.const_node(np.array([d], np.int64), mod) for d in tail]
    (out,) = net.node("Concat", parts, mod, axis=0)
    return out


def channel_shuffle(net: Net, x: str, mod: str, groups: int = 2) -> str:
    n, c, h, w = net.shapes[x]
    s1 = dims_tensor(net, x, mod, [groups, c // groups, h, w])
    (y,) = net.node("Reshape", [x, s1], mod)
    net.shapes[y] = [n, groups, c // groups, h, w]
    (y,) = net.node("Transpose", [y], mod, perm=[0, 2, 1, 3, 4])
    net.shapes[y] = [n, c // groups, groups, h, w]
    s2 = dims_tensor(net, x, mod, [-1, h, w])
    (y,) = net.node("Reshape", [y, s2], mod)
    net.shapes[y] = [n, c, h, w]
    return y


def branch2(net: Net, x: str, m: str, bf: int, stride: int) -> str:
    y = net.conv_bn(x, f"{m}.branch2.0", f"{m}.branch2.1", bf, 1, act="relu",
                    mod_act=f"{m}.branch2.2")
    y = net.conv_bn(y, f"{m}.branch2.3", f"{m}.branch2.4", bf, 3, stride, groups=bf, act=None)
    return net.conv_bn(y, f"{m}.branch2.5", f"{m}.branch2.6", bf, 1, act="relu",
                       mod_act=f"{m}.branch2.7")


def build() -> Net:
    net = Net("shufflenet_block", seed=20180730, input_chw=(3, 64, 64),
              doc="ShuffleNetV2-style units (Ma et al. 2018), random weights, mote models/gen")
    x = net.conv_bn("input", "conv1.0", "conv1.1", 24, 3, 2, act="relu", mod_act="conv1.2")
    x = net.maxpool(x, "maxpool", 3, 2, 1)

    # stage2.0: stride 2, both branches, 24 -> 48 channels.
    m, bf = "stage2.0", 24
    b1 = net.conv_bn(x, f"{m}.branch1.0", f"{m}.branch1.1", 24, 3, 2, groups=24, act=None)
    b1 = net.conv_bn(b1, f"{m}.branch1.2", f"{m}.branch1.3", bf, 1, act="relu",
                     mod_act=f"{m}.branch1.4")
    b2 = branch2(net, x, m, bf, 2)
    x = net.concat([b1, b2], m)
    x = channel_shuffle(net, x, m)

    # stage2.1: stride 1, x.chunk(2, dim=1) -> Split, branch2 on the second half.
    m = "stage2.1"
    n, c, h, w = net.shapes[x]
    split = net.const_node(np.array([c // 2, c // 2], np.int64), m)
    x1, x2 = net.node("Split", [x, split], m, n_out=2, axis=1)
    net.shapes[x1] = net.shapes[x2] = [n, c // 2, h, w]
    b2 = branch2(net, x2, m, c // 2, 1)
    x = net.concat([x1, b2], m)
    x = channel_shuffle(net, x, m)

    x = net.conv_bn(x, "conv5.0", "conv5.1", 128, 1, act="relu", mod_act="conv5.2")
    x = net.global_avgpool(x, "")
    x = net.flatten(x, "")
    x = net.gemm(x, "fc", 10)
    net.output(x, "logits")
    return net


if __name__ == "__main__":
    main(build)
