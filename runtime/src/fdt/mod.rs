//! A small flattened-device-tree reader built for the boot flow.
//!
//! Why not an existing crate: `fdt` 0.1.5 panics (`assert!`, `unwrap`,
//! `expect`) on malformed structure blocks, has no parent links (needed to
//! walk `dma-ranges` and `dma-coherent` up the tree) and finds phandles by a
//! linear scan, which makes configuring 100,000 masters quadratic. This reader
//! indexes the tree once into caller-provided storage ([`DeviceTree`]) and
//! never panics on input: every read is bounds-checked and returns an error.

mod blob;
mod index;
mod prop;

pub use blob::{Block, Fdt, FdtError, Token, TokenCursor};
pub use index::PhandleError;
pub use index::{DeviceTree, Node, NodeEntry, NodeId, PhandleEntry};
pub use prop::{Cells, Property, PropertyIter, StrList};
