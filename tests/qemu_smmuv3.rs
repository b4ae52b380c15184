//! End to end on QEMU: builds the bare-metal kernel in
//! `examples/qemu-virt-smmuv3` for aarch64-unknown-none, boots it on
//! `virt,iommu=smmuv3` with an `edu` PCI device, and checks its verdict (the
//! semihosting exit status) and its UART log.
//!
//! QEMU is the oracle: its SMMUv3 model walks our stream table, context
//! descriptor and page tables, its `edu` device does the DMA. Without
//! `qemu-system-aarch64` this test fails (CI installs it with `.ci/setup`).

mod tools;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use tools::{field, QEMU, QEMU_BOOT, QEMU_MACHINE};

/// Builds share one target directory and one output path: one at a time,
/// each booted before the next build replaces it.
static KERNEL: Mutex<()> = Mutex::new(());

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/qemu-virt-smmuv3")
}

fn require_qemu() {
    tools::require(QEMU, "qemu-system-arm")
}

/// Builds the kernel (with `features`); returns the ELF's path.
fn build_kernel(features: &[&str]) -> PathBuf {
    tools::build_example("qemu-virt-smmuv3", features)
}

/// Boots `kernel`; returns (exit code, UART output).
fn boot(kernel: &Path) -> (Option<i32>, String) {
    boot_with(kernel, &[])
}

/// [`boot`] with `extra` QEMU arguments (tracing, say).
fn boot_with(kernel: &Path, extra: &[&str]) -> (Option<i32>, String) {
    tools::boot_kernel(QEMU_MACHINE, QEMU_BOOT, extra, kernel)
}

#[test]
fn kernel_dma_is_translated_isolated_and_permission_checked_on_qemu_smmuv3() {
    require_qemu();
    let _one_at_a_time = KERNEL.lock().unwrap_or_else(|e| e.into_inner());
    let kernel = build_kernel(&[]);
    let (code, log) = boot(&kernel);
    let log = log.replace('\r', "");
    assert_eq!(code, Some(0), "kernel reported failure; UART log:\n{log}");

    for line in [
        "qemu-virt-smmuv3: entered at EL1",
        "smmuv3@0x9050000: stage1=true",
        // iommu-map covers RIDs 0..=0xffff: 2^16 StreamIDs, two levels of
        // 2^8, and one level-2 array for the edu's group (RID 0x10 is in
        // 0x00..=0xff).
        "smmuv3@0x9050000: enabled: max StreamID in the tree 0xffff -> two-level stream table for 2^16 StreamIDs (256 level-1 descriptors, 2 KiB;",
        "smmuv3: level-2 stream table for StreamIDs 0x0..=0xff at ",
        // Seed steps (2), (3), (4) as the runtime ran them.
        "iommu_init: /smmuv3@9050000 claimed by arm_smmu_v3",
        "of_pci_iommu_configure: rid ",
        "arch_setup_dma_ops: coherent=true",
        "check 1 (translation): ok",
        "check 2 (isolation): ok",
        "check 3 (read-only): ok",
        "check 4 (2 MiB block): ok",
        "check 5 (isolation between devices): ok",
        // The edu's MSI target from the host bridge's msi-map (<0 &its 0
        // 0x10000>: DeviceID = RID) and the doorbell in the SW-MSI window.
        "of_msi_target: rid 0x8 -> /intc@8000000/its@8080000 DeviceID 0x8",
        "msi: edu: DeviceID 0x8, doorbell GITS_TRANSLATER 0x8090040 at IOVA 0x8000040 (SW-MSI window 0x8000000+0x100000",
        "check 6 (MSI through the SMMU): ok: edu (StreamID 0x8, DeviceID 0x8) wrote its MSI to IOVA 0x8000040, the SMMU translated it to GITS_TRANSLATER 0x8090040; LPI 8192 pending at the redistributor 0x80a0000, ICC_IAR1_EL1 = 8192",
        "check 7 (MSI without its doorbell mapping): ok",
        // The region the kernel added to the tree, installed before attach.
        "overlay: tree extended",
        "resv: /pcie@10000000/edu@1 memory-region /reserved-memory/edu-buffer@",
        "IOVA 0xffff0000+0x10000 fixed -> PA ",
        "check 8 (reserved region): ok: IOVA 0xffff0000+0x10000 -> ",
        "qemu-virt-smmuv3: all checks passed",
    ] {
        assert!(log.contains(line), "missing `{line}` in UART log:\n{log}");
    }
    assert!(!log.contains("FAILED"), "UART log:\n{log}");

    // QEMU's tree maps requester IDs 1:1 to StreamIDs (`iommu-map = <0 &smmu
    // 0 0x10000>`), so the StreamID is the edu's bus/device/function.
    let line = |prefix: &str| {
        log.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in UART log:\n{log}"))
    };
    let pci = line("pci: ecam");
    let bdf = field(pci, " at ").expect("bdf");
    let (bus, rest) = bdf.split_once(':').expect("bus");
    let (dev, func) = rest.split_once('.').expect("dev.func");
    let rid = (u32::from_str_radix(bus, 16).unwrap() << 8)
        | (u32::from_str_radix(dev, 16).unwrap() << 3)
        | func.parse::<u32>().unwrap();
    let sid = format!("{rid:#x}");
    assert_eq!(
        field(pci, "(rid ").map(|v| v.trim_end_matches(')')),
        Some(sid.as_str())
    );
    let configured = line("of_pci_iommu_configure");
    assert!(configured.contains(&format!(
        "rid {sid} -> /smmuv3@9050000 StreamID {sid} (Translated)"
    )));

    // The IOVA window is the spec's aperture (0x1000_0000..0x1_0000_0000)
    // within the edu's 64-bit mask; every IOVA the checks used lies in it.
    let ops = line("arch_setup_dma_ops");
    assert!(ops.contains("IOVA 0x10000000..=0xffffffff"), "{ops}");
    let iova = |l: &str, key: &str| {
        let v = field(l, key).unwrap_or_else(|| panic!("no `{key}` in `{l}`"));
        let v = u64::from_str_radix(v.trim_start_matches("0x"), 16).expect("hex IOVA");
        assert!(
            (0x1000_0000..0x1_0000_0000).contains(&v),
            "IOVA {v:#x} outside the aperture"
        );
        v
    };
    // Check 8's region (IOVA 0xffff0000, 64 KiB) is never handed out: the
    // allocator's first IOVA is just below it.
    let first = iova(line("check 1"), "through IOVAs ");
    assert_eq!(first, 0xffff_0000 - 0x1000, "{}", line("check 1"));
    let unmapped = iova(line("check 2"), "the write to IOVA ");
    let read_only = iova(line("check 3"), "device read of IOVA ");
    let hole = iova(line("check 4"), "unmapping 4K at ");
    assert_eq!(hole % 0x1000, 0);

    // The faults QEMU's model reported, as the kernel decoded them: each
    // names the edu's StreamID and the IOVA the device wrote.
    let events: Vec<&str> = log
        .lines()
        .filter(|l| l.trim_start().starts_with("event: "))
        .collect();
    assert_eq!(events.len(), 5, "UART log:\n{log}");
    for (event, kind, at) in [
        (events[0], "F_TRANSLATION", unmapped),
        (events[1], "F_PERMISSION", read_only),
        (events[2], "F_TRANSLATION", hole),
    ] {
        let want = format!("event: {kind} sid={sid} iova={at:#x} write");
        assert!(event.contains(&want), "`{event}` is not `{want}`");
    }

    // Check 5: the second edu (the next slot: RID and StreamID 8 more) has a
    // domain of its own (`domain per-device`); its write to an IOVA mapped
    // only in the first edu's domain faulted, and QEMU's event record names
    // the second edu's StreamID, not the first's.
    let second = line("pci: second edu");
    let sid_b = format!("{:#x}", rid + 8);
    assert!(
        second.contains(&format!(
            "StreamID {sid_b}, domain 1 (the first edu's is 0)"
        )),
        "{second}"
    );
    let check5 = line("check 5");
    let shared = iova(check5, "ok: IOVA ");
    let want = format!("event: F_TRANSLATION sid={sid_b} iova={shared:#x} write");
    assert!(events[3].contains(&want), "`{}` is not `{want}`", events[3]);
    // Check 7: the MSI write with the doorbell unmapped, one 4-byte write.
    let want = format!("event: F_TRANSLATION sid={sid} iova=0x8000040 write (1 record(s)");
    assert!(events[4].contains(&want), "`{}` is not `{want}`", events[4]);
    assert!(
        check5.contains(&format!("B (StreamID {sid_b}) writing it faulted"))
            && check5.contains(&format!("A (StreamID {sid}) still reaches it")),
        "{check5}"
    );
}

/// The checks can fail: built with `forget-tlb-invalidation` the kernel
/// drops every TLBI, QEMU's IOTLB keeps serving unmapped and remapped IOVAs,
/// and the isolation checks must say so (and the exit status with them).
#[test]
fn a_kernel_that_forgets_tlb_invalidation_fails_the_isolation_checks() {
    require_qemu();
    let _one_at_a_time = KERNEL.lock().unwrap_or_else(|e| e.into_inner());
    let kernel = build_kernel(&["forget-tlb-invalidation"]);
    let (code, log) = boot(&kernel);
    let log = log.replace('\r', "");
    assert_eq!(code, Some(1), "UART log:\n{log}");
    for line in [
        // Mapping into empty entries needs no invalidation: still fine.
        "check 1 (translation): ok",
        // The unmapped page is still reachable through the stale entry.
        "check 2 (isolation): FAILED: the refused write reached memory",
        // The IOVA freed by check 2 is reused read-only; the stale
        // read-write entry still points at check 1's buffer: no fault.
        "check 3 (read-only): FAILED: no event recorded",
        // The block entry survives the split in the IOTLB.
        "check 4 (2 MiB block): FAILED: the refused write reached memory",
        // The doorbell page unmapped without TLBI: the stale entry still
        // takes the MSI to the ITS.
        "check 7 (MSI without its doorbell mapping): FAILED: the LPI arrived with the doorbell unmapped",
        "qemu-virt-smmuv3: 4 check(s) FAILED",
    ] {
        assert!(log.contains(line), "missing `{line}` in UART log:\n{log}");
    }
}

/// The MSI check can fail: built with `forget-msi-doorbell` the kernel
/// programs the edu's MSI address (the SW-MSI IOVA) without mapping the
/// doorbell there, the SMMU refuses the write, no LPI arrives.
#[test]
fn a_kernel_that_forgets_the_msi_doorbell_fails_the_msi_check() {
    require_qemu();
    let _one_at_a_time = KERNEL.lock().unwrap_or_else(|e| e.into_inner());
    let kernel = build_kernel(&["forget-msi-doorbell"]);
    let (code, log) = boot(&kernel);
    let log = log.replace('\r', "");
    assert_eq!(code, Some(1), "UART log:\n{log}");
    for line in [
        "check 1 (translation): ok",
        "check 5 (isolation between devices): ok",
        "check 8 (reserved region): ok",
        "  event: F_TRANSLATION sid=0x8 iova=0x8000040 write",
        "check 6 (MSI through the SMMU): FAILED: no LPI pending after the edu's MSI",
        // Nothing to unmap: check 7 cannot even start.
        "check 7 (MSI without its doorbell mapping): FAILED: cannot unmap the doorbell",
        "qemu-virt-smmuv3: 2 check(s) FAILED",
    ] {
        assert!(log.contains(line), "missing `{line}` in UART log:\n{log}");
    }
}

/// The doorbell the kernel derived is the one in QEMU's own tree: the
/// `arm,gic-v3-its` node's `reg` base plus GITS_TRANSLATER (0x10040), read
/// from the dumped DTB by `dtc`, not by our FDT reader.
#[test]
fn the_msi_doorbell_is_qemus_its_translater() {
    tools::require("dtc", "device-tree-compiler");
    let dtb = std::env::temp_dir().join(format!("iommugen-its-{}.dtb", std::process::id()));
    tools::qemu_dump_dtb(&dtb);
    let out = tools::run_ok(
        Command::new("dtc")
            .args(["-I", "dtb", "-O", "dts"])
            .arg(&dtb),
        "dtc",
    );
    let _ = std::fs::remove_file(&dtb);
    let dts = String::from_utf8(out.stdout).unwrap();
    let at = dts.find("its@").expect("an ITS node in QEMU's tree");
    let node = &dts[at..at + dts[at..].find("};").unwrap()];
    assert!(node.contains("compatible = \"arm,gic-v3-its\""), "{node}");
    assert!(node.contains("msi-controller;"), "{node}");
    let reg = node
        .lines()
        .find_map(|l| l.trim().strip_prefix("reg = <"))
        .expect("reg");
    let cells: Vec<u64> = reg
        .trim_end_matches(">;")
        .split_whitespace()
        .map(|c| u64::from_str_radix(c.trim_start_matches("0x"), 16).unwrap())
        .collect();
    let base = cells[0] << 32 | cells[1];
    assert_eq!(base + 0x1_0040, 0x809_0040);
    // The host bridge sends every RID to this ITS with DeviceID = RID.
    let pcie = &dts[dts.find("pcie@").unwrap()..];
    let phandle = node
        .lines()
        .find_map(|l| l.trim().strip_prefix("phandle = <"))
        .expect("phandle")
        .trim_end_matches(">;");
    assert!(
        pcie.contains(&format!("msi-map = <0x00 {phandle} 0x00 0x10000>;")),
        "{pcie}"
    );
}

/// Boots the default kernel with QEMU's SMMUv3 translation and event trace
/// on; returns the UART log and QEMU's trace (the run must pass).
fn boot_traced(name: &str) -> (String, String) {
    require_qemu();
    let _one_at_a_time = KERNEL.lock().unwrap_or_else(|e| e.into_inner());
    let kernel = build_kernel(&[]);
    let trace =
        std::env::temp_dir().join(format!("iommugen-smmuv3-{name}-{}.log", std::process::id()));
    let trace_arg = trace.display().to_string();
    let (code, log) = boot_with(
        &kernel,
        &[
            "-trace",
            "smmuv3_translate_success",
            "-trace",
            "smmuv3_record_event",
            "-D",
            &trace_arg,
        ],
    );
    let log = log.replace('\r', "");
    assert_eq!(code, Some(0), "UART log:\n{log}");
    let qemu = std::fs::read_to_string(&trace).expect("QEMU wrote its trace");
    let _ = std::fs::remove_file(&trace);
    (log, qemu)
}

/// QEMU's own account of checks 6 to 8, from its SMMUv3 model's trace:
/// the edu's first translations are through the reserved region, to the
/// region's memory, before any other IOVA; the MSI write to the SW-MSI
/// IOVA is translated to the ITS doorbell, refused (a translation fault
/// for the edu's StreamID) once the doorbell is unmapped, then translated
/// again.
#[test]
fn qemu_traces_the_reserved_region_and_the_msi_write_to_the_doorbell() {
    let (log, qemu) = boot_traced("msi");
    let hex = |v: &str| u64::from_str_radix(v.trim_start_matches("0x"), 16).expect("hex");
    let check8 = log
        .lines()
        .find(|l| l.starts_with("check 8"))
        .expect("check 8 line");
    let pa = hex(field(check8, "+0x10000 -> ").expect("region PA"));
    // (sid, iova, translated) of each success, or None for a fault of sid.
    let mut seen: Vec<Result<(u64, u64, u64), u64>> = Vec::new();
    for l in qemu.lines() {
        if l.contains("smmuv3_translate_success") {
            seen.push(Ok((
                hex(field(l, "sid=").unwrap()),
                hex(field(l, "iova=").unwrap()),
                hex(field(l, "translated=").unwrap()),
            )));
        } else if l.contains("smmuv3_record_event") {
            assert!(l.contains("SMMU_EVT_F_"), "{l}");
            seen.push(Err(hex(field(l, "sid=").unwrap())));
        }
    }
    let edu: Vec<&Result<(u64, u64, u64), u64>> = seen
        .iter()
        .filter(|e| matches!(e, Ok((8, _, _)) | Err(8)))
        .collect();
    // Check 8 ran first: the region's IOVAs, to the region's memory.
    assert_eq!(
        &edu[..2],
        [
            &Ok((8, 0xffff_f000, pa + 0xf000)),
            &Ok((8, 0xffff_0800, pa + 0x800))
        ],
        "{qemu}"
    );
    // Every translation of the edu inside the region goes to the region's
    // memory.
    for e in &edu {
        if let Ok((_, iova, out)) = e {
            if (0xffff_0000..0x1_0000_0000).contains(iova) {
                assert_eq!(*out, pa + (iova - 0xffff_0000), "{e:?}");
            }
        }
    }
    // The MSI: translated, refused with the doorbell unmapped, translated.
    let msi = Ok((8, 0x800_0040, 0x809_0040));
    let at: Vec<usize> = edu
        .iter()
        .enumerate()
        .filter(|(_, e)| ***e == msi)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 2, "{qemu}");
    assert_eq!(&edu[at[0] + 1..at[1]], [&Err(8)], "{qemu}");
    // Nothing else was ever translated to the doorbell.
    let doorbell: Vec<_> = seen
        .iter()
        .filter(|e| matches!(e, Ok((_, _, 0x809_0040))))
        .collect();
    assert_eq!(doorbell.len(), 2, "{qemu}");
}

#[test]
#[should_panic(expected = "not found")]
fn a_missing_qemu_fails_the_test_with_a_clear_message() {
    tools::require("iommugen-no-such-qemu-system-aarch64", "qemu-system-arm");
}

#[test]
#[should_panic(expected = "installed but broken")]
fn a_broken_tool_fails_the_test_with_a_clear_message() {
    // `false --version` runs and exits non-zero, as a program missing a
    // library or a ROM would.
    tools::require("false", "coreutils");
}

/// The command line this test boots with is the one a user runs: the
/// example's cargo runner and the book's walk-through say the same words
/// (`-nic none` included: without it a fresh machine's QEMU has no ROM for
/// the default network card and refuses to start).
#[test]
fn runner_and_book_boot_the_tested_command_line() {
    let words = |s: &str| -> Vec<String> {
        s.replace('\\', " ")
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    let mut tested = vec![QEMU.to_owned()];
    tested.extend(QEMU_MACHINE.iter().chain(QEMU_BOOT).map(|s| s.to_string()));
    tested.push("-kernel".into());
    assert!(tested.iter().any(|w| w == "none"), "{tested:?}");

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = std::fs::read_to_string(example_dir().join(".cargo/config.toml")).unwrap();
    let runner = config
        .lines()
        .find_map(|l| l.strip_prefix("runner = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("runner line in .cargo/config.toml");
    assert_eq!(
        words(runner),
        tested,
        "examples/qemu-virt-smmuv3/.cargo/config.toml"
    );

    let book = std::fs::read_to_string(root.join("book/src/qemu-walkthrough.md")).unwrap();
    let at = book
        .find("qemu-system-aarch64 -M")
        .expect("QEMU command in the book");
    let end = book[at..]
        .find("<the ELF>")
        .expect("end of the book's command")
        + at;
    assert_eq!(
        words(&book[at..end]),
        tested,
        "book/src/qemu-walkthrough.md"
    );
}

/// QEMU's own account of check 5, from its SMMUv3 model's trace (not the
/// kernel's words): the two edus' StreamIDs translate the same IOVA to
/// different memory (two page tables), every fault of the second edu is a
/// translation fault for its own StreamID, and the IOVA check 5 mapped for
/// the first edu is never translated for the second.
#[test]
fn qemu_traces_two_devices_in_two_domains() {
    let (log, qemu) = boot_traced("domains");
    let hex = |v: &str| u64::from_str_radix(v.trim_start_matches("0x"), 16).expect("hex");
    // (sid, iova, translated) of every successful translation.
    let mut walks: Vec<(u64, u64, u64)> = Vec::new();
    let mut faults: Vec<(String, u64)> = Vec::new();
    for l in qemu.lines() {
        if l.contains("smmuv3_translate_success") {
            let (sid, iova, pa) = (
                field(l, "sid=").unwrap(),
                field(l, "iova=").unwrap(),
                field(l, "translated=").unwrap(),
            );
            walks.push((hex(sid), hex(iova), hex(pa)));
        } else if l.contains("smmuv3_record_event") {
            let kind = l.split_whitespace().nth(1).unwrap_or_default().to_owned();
            faults.push((kind, hex(field(l, "sid=").unwrap())));
        }
    }
    let (a, b) = (0x8u64, 0x10u64);
    assert!(
        walks.iter().any(|w| w.0 == b),
        "QEMU translated nothing for the second edu: {qemu}"
    );
    let both = walks
        .iter()
        .find(|wa| wa.0 == a && walks.iter().any(|wb| wb.0 == b && wb.1 == wa.1));
    let wa = both.expect("an IOVA both StreamIDs translated");
    let wb = walks.iter().find(|w| w.0 == b && w.1 == wa.1).unwrap();
    assert_ne!(
        wa.2, wb.2,
        "the same IOVA reached the same memory for both devices"
    );
    let b_faults: Vec<&(String, u64)> = faults.iter().filter(|f| f.1 == b).collect();
    // One 16-byte write, split by QEMU into 4-byte accesses: 4 records.
    assert_eq!(b_faults.len(), 4, "{faults:?}");
    assert!(
        b_faults.iter().all(|f| f.0 == "SMMU_EVT_F_TRANSLATION"),
        "{faults:?}"
    );
    let check5 = log
        .lines()
        .find(|l| l.starts_with("check 5"))
        .expect("check 5 line");
    let shared = hex(field(check5, "ok: IOVA ").expect("IOVA"));
    assert!(
        walks.iter().any(|w| w.0 == a && w.1 == shared),
        "the first edu used IOVA {shared:#x}"
    );
    assert!(
        !walks.iter().any(|w| w.0 == b && w.1 == shared),
        "QEMU translated {shared:#x} for the second edu"
    );
}
