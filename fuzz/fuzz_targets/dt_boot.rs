//! Arbitrary bytes as a device-tree blob through the host boot flow exactly
//! as `iommugen dt` runs it (index, `iommu_init`, every master, PCI RIDs),
//! with the drivers of the shipped `examples/*.iommu` interpreted from their
//! checked IR, then both report renderings.
//!
//! Checked: no panic, no hang; a blob the reader accepts yields a report
//! whose JSON is valid. The seed corpus (`corpus/dt_boot/`) holds the
//! `tests/dts/*.dts` compiled with `dtc` and QEMU's virt board with an
//! SMMUv3, so mutations start from real trees.
#![no_main]

use std::sync::OnceLock;

use iommugen::dt::{self, report, Drivers, RidQuery};
use iommugen_runtime::fdt::{DeviceTree, Fdt, NodeEntry, PhandleEntry};
use libfuzzer_sys::fuzz_target;

/// PCI host bridges queried per tree; each gets two RIDs.
const MAX_HOSTS: usize = 4;

/// The shipped specs, checked once.
fn drivers() -> &'static Drivers {
    static DRIVERS: OnceLock<Drivers> = OnceLock::new();
    DRIVERS.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|x| x == "iommu"));
        files.sort();
        let sources: Vec<(String, String)> = files
            .iter()
            .filter_map(|p| Some((p.display().to_string(), std::fs::read_to_string(p).ok()?)))
            .collect();
        assert!(!sources.is_empty(), "no specs under {dir}");
        let mut specs = Vec::new();
        for (i, checked) in iommugen_dsl::check_sources(&sources) {
            match checked.spec {
                Some(spec) => specs.push(spec),
                None => panic!("shipped spec {} has errors", sources[i].0),
            }
        }
        Drivers::from_specs(specs)
    })
}

fuzz_target!(|blob: &[u8]| {
    let rids = rid_queries(blob);
    let Ok(found) = dt::run(blob, drivers(), &rids) else {
        return;
    };
    let json = found.to_json("fuzz.dtb", Vec::new());
    assert!(serde_json::to_string(&json).is_ok());
    let human = found.to_human();
    // The lint reads the same blob again: findings, never a panic.
    assert!(dt::lint(blob, drivers(), &found).is_ok());
    assert!(found.masters.is_empty() || !human.is_empty());
});

/// RIDs to configure: for the first few nodes with an `iommu-map`, RID 0
/// and one taken from the blob's last four bytes (so the fuzzer steers it).
fn rid_queries(blob: &[u8]) -> Vec<RidQuery> {
    let Ok(fdt) = Fdt::new(blob) else {
        return Vec::new();
    };
    let Ok((n, p)) = DeviceTree::measure(&fdt) else {
        return Vec::new();
    };
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    let Ok(tree) = DeviceTree::new(fdt, &mut nodes, &mut phandles) else {
        return Vec::new();
    };
    let tail = blob.len().saturating_sub(4);
    let rid = blob
        .get(tail..)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_be_bytes);
    tree.nodes()
        .filter(|node| node.has_property("iommu-map"))
        .take(MAX_HOSTS)
        .flat_map(|node| {
            let host = report::path_of(node);
            [0, rid].map(|rid| RidQuery {
                host: host.clone(),
                rid,
            })
        })
        .collect()
}
