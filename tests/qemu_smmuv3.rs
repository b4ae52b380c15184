//! End to end on QEMU: builds the bare-metal kernel in
//! `examples/qemu-virt-smmuv3` for aarch64-unknown-none, boots it on
//! `virt,iommu=smmuv3` with an `edu` PCI device, and checks its verdict (the
//! semihosting exit status) and its UART log.
//!
//! QEMU is the oracle: its SMMUv3 model walks our stream table, context
//! descriptor and page tables, its `edu` device does the DMA. Without
//! `qemu-system-aarch64` this test fails (CI installs it with `.ci/setup`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const QEMU: &str = "qemu-system-aarch64";
const TIMEOUT: Duration = Duration::from_secs(60);

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/qemu-virt-smmuv3")
}

fn require_qemu() {
    require(QEMU)
}

fn require(program: &str) {
    let found = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        found,
        "{program} not found: this test boots the kernel on QEMU. Install Debian's \
         `qemu-system-arm` package (`bash .ci/setup` does it) and re-run."
    );
}

/// Builds the kernel with its own target directory (under the workspace's
/// `target/`) and returns the ELF's path.
fn build_kernel() -> PathBuf {
    let dir = example_dir();
    let target_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/qemu-virt-smmuv3");
    let out = Command::new(env!("CARGO"))
        .current_dir(&dir)
        .args(["build", "--target", "aarch64-unknown-none"])
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
    target_dir.join("aarch64-unknown-none/debug/qemu-virt-smmuv3")
}

/// Boots `kernel`; returns (exit code, UART output).
fn boot(kernel: &Path) -> (Option<i32>, String) {
    let mut child = Command::new(QEMU)
        .args([
            "-M",
            "virt,iommu=smmuv3",
            "-cpu",
            "cortex-a57",
            "-m",
            "256M",
            "-semihosting",
            "-nographic",
            "-device",
            "edu,dma_mask=0xffffffffffffffff",
            "-kernel",
        ])
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
        if start.elapsed() > TIMEOUT {
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
        Some(s) => (s.code(), log),
        None => panic!("QEMU did not finish within {TIMEOUT:?}; output so far:\n{log}"),
    }
}

/// The value after `key` in `line` up to the next space or comma.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(key)? + key.len();
    line[at..].split([' ', ',']).next()
}

#[test]
fn kernel_dma_is_translated_isolated_and_permission_checked_on_qemu_smmuv3() {
    require_qemu();
    let kernel = build_kernel();
    let (code, log) = boot(&kernel);
    let log = log.replace('\r', "");
    assert_eq!(code, Some(0), "kernel reported failure; UART log:\n{log}");

    for line in [
        "qemu-virt-smmuv3: entered at EL1",
        "smmuv3: stage1=true",
        "smmuv3: enabled: linear stream table",
        "check 1 (translation): ok",
        "check 2 (isolation): ok",
        "check 3 (read-only): ok",
        "check 4 (2 MiB block): ok",
        "qemu-virt-smmuv3: all checks passed",
    ] {
        assert!(log.contains(line), "missing `{line}` in UART log:\n{log}");
    }
    assert!(!log.contains("FAILED"), "UART log:\n{log}");

    // QEMU's tree maps requester IDs 1:1 to StreamIDs (`iommu-map = <0 &smmu
    // 0 0x10000>`), so the StreamID is the edu's bus/device/function.
    let pci = log
        .lines()
        .find(|l| l.starts_with("pci: edu 1234:11e8"))
        .expect("pci line");
    let bdf = field(pci, " at ").expect("bdf");
    let rid = field(pci, "rid ").expect("rid");
    let sid = field(pci, "StreamID ").expect("sid");
    let (bus, rest) = bdf.split_once(':').expect("bus");
    let (dev, func) = rest.split_once('.').expect("dev.func");
    let want = (u32::from_str_radix(bus, 16).unwrap() << 8)
        | (u32::from_str_radix(dev, 16).unwrap() << 3)
        | func.parse::<u32>().unwrap();
    assert_eq!(rid, format!("{want:#x}"));
    assert_eq!(sid, rid);

    // The faults QEMU's model reported, as the kernel decoded them: a
    // translation fault for the unmapped IOVA, a permission fault for the
    // read-only one, each naming the edu's StreamID and the IOVA written.
    let events: Vec<&str> = log
        .lines()
        .filter(|l| l.trim_start().starts_with("event: "))
        .collect();
    assert_eq!(events.len(), 3, "UART log:\n{log}");
    assert!(events[0].contains(&format!("F_TRANSLATION sid={sid} iova=0x100010000 write")));
    assert!(events[1].contains(&format!("F_PERMISSION sid={sid} iova=0x100020000 write")));
    assert!(events[2].contains(&format!("F_TRANSLATION sid={sid} iova=0x140100000 write")));
}

#[test]
#[should_panic(expected = "not found: this test boots the kernel on QEMU")]
fn a_missing_qemu_fails_the_test_with_a_clear_message() {
    require("iommugen-no-such-qemu-system-aarch64");
}
