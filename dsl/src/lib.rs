//! The iommugen DSL front end: `*.iommu` source in, checked [`ir::Spec`] out.

pub mod ir;
