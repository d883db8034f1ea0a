//! Prints the aarch64 features that select mote's kernels, as `std` detects them at run time
//! (`is_aarch64_feature_detected!`, the mechanism mote-kernels' dispatch uses with `std`).
//! scripts/arm-linux.sh runs it under `qemu-aarch64` for each QEMU_CPU to prove that the CPU model
//! really changes what the kernel tests see (cortex-a72: no dot product; cortex-a76: dot product;
//! max: dot product and int8 matrix multiply).
//! Built with plain `rustc` for aarch64-unknown-linux-gnu; not part of the workspace.

fn main() {
    #[cfg(target_arch = "aarch64")]
    {
        let features = [
            ("asimd", std::arch::is_aarch64_feature_detected!("asimd")),
            ("dotprod", std::arch::is_aarch64_feature_detected!("dotprod")),
            ("i8mm", std::arch::is_aarch64_feature_detected!("i8mm")),
            ("fp16", std::arch::is_aarch64_feature_detected!("fp16")),
        ];
        let line: Vec<String> = features
            .iter()
            .map(|(name, on)| format!("{name}={}", if *on { "yes" } else { "no" }))
            .collect();
        println!("{}", line.join(" "));
    }
    #[cfg(not(target_arch = "aarch64"))]
    {
        eprintln!("cpu-features: built for an aarch64 target only");
        std::process::exit(2);
    }
}
