iommugen_macros::include_spec!("bad.iommu");

fn main() {}
