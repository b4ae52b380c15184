//! End to end on QEMU: builds the bare-metal kernel in
//! `examples/qemu-virt-virtio-iommu`, boots it on `virt` with a
//! `virtio-iommu-pci` and an `edu`, and checks its verdict (the semihosting
//! exit status), its UART log, and QEMU's own trace of the virtio-iommu
//! (the MAP and UNMAP requests it received, the reserved region it
//! reported, the fault it recorded): an oracle we did not write. Without
//! `qemu-system-aarch64` this test fails (CI installs it with `.ci/setup`).

mod tools;

use std::path::Path;
use std::sync::Mutex;

use tools::{field, QEMU, QEMU_VIRTIO_BOOT, QEMU_VIRTIO_MACHINE};

/// Builds share one target directory: one at a time.
static KERNEL: Mutex<()> = Mutex::new(());

const EXAMPLE: &str = "qemu-virt-virtio-iommu";

fn boot(features: &[&str], extra: &[&str]) -> (Option<i32>, String) {
    let _one_at_a_time = KERNEL.lock().unwrap_or_else(|e| e.into_inner());
    let kernel = tools::build_example(EXAMPLE, features);
    tools::boot_kernel(QEMU_VIRTIO_MACHINE, QEMU_VIRTIO_BOOT, extra, &kernel)
}

fn hex(v: &str) -> u64 {
    let v = v.trim_start_matches("0x");
    u64::from_str_radix(v, 16).unwrap_or_else(|_| panic!("`{v}` is not hex"))
}

fn line<'a>(log: &'a str, prefix: &str) -> &'a str {
    log.lines()
        .find(|l| l.trim_start().starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in the log:\n{log}"))
}

#[test]
fn edu_dma_goes_through_virtio_iommu_map_and_unmap_on_qemu() {
    tools::require(QEMU, "qemu-system-arm");
    let trace = std::env::temp_dir().join(format!("iommugen-viommu-{}.log", std::process::id()));
    let trace_arg = trace.display().to_string();
    let (code, log) = boot(&[], &["-trace", "virtio_iommu_*", "-D", &trace_arg]);
    let qemu = std::fs::read_to_string(&trace).expect("QEMU wrote its trace");
    let _ = std::fs::remove_file(&trace);
    assert_eq!(code, Some(0), "kernel reported failure; UART log:\n{log}");
    for want in [
        "iommu_init: /pcie@10000000/virtio_iommu@1,0 claimed by virtio_iommu",
        "of_pci_iommu_configure: rid 0x10 -> /pcie@10000000/virtio_iommu@1,0 endpoint 0x10 (Translated)",
        "virtio-iommu: ATTACH endpoint 0x10 to domain 1",
        "check 1 (MAP: edu DMA round-trips through the mapping): ok",
        "check 2 (UNMAP: DMA refused, fault names endpoint and address): ok",
        "check 3 (PROBE: reserved regions kept out of the IOVA allocator): ok",
        "qemu-virt-virtio-iommu: all checks passed",
    ] {
        assert!(log.contains(want), "missing `{want}` in the log:\n{log}");
    }
    assert!(!log.contains("FAIL"), "log:\n{log}");

    // What the kernel says it did, in numbers.
    let map = line(&log, "MAP IOVA ");
    let (src, src_pa) = (
        hex(field(map, "MAP IOVA ").unwrap()),
        hex(field(map, "PA ").unwrap()),
    );
    let dst = hex(field(map, "), IOVA ").unwrap());
    let unmapped = hex(field(line(&log, "UNMAP IOVA "), "UNMAP IOVA ").unwrap());
    assert_eq!(unmapped, dst);
    let fault = line(&log, "fault: ");
    assert!(
        fault.contains(&format!("endpoint 0x10 address Some({dst:x})")),
        "{fault}"
    );
    let probe = line(&log, "virtio-iommu: PROBE endpoint 0x10: RESV_MEM Msi ");
    let range = field(probe, "Msi ").unwrap();
    let (msi_start, msi_end) = range.split_once("..=").expect("start..=end");
    let (msi_start, msi_end) = (hex(msi_start), hex(msi_end));

    // QEMU's account: the attach, the MAPs with the kernel's IOVAs and
    // physical address, the UNMAP of the destination, the MSI region it
    // filled into PROBE's answer, and a mapping fault (reason 2) for
    // endpoint 16 at the unmapped IOVA.
    let has = |needle: &str| qemu.lines().any(|l| l.contains(needle));
    for needle in [
        "virtio_iommu_attach domain=1 endpoint=16".to_owned(),
        format!(
            "virtio_iommu_map domain=1 virt_start={src:#x} virt_end={:#x} phys_start={src_pa:#x} flags=1",
            src + 0xfff
        ),
        format!("virtio_iommu_map domain=1 virt_start={dst:#x} virt_end={:#x}", dst + 0xfff),
        format!("virtio_iommu_unmap domain=1 virt_start={dst:#x} virt_end={:#x}", dst + 0xfff),
        format!("virtio_iommu_fill_resv_property dev= 16, type=1 start={msi_start:#x} end={msi_end:#x}"),
        format!("virtio_iommu_report_fault FAULT reason=2 flags=256 endpoint=16 address ={dst:#x}"),
        format!("virtio_iommu_translate_out {dst:#x} -> "),
    ] {
        assert!(has(&needle), "QEMU's trace lacks `{needle}`:\n{qemu}");
    }
    // Every fault QEMU recorded is for the unmapped page, none for the
    // source buffer, which stays mapped.
    let faults: Vec<u64> = qemu
        .lines()
        .filter(|l| l.contains("virtio_iommu_report_fault"))
        .map(|l| hex(l.rsplit('=').next().unwrap()))
        .collect();
    assert!(!faults.is_empty());
    assert!(faults.iter().all(|&a| a & !0xfff == dst), "{faults:x?}");
}

/// The negative control: built with `skip-unmap`, the kernel never sends
/// the UNMAP, the edu's write still lands, and check 2 must say so (and
/// the exit status with it); checks 1 and 3 are unaffected.
#[test]
fn a_kernel_that_skips_the_unmap_fails_the_refusal_check() {
    tools::require(QEMU, "qemu-system-arm");
    let (code, log) = boot(&["skip-unmap"], &[]);
    assert_eq!(code, Some(1), "log:\n{log}");
    for want in [
        "check 1 (MAP: edu DMA round-trips through the mapping): ok",
        "MUTANT: UNMAP skipped",
        "check 2 (UNMAP: DMA refused, fault names endpoint and address): FAIL (the device wrote through the IOVA after UNMAP)",
        "check 3 (PROBE: reserved regions kept out of the IOVA allocator): ok",
        "qemu-virt-virtio-iommu: 1 check(s) FAILED",
    ] {
        assert!(log.contains(want), "missing `{want}` in the log:\n{log}");
    }
}

/// `cargo run` in the example and the book boot the command line this
/// test boots.
#[test]
fn the_runner_boots_the_tested_command_line() {
    let mut tested = vec![QEMU.to_owned()];
    tested.extend(
        QEMU_VIRTIO_MACHINE
            .iter()
            .chain(QEMU_VIRTIO_BOOT)
            .map(|s| s.to_string()),
    );
    tested.push("-kernel".into());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(EXAMPLE);
    let config = std::fs::read_to_string(dir.join(".cargo/config.toml")).unwrap();
    let runner = config
        .lines()
        .find_map(|l| l.strip_prefix("runner = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("runner line in .cargo/config.toml");
    let words = |s: &str| -> Vec<String> {
        s.replace('\\', " ")
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(words(runner), tested, "the example's .cargo/config.toml");
    // The book's virtio-iommu section shows the same command.
    let book = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/qemu-walkthrough.md"),
    )
    .unwrap();
    let at = book
        .find("qemu-system-aarch64 -M virt -cpu")
        .expect("the virtio-iommu command in the book");
    let end = book[at..].find("<the ELF>").expect("end of the command") + at;
    assert_eq!(
        words(&book[at..end]),
        tested,
        "book/src/qemu-walkthrough.md"
    );
}
