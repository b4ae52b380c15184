//! Reserved regions (`reserved-memory` children with `iommu-addresses`,
//! reserved-memory.yaml): read from a master's `memory-region` as Linux's
//! `of_iommu_get_resv_regions` does, then installed in its domain before
//! attach: identity and fixed ranges mapped, carve-outs kept out of the
//! IOVA allocator, nothing the allocator hands out afterwards overlapping
//! any of them.

mod common;

use common::*;
use iommugen_runtime::domain::{Domain, DomainError, PtCall, RecordingPageTable};
use iommugen_runtime::iova::{storage_words, IovaError};
use iommugen_runtime::resv::{reserved_regions, ResvError, ResvKind, ResvRegion};
use iommugen_runtime::Prot;

/// A display whose firmware framebuffer stays scanned out (identity), a
/// carve-out of IOVA it must never be given, a firmware buffer seen at a
/// different IOVA (fixed), and a region listed for another device.
fn board() -> Vec<u8> {
    let mut b = TreeBuilder::new();
    b.begin("reserved-memory")
        .u32("#address-cells", 2)
        .u32("#size-cells", 2)
        .flag("ranges");
    b.begin("framebuffer@80000000")
        .cells("reg", &[0, 0x8000_0000, 0, 0x10_0000])
        .cells("iommu-addresses", &[9, 0, 0x8000_0000, 0, 0x10_0000])
        .u32("phandle", 1)
        .end();
    b.begin("carveout")
        .cells("iommu-addresses", &[9, 0, 0x1000_0000, 0, 0x20_0000])
        .u32("phandle", 2)
        .end();
    b.begin("firmware@90000000")
        .cells("reg", &[0, 0x9000_0000, 0, 0x4000])
        // Another device's entry first: skipped, not misread.
        .cells(
            "iommu-addresses",
            &[8, 0, 0x5000, 0, 0x1000, 9, 0, 0x4000_0000, 0, 0x4000],
        )
        .u32("phandle", 3)
        .end();
    b.begin("unrelated")
        .cells("reg", &[0, 0xa000_0000, 0, 0x1000])
        .u32("phandle", 4)
        .end();
    b.end();
    b.begin("soc")
        .u32("#address-cells", 2)
        .u32("#size-cells", 2);
    b.begin("display@1000")
        .cells("memory-region", &[1, 2, 3, 4])
        .u32("phandle", 9)
        .end();
    b.begin("gpu@2000").u32("phandle", 8).end();
    b.begin("bad@3000").cells("memory-region", &[77]).end();
    b.end();
    b.finish()
}

fn regions(path: &str) -> Result<Vec<ResvRegion>, ResvError> {
    let blob = board();
    with_tree(&blob, |tree| {
        let mut out = [ResvRegion::EMPTY; 8];
        let n = reserved_regions(tree.find_path(path).unwrap(), &mut out)?;
        Ok(out[..n].to_vec())
    })
}

#[test]
fn regions_come_from_memory_region_and_name_the_master() {
    let got = regions("/soc/display@1000").unwrap();
    let summary: Vec<(u64, u64, ResvKind)> = got.iter().map(|r| (r.iova, r.size, r.kind)).collect();
    assert_eq!(
        summary,
        [
            // reg equals the IOVA range: identity.
            (0x8000_0000, 0x10_0000, ResvKind::Direct),
            // No reg: a carve-out.
            (0x1000_0000, 0x20_0000, ResvKind::Reserved),
            // reg elsewhere: mapped at the IOVA the binding gives.
            (0x4000_0000, 0x4000, ResvKind::Fixed { pa: 0x9000_0000 }),
        ]
    );
    // The GPU's entry lives in a region the GPU does not list in its own
    // `memory-region`: Linux gives it nothing, and so do we.
    assert_eq!(regions("/soc/gpu@2000").unwrap(), []);
    assert_eq!(
        regions("/soc/bad@3000"),
        Err(ResvError::Phandle(
            iommugen_runtime::fdt::PhandleError::Dangling(77)
        ))
    );
    // Storage too small: an error, not a silent cut.
    let blob = board();
    with_tree(&blob, |tree| {
        let mut out = [ResvRegion::EMPTY; 2];
        let display = tree.find_path("/soc/display@1000").unwrap();
        assert_eq!(
            reserved_regions(display, &mut out),
            Err(ResvError::Full { capacity: 2 })
        );
    });
}

#[test]
fn installed_regions_are_mapped_and_never_allocated() {
    let got = regions("/soc/display@1000").unwrap();
    // A 4 GiB window of 4K pages.
    let mut st = vec![0u64; storage_words(1 << 32, 12)];
    let mut d = Domain::new(
        RecordingPageTable::<8>::new(),
        &mut st,
        0x1000,
        (1 << 32) - 0x1000,
        12,
    )
    .unwrap();
    let free = d.iova.free_bytes();
    d.install_reserved(&got).unwrap();
    assert_eq!(
        d.table.mappings(),
        [
            (0x8000_0000, 0x8000_0000, 0x10_0000),
            (0x4000_0000, 0x9000_0000, 0x4000),
        ]
    );
    assert_eq!(
        d.table.last,
        Some(PtCall::Map {
            iova: 0x4000_0000,
            phys: 0x9000_0000,
            size: 0x4000,
            prot: Prot::READ | Prot::WRITE
        })
    );
    assert_eq!(free - d.iova.free_bytes(), 0x10_0000 + 0x20_0000 + 0x4000);
    // Installing again fails at the first region and changes nothing.
    let before = d.iova.free_bytes();
    assert!(matches!(
        d.install_reserved(&got),
        Err((0, DomainError::Iova(IovaError::Exhausted)))
    ));
    assert_eq!(d.iova.free_bytes(), before);
    // Allocate 1 MiB blocks until the window is full: none touches a
    // reserved range.
    let reserved = [
        (0x8000_0000u64, 0x10_0000u64),
        (0x1000_0000, 0x20_0000),
        (0x4000_0000, 0x4000),
    ];
    let mut n = 0;
    while let Ok(a) = d.iova.alloc(0x10_0000, u64::MAX) {
        for (r, s) in reserved {
            assert!(a + 0x10_0000 <= r || a >= r + s, "{a:#x} overlaps {r:#x}");
        }
        n += 1;
    }
    // The fixed 16 KiB range spoils one 1 MiB block, the others their own size.
    assert_eq!(
        n,
        4096 - 1 - 2 - 1 - 1,
        "every 1 MiB block but the reserved ones and the first"
    );
}

#[test]
fn a_fixed_mapping_that_fails_gives_its_range_back() {
    let mut st = vec![0u64; storage_words(1 << 24, 12)];
    let mut d = Domain::new(RecordingPageTable::<1>::new(), &mut st, 0, 1 << 24, 12).unwrap();
    let rw = Prot::READ | Prot::WRITE;
    d.map_fixed(0x10_0000, 0x10_0000, 0x3000, rw).unwrap();
    let before = d.iova.free_bytes();
    // The recording table holds one mapping: the second map fails there.
    assert!(matches!(
        d.map_fixed(0x20_0000, 0x9000, 0x1000, rw),
        Err(DomainError::Map(_))
    ));
    assert_eq!(d.iova.free_bytes(), before, "its IOVA is free again");
    // A range partly taken is refused whole.
    assert!(d.reserve(0x10_2000, 0x2000).is_err());
    assert_eq!(d.iova.free_bytes(), before);
    // Unaligned and empty ranges are errors.
    assert!(d.reserve(0x1800, 0x1000).is_err());
    assert!(d.reserve(0x1000, 0).is_err());
    // A range reaching past the window reserves the part inside it.
    d.reserve((1 << 24) - 0x1000, 0x2000).unwrap();
    assert_eq!(before - d.iova.free_bytes(), 0x1000);
}

/// QEMU virt with the node a kernel (or firmware) adds for a PCI function
/// under the host bridge (3 address cells): its `iommu-addresses` entry
/// has a PCI address whose phys.hi is dropped, the bus address kept.
#[test]
fn a_pci_function_node_names_its_region_with_a_three_cell_address() {
    let mut b = TreeBuilder::new();
    b.begin("reserved-memory")
        .u32("#address-cells", 2)
        .u32("#size-cells", 2)
        .flag("ranges");
    b.begin("edu-buffer@40500000")
        .cells("reg", &[0, 0x4050_0000, 0, 0x1_0000])
        .cells("iommu-addresses", &[7, 0x0800, 0, 0xffff_0000, 0, 0x1_0000])
        .u32("phandle", 8)
        .end();
    b.end();
    b.begin("pcie@10000000")
        .str("device_type", "pci")
        .u32("#address-cells", 3)
        .u32("#size-cells", 2);
    b.begin("edu@1")
        .cells("reg", &[0x0800, 0, 0, 0, 0])
        .u32("memory-region", 8)
        .u32("phandle", 7)
        .end();
    b.end();
    // The same, off a PCI bus: three address cells are refused.
    b.begin("bus")
        .u32("#address-cells", 3)
        .u32("#size-cells", 2);
    b.begin("dev@0")
        .u32("memory-region", 9)
        .u32("phandle", 10)
        .end();
    b.end();
    b.begin("other-buffer")
        .cells("iommu-addresses", &[10, 0, 0, 0x1000, 0, 0x1000])
        .u32("phandle", 9)
        .end();
    let blob = b.finish();
    with_tree(&blob, |tree| {
        let mut out = [ResvRegion::EMPTY; 2];
        let edu = tree.find_path("/pcie@10000000/edu@1").unwrap();
        let n = reserved_regions(edu, &mut out).unwrap();
        let got: Vec<(u64, u64, ResvKind)> =
            out[..n].iter().map(|r| (r.iova, r.size, r.kind)).collect();
        assert_eq!(
            got,
            [(0xffff_0000, 0x1_0000, ResvKind::Fixed { pa: 0x4050_0000 })]
        );
        let dev = tree.find_path("/bus/dev@0").unwrap();
        assert!(matches!(
            reserved_regions(dev, &mut out),
            Err(ResvError::BadRange { .. })
        ));
    });
}
