#!/usr/bin/env python3
"""Which arithmetic does LiteRT's BUILTIN_REF resolver follow, op by op? Recompute every op of a
model from LiteRT's own input tensors with numpy ports of TFLite's reference int8 kernels, in
each candidate rounding, and count the output elements that differ from LiteRT's.

    .venv/bin/python scripts/litert/check_kernels.py [--count N] [--seed S] MODEL.tflite...
    .venv/bin/python scripts/litert/check_kernels.py --probe

Rescaling variants for CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED (acc = int32 accumulator
with bias, M, s = QuantizeMultiplier(input_scale * filter_scale / output_scale) in double):
  double  gemmlowp double rounding: RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(
          acc << max(s,0), M), max(-s,0))  -- MultiplyByQuantizedMultiplier, default build
          (LiteRT reference conv / depthwise; TFLite Micro and CMSIS-NN by default)
  single  (acc * M + 2^(30-s)) >> (31-s)  -- TFLITE_SINGLE_ROUNDING build
  float   (int32) round(double(acc) * (double(in_s) * double(f_s) / double(out_s))), round()
          = half away from zero  -- LiteRT's reference fully connected (reference_integer_ops::
          FullyConnected / FullyConnectedPerChannel taking the float scales)
  tflm    as double, but M from GetQuantizedConvolutionMultipler: double(float(in_s * f_s)) /
          double(out_s) (the float32 product), as TFLite Micro's fully connected Prepare does
ADD: double (MultiplyByQuantizedMultiplierSmallerThanOneExp = RoundingDivideByPOT(SRDHM)) and
single; AVERAGE_POOL_2D, SOFTMAX (gemmlowp fixed point) and RESHAPE have one formula each.

--probe builds one-op models whose multipliers make exact ties (0.5, 0.25, 0.75; and 1.5 with a
fused RELU6 whose clamp [0, 96] lies inside int8, to check the clamp is applied), so that
ties decide: it separates 'float' from 'single' (they differ only on exact negative ties and when
M's 31-bit rounding crosses a .5 boundary), which the real models cannot do.
"""

import sys

sys.dont_write_bytecode = True  # keep scripts/litert/ free of __pycache__

import argparse
import math
import os
import tempfile

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as S

from litert_common import load_model, make_interpreter, op_code_name, op_options

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1


# ---- fixed-point primitives (int64 numpy arrays holding int32 values) ----

def quantize_multiplier(d):
    """QuantizeMultiplier (quantization_util.cc), default (double-rounding) build."""
    if d == 0.0:
        return 0, 0
    q, shift = math.frexp(d)
    q_fixed = int(math.floor(abs(q) * (1 << 31) + 0.5)) * (1 if q >= 0 else -1)  # TfLiteRound
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return q_fixed, shift


def _trunc_div_pow2(t, n):
    """C++ integer division by 2^n (truncation toward zero)."""
    return np.where(t >= 0, t >> n, -((-t) >> n))


def srdhm(a, b):
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    r = _trunc_div_pow2(ab + nudge, 31)
    return np.where((a == b) & (a == I32_MIN), I32_MAX, r)


def rdbpot(x, e):
    x = np.asarray(x, dtype=np.int64)
    mask = (np.int64(1) << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (x < 0)
    return (x >> e) + (rem > thr)


def sat_shift_left(x, e):
    """SaturatingRoundingMultiplyByPOT with a positive exponent (int32)."""
    thr = (1 << (31 - e)) - 1
    return np.where(x > thr, I32_MAX, np.where(x < -thr, I32_MIN, np.asarray(x) << e))


def srmpot(x, e):
    return x if e == 0 else (sat_shift_left(x, e) if e > 0 else rdbpot(x, -e))


def mbqm_double(x, m, s):
    """MultiplyByQuantizedMultiplier, double rounding (common.cc, default build)."""
    s = np.asarray(s)
    left = np.maximum(s, 0)
    right = np.maximum(-s, 0)
    return rdbpot(srdhm(np.asarray(x, dtype=np.int64) * (np.int64(1) << left), m), right)


def mbqm_single(x, m, s):
    """MultiplyByQuantizedMultiplier, TFLITE_SINGLE_ROUNDING build."""
    total = 31 - np.asarray(s, dtype=np.int64)
    return (np.asarray(x, dtype=np.int64) * np.asarray(m, dtype=np.int64)
            + (np.int64(1) << (total - 1))) >> total


def round_away(v):
    """C round(): half away from zero, exact for doubles."""
    t = np.trunc(v)
    return (t + np.sign(v) * (np.abs(v - t) >= 0.5)).astype(np.int64)


# ---- quantization helpers ----

def qparams(d):
    qp = d["quantization_parameters"]
    return np.asarray(qp["scales"], dtype=np.float32), np.asarray(qp["zero_points"], np.int64)


def act_range(act, scale, zp):
    """CalculateActivationRangeQuantized: Quantize() computes TfLiteRound(f / scale) in float."""
    q = lambda f: zp + int(round_away(np.float64(np.float32(f) / np.float32(scale))))
    if act == "RELU":
        return max(-128, q(0.0)), 127
    if act == "RELU6":
        return max(-128, q(0.0)), min(127, q(6.0))
    if act == "RELU_N1_TO_1":
        return max(-128, q(-1.0)), min(127, q(1.0))
    return -128, 127


def rescale_variants(acc, in_s, f_s, out_s):
    """acc: int64 [..., C]; f_s: float32 [C] (per channel) or [1]."""
    in_d, out_d = float(in_s), float(out_s)
    eff = np.array([in_d * float(f) / out_d for f in f_s])
    ms, ss = zip(*(quantize_multiplier(e) for e in eff))
    m, s = np.array(ms, np.int64), np.array(ss, np.int64)
    eff_f32prod = np.array([float(np.float32(np.float32(in_s) * f)) / out_d for f in f_s])
    mt, st = zip(*(quantize_multiplier(e) for e in eff_f32prod))
    return {
        "double": mbqm_double(acc, m, s),
        "single": mbqm_single(acc, m, s),
        "float": round_away(acc.astype(np.float64) * eff),
        "tflm": mbqm_double(acc, np.array(mt, np.int64), np.array(st, np.int64)),
    }


def same_padding(in_size, k, stride, dil, padding):
    eff = (k - 1) * dil + 1
    if padding == "SAME":
        out = (in_size + stride - 1) // stride
    else:
        out = (in_size + stride - eff) // stride
    pad = max(((out - 1) * stride + eff - in_size) // 2, 0)
    return out, pad


def patches(x, kh, kw, sh, sw, dh, dw, padding, fill):
    """x [H, W, C] -> [OH, OW, kh, kw, C], out-of-image taps = fill (input zero point, so that
    x - zp = 0 there, like the reference kernels' skipped taps)."""
    H, W, C = x.shape
    oh, ph = same_padding(H, kh, sh, dh, padding)
    ow, pw = same_padding(W, kw, sw, dw, padding)
    big = np.full((H + 2 * ph + kh * dh + sh, W + 2 * pw + kw * dw + sw, C), fill, np.int64)
    big[ph:ph + H, pw:pw + W] = x
    out = np.empty((oh, ow, kh, kw, C), np.int64)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i, j] = big[i * dh: i * dh + oh * sh: sh, j * dw: j * dw + ow * sw: sw][:oh, :ow]
    return out


# ---- ops: each returns {variant: int array} before the activation clamp is applied ----

def conv_acc(x, w, b, zp_in, opts):
    # x [1,H,W,Cin], w [Cout,kh,kw,Cin]
    p = patches(x[0].astype(np.int64), w.shape[1], w.shape[2], opts["strideH"], opts["strideW"],
                opts["dilationHFactor"], opts["dilationWFactor"], opts["padding"], zp_in)
    oh, ow = p.shape[:2]
    cols = (p - zp_in).reshape(oh * ow, -1).astype(np.float64)  # exact: |acc| < 2^53
    acc = cols @ w.reshape(w.shape[0], -1).astype(np.float64).T
    acc = acc.astype(np.int64).reshape(1, oh, ow, -1)
    return acc + (b.astype(np.int64) if b is not None else 0)


def dw_acc(x, w, b, zp_in, opts):
    # x [1,H,W,Cin], w [1,kh,kw,Cin*mult]
    mult = opts["depthMultiplier"]
    p = patches(x[0].astype(np.int64), w.shape[1], w.shape[2], opts["strideH"], opts["strideW"],
                opts["dilationHFactor"], opts["dilationWFactor"], opts["padding"], zp_in)
    p = np.repeat(p - zp_in, mult, axis=-1)  # output channel oc reads input channel oc // mult
    acc = np.einsum("yxijc,ijc->yxc", p, w[0].astype(np.int64))[None]
    return acc + (b.astype(np.int64) if b is not None else 0)


def fc_acc(x, w, b, zp_in, zp_w):
    acc = (x.reshape(-1, w.shape[1]).astype(np.int64) - zp_in) @ (w.astype(np.int64) - zp_w).T
    return acc + (b.astype(np.int64) if b is not None else 0)


def add_variants(x1, x2, s1, z1, s2, z2, so, zo):
    left_shift = 20
    twice_max = 2 * float(max(np.float32(s1), np.float32(s2)))
    m1, sh1 = quantize_multiplier(float(s1) / twice_max)
    m2, sh2 = quantize_multiplier(float(s2) / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * float(so)))
    a = (x1.astype(np.int64) - z1) * (1 << left_shift)
    b = (x2.astype(np.int64) - z2) * (1 << left_shift)
    out = {}
    for name, f in (("double", lambda v, m, s: rdbpot(srdhm(v, m), -s)), ("single", mbqm_single)):
        raw = f(a, m1, sh1) + f(b, m2, sh2)
        out[name] = f(raw, mo, sho) + zo
    return out


def avgpool(x, opts):
    kh, kw = opts["filterHeight"], opts["filterWidth"]
    sh, sw = opts["strideH"], opts["strideW"]
    _, H, W, C = x.shape
    oh, ph = same_padding(H, kh, sh, 1, opts["padding"])
    ow, pw = same_padding(W, kw, sw, 1, opts["padding"])
    out = np.empty((1, oh, ow, C), np.int64)
    for oy in range(oh):
        for ox in range(ow):
            y0, x0 = oy * sh - ph, ox * sw - pw
            win = x[0, max(y0, 0):min(y0 + kh, H), max(x0, 0):min(x0 + kw, W)].astype(np.int64)
            n = win.shape[0] * win.shape[1]
            acc = win.sum(axis=(0, 1))
            # acc > 0 ? (acc + n/2) / n : (acc - n/2) / n, C++ truncating division
            num = np.where(acc > 0, acc + n // 2, acc - n // 2)
            out[0, oy, ox] = np.where(num >= 0, num // n, -((-num) // n))
    return out


def exp_on_interval_between_negative_one_quarter_and_0_excl(a):
    constant_term, c13 = 1895147668, 715827883
    x = a + (1 << 28)
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rdbpot(x4, 2)
    poly = rdbpot(srdhm(x4_over_4 + x3, c13) + x2, 1)
    return constant_term + srdhm(constant_term, x + poly)


def exp_on_negative_values(a, integer_bits=5):
    frac = 31 - integer_bits
    quarter = 1 << (frac - 2)
    a_mod = (a & (quarter - 1)) - quarter
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        srmpot(a_mod, integer_bits))  # Rescale<0>
    remainder = a_mod - a
    for exponent, mult in ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
                           (2, 39332535), (3, 720401), (4, 242)):
        if integer_bits > exponent:
            bit = 1 << (frac + exponent)
            result = np.where(remainder & bit, srdhm(result, mult), result)
    if integer_bits > 5:
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)
    return np.where(a == 0, I32_MAX, result)


def one_over_one_plus_x_for_x_in_0_1(a):
    s = a + I32_MAX  # RoundingHalfSum(a, One)
    half_den = _trunc_div_pow2(s + np.where(s >= 0, 1, -1), 1)
    x = 1515870810 + srdhm(half_den, -1010580540)
    for _ in range(3):
        one_minus = (1 << 29) - srdhm(half_den, x)  # F2::One = 1 << 29
        x = x + sat_shift_left(srdhm(x, one_minus), 2)  # Rescale<2> from 4 integer bits
    return sat_shift_left(x, 1)  # Rescale<0>(ExactMulByPot<-1>(x))


def softmax(x, in_scale, beta):
    """reference_ops::Softmax<int8,int8> (reference/softmax.h) with SoftmaxPrepare<kReference>."""
    kScaledDiffIntegerBits, kAccumulationIntegerBits = 5, 12
    real = min(float(beta) * float(in_scale) * (1 << (31 - kScaledDiffIntegerBits)),
               float((1 << 31) - 1))
    mult, left_shift = quantize_multiplier(real)
    diff_min = -int(math.floor(1.0 * ((1 << kScaledDiffIntegerBits) - 1)
                               * (1 << (31 - kScaledDiffIntegerBits)) / (1 << left_shift)))
    rows = x.reshape(-1, x.shape[-1]).astype(np.int64)
    out = np.empty_like(rows)
    for r, row in enumerate(rows):
        diff = row - row.max()
        valid = diff >= diff_min
        exps = exp_on_negative_values(srdhm(diff * (1 << left_shift), mult))
        total = int(np.sum(np.where(valid, rdbpot(exps, kAccumulationIntegerBits), 0)))
        hpo = 32 - int(total).bit_length() if total > 0 else 32  # CountLeadingZeros(uint32)
        nbou = kAccumulationIntegerBits - hpo
        shifted = ((total << hpo) & 0xFFFFFFFF) - (1 << 31)
        scale = one_over_one_plus_x_for_x_in_0_1(np.int64(shifted))
        y = rdbpot(srdhm(scale, exps), nbou + 31 - 8) - 128
        out[r] = np.where(valid, np.clip(y, -128, 127), -128)
    return out.reshape(x.shape)


# ---- driver ----

def check_model(path, count, seed, report):
    interp = make_interpreter(path)
    model = load_model(path)
    sg = model.subgraphs[0]
    det = {d["index"]: d for d in interp.get_tensor_details()}
    ops = interp._get_ops_details()
    ind = interp.get_input_details()[0]
    rng = np.random.default_rng(seed)
    for _ in range(count):
        interp.set_tensor(ind["index"], rng.integers(-128, 128, size=ind["shape"], dtype=np.int8))
        interp.invoke()
        for o, op in zip(ops, sg.operators):
            name = op_code_name(model, op)
            opts = op_options(op)
            t = lambda i: interp.get_tensor(int(o["inputs"][i])) if o["inputs"][i] >= 0 else None
            y = interp.get_tensor(int(o["outputs"][0])).astype(np.int64)
            outd = det[int(o["outputs"][0])]
            so, zo = qparams(outd)
            so, zo = so[0], int(zo[0])
            variants = None
            if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
                sx, zx = qparams(det[int(o["inputs"][0])])
                sw, zw = qparams(det[int(o["inputs"][1])])
                x, w, b = t(0), t(1), (t(2) if len(o["inputs"]) > 2 else None)
                if name == "CONV_2D":
                    acc = conv_acc(x, w, b, int(zx[0]), opts)
                elif name == "DEPTHWISE_CONV_2D":
                    acc = dw_acc(x, w, b, int(zx[0]), opts)
                else:
                    acc = fc_acc(x, w, b, int(zx[0]), int(zw[0]))
                variants = {k: v + zo for k, v in rescale_variants(acc, sx[0], sw, so).items()}
            elif name == "ADD":
                s1, z1 = qparams(det[int(o["inputs"][0])])
                s2, z2 = qparams(det[int(o["inputs"][1])])
                variants = add_variants(t(0), t(1), s1[0], int(z1[0]), s2[0], int(z2[0]), so, zo)
            elif name == "AVERAGE_POOL_2D":
                variants = {"reference": avgpool(t(0), opts)}
            elif name == "SOFTMAX":
                sx, _ = qparams(det[int(o["inputs"][0])])
                variants = {"reference": softmax(t(0), sx[0], np.float32(opts["beta"]))}
            elif name == "RESHAPE":
                variants = {"copy": t(0).astype(np.int64).reshape(y.shape)}
            if variants is None:
                report.setdefault((name, "unsupported"), [0, 0])
                continue
            lo, hi = act_range(opts.get("fusedActivationFunction"), so, zo)
            for k, v in variants.items():
                v = np.clip(v.reshape(y.shape), lo, hi)
                cell = report.setdefault((name, k), [0, 0])
                cell[0] += int((v != y).sum())
                cell[1] += y.size


def print_report(title, report):
    print(title)
    for (name, k), (bad, tot) in sorted(report.items()):
        print(f"  {name:24} {k:9} {bad:7} of {tot:9} elements differ from LiteRT")


# ---- one-op probe models ----

def _tensor(name, shape, ttype, buf, scale=None, zp=None, qdim=0):
    t = S.TensorT()
    t.name, t.shape, t.type, t.buffer = name.encode(), list(shape), ttype, buf
    if scale is not None:
        q = S.QuantizationParametersT()
        q.scale, q.zeroPoint, q.quantizedDimension = list(scale), list(zp), qdim
        t.quantization = q
    return t


def _buffer(arr=None):
    b = S.BufferT()
    b.data = None if arr is None else np.frombuffer(arr.tobytes(), np.uint8).tolist()
    return b


def one_op_model(code, options_type, options, tensors, consts, inputs, outputs):
    m = S.ModelT()
    m.version = 3
    oc = S.OperatorCodeT()
    oc.builtinCode = oc.deprecatedBuiltinCode = code
    oc.version = 1
    m.operatorCodes = [oc]
    m.buffers = [_buffer()] + [_buffer(consts.get(i)) for i in range(len(tensors))]
    sg = S.SubGraphT()
    sg.tensors = [_tensor(n, sh, ty, i + 1, sc, zp, qd) for i, (n, sh, ty, sc, zp, qd)
                  in enumerate(tensors)]
    op = S.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, inputs, outputs
    op.builtinOptionsType, op.builtinOptions = options_type, options
    sg.operators, sg.inputs, sg.outputs = [op], [inputs[0]], outputs
    m.subgraphs = [sg]
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def probe():
    x = np.arange(-128, 128, dtype=np.int8)
    I8, I32 = S.TensorType.INT8, S.TensorType.INT32
    results = {}
    cases = [(0.5, "NONE"), (0.25, "NONE"), (0.75, "NONE"), (1.5, "RELU6")]
    for eff, act in cases:
        if act == "NONE":  # input scale 1: eff = w_scale / out_scale
            w_scale, out_scale = 2.0 ** -7, 2.0 ** -7 / eff
        else:  # RELU6 with output scale 1/16, zero point 0: clamp [0, 96] inside int8
            w_scale, out_scale = eff * 2.0 ** -4, 2.0 ** -4
        act_code = getattr(S.ActivationFunctionType, act)
        # FULLY_CONNECTED, identity weights: acc = x
        fo = S.FullyConnectedOptionsT()
        fo.fusedActivationFunction = act_code
        fc = one_op_model(
            S.BuiltinOperator.FULLY_CONNECTED, S.BuiltinOptions.FullyConnectedOptions, fo,
            [("x", [1, 256], I8, [1.0], [0], 0), ("w", [256, 256], I8, [w_scale], [0], 0),
             ("b", [256], I32, [w_scale], [0], 0), ("y", [1, 256], I8, [out_scale], [0], 0)],
            {1: np.eye(256, dtype=np.int8), 2: np.zeros(256, np.int32)}, [0, 1, 2], [3])
        # CONV_2D 1x1, one channel, per-channel quantized filter = 1: acc = x
        co = S.Conv2DOptionsT()
        co.padding, co.strideW, co.strideH = S.Padding.VALID, 1, 1
        co.dilationWFactor = co.dilationHFactor = 1
        co.fusedActivationFunction = act_code
        conv = one_op_model(
            S.BuiltinOperator.CONV_2D, S.BuiltinOptions.Conv2DOptions, co,
            [("x", [1, 16, 16, 1], I8, [1.0], [0], 0), ("w", [1, 1, 1, 1], I8, [w_scale], [0], 0),
             ("b", [1], I32, [w_scale], [0], 0), ("y", [1, 16, 16, 1], I8, [out_scale], [0], 0)],
            {1: np.ones((1, 1, 1, 1), np.int8), 2: np.zeros(1, np.int32)}, [0, 1, 2], [3])
        do = S.DepthwiseConv2DOptionsT()
        do.padding, do.strideW, do.strideH, do.depthMultiplier = S.Padding.VALID, 1, 1, 1
        do.dilationWFactor = do.dilationHFactor = 1
        do.fusedActivationFunction = act_code
        dw = one_op_model(
            S.BuiltinOperator.DEPTHWISE_CONV_2D, S.BuiltinOptions.DepthwiseConv2DOptions, do,
            [("x", [1, 16, 16, 1], I8, [1.0], [0], 0),
             ("w", [1, 1, 1, 1], I8, [w_scale], [0], 3),
             ("b", [1], I32, [w_scale], [0], 0), ("y", [1, 16, 16, 1], I8, [out_scale], [0], 0)],
            {1: np.ones((1, 1, 1, 1), np.int8), 2: np.zeros(1, np.int32)}, [0, 1, 2], [3])
        for name, blob, shape in (("FULLY_CONNECTED", fc, (1, 256)),
                                  ("CONV_2D", conv, (1, 16, 16, 1)),
                                  ("DEPTHWISE_CONV_2D", dw, (1, 16, 16, 1))):
            with tempfile.TemporaryDirectory() as d:
                p = os.path.join(d, "probe.tflite")
                with open(p, "wb") as f:
                    f.write(blob)
                it = make_interpreter(p)
                it.set_tensor(it.get_input_details()[0]["index"], x.reshape(shape))
                it.invoke()
                y = it.get_tensor(it.get_output_details()[0]["index"]).reshape(-1).astype(np.int64)
            acc = x.astype(np.int64)[:, None]
            lo, hi = act_range(act, np.float32(out_scale), 0)
            for k, v in rescale_variants(acc, np.float32(1.0), np.array([w_scale], np.float32),
                                         np.float32(out_scale)).items():
                v = np.clip(v.reshape(-1), lo, hi)
                cell = results.setdefault((name + (" " + act if act != "NONE" else ""), k), [0, 0])
                cell[0] += int((v != y).sum())
                cell[1] += y.size
            if eff == 0.5:
                picks = {int(v): int(y[i]) for i, v in enumerate(x) if v in (-3, -1, 1, 3)}
                print(f"  {name}: multiplier 0.5, acc -3,-1,1,3 -> {[picks[v] for v in (-3, -1, 1, 3)]}")
    print_report("one-op probes (multipliers 0.5, 0.25, 0.75, and 1.5 with fused RELU6 = clamp "
                 "[0, 96]; acc = -128..127):", results)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("models", nargs="*")
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--probe", action="store_true")
    a = p.parse_args(argv)
    if a.probe:
        probe()
    for m in a.models:
        report = {}
        check_model(m, a.count, a.seed, report)
        print_report(f"{os.path.basename(m)}: {a.count} random inputs (seed {a.seed}), every op "
                     "recomputed from LiteRT's own inputs:", report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
