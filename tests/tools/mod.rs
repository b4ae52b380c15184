//! External programs the tests run (QEMU, dtc): one place that finds them,
//! fails with a clear message when one is missing or broken, and holds the
//! QEMU command line that the example's runner and the book repeat.
//!
//! No test skips because a program is absent or printed an error: a fresh
//! machine after `bash .ci/setup` has everything, and anything else is a
//! failure worth seeing.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The emulator every QEMU test runs.
pub const QEMU: &str = "qemu-system-aarch64";

/// The machine the kernel boots on. `-nic none`: `virt` otherwise adds a
/// virtio network card whose option ROM (`efi-virtio.rom`) comes from Debian's
/// `ipxe-qemu`, a package `apt-get --no-install-recommends qemu-system-arm`
/// does not install; without it QEMU refuses to start.
pub const QEMU_MACHINE: &[&str] = &[
    "-M",
    "virt,iommu=smmuv3,gic-version=3,its=on",
    "-cpu",
    "cortex-a57",
    "-nic",
    "none",
];

/// What the kernel boot adds to [`QEMU_MACHINE`] (before `-kernel ELF`).
pub const QEMU_BOOT: &[&str] = &[
    "-m",
    "256M",
    "-semihosting",
    "-nographic",
    "-device",
    "edu,dma_mask=0xffffffffffffffff",
    // A second edu: isolation between two devices (check 5).
    "-device",
    "edu,dma_mask=0xffffffffffffffff",
];

/// Panics with how to install `program` (from Debian's `package`) unless
/// `program --version` runs and succeeds.
pub fn require(program: &str, package: &str) {
    let ran = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .output();
    match ran {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "{program} is installed but broken (`{program} --version` exited with {}): {}\n\
             Reinstall Debian's `{package}` package (`bash .ci/setup`).",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => panic!(
            "{program} not found ({e}): this test needs it. Install Debian's `{package}` \
             package (`bash .ci/setup` does it) and re-run."
        ),
    }
}

/// Runs a required program to completion and panics, showing its output,
/// unless it succeeded: an error the program printed is a test failure,
/// never a reason to skip.
pub fn run_ok(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Dumps QEMU's own device tree for the test machine into `dtb`.
pub fn qemu_dump_dtb(dtb: &Path) {
    require(QEMU, "qemu-system-arm");
    let mut machine: Vec<String> = QEMU_MACHINE.iter().map(|s| s.to_string()).collect();
    machine[1] = format!("{},dumpdtb={}", machine[1], dtb.display());
    run_ok(
        Command::new(QEMU).args(&machine).arg("-nographic"),
        "dumping QEMU's virt device tree",
    );
    assert!(
        dtb.exists(),
        "QEMU said it dumped {} but it is not there",
        dtb.display()
    );
}
