//! The `no_std` runtime a kernel links: the boot flow of the seed's steps
//! (1)–(4) and the page-table engine.
//!
//! Boot order: index the tree ([`fdt::DeviceTree`]), initialise IOMMUs
//! ([`init::iommu_init`], step 2, with drivers from [`decl`], step 1), then
//! per master [`configure::of_iommu_configure`] (step 3) and
//! [`ops::arch_setup_dma_ops`] (step 4).
#![no_std]

#[cfg(feature = "refwalk")]
extern crate alloc;

pub mod boot;
pub mod configure;
pub mod contexts;
pub mod decl;
pub mod deferred;
pub mod devname;
pub mod dma;
pub mod domain;
pub mod fdt;
pub mod fwspec;
pub mod glob;
pub mod init;
pub mod instances;
pub mod iova;
pub mod map_id;
pub mod master;
pub mod msi;
pub mod ops;
pub mod pgtable;
pub mod probe;
pub mod prot;
#[cfg(feature = "refwalk")]
pub mod refwalk;
pub mod requests;
pub mod resv;
pub mod smmuv3;
pub mod virtio;

pub use linkme;
pub use prot::Prot;
