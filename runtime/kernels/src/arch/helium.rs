//! Helium (MVE, the Cortex-M55/M85 vector extension) sequences used by the `helium` kernels.
//!
//! With `cfg(mote_helium)` (see the build script) each function is a short `asm!` block: there
//! are no MVE intrinsics in `core::arch`, and `q` registers cannot be `asm!` operands, so every
//! block loads and stores its vectors itself and names the `s` registers it overwrites as
//! clobbers (`q0..q3` are `s0..s15`). Everywhere else each function is Rust that computes the same
//! thing instruction by instruction (written from the Armv8.1-M pseudocode of `VQRDMULH`,
//! `VQADD`, `VRSHL`, ...), so the kernels built on these run and are property-tested on any host;
//! under QEMU (`mps3-an547`) the real instructions run (targets/cortex-m/test.sh compares whole
//! models with the host).

/// A group of 4 output channels' multipliers, in the form the vector output stage loads:
/// `mult` the Q31 multipliers and `neg_right` the shifts (`shift ∈ [−31, 0]`, a right shift by
/// `−shift`), 16-byte aligned.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(16))]
pub(crate) struct RequantGroup {
    pub(crate) mult: [i32; 4],
    pub(crate) neg_right: [i32; 4],
}

/// Four i32 lanes, 16-byte aligned (a `vldrw`/`vstrw` of a whole vector).
#[cfg_attr(not(mote_helium), allow(dead_code))]
#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct Lanes([i32; 4]);

/// `Σ_{i<k} x[i]·w_r[i]` for the 4 weight rows `w_r = w + r·stride` (wrapping i32 sums, as the
/// reference's): a tail-predicated loop (`dlstp.8`/`letp`), per 16 bytes of depth one load of
/// `x`, four of weights and four `vmladava.s8`.
///
/// # Safety
/// `x[..k]` and `w[r·stride ..][..k]` (r < 4) are readable; `k > 0`.
#[inline(always)]
pub(crate) unsafe fn dot_1x4(x: *const i8, w: *const i8, stride: usize, k: usize) -> [i32; 4] {
    #[cfg(mote_helium)]
    {
        let (a0, a1, a2, a3): (i32, i32, i32, i32);
        // SAFETY: reads k bytes of x and of each row (the caller's contract); the loop's last
        // iteration is tail-predicated, so nothing past k is read.
        unsafe {
            core::arch::asm!(
                "movs r0, #0",
                "movs r2, #0",
                "movs r4, #0",
                "mov r8, #0",
                "dlstp.8 lr, lr",
                "2:",
                "vldrb.u8 q0, [{x}], #16",
                "vldrb.u8 q1, [{w0}], #16",
                "vmladava.s8 r0, q0, q1",
                "vldrb.u8 q2, [{w1}], #16",
                "vmladava.s8 r2, q0, q2",
                "vldrb.u8 q3, [{w2}], #16",
                "vmladava.s8 r4, q0, q3",
                "vldrb.u8 q1, [{w3}], #16",
                "vmladava.s8 r8, q0, q1",
                "letp lr, 2b",
                x = inout(reg) x => _,
                w0 = inout(reg) w => _,
                w1 = inout(reg) w.wrapping_add(stride) => _,
                w2 = inout(reg) w.wrapping_add(2 * stride) => _,
                w3 = inout(reg) w.wrapping_add(3 * stride) => _,
                inout("lr") k => _,
                out("r0") a0,
                out("r2") a1,
                out("r4") a2,
                out("r8") a3,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _,
                out("s4") _, out("s5") _, out("s6") _, out("s7") _,
                out("s8") _, out("s9") _, out("s10") _, out("s11") _,
                out("s12") _, out("s13") _, out("s14") _, out("s15") _,
                options(readonly, nostack),
            );
        }
        [a0, a1, a2, a3]
    }
    #[cfg(not(mote_helium))]
    {
        let mut a = [0i32; 4];
        for (r, acc) in a.iter_mut().enumerate() {
            // SAFETY: the caller's contract.
            *acc = unsafe { dot_1x1(x, w.add(r * stride), k) };
        }
        a
    }
}

/// `Σ_{i<k} x[i]·w[i]` (wrapping): one row of [`dot_1x4`].
///
/// # Safety
/// `x[..k]` and `w[..k]` are readable; `k > 0`.
#[inline(always)]
pub(crate) unsafe fn dot_1x1(x: *const i8, w: *const i8, k: usize) -> i32 {
    #[cfg(mote_helium)]
    {
        let a: i32;
        // SAFETY: reads k bytes of x and w (tail-predicated).
        unsafe {
            core::arch::asm!(
                "movs r0, #0",
                "dlstp.8 lr, lr",
                "2:",
                "vldrb.u8 q0, [{x}], #16",
                "vldrb.u8 q1, [{w}], #16",
                "vmladava.s8 r0, q0, q1",
                "letp lr, 2b",
                x = inout(reg) x => _,
                w = inout(reg) w => _,
                inout("lr") k => _,
                out("r0") a,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _,
                out("s4") _, out("s5") _, out("s6") _, out("s7") _,
                options(readonly, nostack),
            );
        }
        a
    }
    #[cfg(not(mote_helium))]
    {
        let mut a = 0i32;
        for i in 0..k {
            // SAFETY: i < k.
            let (xv, wv) = unsafe { (*x.add(i), *w.add(i)) };
            a = a.wrapping_add(i32::from(xv) * i32::from(wv));
        }
        a
    }
}

/// `Σ_{i<k} w[i]` (wrapping): per 16 bytes one `vldrb`, one `vaddva.s8`.
///
/// # Safety
/// `w[..k]` is readable; `k > 0`.
#[inline(always)]
pub(crate) unsafe fn sum_s8(w: *const i8, k: usize) -> i32 {
    #[cfg(mote_helium)]
    {
        let a: i32;
        // SAFETY: reads k bytes of w (tail-predicated).
        unsafe {
            core::arch::asm!(
                "movs r0, #0",
                "dlstp.8 lr, lr",
                "2:",
                "vldrb.u8 q0, [{w}], #16",
                "vaddva.s8 r0, q0",
                "letp lr, 2b",
                w = inout(reg) w => _,
                inout("lr") k => _,
                out("r0") a,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _,
                options(readonly, nostack),
            );
        }
        a
    }
    #[cfg(not(mote_helium))]
    {
        let mut a = 0i32;
        for i in 0..k {
            // SAFETY: i < k.
            a = a.wrapping_add(i32::from(unsafe { *w.add(i) }));
        }
        a
    }
}

/// One output pixel's 3×3 depthwise window of 4 channels, from a buffer holding 4 channels per
/// pixel (4 bytes) and `row` bytes per input row, dilation 1: returns `acc[j] + Σ_taps x·w`,
/// `w` being the 9 taps' 4 weights (`w[4·t + j]`). Per tap: 2 `vldrb.s32`, `vmul`, `vadd`.
///
/// # Safety
/// The 3 runs of 12 bytes at `x + kh·row` (kh < 3) and the 36 bytes at `w` are readable.
#[inline(always)]
pub(crate) unsafe fn dw3x3_4(x: *const i8, row: usize, w: *const i8, acc: &[i32; 4]) -> [i32; 4] {
    #[cfg(mote_helium)]
    {
        let mut res = Lanes([0; 4]);
        // SAFETY: reads the 9 words of the window, 36 weight bytes and 16 accumulator bytes,
        // writes the 16 bytes of `res`. (Not the two-lane `vmov` to general registers: under
        // QEMU 7.2 it gave the lanes swapped from what the assembler syntax says.)
        unsafe {
            core::arch::asm!(
                "vldrw.u32 q0, [r2]",
                "vldrb.s32 q1, [r0]",
                "vldrb.s32 q2, [r1]",
                "vmul.i32 q1, q1, q2",
                "vadd.i32 q0, q0, q1",
                "vldrb.s32 q1, [r0, #4]",
                "vldrb.s32 q2, [r1, #4]",
                "vmul.i32 q1, q1, q2",
                "vadd.i32 q0, q0, q1",
                "vldrb.s32 q1, [r0, #8]",
                "vldrb.s32 q2, [r1, #8]",
                "vmul.i32 q1, q1, q2",
                "vadd.i32 q0, q0, q1",
                "add r0, r0, {row}",
                "vldrb.s32 q1, [r0]",
                "vldrb.s32 q2, [r1, #12]",
                "vmul.i32 q1, q1, q2",
                "vadd.i32 q0, q0, q1",
                "vldrb.s32 q1, [r0, #4]",
                "vldrb.s32 q2, [r1, #16]",
                "vmul.i32 q1, q1, q2",
                "vadd.i32 q0, q0, q1",
                "vldrb.s32 q1, [r0, #8]",
                "vldrb.s32 q2, [r1, #20]",
                "vmul.i32 q1, q1, q2",
                "vadd.i32 q0, q0, q1",
                "add r0, r0, {row}",
                "vldrb.s32 q1, [r0]",
                "vldrb.s32 q2, [r1, #24]",
                "vmul.i32 q1, q1, q2",
                "vadd.i32 q0, q0, q1",
                "vldrb.s32 q1, [r0, #4]",
                "vldrb.s32 q2, [r1, #28]",
                "vmul.i32 q1, q1, q2",
                "vadd.i32 q0, q0, q1",
                "vldrb.s32 q1, [r0, #8]",
                "vldrb.s32 q2, [r1, #32]",
                "vmul.i32 q1, q1, q2",
                "vadd.i32 q0, q0, q1",
                "vstrw.32 q0, [r3]",
                // The widening loads (`vldrb.s32`) take only r0-r7 as the base.
                inout("r0") x => _,
                row = in(reg) row,
                in("r1") w,
                in("r2") acc.as_ptr(),
                in("r3") res.0.as_mut_ptr(),
                out("s0") _, out("s1") _, out("s2") _, out("s3") _,
                out("s4") _, out("s5") _, out("s6") _, out("s7") _,
                out("s8") _, out("s9") _, out("s10") _, out("s11") _,
                options(nostack),
            );
        }
        res.0
    }
    #[cfg(not(mote_helium))]
    {
        let mut a = *acc;
        for kh in 0..3 {
            for kw in 0..3 {
                for (j, aj) in a.iter_mut().enumerate() {
                    // SAFETY: inside the caller's ranges.
                    let (xv, wv) =
                        unsafe { (*x.add(kh * row + 4 * kw + j), *w.add(4 * (3 * kh + kw) + j)) };
                    *aj = aj.wrapping_add(i32::from(xv).wrapping_mul(i32::from(wv)));
                }
            }
        }
        a
    }
}

/// The int8 output stage of 4 channels with right-shift multipliers and double rounding
/// (`PreparedMultiplier::apply_right_double`, then `+ output_offset` saturating and the clamp to
/// `[lo, hi]`), stored as 4 bytes at `out`:
///
/// ```text
/// h = vqrdmulh(acc, mult)                      = ⌊(acc·mult + 2^30) / 2^31⌋ (mult ≠ i32::MIN)
/// h = vqadd(h, (h & neg_right) >> 31)          − 1 when h < 0 and the shift is not 0
/// v = vrshl(h, neg_right)                      = ⌊(h + 2^(r−1)) / 2^r⌋: with the − 1 above,
///                                                round half away from zero, as the reference
/// out = min(max(vqadd(v, off), lo), hi)
/// ```
///
/// # Safety
/// `out[..4]` is writable.
#[inline(always)]
pub(crate) unsafe fn requant4_double(
    acc: [i32; 4],
    g: &RequantGroup,
    off: i32,
    lo: i32,
    hi: i32,
    out: *mut i8,
) {
    #[cfg(mote_helium)]
    {
        let acc = Lanes(acc);
        // SAFETY: reads `acc` and the 32-byte group, writes 4 bytes at out (the caller's
        // contract).
        unsafe {
            core::arch::asm!(
                "vldrw.u32 q0, [r0]",
                "vldrw.u32 q1, [r1]",
                "vqrdmulh.s32 q0, q0, q1",
                "vldrw.u32 q1, [r1, #16]",
                "vand q2, q0, q1",
                "vshr.s32 q2, q2, #31",
                "vqadd.s32 q0, q0, q2",
                "vrshl.s32 q0, q0, q1",
                "vqadd.s32 q0, q0, {off}",
                "vdup.32 q1, {lo}",
                "vmax.s32 q0, q0, q1",
                "vdup.32 q1, {hi}",
                "vmin.s32 q0, q0, q1",
                "vstrb.32 q0, [r2]",
                // The narrowing store (`vstrb.32`) takes only r0-r7 as the base.
                in("r0") acc.0.as_ptr(),
                in("r1") g as *const RequantGroup,
                in("r2") out,
                off = in(reg) off,
                lo = in(reg) lo,
                hi = in(reg) hi,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _,
                out("s4") _, out("s5") _, out("s6") _, out("s7") _,
                out("s8") _, out("s9") _, out("s10") _, out("s11") _,
                options(nostack),
            );
        }
    }
    #[cfg(not(mote_helium))]
    {
        for (j, ((&a, &m), &n)) in acc.iter().zip(&g.mult).zip(&g.neg_right).enumerate() {
            let h = vqrdmulh(a, m);
            let h = vqadd(h, (h & n) >> 31);
            let v = vrshl(h, n);
            let v = vqadd(v, off).max(lo).min(hi);
            // SAFETY: j < 4, out[..4] writable.
            unsafe { *out.add(j) = v as i8 };
        }
    }
}

/// `VQRDMULH.S32`: `sat32((2·a·b + 2^31) >> 32)`.
#[cfg(any(test, not(mote_helium)))]
pub(crate) fn vqrdmulh(a: i32, b: i32) -> i32 {
    let p = 2 * i64::from(a) * i64::from(b) + (1i64 << 31);
    (p >> 32).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// `VQADD.S32`: the saturated sum.
#[cfg(any(test, not(mote_helium)))]
pub(crate) fn vqadd(a: i32, b: i32) -> i32 {
    a.saturating_add(b)
}

/// `VRSHL.S32 Qd, Qm, Qn` lane: `a` shifted by the signed low byte of `n`, left when positive,
/// right with rounding (`(a + 2^(−n−1)) >> −n`, exact) when negative (here `n ∈ [−31, 0]`).
#[cfg(any(test, not(mote_helium)))]
pub(crate) fn vrshl(a: i32, n: i32) -> i32 {
    let s = i64::from(n as i8);
    if s >= 0 {
        (i64::from(a) << s.min(40)) as i32
    } else {
        let r = (-s).min(40);
        ((i64::from(a) + (1i64 << (r - 1))) >> r) as i32
    }
}

/// `out[i] = stage(ta[a[i] as u8] + tb[b[i] as u8])` for `i < n`, the stage being
/// [`requant4_double`]'s with the one multiplier `q = [mult, shift, off, lo, hi]`
/// (`shift ∈ [−31, 0]`): a tail-predicated loop over 4 elements per step, the table entries
/// fetched with gather loads.
///
/// # Safety
/// `a[..n]`, `b[..n]` readable, `out[..n]` writable, `n > 0`.
#[inline(always)]
pub(crate) unsafe fn add_tables(
    a: *const i8,
    b: *const i8,
    out: *mut i8,
    n: usize,
    ta: &[i32; 256],
    tb: &[i32; 256],
    q: [i32; 5],
) {
    let [mult, shift, off, lo, hi] = q;
    #[cfg(mote_helium)]
    {
        // SAFETY: reads n bytes of a and b and table entries at byte indices, writes n bytes of
        // out (tail-predicated: nothing past n).
        unsafe {
            core::arch::asm!(
                "vdup.32 q3, {shift}",
                "vdup.32 q4, {lo}",
                "vdup.32 q5, {hi}",
                "dlstp.32 lr, lr",
                "2:",
                "vldrb.u32 q0, [r0], #4",
                "vldrw.u32 q1, [r3, q0, uxtw #2]",
                "vldrb.u32 q0, [r1], #4",
                "vldrw.u32 q2, [r4, q0, uxtw #2]",
                "vadd.i32 q1, q1, q2",
                "vqrdmulh.s32 q1, q1, {mult}",
                "vand q2, q1, q3",
                "vshr.s32 q2, q2, #31",
                "vqadd.s32 q1, q1, q2",
                "vrshl.s32 q1, q1, q3",
                "vqadd.s32 q1, q1, {off}",
                "vmax.s32 q1, q1, q4",
                "vmin.s32 q1, q1, q5",
                "vstrb.32 q1, [r2], #4",
                "letp lr, 2b",
                // Widening loads, gathers and narrowing stores: bases in r0-r7.
                inout("r0") a => _,
                inout("r1") b => _,
                inout("r2") out => _,
                in("r3") ta.as_ptr(),
                in("r4") tb.as_ptr(),
                inout("lr") n => _,
                shift = in(reg) shift,
                lo = in(reg) lo,
                hi = in(reg) hi,
                mult = in(reg) mult,
                off = in(reg) off,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _,
                out("s4") _, out("s5") _, out("s6") _, out("s7") _,
                out("s8") _, out("s9") _, out("s10") _, out("s11") _,
                out("s12") _, out("s13") _, out("s14") _, out("s15") _,
                out("s16") _, out("s17") _, out("s18") _, out("s19") _,
                out("s20") _, out("s21") _, out("s22") _, out("s23") _,
                options(nostack),
            );
        }
    }
    #[cfg(not(mote_helium))]
    {
        for i in 0..n {
            // SAFETY: i < n (the caller's contract).
            let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
            let s = ta[x as u8 as usize].wrapping_add(tb[y as u8 as usize]);
            let h = vqrdmulh(s, mult);
            let h = vqadd(h, (h & shift) >> 31);
            let v = vqadd(vrshl(h, shift), off).max(lo).min(hi);
            // SAFETY: i < n.
            unsafe { *out.add(i) = v as i8 };
        }
    }
}
