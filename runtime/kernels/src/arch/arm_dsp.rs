//! Arm DSP extension (SIMD32) instructions used by the `arm_dsp` kernels, one function each.
//!
//! With `cfg(mote_arm_dsp)` (building for `thumbv7em-*` / `thumbv8m.main-*`, see the build
//! script) each function is the single instruction, through `asm!` (the `core::arch::arm`
//! intrinsics are nightly-only). Everywhere else it is a bit-identical Rust emulation, written
//! from the Armv7-M Architecture Reference Manual's pseudocode, so the kernels built on these run
//! and are property-tested on any host; under QEMU the same tests pass with the real instructions
//! (targets/cortex-m/test.sh compares whole models with the host).
//!
//! Halfword pairs are `u32` values holding two `i16` lanes: bits 0..16 ("bottom") and 16..32
//! ("top").

/// `SXTB16 Rd, Rm`: bytes 0 and 2 of `x`, sign-extended into the bottom and top halfwords.
#[inline(always)]
pub(crate) fn sxtb16(x: u32) -> u32 {
    #[cfg(mote_arm_dsp)]
    {
        let r: u32;
        // SAFETY: a register-only instruction of the DSP extension, which the target has
        // (cfg(mote_arm_dsp)); it touches no memory, no stack and no flags.
        unsafe {
            core::arch::asm!("sxtb16 {r}, {x}", r = lateout(reg) r, x = in(reg) x,
                options(pure, nomem, nostack, preserves_flags));
        }
        r
    }
    #[cfg(not(mote_arm_dsp))]
    {
        let lo = (x as u8 as i8 as i16) as u16 as u32;
        let hi = ((x >> 16) as u8 as i8 as i16) as u16 as u32;
        lo | (hi << 16)
    }
}

/// `SXTB16 Rd, Rm, ROR #8`: bytes 1 and 3 of `x`, sign-extended into the bottom and top
/// halfwords.
#[inline(always)]
pub(crate) fn sxtb16_ror8(x: u32) -> u32 {
    #[cfg(mote_arm_dsp)]
    {
        let r: u32;
        // SAFETY: as in `sxtb16`.
        unsafe {
            core::arch::asm!("sxtb16 {r}, {x}, ror #8", r = lateout(reg) r, x = in(reg) x,
                options(pure, nomem, nostack, preserves_flags));
        }
        r
    }
    #[cfg(not(mote_arm_dsp))]
    {
        sxtb16(x.rotate_right(8))
    }
}

/// `SADD16 Rd, Rn, Rm`: the two halfword lanes added, each wrapping to 16 bits.
#[inline(always)]
pub(crate) fn sadd16(a: u32, b: u32) -> u32 {
    #[cfg(mote_arm_dsp)]
    {
        let r: u32;
        // SAFETY: a register-only DSP instruction (cfg(mote_arm_dsp)); it sets the GE flags, so
        // the flags are not declared preserved.
        unsafe {
            core::arch::asm!("sadd16 {r}, {a}, {b}", r = lateout(reg) r, a = in(reg) a,
                b = in(reg) b, options(pure, nomem, nostack));
        }
        r
    }
    #[cfg(not(mote_arm_dsp))]
    {
        let lo = (a as u16).wrapping_add(b as u16);
        let hi = ((a >> 16) as u16).wrapping_add((b >> 16) as u16);
        u32::from(lo) | (u32::from(hi) << 16)
    }
}

/// Bottom halfword of a pair, as i32.
#[cfg(not(mote_arm_dsp))]
#[inline(always)]
fn bottom(x: u32) -> i32 {
    i32::from(x as u16 as i16)
}

/// Top halfword of a pair, as i32.
#[cfg(not(mote_arm_dsp))]
#[inline(always)]
fn top(x: u32) -> i32 {
    i32::from((x >> 16) as u16 as i16)
}

/// `SMLAD Rd, Rn, Rm, Ra`: `acc + bottom(a)·bottom(b) + top(a)·top(b)`, wrapping to 32 bits (the
/// instruction only sets the sticky Q flag on overflow, which nothing reads).
#[inline(always)]
pub(crate) fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    #[cfg(mote_arm_dsp)]
    {
        let r: i32;
        // SAFETY: a register-only DSP instruction (cfg(mote_arm_dsp)); it may set the sticky Q
        // flag, so the flags are not declared preserved.
        unsafe {
            core::arch::asm!("smlad {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a,
                b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack));
        }
        r
    }
    #[cfg(not(mote_arm_dsp))]
    {
        // Each product fits in i32 (|p| ≤ 2^30); the sum wraps as the instruction's does.
        acc.wrapping_add(bottom(a) * bottom(b))
            .wrapping_add(top(a) * top(b))
    }
}

/// `SMLABB Rd, Rn, Rm, Ra`: `acc + bottom(a)·bottom(b)`, wrapping.
#[inline(always)]
pub(crate) fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
    #[cfg(mote_arm_dsp)]
    {
        let r: i32;
        // SAFETY: as in `smlad`.
        unsafe {
            core::arch::asm!("smlabb {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a,
                b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack));
        }
        r
    }
    #[cfg(not(mote_arm_dsp))]
    {
        acc.wrapping_add(bottom(a) * bottom(b))
    }
}

/// `SMLATT Rd, Rn, Rm, Ra`: `acc + top(a)·top(b)`, wrapping.
#[inline(always)]
pub(crate) fn smlatt(a: u32, b: u32, acc: i32) -> i32 {
    #[cfg(mote_arm_dsp)]
    {
        let r: i32;
        // SAFETY: as in `smlad`.
        unsafe {
            core::arch::asm!("smlatt {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a,
                b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack));
        }
        r
    }
    #[cfg(not(mote_arm_dsp))]
    {
        acc.wrapping_add(top(a) * top(b))
    }
}

/// Two i16 values as a halfword pair (`lo` in the bottom halfword).
#[inline(always)]
pub(crate) fn pair(lo: i16, hi: i16) -> u32 {
    u32::from(lo as u16) | (u32::from(hi as u16) << 16)
}

/// Reads 4 bytes at `p` as a little-endian word (an unaligned `LDR`, which the Cortex-M3 and
/// later allow for single-word loads).
///
/// # Safety
/// `p .. p + 4` is readable.
#[inline(always)]
pub(crate) unsafe fn load_word(p: *const i8) -> u32 {
    // SAFETY: readable (caller); `read_unaligned` has no alignment requirement.
    unsafe { core::ptr::read_unaligned(p.cast::<u32>()) }.to_le()
}

/// Dot products of one int8 row `x` (`k` bytes) with four weight rows laid out one after the
/// other (`w[j·k ..][.. k]`, j = 0..4, as consecutive output channels of OHWI weights):
/// `[x·w0, x·w1, x·w2, x·w3]`, wrapping in 32 bits. Rows shorter than the contract give the
/// dot products of what is there.
///
/// Per 4 bytes of depth: 5 word loads, 10 `sxtb16`, 8 `smlad` and the loop test, 25
/// instructions for 16 multiply-adds. On the DSP targets the word loop is one `asm!` block:
/// LLVM, left to itself, spilled the accumulators (36 instructions per step).
#[inline]
pub(crate) fn dot_1x4(x: &[i8], w: &[i8], k: usize) -> [i32; 4] {
    let k = k.min(x.len()).min(w.len() / 4);
    let words = k / 4;
    let mut acc = [0i32; 4];
    if words > 0 {
        // SAFETY: x has ≥ 4·words bytes; w has ≥ 4k bytes, and every load of row j reads inside
        // w[j·k .. j·k + 4·words].
        acc = unsafe { dot_1x4_words(x.as_ptr(), w.as_ptr(), k, words) };
    }
    for i in 4 * words..k {
        let xv = i32::from(x.get(i).copied().unwrap_or(0));
        for (j, a) in acc.iter_mut().enumerate() {
            let wv = i32::from(w.get(j * k + i).copied().unwrap_or(0));
            *a = a.wrapping_add(xv * wv);
        }
    }
    acc
}

/// [`dot_1x4`] over `words` whole words of each row, `4·words ≥ k`: row `j` is read at
/// `w[j·k .. j·k + 4·words]`, running into the next row (or past the fourth) when `k` is not a
/// multiple of 4. The caller zero-pads `x` to `4·words` bytes, so those extra weights count for
/// nothing. Needs `x.len() ≥ 4·words` and `w.len() ≥ 3k + 4·words`, else it is [`dot_1x4`].
#[inline]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn dot_1x4_padded(x: &[i8], w: &[i8], k: usize, words: usize) -> [i32; 4] {
    if words == 0 || x.len() < 4 * words || w.len() < 3 * k + 4 * words || 4 * words < k {
        return dot_1x4(x, w, k);
    }
    // SAFETY: the lengths were just checked.
    unsafe { dot_1x4_words(x.as_ptr(), w.as_ptr(), k, words) }
}

/// The word loop of [`dot_1x4`] over `words ≥ 1` words.
///
/// # Safety
/// `x .. x + 4·words` and `w + j·k .. w + j·k + 4·words` (j = 0..4) are readable.
#[cfg(mote_arm_dsp)]
#[inline(always)]
pub(crate) unsafe fn dot_1x4_words(x: *const i8, w: *const i8, k: usize, words: usize) -> [i32; 4] {
    let (a0, a1, a2, a3): (i32, i32, i32, i32);
    // SAFETY: the loads stay in the ranges the caller guarantees (the loop runs `words` times,
    // `words ≥ 1`). 13 registers: LLVM finds them when the function keeps no frame pointer.
    unsafe {
        let end = x.add(4 * words);
        let wb = w.add(2 * k);
        core::arch::asm!(
            "movs {a0}, #0",
            "movs {a1}, #0",
            "movs {a2}, #0",
            "movs {a3}, #0",
            "2:",
            "ldr {xh}, [{xp}], #4",
            "sxtb16 {xl}, {xh}",
            "sxtb16 {xh}, {xh}, ror #8",
            "ldr {t}, [{wa}, {k}]",
            "sxtb16 {u}, {t}",
            "sxtb16 {t}, {t}, ror #8",
            "smlad {a1}, {xl}, {u}, {a1}",
            "smlad {a1}, {xh}, {t}, {a1}",
            "ldr {t}, [{wa}], #4",
            "sxtb16 {u}, {t}",
            "sxtb16 {t}, {t}, ror #8",
            "smlad {a0}, {xl}, {u}, {a0}",
            "smlad {a0}, {xh}, {t}, {a0}",
            "ldr {t}, [{wb}, {k}]",
            "sxtb16 {u}, {t}",
            "sxtb16 {t}, {t}, ror #8",
            "smlad {a3}, {xl}, {u}, {a3}",
            "smlad {a3}, {xh}, {t}, {a3}",
            "ldr {t}, [{wb}], #4",
            "sxtb16 {u}, {t}",
            "sxtb16 {t}, {t}, ror #8",
            "smlad {a2}, {xl}, {u}, {a2}",
            "smlad {a2}, {xh}, {t}, {a2}",
            "cmp {xp}, {end}",
            "bne 2b",
            a0 = out(reg) a0,
            a1 = out(reg) a1,
            a2 = out(reg) a2,
            a3 = out(reg) a3,
            xp = inout(reg) x => _,
            wa = inout(reg) w => _,
            wb = inout(reg) wb => _,
            k = in(reg) k,
            end = in(reg) end,
            xl = out(reg) _,
            xh = out(reg) _,
            t = out(reg) _,
            u = out(reg) _,
            // `movs` sets the flags.
            options(readonly, nostack),
        );
    }
    [a0, a1, a2, a3]
}

/// The word loop of [`dot_1x4`], emulated (same instructions, same order).
///
/// # Safety
/// As the DSP version.
#[cfg(not(mote_arm_dsp))]
#[inline(always)]
pub(crate) unsafe fn dot_1x4_words(x: *const i8, w: *const i8, k: usize, words: usize) -> [i32; 4] {
    let mut a = [0i32; 4];
    for i in 0..words {
        // SAFETY: inside the caller's ranges.
        let xv = unsafe { load_word(x.add(4 * i)) };
        let (xl, xh) = (sxtb16(xv), sxtb16_ror8(xv));
        for (j, acc) in a.iter_mut().enumerate() {
            // SAFETY: inside the caller's ranges.
            let t = unsafe { load_word(w.add(j * k + 4 * i)) };
            *acc = smlad(xl, sxtb16(t), *acc);
            *acc = smlad(xh, sxtb16_ror8(t), *acc);
        }
    }
    a
}

/// Dot products of one row of halfword pairs with four int8 weight rows (`w[j·k ..]`, j = 0..4):
/// `xp` holds, per 4 bytes of depth, the pairs `(x0, x2)` and `(x1, x3)` (as `sxtb16` and
/// `sxtb16 ror #8` give them, typically with the input offset added); `words` such steps.
/// Per step: one `ldrd`, 4 word loads, 8 `sxtb16`, 8 `smlad`, two steps per loop test: 22
/// instructions for 16 multiply-adds (the fully connected layers, whose input is expanded once and used by every
/// unit).
///
/// # Safety
/// `xp .. xp + 2·words` (u32) and `w + j·k .. w + j·k + 4·words` (j = 0..4) are readable;
/// `words ≥ 1`; `xp` is 4-byte aligned. The sums start from `init` (the biases).
#[cfg(mote_arm_dsp)]
// Used by the DSP fully connected kernel, which Helium builds leave out.
#[cfg_attr(mote_helium, allow(dead_code))]
#[inline(always)]
pub(crate) unsafe fn dot_pairs_1x4(
    xp: *const u32,
    w: *const i8,
    k: usize,
    words: usize,
    init: [i32; 4],
) -> [i32; 4] {
    let [mut a0, mut a1, mut a2, mut a3] = init;
    // SAFETY: the loads stay in the ranges the caller guarantees (`words ≥ 1` iterations).
    unsafe {
        let end = xp.add(2 * words);
        let wb = w.add(2 * k);
        core::arch::asm!(
            // Two steps per iteration; an odd count enters at the second.
            "sub {t}, {end}, {xp}",
            "tst {t}, #8",
            "bne 3f",
            "2:",
            "ldrd {xl}, {xh}, [{xp}], #8",
            "ldr {t}, [{wa}, {k}]",
            "sxtb16 {u}, {t}",
            "sxtb16 {t}, {t}, ror #8",
            "smlad {a1}, {xl}, {u}, {a1}",
            "smlad {a1}, {xh}, {t}, {a1}",
            "ldr {t}, [{wa}], #4",
            "sxtb16 {u}, {t}",
            "sxtb16 {t}, {t}, ror #8",
            "smlad {a0}, {xl}, {u}, {a0}",
            "smlad {a0}, {xh}, {t}, {a0}",
            "ldr {t}, [{wb}, {k}]",
            "sxtb16 {u}, {t}",
            "sxtb16 {t}, {t}, ror #8",
            "smlad {a3}, {xl}, {u}, {a3}",
            "smlad {a3}, {xh}, {t}, {a3}",
            "ldr {t}, [{wb}], #4",
            "sxtb16 {u}, {t}",
            "sxtb16 {t}, {t}, ror #8",
            "smlad {a2}, {xl}, {u}, {a2}",
            "smlad {a2}, {xh}, {t}, {a2}",
            "3:",
            "ldrd {xl}, {xh}, [{xp}], #8",
            "ldr {t}, [{wa}, {k}]",
            "sxtb16 {u}, {t}",
            "sxtb16 {t}, {t}, ror #8",
            "smlad {a1}, {xl}, {u}, {a1}",
            "smlad {a1}, {xh}, {t}, {a1}",
            "ldr {t}, [{wa}], #4",
            "sxtb16 {u}, {t}",
            "sxtb16 {t}, {t}, ror #8",
            "smlad {a0}, {xl}, {u}, {a0}",
            "smlad {a0}, {xh}, {t}, {a0}",
            "ldr {t}, [{wb}, {k}]",
            "sxtb16 {u}, {t}",
            "sxtb16 {t}, {t}, ror #8",
            "smlad {a3}, {xl}, {u}, {a3}",
            "smlad {a3}, {xh}, {t}, {a3}",
            "ldr {t}, [{wb}], #4",
            "sxtb16 {u}, {t}",
            "sxtb16 {t}, {t}, ror #8",
            "smlad {a2}, {xl}, {u}, {a2}",
            "smlad {a2}, {xh}, {t}, {a2}",
            "cmp {xp}, {end}",
            "bne 2b",
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a3 = inout(reg) a3,
            xp = inout(reg) xp => _,
            wa = inout(reg) w => _,
            wb = inout(reg) wb => _,
            k = in(reg) k,
            end = in(reg) end,
            xl = out(reg) _,
            xh = out(reg) _,
            t = out(reg) _,
            u = out(reg) _,
            // `tst` sets the flags.
            options(readonly, nostack),
        );
    }
    [a0, a1, a2, a3]
}

/// [`dot_pairs_1x4`] emulated (same instructions, same order).
///
/// # Safety
/// As the DSP version.
#[cfg(not(mote_arm_dsp))]
#[inline(always)]
pub(crate) unsafe fn dot_pairs_1x4(
    xp: *const u32,
    w: *const i8,
    k: usize,
    words: usize,
    init: [i32; 4],
) -> [i32; 4] {
    let mut a = init;
    for i in 0..words {
        // SAFETY: inside the caller's ranges.
        let (xl, xh) = unsafe { (*xp.add(2 * i), *xp.add(2 * i + 1)) };
        for (j, acc) in a.iter_mut().enumerate() {
            // SAFETY: inside the caller's ranges.
            let t = unsafe { load_word(w.add(j * k + 4 * i)) };
            *acc = smlad(xl, sxtb16(t), *acc);
            *acc = smlad(xh, sxtb16_ror8(t), *acc);
        }
    }
    a
}

/// Dot products of two pixels' rows with two int8 weight rows (`w`, `w + k`), the rows given
/// as halfword pairs interleaved per 4 bytes of depth: `xp[4i .. 4i + 4]` = pixel 0's `(x0, x2)`,
/// `(x1, x3)`, then pixel 1's. Returns `[p0·w0, p0·w1, p1·w0, p1·w1]`. Per step: 2 `ldrd`,
/// 2 weight words, 4 `sxtb16`, 8 `smlad`; two steps per loop test (reloading the end from the
/// stack): 35 instructions for 32 multiply-adds.
///
/// # Safety
/// `xp .. xp + 4·words` (u32, 4-byte aligned) and `w + j·k .. w + j·k + 4·words` (j = 0, 1)
/// are readable; `words ≥ 1`. The sums start from `init` (the folded biases).
#[cfg(mote_arm_dsp)]
#[inline(always)]
pub(crate) unsafe fn dot_pairs_2x2(
    xp: *const u32,
    w: *const i8,
    k: usize,
    words: usize,
    init: [i32; 4],
) -> [i32; 4] {
    let [mut a00, mut a01, mut a10, mut a11] = init;
    // SAFETY: the loads stay in the ranges the caller guarantees (`words ≥ 1` iterations).
    unsafe {
        let end = w.add(4 * words);
        core::arch::asm!(
            // Two steps per iteration; an odd count enters at the second.
            "sub {u}, {t}, {wa}",
            "tst {u}, #4",
            // 14 registers would be needed: the end pointer waits on the stack.
            "str {t}, [sp, #-8]!",
            "bne 3f",
            "2:",
            "ldrd {x0l}, {x0h}, [{xp}], #8",
            "ldrd {x1l}, {x1h}, [{xp}], #8",
            "ldr {t}, [{wa}, {k}]",
            "sxtb16 {u}, {t}",
            "sxtb16 {t}, {t}, ror #8",
            "smlad {a01}, {x0l}, {u}, {a01}",
            "smlad {a01}, {x0h}, {t}, {a01}",
            "smlad {a11}, {x1l}, {u}, {a11}",
            "smlad {a11}, {x1h}, {t}, {a11}",
            "ldr {t}, [{wa}], #4",
            "sxtb16 {u}, {t}",
            "sxtb16 {t}, {t}, ror #8",
            "smlad {a00}, {x0l}, {u}, {a00}",
            "smlad {a00}, {x0h}, {t}, {a00}",
            "smlad {a10}, {x1l}, {u}, {a10}",
            "smlad {a10}, {x1h}, {t}, {a10}",
            "3:",
            "ldrd {x0l}, {x0h}, [{xp}], #8",
            "ldrd {x1l}, {x1h}, [{xp}], #8",
            "ldr {t}, [{wa}, {k}]",
            "sxtb16 {u}, {t}",
            "sxtb16 {t}, {t}, ror #8",
            "smlad {a01}, {x0l}, {u}, {a01}",
            "smlad {a01}, {x0h}, {t}, {a01}",
            "smlad {a11}, {x1l}, {u}, {a11}",
            "smlad {a11}, {x1h}, {t}, {a11}",
            "ldr {t}, [{wa}], #4",
            "sxtb16 {u}, {t}",
            "sxtb16 {t}, {t}, ror #8",
            "smlad {a00}, {x0l}, {u}, {a00}",
            "smlad {a00}, {x0h}, {t}, {a00}",
            "smlad {a10}, {x1l}, {u}, {a10}",
            "smlad {a10}, {x1h}, {t}, {a10}",
            "ldr {t}, [sp]",
            "cmp {wa}, {t}",
            "bne 2b",
            "add sp, sp, #8",
            a00 = inout(reg) a00,
            a01 = inout(reg) a01,
            a10 = inout(reg) a10,
            a11 = inout(reg) a11,
            xp = inout(reg) xp => _,
            wa = inout(reg) w => _,
            k = in(reg) k,
            x0l = out(reg) _,
            x0h = out(reg) _,
            x1l = out(reg) _,
            x1h = out(reg) _,
            t = inout(reg) end => _,
            u = out(reg) _,
            // `tst` sets the flags; 8 bytes of stack are used (and given back).
            options(readonly),
        );
    }
    [a00, a01, a10, a11]
}

/// [`dot_pairs_2x2`] emulated (same instructions, same order).
///
/// # Safety
/// As the DSP version.
#[cfg(not(mote_arm_dsp))]
#[inline(always)]
pub(crate) unsafe fn dot_pairs_2x2(
    xp: *const u32,
    w: *const i8,
    k: usize,
    words: usize,
    init: [i32; 4],
) -> [i32; 4] {
    let mut a = init;
    for i in 0..words {
        // SAFETY: inside the caller's ranges.
        let x = unsafe {
            [
                *xp.add(4 * i),
                *xp.add(4 * i + 1),
                *xp.add(4 * i + 2),
                *xp.add(4 * i + 3),
            ]
        };
        for ch in 0..2 {
            // SAFETY: inside the caller's ranges.
            let t = unsafe { load_word(w.add(ch * k + 4 * i)) };
            let (u, t) = (sxtb16(t), sxtb16_ror8(t));
            a[ch] = smlad(x[1], t, smlad(x[0], u, a[ch]));
            a[2 + ch] = smlad(x[3], t, smlad(x[2], u, a[2 + ch]));
        }
    }
    a
}

/// Expands two int8 rows of `k` bytes into the interleaved halfword pairs of [`dot_pairs_2x2`]
/// (`dst` gets `4·⌈k/4⌉` words; a last partial word is completed with zeros). Returns the number
/// of words per row, or 0 when `dst` is too short or a row shorter than `k`.
#[inline]
pub(crate) fn expand_pair(r0: &[i8], r1: &[i8], k: usize, dst: &mut [u32]) -> usize {
    let words = k.div_ceil(4);
    if r0.len() < k || r1.len() < k || dst.len() < 4 * words {
        return 0;
    }
    let full = k / 4;
    let word_at = |r: &[i8], i: usize| -> u32 {
        if i < full {
            // SAFETY: 4·i + 4 ≤ 4·full ≤ k ≤ r.len().
            unsafe { load_word(r.as_ptr().add(4 * i)) }
        } else {
            let mut b = [0u8; 4];
            for (j, v) in b.iter_mut().enumerate() {
                *v = r
                    .get(4 * i + j)
                    .filter(|_| 4 * i + j < k)
                    .copied()
                    .unwrap_or(0) as u8;
            }
            u32::from_le_bytes(b)
        }
    };
    for (i, d) in dst.chunks_exact_mut(4).take(words).enumerate() {
        let (u, v) = (word_at(r0, i), word_at(r1, i));
        d[0] = sxtb16(u);
        d[1] = sxtb16_ror8(u);
        d[2] = sxtb16(v);
        d[3] = sxtb16_ror8(v);
    }
    words
}

/// `x · w` over `k` bytes, wrapping (the channel tails of the 4-channel kernels).
#[inline]
pub(crate) fn dot_1x1(x: &[i8], w: &[i8], k: usize) -> i32 {
    let k = k.min(x.len()).min(w.len());
    let words = k / 4;
    let mut acc = 0i32;
    for i in 0..words {
        // SAFETY: 4·i + 4 ≤ k ≤ both lengths.
        let (u, v) = unsafe {
            (
                load_word(x.as_ptr().add(4 * i)),
                load_word(w.as_ptr().add(4 * i)),
            )
        };
        acc = smlad(sxtb16(u), sxtb16(v), acc);
        acc = smlad(sxtb16_ror8(u), sxtb16_ror8(v), acc);
    }
    for i in 4 * words..k {
        let (Some(&a), Some(&b)) = (x.get(i), w.get(i)) else {
            break;
        };
        acc = acc.wrapping_add(i32::from(a) * i32::from(b));
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The emulation against a direct transcription of the manual's pseudocode, on edge values.
    #[test]
    fn emulation_matches_the_manual() {
        let vals = [
            0u32,
            1,
            0x7f,
            0x80,
            0xff,
            0x7f7f_7f7f,
            0x8080_8080,
            0xffff_ffff,
            0x0180_7f81,
            0x1234_5678,
            0x8000_0000,
            0x7fff_ffff,
            0x00ff_ff00,
        ];
        for &x in &vals {
            let b = |k: u32| i32::from((x >> (8 * k)) as u8 as i8);
            assert_eq!(bottom(sxtb16(x)), b(0));
            assert_eq!(top(sxtb16(x)), b(2));
            assert_eq!(bottom(sxtb16_ror8(x)), b(1));
            assert_eq!(top(sxtb16_ror8(x)), b(3));
            for &y in &vals {
                for acc in [0i32, 1, -1, i32::MAX, i32::MIN] {
                    let (a0, a1) = (
                        i64::from(x as u16 as i16),
                        i64::from((x >> 16) as u16 as i16),
                    );
                    let (b0, b1) = (
                        i64::from(y as u16 as i16),
                        i64::from((y >> 16) as u16 as i16),
                    );
                    let wrap = |v: i64| v as i32;
                    assert_eq!(smlad(x, y, acc), wrap(i64::from(acc) + a0 * b0 + a1 * b1));
                    assert_eq!(smlabb(x, y, acc), wrap(i64::from(acc) + a0 * b0));
                    assert_eq!(smlatt(x, y, acc), wrap(i64::from(acc) + a1 * b1));
                }
            }
        }
        assert_eq!(pair(-1, 2), 0x0002_ffff);
        assert_eq!(sadd16(pair(-1, 32767), pair(-255, 1)), pair(-256, -32768));
    }

    /// `dot_1x4` and `dot_1x1` against plain sums, on every depth up to 41 (word tails).
    #[test]
    fn dot_products_match_plain_sums() {
        let mut seed = 12345u32;
        let mut byte = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as u8 as i8
        };
        for k in 0..=41usize {
            let x: std::vec::Vec<i8> = (0..k).map(|_| byte()).collect();
            let mut w: std::vec::Vec<i8> = (0..4 * k).map(|_| byte()).collect();
            if k == 7 {
                w.iter_mut().for_each(|v| *v = -128);
            }
            let plain = |j: usize| -> i32 {
                (0..k)
                    .map(|i| i32::from(x[i]) * i32::from(w[j * k + i]))
                    .sum()
            };
            assert_eq!(
                dot_1x4(&x, &w, k),
                [plain(0), plain(1), plain(2), plain(3)],
                "k={k}"
            );
            assert_eq!(dot_1x1(&x, &w[k..], k), plain(1), "k={k}");
            // Two pixels (x, and x reversed) × two channels from expanded pairs.
            let xr: std::vec::Vec<i8> = x.iter().rev().copied().collect();
            let mut buf = std::vec![0u32; 4 * k.div_ceil(4)];
            let words = expand_pair(&x, &xr, k, &mut buf);
            if k > 0 {
                let mut wp = w.clone();
                wp.resize(k + 4 * words, 77);
                let plain_r = |j: usize| -> i32 {
                    (0..k)
                        .map(|i| i32::from(xr[i]) * i32::from(w[j * k + i]))
                        .sum()
                };
                let init = [5, -7, 1 << 30, i32::MIN];
                // SAFETY: buf has 4·words words; wp has k + 4·words bytes.
                let got = unsafe { dot_pairs_2x2(buf.as_ptr(), wp.as_ptr(), k, words, init) };
                let want = [plain(0), plain(1), plain_r(0), plain_r(1)];
                assert_eq!(
                    got,
                    core::array::from_fn(|i| want[i].wrapping_add(init[i])),
                    "k={k}"
                );
            }
            // Zero-padded row, weights read past each row's end.
            let words = k.div_ceil(4);
            let mut xp = x.clone();
            xp.resize(4 * words, 0);
            let mut wp = w.clone();
            wp.resize(3 * k + 4 * words, 99);
            assert_eq!(
                dot_1x4_padded(&xp, &wp, k, words),
                [plain(0), plain(1), plain(2), plain(3)],
                "k={k}"
            );
        }
    }
}
