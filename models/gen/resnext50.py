#!/usr/bin/env python3
"""ResNeXt-50 32x4d at 224x224 (Xie et al. 2017), random weights, torchvision layout.

    python models/gen/resnext50.py OUT.onnx

As torchvision's ``resnext50_32x4d()``: 7x7 stride-2 conv to 64 + BN + ReLU, 3x3 stride-2 max
pool; four stages of [3, 4, 6, 3] bottleneck blocks with planes 64, 128, 256, 512: 1x1 conv to
width = planes * 4/64 * 32 (128, 256, 512, 1024), 3x3 grouped conv (groups 32, carrying the
stage's stride, as in torchvision's "ResNet v1.5"), 1x1 conv to planes * 4, each with BN; a 1x1
conv + BN projection shortcut in each stage's first block; ReLU after the residual add; global
average pooling, Flatten, Gemm to 1000. 25.03 M parameters, 4.23 G multiply-accumulates.
Input ``input`` [N, 3, 224, 224], output ``logits`` [N, 1000]. The file is about 100 MB, so it is
generated into a cache by the tests (models/gen/all.sh), not committed.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _builder import Net, main  # noqa: E402

GROUPS, BASE_WIDTH, EXPANSION = 32, 4, 4
LAYERS = [3, 4, 6, 3]


def build() -> Net:
    net = Net("resnext50_32x4d", seed=20170411, input_chw=(3, 224, 224),
              doc="ResNeXt-50 32x4d 224 (Xie et al. 2017), random weights, mote models/gen")
    x = net.conv_bn("input", "conv1", "bn1", 64, 7, 2, act="relu", mod_act="relu")
    x = net.maxpool(x, "maxpool", 3, 2, 1)
    inplanes = 64
    for li, (planes, blocks) in enumerate(zip([64, 128, 256, 512], LAYERS), start=1):
        for b in range(blocks):
            m = f"layer{li}.{b}"
            stride = 2 if (b == 0 and li > 1) else 1
            width = planes * BASE_WIDTH // 64 * GROUPS
            # gain 1: the block input is the post-ReLU residual stream (its mean is not 0).
            y = net.conv_bn(x, f"{m}.conv1", f"{m}.bn1", width, 1, act="relu", mod_act=f"{m}.relu",
                            gain=1.0)
            y = net.conv_bn(y, f"{m}.conv2", f"{m}.bn2", width, 3, stride, groups=GROUPS,
                            act="relu", mod_act=f"{m}.relu")
            # Last conv of the residual branch scaled down so the sums stay O(1).
            y = net.conv(y, f"{m}.conv3", planes * EXPANSION, 1, gain=1.0, scale=0.5)
            y = net.bn(y, f"{m}.bn3")
            if b == 0:
                sc = net.conv(x, f"{m}.downsample.0", planes * EXPANSION, 1, stride, gain=1.0)
                sc = net.bn(sc, f"{m}.downsample.1")
            else:
                sc = x
            y = net.binary("Add", y, sc, m)
            x = net.relu(y, f"{m}.relu")
            inplanes = planes * EXPANSION
    assert inplanes == 2048
    x = net.global_avgpool(x, "avgpool")
    x = net.flatten(x, "")
    x = net.gemm(x, "fc", 1000)
    net.output(x, "logits")
    return net


if __name__ == "__main__":
    main(build)
