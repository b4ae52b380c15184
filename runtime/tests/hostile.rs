//! Hostile trees: each must give an error value, never a panic or a hang.

mod common;
mod raw;

use common::*;
use iommugen_runtime::boot::{is_master, setup_master};
use iommugen_runtime::configure::{of_iommu_configure, of_pci_iommu_configure, ConfigureError};
use iommugen_runtime::fdt::{
    Block, DeviceTree, Fdt, FdtError, NodeEntry, PhandleEntry, PhandleError,
};
use iommugen_runtime::fwspec::{FwSpec, FwSpecFull};
use iommugen_runtime::init::{iommu_init, IommuRecord};
use iommugen_runtime::map_id::MapError;
use iommugen_runtime::ops::{DomainInfo, DomainTable};

fn smmu(b: &mut TreeBuilder, name: &str, phandle: u32, cells: Option<u32>) {
    b.begin(name)
        .strs("compatible", &["arm,smmu-v3"])
        .u32("phandle", phandle);
    if let Some(c) = cells {
        b.u32("#iommu-cells", c);
    }
    b.end();
}

fn configure_err(blob: &[u8], path: &str) -> Result<(), ConfigureError> {
    with_booted(blob, |tree, table| {
        let mut fw = FwSpec::<16, 4>::new();
        of_iommu_configure(tree.find_path(path).unwrap(), &table, &mut fw).map(|_| ())
    })
}

#[test]
fn dangling_and_duplicate_phandles() {
    let mut b = TreeBuilder::new();
    smmu(&mut b, "iommu@0", 1, Some(1));
    b.begin("a").cells("iommus", &[0x99, 1]).end();
    b.begin("dup@0")
        .u32("phandle", 5)
        .u32("#iommu-cells", 0)
        .end();
    b.begin("dup@1")
        .u32("phandle", 5)
        .u32("#iommu-cells", 0)
        .end();
    b.begin("b").cells("iommus", &[5]).end();
    let blob = b.finish();
    assert_eq!(
        configure_err(&blob, "/a"),
        Err(ConfigureError::Phandle {
            entry: 0,
            error: PhandleError::Dangling(0x99)
        })
    );
    assert_eq!(
        configure_err(&blob, "/b"),
        Err(ConfigureError::Phandle {
            entry: 0,
            error: PhandleError::Duplicate(5)
        })
    );
}

#[test]
fn cyclic_references_terminate() {
    // An IOMMU that names itself, and two that name each other: the flow
    // resolves one level only, so each is an ordinary master.
    let mut b = TreeBuilder::new();
    b.begin("self@0")
        .strs("compatible", &["arm,smmu-v3"])
        .u32("#iommu-cells", 1)
        .u32("phandle", 1)
        .cells("iommus", &[1, 1])
        .end();
    b.begin("x@0")
        .strs("compatible", &["rockchip,iommu"])
        .u32("#iommu-cells", 0)
        .u32("phandle", 2)
        .cells("iommus", &[3])
        .end();
    b.begin("y@0")
        .strs("compatible", &["rockchip,iommu"])
        .u32("#iommu-cells", 0)
        .u32("phandle", 3)
        .cells("iommus", &[2])
        .end();
    let blob = b.finish();
    for p in ["/self@0", "/x@0", "/y@0"] {
        assert_eq!(configure_err(&blob, p), Ok(()));
    }
}

#[test]
fn iommu_cells_missing_or_huge() {
    let mut b = TreeBuilder::new();
    smmu(&mut b, "nocells@0", 1, None);
    b.begin("huge@0")
        .u32("phandle", 2)
        .u32("#iommu-cells", 0xffff_ffff)
        .end();
    b.begin("seventeen@0")
        .u32("phandle", 3)
        .u32("#iommu-cells", 17)
        .end();
    b.begin("m1").cells("iommus", &[1, 0]).end();
    b.begin("m2").cells("iommus", &[2, 0]).end();
    b.begin("m3").cells("iommus", &[3, 0]).end();
    let blob = b.finish();
    // A compatible the table claims but no #iommu-cells: Linux cannot parse
    // the specifier ("could not get #iommu-cells").
    assert!(matches!(
        configure_err(&blob, "/m1"),
        Err(ConfigureError::NotAnIommu { .. })
    ));
    assert!(matches!(
        configure_err(&blob, "/m2"),
        Err(ConfigureError::BadCellCount { .. })
    ));
    assert!(matches!(
        configure_err(&blob, "/m3"),
        Err(ConfigureError::BadCellCount { .. })
    ));
}

#[test]
fn properties_shorter_than_they_claim() {
    let mut b = TreeBuilder::new();
    b.begin("iommu@0")
        .strs("compatible", &["arm,mmu-500"])
        .u32("#iommu-cells", 2)
        .u32("phandle", 1)
        .end();
    b.begin("odd").raw("iommus", &[0, 0, 0, 1, 0, 0]).end();
    b.begin("short").cells("iommus", &[1, 0x10]).end();
    b.begin("badcells@0")
        .u32("phandle", 2)
        .raw("#iommu-cells", &[0, 1])
        .end();
    b.begin("m").cells("iommus", &[2]).end();
    let blob = b.finish();
    assert_eq!(configure_err(&blob, "/odd"), Err(ConfigureError::Malformed));
    assert_eq!(
        configure_err(&blob, "/short"),
        Err(ConfigureError::Truncated { entry: 0 })
    );
    assert!(matches!(
        configure_err(&blob, "/m"),
        Err(ConfigureError::BadCellCount { .. })
    ));
}

#[test]
fn iommu_map_entries_that_wrap_or_are_ragged() {
    let run = |map: &[u8]| {
        let mut b = TreeBuilder::new();
        smmu(&mut b, "iommu@0", 1, Some(1));
        b.begin("pcie@0").raw("iommu-map", map).end();
        let blob = b.finish();
        with_booted(&blob, |tree, table| {
            let mut fw = FwSpec::<16, 4>::new();
            of_pci_iommu_configure(tree.find_path("/pcie@0").unwrap(), 0x10, &table, &mut fw)
                .map(|_| ())
        })
    };
    let cells = |c: &[u32]| c.iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>();
    // rid-base 0xffff_ff00 + length 0x200 passes 2^32.
    assert_eq!(
        run(&cells(&[0xffff_ff00, 1, 0, 0x200])),
        Err(ConfigureError::Map(MapError::Overflow { entry: 0 }))
    );
    // out-base near the top: out-base + length passes 2^32.
    assert_eq!(
        run(&cells(&[0, 1, 0xffff_fff0, 0x100])),
        Err(ConfigureError::Map(MapError::Overflow { entry: 0 }))
    );
    // Three cells: not a whole entry.
    assert_eq!(
        run(&cells(&[0, 1, 0])),
        Err(ConfigureError::Map(MapError::BadLength { bytes: 12 }))
    );
    // Dangling phandle in the covering entry.
    assert!(matches!(
        run(&cells(&[0, 0x77, 0, 0x100])),
        Err(ConfigureError::Map(MapError::Phandle { .. }))
    ));
}

#[test]
fn ten_thousand_iommus_entries_overflow_the_fwspec() {
    let mut b = TreeBuilder::new();
    smmu(&mut b, "iommu@0", 1, Some(1));
    let cells: Vec<u32> = (0..10_000u32).flat_map(|i| [1, i]).collect();
    b.begin("greedy").cells("iommus", &cells).end();
    let blob = b.finish();
    assert_eq!(
        configure_err(&blob, "/greedy"),
        Err(ConfigureError::Driver {
            entry: 16,
            node: iommugen_runtime::fdt::NodeId(1),
            error: iommugen_runtime::decl::DriverError::FwSpecFull(FwSpecFull::Ids {
                capacity: 16
            })
        })
    );
}

#[test]
fn ten_thousand_entries_on_a_zero_cell_iommu_finish() {
    // No IDs to store, so no overflow: the walk must still be linear.
    let mut b = TreeBuilder::new();
    b.begin("iommu@0")
        .strs("compatible", &["rockchip,iommu"])
        .u32("#iommu-cells", 0)
        .u32("phandle", 1)
        .end();
    b.begin("greedy").cells("iommus", &vec![1; 10_000]).end();
    let blob = b.finish();
    assert_eq!(configure_err(&blob, "/greedy"), Ok(()));
}

#[test]
fn malformed_blobs_never_panic() {
    // Every truncation and many single-byte corruptions of a real-shaped
    // tree: each either indexes (and then boots without panicking) or is
    // rejected with an error.
    let mut b = TreeBuilder::new();
    b.begin("soc")
        .u32("#address-cells", 1)
        .u32("#size-cells", 1)
        .cells("dma-ranges", &[0, 0, 0x8000_0000, 0x4000_0000]);
    smmu(&mut b, "iommu@0", 1, Some(1));
    b.begin("dev@1")
        .cells("iommus", &[1, 5])
        .flag("dma-coherent")
        .end();
    b.end();
    b.begin("pcie@0")
        .cells("iommu-map", &[0, 1, 0, 0x100])
        .end();
    let blob = b.finish();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rng = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for cut in 0..blob.len() {
        boot_everything(&blob[..cut]);
    }
    for _ in 0..20_000 {
        let mut bad = blob.clone();
        let i = (rng() as usize) % bad.len();
        bad[i] = rng() as u8;
        boot_everything(&bad);
    }
}

fn boot_everything(blob: &[u8]) {
    let Ok(fdt) = Fdt::new(blob) else { return };
    let Ok((n, p)) = DeviceTree::measure(&fdt) else {
        return;
    };
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    let Ok(tree) = DeviceTree::new(fdt, &mut nodes, &mut phandles) else {
        return;
    };
    let mut records = vec![IommuRecord::EMPTY; tree.len()];
    let table = iommu_init(&tree, &[TABLE], &mut records).unwrap();
    let mut d = vec![DomainInfo::EMPTY; tree.len()];
    let mut per = vec![0; table.records().len()];
    let mut domains = DomainTable::new(&mut d, &mut per);
    let mut fw = FwSpec::<16, 4>::new();
    let mut path = String::new();
    for node in tree.nodes() {
        path.clear();
        node.write_path(&mut path).unwrap();
        if is_master(node) {
            let _ = setup_master(node, &table, &mut fw, &mut domains);
        }
        let _ = of_pci_iommu_configure(node, 3, &table, &mut fw);
    }
}

#[test]
fn structural_errors_are_reported() {
    assert_eq!(Fdt::new(&[0; 8]).unwrap_err(), FdtError::Truncated);
    let mut blob = TreeBuilder::new().finish();
    blob[0] = 0;
    assert_eq!(Fdt::new(&blob).unwrap_err(), FdtError::BadMagic);
    // Storage too small is an error, not a panic.
    let mut b = TreeBuilder::new();
    b.begin("a").end().begin("b").end();
    let blob = b.finish();
    let fdt = Fdt::new(&blob).unwrap();
    let mut nodes = [NodeEntry::EMPTY; 2];
    let mut ph = [PhandleEntry::EMPTY; 0];
    assert_eq!(
        DeviceTree::new(fdt, &mut nodes, &mut ph).unwrap_err(),
        FdtError::TooManyNodes { capacity: 2 }
    );
}

#[test]
fn deep_tree_paths_and_walks() {
    let mut b = TreeBuilder::new();
    // vm-fdt refuses to write deeper trees than this.
    for i in 0..60 {
        b.begin(&format!("n{i}")).flag("dma-ranges");
    }
    b.flag("dma-coherent");
    let blob = b.finish();
    with_tree(&blob, |tree| {
        let leaf = tree.nodes().last().unwrap();
        let mut path = String::new();
        leaf.write_path(&mut path).unwrap();
        let want: String = (0..60).map(|i| format!("/n{i}")).collect();
        assert_eq!(path, want);
        assert!(iommugen_runtime::dma::is_coherent(leaf));
        assert_eq!(iommugen_runtime::dma::dma_window(leaf), Ok(None));
    });
}

/// A small well-formed tree: root with `#address-cells` and one child.
fn small() -> raw::Raw {
    let mut r = raw::Raw::new();
    r.begin(b"")
        .prop("#address-cells", &2u32.to_be_bytes())
        .begin(b"dev@0")
        .prop("compatible", b"acme,dev\0")
        .end_node()
        .end_node()
        .finish();
    r
}

/// Index a blob that passed the header checks (measure, then index).
fn index(blob: &[u8]) -> Result<usize, FdtError> {
    let fdt = Fdt::new(blob)?;
    let (n, p) = DeviceTree::measure(&fdt)?;
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    DeviceTree::new(fdt, &mut nodes, &mut phandles).map(|t| t.len())
}

#[test]
fn the_raw_writer_makes_valid_trees() {
    assert_eq!(index(&small().blob()), Ok(2));
}

#[test]
fn strings_block_overlapping_the_structure_block() {
    // Once read as an empty tree; libfdt rejects the layout.
    let r = small();
    let good = r.blob();
    let mut bad = good.clone();
    raw::set(&mut bad, raw::OFF_STRINGS, raw::get(&good, raw::OFF_STRUCT));
    assert_eq!(
        Fdt::new(&bad).unwrap_err(),
        FdtError::Overlap {
            first: Block::Structure,
            second: Block::Strings
        }
    );
    // Sharing only the last byte is still an overlap.
    let st = 56;
    let strings = st + r.structure.len() - 1;
    let bad = r.blob_at(40, st, strings, strings + r.strings.len());
    assert!(matches!(Fdt::new(&bad), Err(FdtError::Overlap { .. })));
}

#[test]
fn reservation_block_rules() {
    let r = small();
    let st = 64;
    let strings = st + r.structure.len();
    let total = strings + r.strings.len();
    // Misaligned: the specification puts it on an 8-byte boundary.
    let bad = r.blob_at(44, st, strings, total);
    assert_eq!(
        Fdt::new(&bad).unwrap_err(),
        FdtError::Misaligned {
            block: Block::Reservations,
            offset: 44
        }
    );
    // A list whose terminator is the zeros of a property value inside the
    // structure block (struct at 56; the value spans 76..108).
    let mut z = raw::Raw::new();
    z.begin(b"").prop("zeros", &[0; 32]).end_node().finish();
    let mut bad = z.blob();
    raw::set(&mut bad, raw::OFF_RSVMAP, 80);
    assert_eq!(
        Fdt::new(&bad).unwrap_err(),
        FdtError::Overlap {
            first: Block::Reservations,
            second: Block::Structure
        }
    );
    // A list that never ends inside the blob.
    let mut bad = r.blob();
    bad.resize(bad.len().next_multiple_of(8) + 8, 0xff);
    let len = bad.len();
    raw::set(&mut bad, raw::TOTALSIZE, len as u32);
    raw::set(&mut bad, raw::OFF_RSVMAP, (len - 8) as u32);
    assert_eq!(
        Fdt::new(&bad).unwrap_err(),
        FdtError::UnterminatedReservations
    );
    // Inside the header, or past the end.
    for off in [0u32, 32, 0x1000_0000] {
        let mut bad = r.blob();
        raw::set(&mut bad, raw::OFF_RSVMAP, off);
        assert!(Fdt::new(&bad).is_err(), "rsvmap at {off:#x}");
    }
}

#[test]
fn structure_block_alignment_and_bounds() {
    let r = small();
    let strings = 58 + r.structure.len();
    let bad = r.blob_at(40, 58, strings, strings + r.strings.len());
    assert_eq!(
        Fdt::new(&bad).unwrap_err(),
        FdtError::Misaligned {
            block: Block::Structure,
            offset: 58
        }
    );
    let good = r.blob();
    // Starting inside the header.
    let mut bad = good.clone();
    raw::set(&mut bad, raw::OFF_STRUCT, 8);
    assert_eq!(Fdt::new(&bad).unwrap_err(), FdtError::BadLayout);
    // Size running past totalsize, and offset + size wrapping.
    for size in [good.len() as u32, u32::MAX] {
        let mut bad = good.clone();
        raw::set(&mut bad, raw::SIZE_STRUCT, size);
        assert_eq!(Fdt::new(&bad).unwrap_err(), FdtError::BadLayout);
    }
    // The strings block past totalsize.
    let mut bad = good.clone();
    raw::set(&mut bad, raw::SIZE_STRINGS, 0x1000);
    assert_eq!(Fdt::new(&bad).unwrap_err(), FdtError::BadLayout);
}

#[test]
fn version_16_structure_stops_at_the_next_block() {
    // No size_dt_struct before version 17: the block runs up to the
    // strings block, not over it.
    let mut blob = small().blob();
    raw::set(&mut blob, raw::VERSION, 16);
    raw::set(&mut blob, raw::SIZE_STRUCT, 0);
    assert_eq!(index(&blob), Ok(2));
}

#[test]
fn structure_without_end_token() {
    let mut r = small();
    r.structure.truncate(r.structure.len() - 4);
    assert_eq!(index(&r.blob()), Err(FdtError::MissingEnd));
}

#[test]
fn property_name_offsets_outside_the_strings_block() {
    // Past the block: once the property was silently dropped.
    for name_off in [0x1000u32, u32::MAX] {
        let mut r = raw::Raw::new();
        r.intern("compatible");
        r.begin(b"").prop_at(name_off, b"x\0").end_node().finish();
        let err = index(&r.blob()).unwrap_err();
        assert!(
            matches!(err, FdtError::BadNameOffset { name_off: o, .. } if o == name_off),
            "{err:?}"
        );
    }
    // A name whose NUL lies just past the block's end (in the blob, not in
    // the block) is not terminated inside it.
    let mut r = small();
    r.strings.pop();
    let mut blob = r.blob();
    blob.push(0);
    let total = blob.len() as u32;
    raw::set(&mut blob, raw::TOTALSIZE, total);
    assert!(matches!(index(&blob), Err(FdtError::BadNameOffset { .. })));
}
