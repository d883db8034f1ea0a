#!/usr/bin/env python3
"""MobileNetV2 1.0 at 224x224 (Sandler et al. 2018), random weights, torchvision layout.

    python models/gen/mobilenet_v2.py OUT.onnx

Layers as in the paper's Table 2 and torchvision's ``mobilenet_v2()``: a 3x3 stride-2 conv to
32 channels; inverted residual blocks (t, c, n, s) = (1,16,1,1), (6,24,2,2), (6,32,3,2),
(6,64,4,2), (6,96,3,1), (6,160,3,2), (6,320,1,1) (1x1 expansion + ReLU6, 3x3 depthwise + ReLU6,
linear 1x1 projection, residual add when stride 1 and in == out); a 1x1 conv to 1280 + ReLU6;
global average pooling; a 1000-way fully connected layer. Dropout is absent (inference export).
Parameters 3,504,872 (torchvision's count), about 300 M multiply-accumulates.
Input ``input`` [N, 3, 224, 224], output ``logits`` [N, 1000].
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _builder import Net, main  # noqa: E402

SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
            (6, 160, 3, 2), (6, 320, 1, 1)]


def build() -> Net:
    net = Net("mobilenet_v2", seed=20180113, input_chw=(3, 224, 224),
              doc="MobileNetV2 1.0 224 (Sandler et al. 2018), random weights, mote models/gen")
    x = net.conv_bn("input", "features.0.0", "features.0.1", 32, 3, 2, act="relu6",
                    mod_act="features.0.2")
    cin, idx = 32, 1
    for t, c, n, s in SETTINGS:
        for i in range(n):
            stride = s if i == 0 else 1
            f = f"features.{idx}.conv"
            hidden = cin * t
            y, j = x, 0
            if t != 1:
                y = net.conv_bn(y, f"{f}.0.0", f"{f}.0.1", hidden, 1, act="relu6",
                                mod_act=f"{f}.0.2")
                j = 1
            y = net.conv_bn(y, f"{f}.{j}.0", f"{f}.{j}.1", hidden, 3, stride, groups=hidden,
                            act="relu6", mod_act=f"{f}.{j}.2")
            residual = stride == 1 and cin == c
            # Linear projection; in residual blocks scaled down so the sum stays O(1).
            y = net.conv(y, f"{f}.{j + 1}", c, 1, gain=1.0, scale=0.5 if residual else 1.0)
            y = net.bn(y, f"{f}.{j + 2}")
            if residual:
                y = net.binary("Add", x, y, f"features.{idx}")
            x, cin, idx = y, c, idx + 1
    x = net.conv_bn(x, f"features.{idx}.0", f"features.{idx}.1", 1280, 1, act="relu6",
                    mod_act=f"features.{idx}.2")
    x = net.global_avgpool(x, "")
    x = net.flatten(x, "")
    x = net.gemm(x, "classifier.1", 1000)
    net.output(x, "logits")
    return net


if __name__ == "__main__":
    main(build)
