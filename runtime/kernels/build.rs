//! Sets `cfg(mote_arm_dsp)` when building for a Cortex-M core with Arm's DSP extension, so the
//! `arm_dsp` kernels run their instructions through `asm!` and are picked by the dispatcher, and
//! `cfg(mote_helium)` when that core also has Helium (MVE, the M-profile vector extension), for
//! the `helium` kernels.
//!
//! Stable rustc does not report `target_feature = "dsp"`, so the choice is made from the target
//! name: `thumbv7em-*` (Cortex-M4/M7) and `thumbv8m.main-*` (Cortex-M33/M35P/M55/M85; the DSP
//! extension is optional on the M33, present on every part the project targets). Setting
//! `MOTE_NO_ARM_DSP=1` in the build environment turns it off (for a Cortex-M33 without DSP, or to
//! measure the portable kernels on the same core).
//!
//! Nor does it report `target_feature = "mve"` (an unstable feature), so Helium is decided from
//! the flags the crate is compiled with: a `thumbv8m.main-*` target with `-C
//! target-cpu=cortex-m55` or `cortex-m85`, or `-C target-feature=+mve` (or `+mve.fp`).
//! `MOTE_NO_HELIUM=1` turns it off (to measure the DSP kernels on a Cortex-M55).
fn main() {
    println!("cargo:rustc-check-cfg=cfg(mote_arm_dsp)");
    println!("cargo:rustc-check-cfg=cfg(mote_helium)");
    println!("cargo:rerun-if-env-changed=MOTE_NO_ARM_DSP");
    println!("cargo:rerun-if-env-changed=MOTE_NO_HELIUM");
    let target = std::env::var("TARGET").unwrap_or_default();
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0");
    let dsp = !set("MOTE_NO_ARM_DSP")
        && (target.starts_with("thumbv7em") || target.starts_with("thumbv8m.main"));
    if dsp {
        println!("cargo:rustc-cfg=mote_arm_dsp");
    }
    // CARGO_ENCODED_RUSTFLAGS: the flags separated by 0x1f; CARGO_CFG_TARGET_FEATURE lists the
    // stable features only, which is why the flags are read.
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let flags: Vec<&str> = flags.split('\x1f').collect();
    let mut mve = false;
    for (i, f) in flags.iter().enumerate() {
        // "-C target-cpu=x", "-Ctarget-cpu=x" or "--codegen target-cpu=x".
        let f = f.trim_start_matches("-C").trim_start_matches("--codegen");
        let value = |key: &str| {
            let f = if f.is_empty() {
                flags.get(i + 1).copied().unwrap_or("")
            } else {
                f
            };
            f.strip_prefix(key).map(str::to_owned)
        };
        if let Some(cpu) = value("target-cpu=") {
            mve = matches!(cpu.as_str(), "cortex-m55" | "cortex-m85");
        }
        if let Some(features) = value("target-feature=") {
            for feat in features.split(',') {
                match feat {
                    "+mve" | "+mve.fp" => mve = true,
                    "-mve" => mve = false,
                    _ => {}
                }
            }
        }
    }
    if dsp && mve && target.starts_with("thumbv8m.main") && !set("MOTE_NO_HELIUM") {
        println!("cargo:rustc-cfg=mote_helium");
    }
}
