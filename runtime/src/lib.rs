//! The `no_std` runtime a kernel links: the boot flow of the seed's steps
//! (1)–(4) and the page-table engine.
#![no_std]

pub mod domain;
pub mod prot;

pub use prot::Prot;
