//! The person detector on a display: runs the embedded model (the MLPerf Tiny VWW int8 model,
//! compiled with its image metadata and labels) on the picture embedded in flash (the model's
//! pre-processed int8 input, made on the host), draws the picture, the label and the
//! probability into a 240×240 RGB565 framebuffer in RAM through `embedded-graphics` (the
//! drawing code of `examples/display`, shared with the host), and prints through semihosting:
//!
//! ```text
//! label: person                         the top class, as recorded in the model
//! probability: 0.9258                   its probability, as `mote run --image` prints it
//! framebuffer crc32: 0x2d1c7a0e         CRC-32 of the framebuffer as sent to an ST7789
//! instructions: inference N, drawing M, checksum K     (cycles on hardware, from SysTick)
//! banded: 24-row band (11520 bytes), crc32 0x2d1c7a0e, instructions B    (drawn band by band)
//! ram: ...                              framebuffer, band, arena, other statics, stack
//! ```
//!
//! The first three lines equal the host's (`cargo run -p mote-example-display`); the
//! framebuffer is the PNG the host writes. Built only with the `display` feature:
//! `MOTE_MODEL=vww.mote MOTE_INPUT=picture.npy cargo build --release --features display --bin display`
//! (see `examples/display/README.md` and `scripts/display.sh`).
//!
//! On a board, hand the framebuffer rows ([`Framebuffer::row_bytes`]) to the panel driver, or
//! draw with the same [`Scene::draw`] straight into a driver's `DrawTarget`.
//!
//! Exit codes as the main firmware: 0 success, 1 the model is invalid, 2 inference failed,
//! 3 HardFault, 4 unexpected exception, 6 the model or its output cannot be drawn, 7 the banded
//! drawing (a 24-row band, as a board short of RAM would draw) differs from the framebuffer,
//! 101 panic.
#![no_std]
#![no_main]

#[allow(dead_code)] // build.rs generates constants for both binaries
mod config {
    include!(concat!(env!("OUT_DIR"), "/config.rs"));
}

use core::cell::UnsafeCell;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use cortex_m::peripheral::{syst::SystClkSource, SCB, SYST};
use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::hio;
use mote_example_display::{
    banded_crc32, write_report, Band, Framebuffer, Scene, FRAMEBUFFER_BYTES, WIDTH,
};
use mote_runtime::{Interpreter, Model};

/// Forces 16-byte alignment on what it wraps (the model reader and the arena require it).
#[repr(C, align(16))]
struct Aligned<T>(T);

static MODEL: Aligned<[u8; config::MODEL_BYTES]> =
    Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/model.mote")));

/// The picture: the model's int8 input, pre-processed on the host (see build.rs, MOTE_INPUT).
static INPUT: Aligned<[u8; config::INPUT_BYTES]> =
    Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/input.bin")));

/// A `static` handed out once as `&'static mut`: the arena and the framebuffer live in `.bss`
/// (zeroed at reset, never on the stack).
struct Once<T> {
    cell: UnsafeCell<T>,
    taken: AtomicBool,
}

// SAFETY: the contents are only reached through `take`, which hands out a single `&mut`, once.
unsafe impl<T> Sync for Once<T> {}

impl<T> Once<T> {
    const fn new(value: T) -> Self {
        Once {
            cell: UnsafeCell::new(value),
            taken: AtomicBool::new(false),
        }
    }

    // A `&mut` from `&self` is sound here: the flag hands it out at most once.
    #[allow(clippy::mut_from_ref)]
    fn take(&'static self) -> Option<&'static mut T> {
        if self.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: the flag above makes this the only reference ever created to the contents.
        Some(unsafe { &mut *self.cell.get() })
    }
}

#[repr(C, align(16))]
struct ArenaBytes([u8; config::ARENA_BYTES]);

static ARENA: Once<ArenaBytes> = Once::new(ArenaBytes([0; config::ARENA_BYTES]));
static FRAMEBUFFER: Once<Framebuffer> = Once::new(Framebuffer::new());

/// Rows in the band of the banded drawing (what a board with less RAM would use).
const BAND_ROWS: usize = 24;
const BAND_BYTES: usize = BAND_ROWS * WIDTH * 2;
static BAND: Once<Band<BAND_ROWS>> = Once::new(Band::new());

// ---------------------------------------------------------------------------------------------
// Exit, faults, panics (as in the main firmware).

fn exit(code: u32) -> ! {
    const SYS_EXIT_EXTENDED: usize = 0x20;
    const ADP_STOPPED_APPLICATION_EXIT: usize = 0x20026;
    let block = [ADP_STOPPED_APPLICATION_EXIT, code as usize];
    // SAFETY: the call only reads the two-word parameter block, which outlives it.
    unsafe {
        cortex_m_semihosting::syscall(SYS_EXIT_EXTENDED, &block);
    }
    loop {
        cortex_m::asm::wfi();
    }
}

fn fail(what: &str, e: impl fmt::Display, code: u32) -> ! {
    if let Ok(mut h) = hio::hstderr() {
        let _ = writeln!(h, "error: {what}: {e}");
    }
    exit(code)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    cortex_m::interrupt::disable();
    if let Ok(mut e) = hio::hstderr() {
        let _ = writeln!(e, "panic: {info}");
    }
    exit(101)
}

#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    if let Ok(mut e) = hio::hstderr() {
        let _ = writeln!(e, "HardFault: {ef:?}");
    }
    exit(3)
}

#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    if let Ok(mut e) = hio::hstderr() {
        let _ = writeln!(e, "unexpected exception {irqn}");
    }
    exit(4)
}

// ---------------------------------------------------------------------------------------------
// Counting with SysTick (24 bits, extended by counting wraps): core clock cycles on hardware,
// instructions × NS_PER_TICK under QEMU with -icount shift=0.

const SYST_RELOAD: u32 = 0x00FF_FFFF;
static SYST_WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    SYST_WRAPS.fetch_add(1, Ordering::Relaxed);
}

fn start_systick(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(SYST_RELOAD);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
    while SYST::get_current() == 0 {}
}

fn now() -> u64 {
    cortex_m::interrupt::free(|_| {
        let mut wraps = SYST_WRAPS.load(Ordering::Relaxed);
        let mut val = SYST::get_current();
        if SCB::is_pendst_pending() {
            val = SYST::get_current();
            wraps += 1;
        }
        wraps as u64 * (SYST_RELOAD as u64 + 1) + (SYST_RELOAD - val) as u64
    })
}

/// Ticks in the reported unit (instructions under QEMU, cycles on hardware).
fn scale(ticks: u64) -> u64 {
    match config::NS_PER_TICK {
        Some((n, d)) => (ticks * n + d / 2) / d,
        None => ticks,
    }
}

// ---------------------------------------------------------------------------------------------
// Footprint.

extern "C" {
    static __sdata: u32;
    static __edata: u32;
    static __sbss: u32;
    static __ebss: u32;
    static _stack_end: u32;
    static _stack_start: u32;
}

macro_rules! addr {
    ($sym:ident) => {
        // Only the symbol's address is taken (safe for an extern static); nothing is read.
        core::ptr::addr_of!($sym) as usize
    };
}

/// Stack bytes used so far (cortex-m-rt's `paint-stack` filled it with 0xCCCCCCCC).
fn stack_high_water() -> usize {
    const PAINT: u32 = 0xCCCC_CCCC;
    let (end, start) = (addr!(_stack_end), addr!(_stack_start));
    let mut p = end;
    while p < start {
        // SAFETY: [_stack_end, _stack_start) is RAM reserved for the stack by the linker script,
        // word-aligned; a volatile read of it has no side effect.
        let w = unsafe { core::ptr::read_volatile(p as *const u32) };
        if w != PAINT {
            break;
        }
        p += 4;
    }
    start - p
}

/// Buffers text and writes it to the host's stdout in few semihosting calls.
struct Out {
    host: Option<hio::HostStream>,
    buf: heapless::Vec<u8, 256>,
}

impl Write for Out {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.buf.push(b).is_err() {
                self.flush();
                let _ = self.buf.push(b);
            }
        }
        Ok(())
    }
}

impl Out {
    fn flush(&mut self) {
        if let Some(h) = self.host.as_mut() {
            let _ = h.write_all(&self.buf);
        }
        self.buf.clear();
    }
}

// ---------------------------------------------------------------------------------------------

#[entry]
fn main() -> ! {
    let Some(cp) = cortex_m::Peripherals::take() else {
        exit(4)
    };
    start_systick(cp.SYST);

    let model = match Model::from_bytes(&MODEL.0) {
        Ok(m) => m,
        Err(e) => fail("cannot load the model", e, 1),
    };
    let (Some(arena), Some(fb), Some(band)) = (ARENA.take(), FRAMEBUFFER.take(), BAND.take())
    else {
        exit(4)
    };
    let mut interp = match Interpreter::new(&model, &mut arena.0) {
        Ok(i) => i,
        Err(e) => fail("cannot bind the arena", e, 1),
    };
    let picture = config::INPUTS
        .first()
        .and_then(|&(off, len)| INPUT.0.get(off..off + len))
        .unwrap_or(&[]);
    if let Err(e) = interp.set_input(0, picture) {
        fail("cannot set the input", e, 2);
    }

    let t0 = now();
    if let Err(e) = interp.invoke() {
        fail("inference failed", e, 2);
    }
    let t1 = now();
    let output = match interp.output(0) {
        Ok(o) => o,
        Err(e) => fail("cannot read the output", e, 2),
    };
    let scene = match Scene::new(&model, picture, output) {
        Ok(s) => s,
        Err(e) => fail("cannot draw this model", e, 6),
    };
    let Ok(()) = scene.draw(fb);
    let t2 = now();
    let crc = fb.crc32();
    let t3 = now();
    // The same picture drawn band by band, as on a board without RAM for the framebuffer.
    let banded = banded_crc32(&scene, band);
    let t4 = now();
    let stack = stack_high_water();

    let mut out = Out {
        host: hio::hstdout().ok(),
        buf: heapless::Vec::new(),
    };
    let _ = write_report(&mut out, &scene, crc);
    let unit = if config::NS_PER_TICK.is_some() {
        "instructions"
    } else {
        "cycles"
    };
    let _ = writeln!(
        out,
        "{unit}: inference {}, drawing {}, checksum {}",
        scale(t1 - t0),
        scale(t2 - t1),
        scale(t3 - t2)
    );
    let _ = writeln!(
        out,
        "banded: {BAND_ROWS}-row band ({BAND_BYTES} bytes), crc32 0x{banded:08x}, {unit} {}",
        scale(t4 - t3)
    );
    let statics = (addr!(__edata) - addr!(__sdata)) + (addr!(__ebss) - addr!(__sbss));
    let _ = writeln!(
        out,
        "ram: {} bytes = framebuffer {FRAMEBUFFER_BYTES} + band {BAND_BYTES} + arena {} + other \
         statics {} + stack high-water {stack}",
        statics + stack,
        config::ARENA_BYTES,
        statics.saturating_sub(FRAMEBUFFER_BYTES + BAND_BYTES + config::ARENA_BYTES),
    );
    out.flush();
    if banded != crc {
        if let Ok(mut h) = hio::hstderr() {
            let _ = writeln!(h, "error: the banded drawing differs from the framebuffer");
        }
        exit(7)
    }
    exit(0)
}
