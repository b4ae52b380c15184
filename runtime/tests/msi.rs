//! MSI doorbells (runtime/src/msi.rs): the controller and DeviceID a PCI
//! function's MSIs go to, from the host bridge's `msi-map` (with
//! `msi-map-mask`) or `msi-parent`, the doorbell address from the
//! controller's `reg`; and the software-MSI window of a domain: kept out of
//! the allocator, each doorbell page mapped once.

mod common;

use common::*;
use iommugen_runtime::domain::{Domain, DomainError, PtCall, RecordingPageTable};
use iommugen_runtime::fdt::PhandleError;
use iommugen_runtime::iova::{storage_words, IovaError};
use iommugen_runtime::map_id::MapError;
use iommugen_runtime::msi::{
    of_msi_target, MsiCookie, MsiError, MsiTarget, GITS_TRANSLATER, SW_MSI_BASE, SW_MSI_SIZE,
};
use iommugen_runtime::Prot;

/// QEMU virt's GICv3 with its ITS (phandle 3) and a GICv2m frame
/// (phandle 4), and host bridges that reach them in each way the bindings
/// allow.
fn board() -> Vec<u8> {
    let mut b = TreeBuilder::new();
    b.begin("intc@8000000")
        .str("compatible", "arm,gic-v3")
        .u32("#address-cells", 2)
        .u32("#size-cells", 2)
        .flag("ranges");
    b.begin("its@8080000")
        .str("compatible", "arm,gic-v3-its")
        .flag("msi-controller")
        .u32("#msi-cells", 1)
        .cells("reg", &[0, 0x808_0000, 0, 0x2_0000])
        .u32("phandle", 3)
        .end();
    b.end();
    b.begin("v2m@8020000")
        .str("compatible", "arm,gic-v2m-frame")
        .flag("msi-controller")
        .cells("reg", &[0, 0x802_0000, 0, 0x1000])
        .u32("phandle", 4)
        .end();
    b.begin("uart@9000000")
        .str("compatible", "arm,pl011")
        .cells("reg", &[0, 0x900_0000, 0, 0x1000])
        .u32("phandle", 5)
        .end();
    b.begin("bus")
        .u32("#address-cells", 1)
        .u32("#size-cells", 1)
        .cells("ranges", &[0, 0, 0x2000_0000, 0x1000_0000]);
    b.begin("its@0")
        .str("compatible", "arm,gic-v3-its")
        .flag("msi-controller")
        .cells("reg", &[0, 0x2_0000])
        .u32("phandle", 6)
        .end();
    b.end();
    // QEMU's: every RID to the ITS, DeviceID = RID.
    b.begin("pcie@10000000")
        .cells("msi-map", &[0, 3, 0, 0x1_0000])
        .end();
    // Masked to device/function (bus bits dropped), two ranges with their
    // own output bases, and a hole.
    b.begin("pcie@20000000")
        .u32("msi-map-mask", 0xff)
        .cells("msi-map", &[0x00, 3, 0x1000, 0x10, 0x20, 3, 0x2000, 0x20])
        .end();
    b.begin("pcie@30000000").u32("msi-parent", 3).end();
    b.begin("pcie@40000000").cells("msi-parent", &[4]).end();
    b.begin("pcie@50000000").end();
    // msi-map wins over msi-parent, and an uncovered RID gets nothing
    // (Linux does not fall back to msi-parent then).
    b.begin("pcie@60000000")
        .cells("msi-map", &[0x100, 4, 0, 0x100])
        .u32("msi-parent", 3)
        .end();
    b.begin("pcie@70000000").u32("msi-parent", 5).end();
    b.begin("pcie@80000000").u32("msi-parent", 77).end();
    b.begin("pcie@90000000").u32("msi-parent", 6).end();
    b.begin("pcie@a0000000")
        .cells("msi-map", &[0x100, 3, 0, 0x10])
        .u32("msi-map-mask", 0xff)
        .end();
    b.finish()
}

fn target(host: &str, rid: u32) -> Result<Option<(String, u32, u64)>, MsiError> {
    let blob = board();
    with_tree(&blob, |tree| {
        let node = tree.find_path(host).unwrap();
        Ok(of_msi_target(node, rid)?.map(|t: MsiTarget| {
            let ctl = tree.node(t.controller).unwrap();
            let mut path = String::new();
            ctl.write_path(&mut path).unwrap();
            (path, t.device_id, t.doorbell)
        }))
    })
}

const ITS: &str = "/intc@8000000/its@8080000";
const DOORBELL: u64 = 0x808_0000 + GITS_TRANSLATER;

#[test]
fn qemu_virt_msi_map_gives_the_its_doorbell_and_the_rid_as_device_id() {
    assert_eq!(GITS_TRANSLATER, 0x1_0040);
    for rid in [0, 0x8, 0x10, 0xffff] {
        assert_eq!(
            target("/pcie@10000000", rid).unwrap(),
            Some((ITS.into(), rid, DOORBELL))
        );
    }
    // Past the map's length: no MSI controller.
    assert_eq!(target("/pcie@10000000", 0x1_0000).unwrap(), None);
}

#[test]
fn msi_map_mask_and_ranges_pick_the_entry_and_offset() {
    let t = |rid| target("/pcie@20000000", rid).unwrap().map(|t| t.1);
    // Bus 1, device 1: masked to 0x08, first range.
    assert_eq!(t(0x108), Some(0x1008));
    assert_eq!(t(0x0f), Some(0x100f));
    // The hole between the ranges.
    assert_eq!(t(0x10), None);
    assert_eq!(t(0x1f), None);
    assert_eq!(t(0x320), Some(0x2000));
    assert_eq!(t(0x3f), Some(0x201f));
    assert_eq!(t(0x40), None);
}

#[test]
fn without_msi_map_msi_parent_names_the_controller_and_the_rid_stays() {
    assert_eq!(
        target("/pcie@30000000", 0x42).unwrap(),
        Some((ITS.into(), 0x42, DOORBELL))
    );
    // A GICv2m frame's doorbell is MSI_SETSPI_NS.
    assert_eq!(
        target("/pcie@40000000", 0x42).unwrap(),
        Some(("/v2m@8020000".into(), 0x42, 0x802_0040))
    );
    // msi-map present: it decides, msi-parent is not consulted.
    assert_eq!(
        target("/pcie@60000000", 0x105).unwrap(),
        Some(("/v2m@8020000".into(), 5, 0x802_0040))
    );
    assert_eq!(target("/pcie@60000000", 0x5).unwrap(), None);
}

#[test]
fn no_controller_means_no_msi_target() {
    assert_eq!(target("/pcie@50000000", 0x8).unwrap(), None);
}

#[test]
fn bad_msi_trees_are_errors_not_guesses() {
    assert!(matches!(
        target("/pcie@70000000", 0x8),
        Err(MsiError::NotAController { .. })
    ));
    assert_eq!(
        target("/pcie@80000000", 0x8),
        Err(MsiError::Parent(Some(PhandleError::Dangling(77))))
    );
    // An ITS behind a bus that translates: not followed, said so.
    assert!(matches!(
        target("/pcie@90000000", 0x8),
        Err(MsiError::Translated { .. })
    ));
    // A map base with bits the mask clears: inconsistent.
    assert_eq!(
        target("/pcie@a0000000", 0x8),
        Err(MsiError::Map(MapError::BaseOutsideMask {
            entry: 0,
            base: 0x100,
            mask: 0xff
        }))
    );
}

#[test]
fn the_doorbell_page_is_mapped_once_in_the_sw_msi_window_kept_from_the_allocator() {
    assert_eq!((SW_MSI_BASE, SW_MSI_SIZE), (0x800_0000, 0x10_0000));
    // A window from 0 that contains the SW-MSI range: 256 MiB of 64K pages
    // makes the exhaustion below quick.
    let mut st = vec![0u64; storage_words(1 << 28, 16)];
    let mut d = Domain::new(RecordingPageTable::<8>::new(), &mut st, 0, 1 << 28, 16).unwrap();
    let mut cookie: MsiCookie<2> = MsiCookie::new();
    let free = d.iova.free_bytes();
    cookie.reserve(&mut d).unwrap();
    assert_eq!(free - d.iova.free_bytes(), u128::from(SW_MSI_SIZE));
    let iova = cookie.map_doorbell(&mut d, DOORBELL).unwrap();
    // The doorbell's offset in its 64K page survives.
    assert_eq!(iova, SW_MSI_BASE + (DOORBELL & 0xffff));
    assert_eq!(
        d.table.last,
        Some(PtCall::Map {
            iova: SW_MSI_BASE,
            phys: DOORBELL & !0xffff,
            size: 0x1_0000,
            prot: Prot::WRITE | Prot::MMIO | Prot::NOEXEC,
        })
    );
    // A second device of the domain, same ITS: same page, no new mapping.
    let calls = d.table.calls;
    assert_eq!(cookie.map_doorbell(&mut d, DOORBELL).unwrap(), iova);
    assert_eq!(d.table.calls, calls);
    // Another doorbell: the window's next page.
    assert_eq!(
        cookie.map_doorbell(&mut d, 0x802_0040).unwrap(),
        SW_MSI_BASE + 0x1_0000 + 0x40
    );
    assert_eq!(cookie.pages().len(), 2);
    // Cookie full: refused, not overwritten.
    assert_eq!(
        cookie.map_doorbell(&mut d, 0x900_0040),
        Err(DomainError::Iova(IovaError::Exhausted))
    );
    // The allocator never hands out an IOVA in the window, and hands out
    // everything else it has.
    let left = d.iova.free_bytes();
    let mut n = 0;
    while let Ok(iova) = d.iova.alloc_range(0x1_0000, 0, u64::MAX) {
        assert!(
            !(SW_MSI_BASE..SW_MSI_BASE + SW_MSI_SIZE).contains(&iova),
            "allocated {iova:#x} inside the SW-MSI window"
        );
        n += 1;
    }
    assert_eq!(n * 0x1_0000, left);
}

#[test]
fn a_window_outside_the_managed_range_still_maps() {
    // QEMU's SMMUv3 aperture starts at 256 MiB: the SW-MSI window lies
    // below it, so reserving it takes nothing, and the doorbell maps.
    let mut st = vec![0u64; storage_words(1 << 24, 12)];
    let mut d = Domain::new(
        RecordingPageTable::<4>::new(),
        &mut st,
        0x1000_0000,
        1 << 24,
        12,
    )
    .unwrap();
    let free = d.iova.free_bytes();
    let mut cookie: MsiCookie<1> = MsiCookie::new();
    cookie.reserve(&mut d).unwrap();
    assert_eq!(d.iova.free_bytes(), free);
    assert_eq!(
        cookie.map_doorbell(&mut d, DOORBELL).unwrap(),
        SW_MSI_BASE + 0x40
    );
    assert_eq!(d.table.mappings(), [(SW_MSI_BASE, 0x809_0000, 0x1000)]);
}

#[test]
fn an_unmapped_doorbell_leaves_the_table_and_maps_again_at_its_iova() {
    let mut st = vec![0u64; storage_words(1 << 24, 12)];
    let mut d = Domain::new(
        RecordingPageTable::<4>::new(),
        &mut st,
        0x1000_0000,
        1 << 24,
        12,
    )
    .unwrap();
    let mut cookie: MsiCookie<2> = MsiCookie::new();
    cookie.reserve(&mut d).unwrap();
    let iova = cookie.map_doorbell(&mut d, DOORBELL).unwrap();
    cookie.unmap_doorbell(&mut d, DOORBELL).unwrap();
    assert_eq!(d.table.mappings(), []);
    assert!(cookie.pages().is_empty());
    assert_eq!(
        cookie.unmap_doorbell(&mut d, DOORBELL),
        Err(DomainError::Map(
            iommugen_runtime::domain::MapError::NotMapped
        ))
    );
    assert_eq!(cookie.map_doorbell(&mut d, DOORBELL).unwrap(), iova);
    // A page unmapped below a later one keeps its IOVA: the later page
    // does not move, the next doorbell goes after it.
    let other = cookie.map_doorbell(&mut d, 0x802_0040).unwrap();
    cookie.unmap_doorbell(&mut d, DOORBELL).unwrap();
    assert_eq!(
        d.table.mappings(),
        [(SW_MSI_BASE + 0x1000, 0x802_0000, 0x1000)]
    );
    assert_eq!(other, SW_MSI_BASE + 0x1040);
    assert_eq!(
        cookie.map_doorbell(&mut d, DOORBELL),
        Err(DomainError::Iova(IovaError::Exhausted))
    );
}
