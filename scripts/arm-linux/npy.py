#!/usr/bin/env python3
"""Inputs and comparisons for scripts/arm-linux.sh, with the Python standard library only.

  npy.py gen int8|float32 SHAPE SEED OUT.npy   # e.g. gen int8 1,96,96,3 7 x.npy
  npy.py compare-f32 REF.npy GOT.npy RTOL      # exit 1 when max|got - ref| > RTOL * max|ref|

`gen` writes deterministic pseudo-random data (Python's Mersenne Twister from SEED): int8
uniform over [-128, 127], float32 standard normal. The arm-linux script runs the same input
through the x86 host build and the Arm builds under QEMU, so the values only need to be the
same for both, not realistic.

`compare-f32` prints one line: the largest absolute difference, the largest reference magnitude,
their ratio and whether it is within RTOL (int8 outputs are compared byte for byte with `cmp`
instead).
"""

import ast
import random
import struct
import sys

MAGIC = b"\x93NUMPY"


def write_npy(path, descr, shape, payload):
    shape_txt = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_txt)
    # Version 1.0: magic, version, u16 header length; header padded with spaces to a multiple
    # of 64 bytes including the 10-byte preamble, ending in a newline.
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * (pad % 64) + "\n"
    with open(path, "wb") as f:
        f.write(MAGIC + b"\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(payload)


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != MAGIC:
        sys.exit(f"{path}: not an .npy file")
    major = data[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", data[8:10])
        start = 10
    else:
        (hlen,) = struct.unpack("<I", data[8:12])
        start = 12
    header = ast.literal_eval(data[start : start + hlen].decode("latin1"))
    body = data[start + hlen :]
    if header["descr"] != "<f4" or header["fortran_order"]:
        sys.exit(f"{path}: expected little-endian float32 in C order, found {header}")
    count = 1
    for d in header["shape"]:
        count *= d
    if len(body) != 4 * count:
        sys.exit(f"{path}: {len(body)} data bytes for shape {header['shape']}")
    return header["shape"], struct.unpack(f"<{count}f", body)


def gen(kind, shape_txt, seed, out):
    shape = [int(d) for d in shape_txt.split(",")]
    count = 1
    for d in shape:
        count *= d
    rng = random.Random(int(seed))
    if kind == "int8":
        payload = bytes(rng.randrange(256) for _ in range(count))
        write_npy(out, "|i1", shape, payload)
    elif kind == "float32":
        payload = struct.pack(f"<{count}f", *(rng.gauss(0.0, 1.0) for _ in range(count)))
        write_npy(out, "<f4", shape, payload)
    else:
        sys.exit(f"unknown element type {kind} (int8 or float32)")


def compare_f32(ref_path, got_path, rtol):
    ref_shape, ref = read_npy(ref_path)
    got_shape, got = read_npy(got_path)
    if ref_shape != got_shape:
        sys.exit(f"shapes differ: {ref_shape} vs {got_shape}")
    max_diff = max(abs(a - b) for a, b in zip(ref, got))
    max_ref = max(abs(a) for a in ref)
    ratio = max_diff / max_ref if max_ref > 0 else max_diff
    ok = ratio <= float(rtol)
    print(
        f"max|diff| {max_diff:.3e}, max|x86| {max_ref:.3e}, ratio {ratio:.3e} "
        f"({'within' if ok else 'BEYOND'} {float(rtol):.0e})"
    )
    return 0 if ok else 1


def main(argv):
    if len(argv) == 6 and argv[1] == "gen":
        gen(*argv[2:])
        return 0
    if len(argv) == 5 and argv[1] == "compare-f32":
        return compare_f32(*argv[2:])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
