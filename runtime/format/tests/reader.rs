//! The reader: a model written by `ModelBuilder` reads back; every structural problem is its own
//! error; no byte string makes it panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mote_format::*;

fn sample() -> Vec<u8> {
    let mut b = ModelBuilder::new();
    let w: Vec<u8> = (0..16u32).flat_map(|i| (i as f32).to_le_bytes()).collect();
    let x = b.add_tensor("x", DType::F32, &[1, 4], Storage::Arena { offset: 0 });
    let wt = b.add_tensor("w", DType::F32, &[4, 4], Storage::Const(&w));
    let q = b.add_tensor_quant(
        "q",
        DType::I8,
        &[4],
        Storage::Arena { offset: 32 },
        Some(Quant {
            scale: 0.5,
            zero_point: -3,
        }),
    );
    let y = b.add_tensor("y", DType::F32, &[1, 4], Storage::Arena { offset: 16 });
    b.add_op(
        "fc",
        &OpParams::FullyConnected {
            activation: ActivationSpec::NONE,
        },
        &[x, wt],
        &[y],
    );
    b.set_io(&[x], &[y]);
    b.set_meta("name", "sample");
    b.set_arena_len(48);
    let _ = q;
    b.finish()
}

fn load(bytes: &[u8]) -> Result<(), Error> {
    let a = AlignedBytes::from_slice(bytes);
    Model::from_bytes(a.as_bytes()).map(|_| ())
}

/// Rewrites the checksum so that a deliberate edit is seen by the structural checks.
fn reseal(bytes: &mut [u8]) {
    let crc = crc32fast_hash(&bytes[20..]);
    bytes[16..20].copy_from_slice(&crc.to_le_bytes());
}

fn crc32fast_hash(b: &[u8]) -> u32 {
    // CRC-32 (IEEE), bitwise: an independent implementation of what the header stores.
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in b {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn section(bytes: &[u8], kind: u32) -> (usize, usize, usize) {
    let count = u32::from_le_bytes(bytes[28..32].try_into().unwrap()) as usize;
    for i in 0..count {
        let at = 48 + 16 * i;
        let k = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        if k == kind {
            let off = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
            let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
            return (at, off, len);
        }
    }
    panic!("no section {kind}");
}

#[test]
fn round_trip() {
    let bytes = sample();
    let a = AlignedBytes::from_slice(&bytes);
    let m = Model::from_bytes(a.as_bytes()).unwrap();
    assert_eq!(m.version(), (FORMAT_MAJOR, FORMAT_MINOR));
    assert_eq!(m.tensor_count(), 4);
    assert_eq!(m.op_count(), 1);
    assert_eq!(m.arena_len(), 48);
    assert_eq!(m.meta("name"), Some("sample"));
    let w = m.tensor(1).unwrap();
    assert_eq!(w.name, "w");
    assert_eq!(w.shape(), &[4, 4]);
    match w.storage {
        Storage::Const(b) => {
            assert_eq!(b.len(), 64);
            assert_eq!(b.as_ptr() as usize % 16, 0, "constants are 16-byte aligned");
        }
        _ => panic!("w is a constant"),
    }
    assert_eq!(
        m.tensor(2).unwrap().quant,
        Some(Quant {
            scale: 0.5,
            zero_point: -3
        })
    );
    let op = m.op(0).unwrap();
    assert_eq!(op.name, "fc");
    assert_eq!(op.inputs.iter().collect::<Vec<_>>(), vec![0, 1]);
    assert_eq!(m.inputs().iter().collect::<Vec<_>>(), vec![0]);
    assert_eq!(m.outputs().iter().collect::<Vec<_>>(), vec![3]);
}

#[test]
fn each_structural_problem_has_its_error() {
    let good = sample();
    assert_eq!(
        load(&good[..3]),
        Err(Error::Truncated {
            needed: 48,
            available: 3
        })
    );
    let mut b = good.clone();
    b[0] = b'X';
    assert_eq!(load(&b), Err(Error::BadMagic));
    let mut b = good.clone();
    b[4..6].copy_from_slice(&2u16.to_le_bytes());
    assert_eq!(
        load(&b),
        Err(Error::UnsupportedVersion {
            found: 2,
            supported: 1
        })
    );
    assert!(matches!(
        load(&good[..good.len() - 1]),
        Err(Error::Truncated { .. })
    ));
    let mut b = good.clone();
    b.push(0);
    assert!(matches!(load(&b), Err(Error::LengthMismatch { .. })));
    let mut b = good.clone();
    let last = b.len() - 1;
    b[last] ^= 0xFF;
    assert!(matches!(load(&b), Err(Error::ChecksumMismatch { .. })));
    // Misaligned buffer.
    let a = AlignedBytes::from_slice(&[&[0u8][..], &good[..]].concat());
    assert_eq!(
        Model::from_bytes(&a.as_bytes()[1..]).map(|_| ()),
        Err(Error::Misaligned)
    );
    // A section pointing outside the file.
    let mut b = good.clone();
    let (entry, _, _) = section(&b, 2);
    b[entry + 4..entry + 8].copy_from_slice(&(u32::MAX - 4).to_le_bytes());
    reseal(&mut b);
    assert!(matches!(load(&b), Err(Error::BadSection { kind: 2, .. })));
    // A tensor whose byte length disagrees with its shape.
    let mut b = good.clone();
    let (_, off, _) = section(&b, 2);
    b[off + 40..off + 44].copy_from_slice(&7u32.to_le_bytes());
    reseal(&mut b);
    assert!(matches!(load(&b), Err(Error::BadTensor { index: 0, .. })));
    // An arena tensor past the arena.
    let mut b = good.clone();
    b[24..28].copy_from_slice(&8u32.to_le_bytes());
    reseal(&mut b);
    assert!(matches!(load(&b), Err(Error::BadTensor { .. })));
    // An unknown op code.
    let mut b = good.clone();
    let (_, off, _) = section(&b, 3);
    b[off..off + 2].copy_from_slice(&999u16.to_le_bytes());
    reseal(&mut b);
    assert_eq!(
        load(&b),
        Err(Error::UnknownOp {
            index: 0,
            opcode: 999
        })
    );
    // An op input index past the tensor table.
    let mut b = good.clone();
    let (_, off, _) = section(&b, 4);
    b[off..off + 4].copy_from_slice(&77u32.to_le_bytes());
    reseal(&mut b);
    assert!(matches!(load(&b), Err(Error::BadOp { index: 0, .. })));
    // A string reference out of bounds.
    let mut b = good.clone();
    let (_, off, _) = section(&b, 2);
    b[off + 4..off + 8].copy_from_slice(&1_000_000u32.to_le_bytes());
    reseal(&mut b);
    assert_eq!(load(&b), Err(Error::BadString));
}

/// The graph input/output table: counts past the table, an index past the tensor table, and
/// a missing section each give their error.
#[test]
fn io_table_and_missing_section_errors() {
    let good = sample();
    // n_in larger than the table holds.
    let mut b = good.clone();
    let (_, off, _) = section(&b, 7);
    b[off..off + 4].copy_from_slice(&1000u32.to_le_bytes());
    reseal(&mut b);
    assert!(
        matches!(load(&b), Err(Error::BadIo { .. })),
        "{:?}",
        load(&b)
    );
    // A graph input index past the tensor table.
    let mut b = good.clone();
    b[off + 8..off + 12].copy_from_slice(&9999u32.to_le_bytes());
    reseal(&mut b);
    assert!(
        matches!(load(&b), Err(Error::BadIo { .. })),
        "{:?}",
        load(&b)
    );
    // The io section's kind changed to an unknown one: the section is missing.
    let mut b = good.clone();
    let (entry, _, _) = section(&b, 7);
    b[entry..entry + 4].copy_from_slice(&77u32.to_le_bytes());
    reseal(&mut b);
    assert!(
        matches!(load(&b), Err(Error::BadSection { kind: 7, .. })),
        "{:?}",
        load(&b)
    );
    // Two sections of the same kind.
    let mut b = good;
    let (entry, _, _) = section(&b, 7);
    b[entry..entry + 4].copy_from_slice(&8u32.to_le_bytes());
    reseal(&mut b);
    assert!(
        matches!(load(&b), Err(Error::BadSection { .. })),
        "{:?}",
        load(&b)
    );
}

#[test]
fn no_byte_string_panics() {
    let good = sample();
    // Every truncation, every single-byte change at every offset (resealed so the structure is
    // what is tested, not the checksum).
    // Under Miri (thousands of times slower) every 13th offset: 13 is prime to the 4-, 16-, 32-
    // and 48-byte record sizes, so the offsets still fall on every position within a record.
    let step = if cfg!(miri) { 13 } else { 1 };
    for n in (0..good.len()).step_by(step) {
        let _ = load(&good[..n]);
    }
    for at in (0..good.len()).step_by(step) {
        for v in [0u8, 1, 0x7F, 0x80, 0xFF] {
            let mut b = good.clone();
            b[at] = v;
            if at >= 20 {
                reseal(&mut b);
            }
            let _ = load(&b);
        }
    }
}

#[test]
fn errors_display_one_line() {
    for e in [
        Error::BadMagic,
        Error::UnsupportedVersion {
            found: 2,
            supported: 1,
        },
        Error::ChecksumMismatch {
            stored: 1,
            computed: 2,
        },
        Error::Truncated {
            needed: 48,
            available: 3,
        },
    ] {
        let s = e.to_string();
        assert!(!s.is_empty() && !s.contains('\n'), "{s}");
    }
}

/// On every target, also 32-bit Arm where `u128` is only 8-byte aligned (the armv7 QEMU run of
/// scripts/arm-linux.sh), including after cloning.
#[test]
fn aligned_bytes_are_16_byte_aligned() {
    for len in [1usize, 15, 16, 17, 100, 4096] {
        let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
        // Several live allocations, so the allocator cannot hand out one lucky address.
        let kept: Vec<AlignedBytes> = (0..8).map(|_| AlignedBytes::from_slice(&bytes)).collect();
        for a in kept
            .iter()
            .chain(kept.iter().map(Clone::clone).collect::<Vec<_>>().iter())
        {
            assert_eq!(a.as_bytes(), &bytes[..]);
            assert_eq!(a.as_bytes().as_ptr() as usize % 16, 0, "len {len}");
        }
        let mut z = AlignedBytes::zeroed(len);
        assert_eq!(z.as_bytes_mut().len(), len);
        assert_eq!(
            z.as_bytes_mut().as_ptr() as usize % 16,
            0,
            "zeroed, len {len}"
        );
    }
}
