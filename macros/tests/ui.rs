//! Compile-time behaviour of `#[iommu_driver]` and `include_spec!`: each
//! error case with its expected message (`ui/*.stderr`), and pass cases
//! that build and run. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p iommugen-macros --test ui` and review.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass_attribute.rs");
    t.pass("tests/ui/pass_include_spec.rs");
    t.compile_fail("tests/ui/cell_out_of_range.rs");
    t.compile_fail("tests/ui/field_too_narrow.rs");
    t.compile_fail("tests/ui/unknown_argument.rs");
    t.compile_fail("tests/ui/not_unit_struct.rs");
    t.compile_fail("tests/ui/include_spec_error.rs");
}
