"""Generates runtime/kernels/src/ops/tflite_vectors.rs: int8 test vectors computed by LiteRT.

Every case is a one-operator .tflite model (built in memory with tflite_single_op.py) run by the
`ai-edge-litert` Python package with `OpResolverType.BUILTIN_REF` (LiteRT's reference kernels).
The int8 QuantizeLinear cases (f32 -> int8) come from ONNX's reference evaluator
(`onnx.reference.ReferenceEvaluator`) instead, since mote's contract for that op is ONNX's.

The cases store the model's float scales and zero points, not multipliers: the Rust tests derive
the kernel parameters from them the way LiteRT's Prepare functions do (with mote's
quantize_multiplier), so quantize_multiplier is checked end to end too.

Run from the repository root (the versions used are written into the generated file):
    .venv/bin/python runtime/kernels/tools/gen_tflite_vectors.py
"""
import math
import os
import sys
from importlib.metadata import version

import numpy as np

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tflite_single_op import F32, I8, I32, Model, S, run  # noqa: E402

SEED = 20261126
rng = np.random.default_rng(SEED)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "ops", "tflite_vectors.rs")

NONE, RELU, RELU_N1_TO_1, RELU6 = 0, 1, 2, 3


def f32(x):
    return np.float32(x)


def tfl_round(x):
    """TfLiteRound / std::round: half away from zero."""
    return math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1)


def act_range(act, scale, zp):
    """CalculateActivationRangeQuantized for int8 (zp + round(f / scale), f / scale in f32)."""
    q = lambda v: zp + int(tfl_round(float(f32(v) / f32(scale))))
    lo, hi = -128, 127
    if act == RELU:
        lo = max(lo, q(0.0))
    elif act == RELU6:
        lo, hi = max(lo, q(0.0)), min(hi, q(6.0))
    elif act == RELU_N1_TO_1:
        lo, hi = max(lo, q(-1.0)), min(hi, q(1.0))
    return lo, hi


def same_pad(size, k, stride, dil):
    eff = (k - 1) * dil + 1
    out = (size + stride - 1) // stride
    total = max((out - 1) * stride + eff - size, 0)
    return out, total // 2


def valid_out(size, k, stride, dil):
    eff = (k - 1) * dil + 1
    return (size - eff + stride) // stride


def geometry(h, w, kh, kw, sh, sw, dh, dw, padding):
    if padding == S.Padding.SAME:
        oh, pt = same_pad(h, kh, sh, dh)
        ow, pl = same_pad(w, kw, sw, dw)
    else:
        oh, ow, pt, pl = valid_out(h, kh, sh, dh), valid_out(w, kw, sw, dw), 0, 0
    return oh, ow, pt, pl


def rand_scale(lo, hi):
    return f32(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def i8(shape, lo=-128, hi=127):
    return rng.integers(lo, hi + 1, size=shape).astype(np.int8)


# ---------------------------------------------------------------- Rust emission helpers


def rs_f32(x):
    x = f32(x)
    if np.isnan(x):
        return "f32::NAN"
    if np.isinf(x):
        return "f32::INFINITY" if x > 0 else "f32::NEG_INFINITY"
    # repr of the exact (double) value of the f32; Rust parses it back to the same f32.
    return repr(float(x)) + "_f32"


def rs_list(values, fmt=str):
    return "&[" + ", ".join(fmt(v) for v in np.asarray(values).reshape(-1)) + "]"


def rs_struct(name, fields):
    body = "".join(f"        {k}: {v},\n" for k, v in fields)
    return f"    {name} {{\n{body}    }},\n"


# ---------------------------------------------------------------- ops


def conv_case(depthwise):
    n = int(rng.integers(1, 3))
    h, w = int(rng.integers(1, 8)), int(rng.integers(1, 8))
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    dh, dw = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    padding = S.Padding.SAME if rng.random() < 0.6 else S.Padding.VALID
    if padding == S.Padding.VALID:
        h = max(h, (kh - 1) * dh + 1)
        w = max(w, (kw - 1) * dw + 1)
    if depthwise:
        in_c = int(rng.integers(1, 7))
        mult = int(rng.integers(1, 4))
        groups, out_c = in_c, in_c * mult
    else:
        groups = int(rng.choice([1, 1, 2, 3]))
        cpg = int(rng.integers(1, 6))
        opg = int(rng.integers(1, 6))
        in_c, out_c = groups * cpg, groups * opg
    oh, ow, pt, pl = geometry(h, w, kh, kw, sh, sw, dh, dw, padding)
    act = int(rng.choice([NONE, NONE, RELU, RELU6, RELU_N1_TO_1]))
    in_s, in_zp = rand_scale(0.005, 0.1), int(rng.integers(-128, 128))
    w_s = np.array([rand_scale(0.005, 0.02) for _ in range(out_c)], np.float32)
    k_len = kh * kw * (in_c // groups)
    # Output scale: accumulators (std ~ 5400·sqrt(k_len)) land mostly inside int8.
    out_s = f32(in_s * float(np.median(w_s)) * 100 * math.sqrt(k_len))
    out_zp = int(rng.integers(-128, 128))
    x = i8((n, h, w, in_c))
    wt = i8((out_c, kh, kw, in_c // groups), -127, 127)  # OHWI
    bias = rng.integers(-3000, 3001, out_c).astype(np.int32)
    m = Model()
    ti = m.tensor([n, h, w, in_c], I8, in_s, in_zp)
    bias_s = (np.float32(in_s) * w_s).astype(np.float32)
    if depthwise:
        tfl_w = wt.reshape(out_c, kh, kw).transpose(1, 2, 0).reshape(1, kh, kw, out_c)
        tw = m.tensor([1, kh, kw, out_c], I8, w_s, [0] * out_c, data=tfl_w, qdim=3)
    else:
        tw = m.tensor([out_c, kh, kw, in_c // groups], I8, w_s, [0] * out_c, data=wt, qdim=0)
    tb = m.tensor([out_c], I32, bias_s, [0] * out_c, data=bias)
    to = m.tensor([n, oh, ow, out_c], I8, out_s, out_zp)
    if depthwise:
        o = S.DepthwiseConv2DOptionsT()
        o.depthMultiplier = out_c // in_c
        code, ver, ot = S.BuiltinOperator.DEPTHWISE_CONV_2D, 3, S.BuiltinOptions.DepthwiseConv2DOptions
    else:
        o = S.Conv2DOptionsT()
        code, ver, ot = S.BuiltinOperator.CONV_2D, 3, S.BuiltinOptions.Conv2DOptions
    o.padding, o.strideH, o.strideW, o.dilationHFactor, o.dilationWFactor = padding, sh, sw, dh, dw
    o.fusedActivationFunction = act
    y = run(m.build(code, ver, ot, o, [ti, tw, tb], [to], [ti], [to]), [x])[0]
    lo, hi = act_range(act, out_s, out_zp)
    return rs_struct("ConvCase", [
        ("depthwise", str(depthwise).lower()),
        ("batch", n), ("in_h", h), ("in_w", w), ("in_c", in_c),
        ("out_h", oh), ("out_w", ow), ("out_c", out_c),
        ("kernel_h", kh), ("kernel_w", kw), ("stride_h", sh), ("stride_w", sw),
        ("dilation_h", dh), ("dilation_w", dw), ("pad_top", pt), ("pad_left", pl), ("groups", groups),
        ("input_scale", rs_f32(in_s)), ("input_zero_point", in_zp),
        ("weight_scales", rs_list(w_s, rs_f32)),
        ("output_scale", rs_f32(out_s)), ("output_zero_point", out_zp),
        ("act_min", lo), ("act_max", hi),
        ("input", rs_list(x)), ("weights", rs_list(wt)), ("bias", rs_list(bias)),
        ("expected", rs_list(y)),
    ])


def quantize_multiplier(d):
    """TFLite's QuantizeMultiplier (double-rounding build), for choosing targeted accumulators."""
    if d == 0:
        return 0, 0
    q, e = math.frexp(d)
    qf = int(tfl_round(q * 2**31))
    if qf == 2**31:
        qf //= 2
        e += 1
    return (0, 0) if e < -31 else (qf, e)


def mbqm_double(x, m, shift):
    """MultiplyByQuantizedMultiplier, double rounding (SRDHM then RoundingDivideByPOT)."""
    a = x * (1 << max(shift, 0))
    ab = a * m
    v = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
    q = abs(v) // (1 << 31) * (1 if v >= 0 else -1)
    e = max(-shift, 0)
    mask = (1 << e) - 1
    return (q >> e) + (1 if (q & mask) > (mask >> 1) + (1 if q < 0 else 0) else 0)


def fc_case(per_channel, targeted=False):
    rows, depth, units = int(rng.integers(1, 4)), int(rng.integers(1, 24)), int(rng.integers(1, 9))
    if targeted:
        rows, depth, units = 1, 1, 6
    act = int(rng.choice([NONE, NONE, RELU, RELU6]))
    in_s, in_zp = rand_scale(0.005, 0.1), int(rng.integers(-128, 128))
    w_s = np.array([rand_scale(0.005, 0.02) for _ in range(units if per_channel else 1)], np.float32)
    out_s = f32(in_s * float(np.median(w_s)) * 100 * math.sqrt(depth))
    out_zp = int(rng.integers(-128, 128))
    x, wt = i8((rows, depth)), i8((units, depth), -127, 127)
    bias = rng.integers(-3000, 3001, units).astype(np.int32)
    if targeted:
        # Accumulators (= bias, with x = zero point) on which LiteRT's float rounding and the
        # (multiplier, shift) rounding disagree.
        x[:] = in_zp
        for u in range(units):
            eff = float(in_s) * float(w_s[u if per_channel else 0]) / float(out_s)
            m_, s_ = quantize_multiplier(eff)
            for a in rng.integers(-400 * 127, 400 * 127, 200000):
                a = int(a)
                if mbqm_double(a, m_, s_) != tfl_round(a * eff) and abs(tfl_round(a * eff)) < 100:
                    bias[u] = a
                    break
    m = Model()
    ti = m.tensor([rows, depth], I8, in_s, in_zp)
    tw = m.tensor([units, depth], I8, w_s, [0] * len(w_s), data=wt, qdim=0)
    tb = m.tensor([units], I32, (np.float32(in_s) * w_s).astype(np.float32), [0] * len(w_s), data=bias)
    to = m.tensor([rows, units], I8, out_s, out_zp)
    o = S.FullyConnectedOptionsT()
    o.fusedActivationFunction = act
    y = run(m.build(S.BuiltinOperator.FULLY_CONNECTED, 5, S.BuiltinOptions.FullyConnectedOptions, o,
                    [ti, tw, tb], [to], [ti], [to]), [x])[0]
    lo, hi = act_range(act, out_s, out_zp)
    return rs_struct("FcCase", [
        ("rows", rows), ("depth", depth), ("units", units),
        ("input_scale", rs_f32(in_s)), ("input_zero_point", in_zp),
        ("weight_scales", rs_list(w_s, rs_f32)),
        ("output_scale", rs_f32(out_s)), ("output_zero_point", out_zp),
        ("act_min", lo), ("act_max", hi),
        ("input", rs_list(x)), ("weights", rs_list(wt)), ("bias", rs_list(bias)),
        ("expected", rs_list(y)),
    ])


def broadcast_shapes():
    rank = int(rng.integers(1, 5))
    out = [int(rng.integers(1, 5)) for _ in range(rank)]
    a = [d if rng.random() < 0.7 else 1 for d in out]
    b = [d if rng.random() < 0.7 else 1 for d in out]
    return a, b, [max(x, y) for x, y in zip(a, b)]


def mul_targeted_pairs(s1, z1, s2, z2, so, zo):
    """Input pairs on which the multiplier from LiteRT's f32 `s1 * s2 / so` and the one from the
    same formula in f64 give different outputs (empty when the two multipliers agree)."""
    m32 = quantize_multiplier(float(np.float32(np.float32(s1 * s2) / so)))
    m64 = quantize_multiplier(float(s1) * float(s2) / float(so))
    pairs = []
    if m32 != m64:
        for x1 in range(-128, 128):
            for x2 in range(-128, 128):
                p = (x1 - z1) * (x2 - z2)
                o32 = mbqm_double(p, *m32) + zo
                o64 = mbqm_double(p, *m64) + zo
                if o32 != o64 and -128 <= o32 <= 127 and -128 <= o64 <= 127:
                    pairs.append((x1, x2))
    return pairs


def binary_case(kind, targeted=False):
    a_shape, b_shape, out_shape = broadcast_shapes()
    act = int(rng.choice([NONE, NONE, NONE, RELU]))
    s1, s2 = rand_scale(0.01, 0.5), rand_scale(0.01, 0.5)
    z1, z2, zo = (int(v) for v in rng.integers(-128, 128, 3))
    if kind == "mul":
        so = f32(s1 * s2 * rng.uniform(40, 160))
    else:
        so = f32(max(s1, s2) * rng.uniform(0.8, 3.0))
    a, b = i8(a_shape), i8(b_shape)
    if targeted:
        # Mul: inputs that separate f32 from f64 evaluation of the Prepare's real multiplier.
        act = NONE
        for _ in range(1000):
            pairs = mul_targeted_pairs(s1, z1, s2, z2, so, zo)
            if pairs:
                break
            s1, s2 = rand_scale(0.01, 0.5), rand_scale(0.01, 0.5)
            so = f32(s1 * s2 * rng.uniform(40, 160))
        pairs = pairs[:: max(1, len(pairs) // 12)][:12]
        a_shape = b_shape = out_shape = [len(pairs)]
        a = np.array([p[0] for p in pairs], np.int8)
        b = np.array([p[1] for p in pairs], np.int8)
    m = Model()
    ta, tb = m.tensor(a_shape, I8, s1, z1), m.tensor(b_shape, I8, s2, z2)
    to = m.tensor(out_shape, I8, so, zo)
    if kind == "add":
        o, code, ot = S.AddOptionsT(), S.BuiltinOperator.ADD, S.BuiltinOptions.AddOptions
    elif kind == "sub":
        o, code, ot = S.SubOptionsT(), S.BuiltinOperator.SUB, S.BuiltinOptions.SubOptions
    else:
        o, code, ot = S.MulOptionsT(), S.BuiltinOperator.MUL, S.BuiltinOptions.MulOptions
    o.fusedActivationFunction = act
    y = run(m.build(code, 2, ot, o, [ta, tb], [to], [ta, tb], [to]), [a, b])[0]
    lo, hi = act_range(act, so, zo)
    return rs_struct("BinaryCase", [
        ("op", '"' + kind + '"'),
        ("a_shape", rs_list(a_shape)), ("b_shape", rs_list(b_shape)), ("out_shape", rs_list(out_shape)),
        ("a_scale", rs_f32(s1)), ("a_zero_point", z1), ("b_scale", rs_f32(s2)), ("b_zero_point", z2),
        ("output_scale", rs_f32(so)), ("output_zero_point", zo), ("act_min", lo), ("act_max", hi),
        ("a", rs_list(a)), ("b", rs_list(b)), ("expected", rs_list(y)),
    ])


def pool_case(kind):
    n, h, w, c = int(rng.integers(1, 3)), int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.integers(1, 6))
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    padding = S.Padding.SAME if rng.random() < 0.6 else S.Padding.VALID
    if padding == S.Padding.VALID:
        h, w = max(h, kh), max(w, kw)
    oh, ow, pt, pl = geometry(h, w, kh, kw, sh, sw, 1, 1, padding)
    act = int(rng.choice([NONE, NONE, RELU, RELU6]))
    s, zp = rand_scale(0.01, 0.2), int(rng.integers(-128, 128))
    x = i8((n, h, w, c))
    m = Model()
    ti = m.tensor([n, h, w, c], I8, s, zp)
    to = m.tensor([n, oh, ow, c], I8, s, zp)
    o = S.Pool2DOptionsT()
    o.padding, o.strideH, o.strideW, o.filterHeight, o.filterWidth = padding, sh, sw, kh, kw
    o.fusedActivationFunction = act
    code = S.BuiltinOperator.AVERAGE_POOL_2D if kind == "avg" else S.BuiltinOperator.MAX_POOL_2D
    y = run(m.build(code, 2, S.BuiltinOptions.Pool2DOptions, o, [ti], [to], [ti], [to]), [x])[0]
    lo, hi = act_range(act, s, zp)
    return rs_struct("PoolCase", [
        ("avg", str(kind == "avg").lower()),
        ("batch", n), ("in_h", h), ("in_w", w), ("channels", c), ("out_h", oh), ("out_w", ow),
        ("kernel_h", kh), ("kernel_w", kw), ("stride_h", sh), ("stride_w", sw),
        ("pad_top", pt), ("pad_left", pl), ("act_min", lo), ("act_max", hi),
        ("input", rs_list(x)), ("expected", rs_list(y)),
    ])


def softmax_case(scale=None, beta=None, axis_len=None):
    outer = int(rng.integers(1, 4))
    axis_len = axis_len or int(rng.integers(1, 40))
    scale = f32(scale if scale is not None else rand_scale(0.005, 0.5))
    beta = f32(beta if beta is not None else rng.choice([1.0, 1.0, 0.5, 2.0, 0.7]))
    zp = int(rng.integers(-128, 128))
    x = i8((outer, axis_len))
    m = Model()
    ti = m.tensor([outer, axis_len], I8, scale, zp)
    to = m.tensor([outer, axis_len], I8, 1.0 / 256, -128)
    o = S.SoftmaxOptionsT()
    o.beta = float(beta)
    y = run(m.build(S.BuiltinOperator.SOFTMAX, 2, S.BuiltinOptions.SoftmaxOptions, o, [ti], [to], [ti], [to]), [x])[0]
    return rs_struct("SoftmaxCase", [
        ("outer", outer), ("axis_len", axis_len), ("beta", rs_f32(beta)),
        ("input_scale", rs_f32(scale)), ("input", rs_list(x)), ("expected", rs_list(y)),
    ])


def requantize_case():
    s_in = rand_scale(0.005, 0.5)
    s_out = f32(s_in * rand_scale(0.4, 4.0))
    z_in, z_out = (int(v) for v in rng.integers(-128, 128, 2))
    x = np.arange(-128, 128, dtype=np.int8)
    m = Model()
    ti, to = m.tensor([256], I8, s_in, z_in), m.tensor([256], I8, s_out, z_out)
    y = run(m.build(S.BuiltinOperator.QUANTIZE, 2, 0, None, [ti], [to], [ti], [to]), [x])[0]
    return rs_struct("RequantizeCase", [
        ("input_scale", rs_f32(s_in)), ("input_zero_point", z_in),
        ("output_scale", rs_f32(s_out)), ("output_zero_point", z_out), ("expected", rs_list(y)),
    ])


def dequantize_case():
    s, z = rand_scale(0.001, 2.0), int(rng.integers(-128, 128))
    x = np.arange(-128, 128, dtype=np.int8)
    m = Model()
    ti, to = m.tensor([256], I8, s, z), m.tensor([256], F32)
    y = run(m.build(S.BuiltinOperator.DEQUANTIZE, 2, 0, None, [ti], [to], [ti], [to]), [x])[0]
    return rs_struct("DequantizeCase", [
        ("scale", rs_f32(s)), ("zero_point", z), ("expected", rs_list(y, rs_f32)),
    ])


def quantize_linear_case(scale, zp):
    """f32 -> int8 by ONNX's reference QuantizeLinear (opset 13)."""
    import onnx
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    scale = f32(scale)
    k = np.arange(-140, 141, 3, dtype=np.float32)
    # Exact ties (k + 1/2) · scale where representable, near-ties, and random values.
    x = np.concatenate([
        ((k + 0.5) * scale).astype(np.float32),
        np.nextafter(((k + 0.5) * scale).astype(np.float32), np.float32(np.inf)),
        (k * scale).astype(np.float32),
        rng.uniform(-200, 200, 32).astype(np.float32) * scale,
        # (Not 1e30 or inf: onnx's reference casts those to int32 before clipping, which is
        # undefined in numpy; the Rust tests check saturation by hand.)
        np.array([0.0, -0.0], np.float32),
    ]).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"])], "q",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [len(x)])],
        [helper.make_tensor_value_info("y", TensorProto.INT8, [len(x)])],
        [helper.make_tensor("s", TensorProto.FLOAT, [], [float(scale)]),
         helper.make_tensor("z", TensorProto.INT8, [], [zp])])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    y = ReferenceEvaluator(model).run(None, {"x": x})[0]
    return rs_struct("QuantizeCase", [
        ("scale", rs_f32(scale)), ("zero_point", zp),
        ("input", rs_list(x, rs_f32)), ("expected", rs_list(y)),
    ])


STRUCTS = """
pub(crate) struct ConvCase {
    pub depthwise: bool,
    pub batch: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub in_c: usize,
    pub out_h: usize,
    pub out_w: usize,
    pub out_c: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub dilation_h: usize,
    pub dilation_w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub groups: usize,
    pub input_scale: f32,
    pub input_zero_point: i32,
    pub weight_scales: &'static [f32],
    pub output_scale: f32,
    pub output_zero_point: i32,
    pub act_min: i32,
    pub act_max: i32,
    pub input: &'static [i8],
    /// OHWI (depthwise: `[out_c, kh, kw, 1]`, transposed from TFLite's `[1, kh, kw, out_c]`).
    pub weights: &'static [i8],
    pub bias: &'static [i32],
    pub expected: &'static [i8],
}

pub(crate) struct FcCase {
    pub rows: usize,
    pub depth: usize,
    pub units: usize,
    pub input_scale: f32,
    pub input_zero_point: i32,
    /// One entry: per-tensor weights.
    pub weight_scales: &'static [f32],
    pub output_scale: f32,
    pub output_zero_point: i32,
    pub act_min: i32,
    pub act_max: i32,
    pub input: &'static [i8],
    pub weights: &'static [i8],
    pub bias: &'static [i32],
    pub expected: &'static [i8],
}

pub(crate) struct BinaryCase {
    /// "add", "sub" or "mul".
    pub op: &'static str,
    pub a_shape: &'static [usize],
    pub b_shape: &'static [usize],
    pub out_shape: &'static [usize],
    pub a_scale: f32,
    pub a_zero_point: i32,
    pub b_scale: f32,
    pub b_zero_point: i32,
    pub output_scale: f32,
    pub output_zero_point: i32,
    pub act_min: i32,
    pub act_max: i32,
    pub a: &'static [i8],
    pub b: &'static [i8],
    pub expected: &'static [i8],
}

pub(crate) struct PoolCase {
    pub avg: bool,
    pub batch: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub channels: usize,
    pub out_h: usize,
    pub out_w: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub act_min: i32,
    pub act_max: i32,
    pub input: &'static [i8],
    pub expected: &'static [i8],
}

/// Output scale 1/256, zero point -128; the input zero point does not matter.
pub(crate) struct SoftmaxCase {
    pub outer: usize,
    pub axis_len: usize,
    pub beta: f32,
    pub input_scale: f32,
    pub input: &'static [i8],
    pub expected: &'static [i8],
}

/// Input: every int8 value, -128 to 127.
pub(crate) struct RequantizeCase {
    pub input_scale: f32,
    pub input_zero_point: i32,
    pub output_scale: f32,
    pub output_zero_point: i32,
    pub expected: &'static [i8],
}

/// Input: every int8 value, -128 to 127.
pub(crate) struct DequantizeCase {
    pub scale: f32,
    pub zero_point: i32,
    pub expected: &'static [f32],
}

pub(crate) struct QuantizeCase {
    pub scale: f32,
    pub zero_point: i32,
    pub input: &'static [f32],
    pub expected: &'static [i8],
}
"""


def main():
    sections = []

    def section(name, ty, cases):
        sections.append(f"pub(crate) const {name}: &[{ty}] = &[\n" + "".join(cases) + "];\n")

    section("CONV", "ConvCase", [conv_case(False) for _ in range(14)])
    section("DEPTHWISE", "ConvCase", [conv_case(True) for _ in range(10)])
    section("FC", "FcCase", [fc_case(i % 2 == 1) for i in range(12)]
            + [fc_case(False, targeted=True), fc_case(True, targeted=True)])
    section("BINARY", "BinaryCase", [binary_case(k) for k in ("add", "sub", "mul") for _ in range(8)]
            + [binary_case("mul", targeted=True) for _ in range(3)])
    section("POOL", "PoolCase", [pool_case(k) for k in ("avg", "max") for _ in range(8)])
    section("SOFTMAX", "SoftmaxCase",
            [softmax_case() for _ in range(10)]
            + [softmax_case(scale=1.0 / 16, beta=1.0, axis_len=10),
               softmax_case(scale=1.0, beta=1.0, axis_len=7),      # large scale: diff_min clips
               softmax_case(scale=0.002, beta=1.0, axis_len=33),
               softmax_case(scale=30.0, beta=1.0, axis_len=5)])    # real multiplier capped at 2^31-1
    section("REQUANTIZE", "RequantizeCase", [requantize_case() for _ in range(8)])
    section("DEQUANTIZE", "DequantizeCase", [dequantize_case() for _ in range(4)])
    section("QUANTIZE", "QuantizeCase",
            [quantize_linear_case(0.5, 0), quantize_linear_case(0.1, -3), quantize_linear_case(0.0235, 17)])

    header = f"""//! GENERATED by runtime/kernels/tools/gen_tflite_vectors.py -- do not edit by hand.
//!
//! int8 test vectors whose expected outputs were computed by LiteRT's reference kernels: each case
//! is a one-operator .tflite model run by ai-edge-litert {version('ai-edge-litert')} (Python,
//! `Interpreter(..., experimental_op_resolver_type=OpResolverType.BUILTIN_REF)`), inputs drawn
//! with numpy's default_rng({SEED}). QUANTIZE (f32 -> int8) cases instead come from ONNX's
//! reference evaluator (onnx {version('onnx')}, QuantizeLinear opset 13), mote's contract for that
//! op. Cases keep the model's float scales and zero points; the tests derive kernel parameters
//! from them as LiteRT's Prepare does. Activation ranges are TFLite's
//! CalculateActivationRangeQuantized of the fused activation, computed by the generator.
#![allow(dead_code, clippy::all, clippy::excessive_precision, clippy::unreadable_literal)]
"""
    with open(OUT, "w") as f:
        f.write(header + STRUCTS + "\n" + "\n".join(sections))
    print("wrote", os.path.normpath(OUT), os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
