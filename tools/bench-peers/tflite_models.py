#!/usr/bin/env python3
"""The .tflite copies (float32 and full int8) of the generated benchmark models, for LiteRT.

    python tools/bench-peers/tflite_models.py OUTDIR

Needs TensorFlow (scripts/bench-peers.sh installs it into a venv of its own). For each model it
writes ``OUTDIR/NAME_f32.tflite`` and ``OUTDIR/NAME_int8.tflite``, skipping files newer than
this script:

- ``mobilenet_v2``: ``keras.applications.MobileNetV2`` (alpha 1.0, 224x224, 1000 classes);
- ``resnext50``: ResNeXt-50 32x4d (torchvision's ``resnext50_32x4d`` layout, stride on the 3x3);
- ``resnext29``: ResNeXt-29 8x16d for CIFAR (the layout of ``models/gen/resnext29.py``);
- ``grouped_conv``: the single layer of ``models/gen/grouped_conv.py`` (56x56x128, 32 groups).

They are the same architectures as the ONNX generators in ``models/gen`` (same layer shapes,
hence the same multiply-accumulates, within the padding convention: Keras ``same`` padding pads
a stride-2 layer at the bottom/right only, PyTorch on both sides; the MAC count is equal), built
in Keras with random weights. The weights differ between the .tflite and .onnx copies, which does
not matter for latency. Batch normalisation is left out: TFLite's converter folds it into the
convolution anyway, so every convolution carries a bias instead.

int8: ``TFLiteConverter`` full-integer post-training quantization (``TFLITE_BUILTINS_INT8``,
per-channel int8 weights, int8 activations, int8 input and output like the MLPerf Tiny int8
files) calibrated on 8 standard-normal inputs (seed 0). Random calibration makes poor accuracy
but the same graph, kernels and speed as a properly calibrated model.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

keras = tf.keras
L = keras.layers


def conv(x, cout, k, stride=1, groups=1, act=True):
    x = L.Conv2D(cout, k, strides=stride, padding="same", groups=groups, use_bias=True,
                 kernel_initializer="he_normal", bias_initializer="zeros")(x)
    return L.ReLU()(x) if act else x


def resnext_block(x, cin, cout, width, groups, stride):
    y = conv(x, width, 1)
    y = conv(y, width, 3, stride, groups=groups)
    y = conv(y, cout, 1, act=False)
    sc = conv(x, cout, 1, stride, act=False) if (cin != cout or stride != 1) else x
    return L.ReLU()(L.Add()([sc, y]))


def resnext50():
    inp = keras.Input((224, 224, 3), batch_size=1)
    x = conv(inp, 64, 7, 2)
    x = L.MaxPooling2D(3, 2, padding="same")(x)
    cin = 64
    for planes, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        width, cout = planes * 2, planes * 4  # 32 groups x 4d: width = planes * 4 / 64 * 32
        for b in range(blocks):
            x = resnext_block(x, cin, cout, width, 32, stride if b == 0 else 1)
            cin = cout
    x = L.GlobalAveragePooling2D()(x)
    return keras.Model(inp, L.Dense(1000)(x))


def resnext29():
    inp = keras.Input((32, 32, 3), batch_size=1)
    x = conv(inp, 64, 3)
    cin = 64
    for cout, stride in [(256, 1), (512, 2), (1024, 2)]:
        width = 8 * 16 * cout // 256
        for b in range(3):
            x = resnext_block(x, cin, cout, width, 8, stride if b == 0 else 1)
            cin = cout
    x = L.GlobalAveragePooling2D()(x)
    return keras.Model(inp, L.Dense(10)(x))


def mobilenet_v2():
    return keras.applications.MobileNetV2(input_shape=(224, 224, 3), alpha=1.0, weights=None,
                                          classes=1000, classifier_activation=None)


def grouped_conv():
    inp = keras.Input((56, 56, 128), batch_size=1)
    return keras.Model(inp, conv(inp, 128, 3, groups=32, act=False))


MODELS = {"mobilenet_v2": mobilenet_v2, "resnext50": resnext50, "resnext29": resnext29,
          "grouped_conv": grouped_conv}


def convert(saved_model: str, shape: list[int], int8: bool) -> bytes:
    conv_ = tf.lite.TFLiteConverter.from_saved_model(saved_model)
    if int8:
        rng = np.random.default_rng(0)
        samples = [rng.standard_normal(shape).astype(np.float32) for _ in range(8)]
        conv_.optimizations = [tf.lite.Optimize.DEFAULT]
        conv_.representative_dataset = lambda: ([s] for s in samples)
        conv_.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv_.inference_input_type = tf.int8
        conv_.inference_output_type = tf.int8
    return conv_.convert()


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python tools/bench-peers/tflite_models.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    me = os.path.getmtime(os.path.abspath(__file__))
    for name, build in MODELS.items():
        targets = {v: os.path.join(out, f"{name}_{v}.tflite") for v in ("f32", "int8")}
        if all(os.path.isfile(t) and os.path.getmtime(t) > me for t in targets.values()):
            print(f"up to date: {', '.join(targets.values())}")
            continue
        keras.utils.set_random_seed(20261126)
        model = build()
        shape = [1, *model.input_shape[1:]]
        # Through a SavedModel (Keras 3's export): the converter then sees constant weights.
        saved = tempfile.mkdtemp(prefix=f"{name}-savedmodel-")
        model.export(saved, format="tf_saved_model", verbose=False)
        for variant, path in targets.items():
            data = convert(saved, shape, variant == "int8")
            tmp = f"{path}.tmp.{os.getpid()}"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
            print(f"wrote {path}: {len(data) / 1e6:.1f} MB")
        shutil.rmtree(saved, ignore_errors=True)


if __name__ == "__main__":
    main()
