iommugen_macros::include_spec!("../../../../macros/tests/ui/bad.iommu");

fn main() {}
