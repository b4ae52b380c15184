//! `iommugen::dt` called as a library: no CLI, no included sources.

#[path = "../runtime/tests/raw/mod.rs"]
mod raw;

use std::path::Path;

use iommugen::dt::{self, Drivers, DtError, IommuStatus, RidQuery, Translation};
use iommugen_runtime::fdt::FdtError;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn drivers(spec: &str) -> Drivers {
    let text = std::fs::read_to_string(root().join("examples").join(spec)).unwrap();
    let checked = iommugen_dsl::check_source(spec, &text);
    assert!(!checked.has_errors());
    Drivers::from_specs(checked.spec)
}

#[test]
fn a_blob_that_is_no_tree_is_an_error_value() {
    let d = drivers("arm-smmu-v3.iommu");
    assert_eq!(
        dt::run(b"not a tree", &d, &[]).unwrap_err(),
        DtError::Tree(FdtError::Truncated)
    );
    let mut r = raw::Raw::new();
    r.begin(b"").prop_at(0x4000, b"").end_node().finish();
    let err = dt::run(&r.blob(), &d, &[]).unwrap_err();
    assert!(
        matches!(err, DtError::Tree(FdtError::BadNameOffset { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("outside the strings block"));
}

/// An SMMUv3 and `n` masters each nested in the previous.
fn nested(n: u32) -> Vec<u8> {
    raw::nested_masters(n, b"m@0", |_| [0, 0, 0x8000_0000])
}

#[test]
fn the_report_as_data_json_and_text() {
    let d = drivers("arm-smmu-v3.iommu");
    let blob = nested(3);
    let report = dt::run(&blob, &d, &[]).unwrap();
    assert!(!report.has_errors());
    assert_eq!(report.iommus.len(), 1);
    assert_eq!(report.iommus[0].status, IommuStatus::Initialised);
    assert_eq!(report.masters.len(), 3);
    let deepest = &report.masters[2];
    assert_eq!(deepest.path, "/m@0/m@0/m@0");
    assert_eq!(
        deepest.translations,
        vec![("/iommu@0".to_string(), vec![2])]
    );
    assert!(deepest.dma_coherent);
    assert_eq!(deepest.dma_window, Some((0, 0x8000_0000)));
    assert_eq!(deepest.translation, Translation::Iommu);
    assert!(deepest.untranslated.is_none());
    assert_eq!(deepest.specifiers[0].cells, vec![2]);
    assert_eq!(deepest.specifiers[0].ids, vec![2]);
    // The SMMU node has no `reg`, so it is not listed as a master itself,
    // and the tree has nothing for the lint.
    assert!(dt::lint(&blob, &d, &report).unwrap().is_empty());
    let json = report.to_json("nested.dtb", vec![]);
    assert_eq!(json["masters"][2]["dma_window"]["size"], 0x8000_0000u64);
    assert!(report.to_human().contains("3 masters"));
    // The drivers are borrowed, not consumed: run again, same answer.
    let again = dt::run(
        &blob,
        &d,
        &[RidQuery {
            host: "/nope".into(),
            rid: 1,
        }],
    )
    .unwrap();
    assert_eq!(again.masters.len(), 3);
    assert!(again.pci[0]
        .error
        .as_deref()
        .unwrap()
        .contains("no node at /nope"));
}

#[test]
fn twenty_thousand_nested_masters() {
    // Took 28 s (release) when every master walked to the root; the flow
    // now reads each node's DMA facts from one pass.
    let n = 20_000;
    let report = dt::run(&nested(n), &drivers("arm-smmu-v3.iommu"), &[]).unwrap();
    assert_eq!(report.masters.len(), n as usize);
    assert!(!report.has_errors());
    let last = report.masters.last().unwrap();
    assert_eq!(last.translations[0].1, vec![n - 1]);
    assert!(last.dma_coherent);
}
