//! External programs the tests run (QEMU, dtc): one place that finds them,
//! fails with a clear message when one is missing or broken, and holds the
//! QEMU command line that the example's runner and the book repeat.
//!
//! No test skips because a program is absent or printed an error: a fresh
//! machine after `bash .ci/setup` has everything, and anything else is a
//! failure worth seeing.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

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

/// The virtio-iommu kernel's machine: `virt` without an SMMU, a
/// `virtio-iommu-pci` in its place (`-nic none` as for [`QEMU_MACHINE`]).
pub const QEMU_VIRTIO_MACHINE: &[&str] = &["-M", "virt", "-cpu", "cortex-a57", "-nic", "none"];

/// What the virtio-iommu kernel's boot adds (before `-kernel ELF`).
pub const QEMU_VIRTIO_BOOT: &[&str] = &[
    "-m",
    "256M",
    "-semihosting",
    "-nographic",
    "-device",
    "virtio-iommu-pci",
    "-device",
    "edu,dma_mask=0xffffffffffffffff",
];

/// How long a kernel may run before the test gives up on it.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(60);

/// Builds the bare-metal example `examples/NAME` (with `features`) for
/// aarch64-unknown-none in its own target directory under the workspace's
/// `target/`; returns the ELF's path.
pub fn build_example(name: &str, features: &[&str]) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target_dir = root.join("target").join(name);
    let out = Command::new(env!("CARGO"))
        .current_dir(root.join("examples").join(name))
        .args(["build", "--target", "aarch64-unknown-none"])
        .args(features.iter().flat_map(|f| ["--features", f]))
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "building the kernel failed (is the aarch64-unknown-none target installed? \
         `rustup target add aarch64-unknown-none`):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target_dir.join("aarch64-unknown-none/debug").join(name)
}

/// Boots `kernel` on `machine` + `boot` + `extra`; returns (exit code, UART
/// and QEMU output). Panics if QEMU runs past [`BOOT_TIMEOUT`].
pub fn boot_kernel(
    machine: &[&str],
    boot: &[&str],
    extra: &[&str],
    kernel: &Path,
) -> (Option<i32>, String) {
    require(QEMU, "qemu-system-arm");
    let mut child = Command::new(QEMU)
        .args(machine)
        .args(boot)
        .args(extra)
        .arg("-kernel")
        .arg(kernel)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start QEMU");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for QEMU") {
            break Some(status);
        }
        if start.elapsed() > BOOT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut log = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut log);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut log);
    }
    match status {
        Some(s) => (s.code(), log.replace('\r', "")),
        None => panic!("QEMU did not finish within {BOOT_TIMEOUT:?}; output so far:\n{log}"),
    }
}

/// The value after `key` in `line` up to the next space or comma.
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(key)? + key.len();
    line[at..].split([' ', ',']).next()
}
