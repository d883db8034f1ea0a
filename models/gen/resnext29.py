#!/usr/bin/env python3
"""ResNeXt-29 8x16d for CIFAR (32x32, 10 classes; Xie et al. 2017, section 5.3), random weights.

    python models/gen/resnext29.py OUT.onnx

Layout of the common PyTorch CIFAR ResNeXt (e.g. prlz77/ResNeXt.pytorch, widen factor 4):
a 3x3 conv to 64 + BN + ReLU; three stages of 3 bottleneck blocks with output widths 256, 512,
1024 and stride 1, 2, 2; in each block D = cardinality * base_width * out/256 = 128, 256, 512
(cardinality 8, base width 16): 1x1 conv_reduce to D + BN + ReLU, 3x3 grouped conv_conv (groups 8,
carrying the stride) + BN + ReLU, 1x1 conv_expand to the output width + BN; a 1x1 conv + BN
projection shortcut where the width or the stride changes; ReLU after the add; global average
pooling (8x8), Flatten, Gemm to 10. Depth 29 = 3 stages x 3 blocks x 3 convs + stem + classifier.
About 0.9 G multiply-accumulates. Input ``input`` [N, 3, 32, 32], output ``logits`` [N, 10].
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _builder import Net, main  # noqa: E402

CARDINALITY, BASE_WIDTH, WIDEN = 8, 16, 4
BLOCKS = 3


def build() -> Net:
    net = Net("resnext29_8x16d", seed=20161116, input_chw=(3, 32, 32),
              doc="ResNeXt-29 8x16d CIFAR (Xie et al. 2017), random weights, mote models/gen")
    x = net.conv_bn("input", "conv_1_3x3", "bn_1", 64, 3, act="relu", mod_act="relu")
    cin = 64
    widths = [64 * WIDEN, 128 * WIDEN, 256 * WIDEN]
    for si, (cout, stride0) in enumerate(zip(widths, [1, 2, 2]), start=1):
        for b in range(BLOCKS):
            m = f"stage_{si}.stage_{si}_bottleneck_{b}"
            stride = stride0 if b == 0 else 1
            d = CARDINALITY * BASE_WIDTH * cout // (WIDEN * 64)
            # gain 1: the block input is the post-ReLU residual stream (its mean is not 0).
            y = net.conv_bn(x, f"{m}.conv_reduce", f"{m}.bn_reduce", d, 1, act="relu",
                            mod_act=f"{m}.relu", gain=1.0)
            y = net.conv_bn(y, f"{m}.conv_conv", f"{m}.bn", d, 3, stride, groups=CARDINALITY,
                            act="relu", mod_act=f"{m}.relu")
            # Last conv of the residual branch scaled down so the sums stay O(1).
            y = net.conv(y, f"{m}.conv_expand", cout, 1, gain=1.0, scale=0.5)
            y = net.bn(y, f"{m}.bn_expand")
            if cin != cout or stride != 1:
                sc = net.conv(x, f"{m}.shortcut.shortcut_conv", cout, 1, stride, gain=1.0)
                sc = net.bn(sc, f"{m}.shortcut.shortcut_bn")
            else:
                sc = x
            y = net.binary("Add", sc, y, m)
            x = net.relu(y, f"{m}.relu")
            cin = cout
    x = net.global_avgpool(x, "")
    x = net.flatten(x, "")
    x = net.gemm(x, "classifier", 10)
    net.output(x, "logits")
    return net


if __name__ == "__main__":
    main(build)
