//! Compile-time behaviour of `#[iommu_driver]` and `include_spec!`: each
//! error case with its expected message (`ui/*.stderr`), and pass cases
//! that build and run. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p iommugen-macros --test ui` and review.

use std::path::PathBuf;

/// trybuild compiles the cases in `<target>/tests/trybuild/iommugen-macros`,
/// which is the `CARGO_MANIFEST_DIR` `include_spec!` resolves against there;
/// the specs the cases include are copied in so the cases can name them
/// plainly.
fn stage_specs() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| {
            if t.is_absolute() {
                t
            } else {
                root.join("..").join(t)
            }
        })
        .unwrap_or_else(|| root.join("../target"));
    let project = target.join("tests/trybuild/iommugen-macros");
    std::fs::create_dir_all(&project).unwrap();
    for spec in ["good.iommu", "bad.iommu", "warns.iommu"] {
        std::fs::copy(root.join("tests/ui").join(spec), project.join(spec)).unwrap();
    }
}

#[test]
fn ui() {
    stage_specs();
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass_attribute.rs");
    t.pass("tests/ui/pass_include_spec.rs");
    t.compile_fail("tests/ui/cell_out_of_range.rs");
    t.compile_fail("tests/ui/bad_master_name.rs");
    t.compile_fail("tests/ui/contexts_all_reserved.rs");
    t.compile_fail("tests/ui/probe_unknown_field.rs");
    t.compile_fail("tests/ui/field_too_narrow.rs");
    t.compile_fail("tests/ui/child_key_cell.rs");
    t.compile_fail("tests/ui/unknown_argument.rs");
    t.compile_fail("tests/ui/extends_argument.rs");
    t.compile_fail("tests/ui/not_unit_struct.rs");
    t.compile_fail("tests/ui/include_spec_error.rs");
    t.compile_fail("tests/ui/unused_field_warns.rs");
    t.compile_fail("tests/ui/include_spec_warns.rs");
}
