//! The bits of a specifier or property that make `of_xlate` refuse it,
//! computed once per driver (kept apart from the IR's types: `ir.rs` is
//! the contract, this is a derived view of it).

use super::{Driver, Source, Word};

/// Every refused mask of a driver, computed in one pass over its fields
/// (the accessors on [`Driver`] walk every field per call). The generator
/// and the `iommugen dt` interpreter use it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RefusedBits {
    /// Per specifier length: the refused mask of each cell, by index.
    cells: Vec<(u32, Vec<u32>)>,
    /// Per property some field reads, sorted by name.
    properties: Vec<(String, u32)>,
    /// Per master property some field reads, sorted by name.
    master_properties: Vec<(String, u32)>,
}

impl RefusedBits {
    /// [`Driver::refused_cell_bits`] for a length given to
    /// [`Driver::refused_bits`] (0 for any other).
    pub fn cell(&self, count: u32, index: u32) -> u32 {
        self.cells
            .iter()
            .find(|(n, _)| *n == count)
            .and_then(|(_, masks)| masks.get(index as usize).copied())
            .unwrap_or(0)
    }

    /// [`Driver::refused_property_bits`] (0 for a property no field reads).
    pub fn property(&self, name: &str) -> u32 {
        self.properties
            .binary_search_by(|(p, _)| p.as_str().cmp(name))
            .map_or(0, |i| self.properties[i].1)
    }

    /// The bits of master property `name` refused when a field takes its
    /// value from it (0 for a property no field reads).
    pub fn master_property(&self, name: &str) -> u32 {
        self.master_properties
            .binary_search_by(|(p, _)| p.as_str().cmp(name))
            .map_or(0, |i| self.master_properties[i].1)
    }
}

impl Driver {
    /// The refused masks for specifiers of each length in `counts`.
    pub fn refused_bits(&self, counts: &[u32]) -> RefusedBits {
        let mut dropped_cells = [0u32; 32];
        let mut dropped_props: std::collections::HashMap<&str, u32> = Default::default();
        let mut dropped_master: std::collections::HashMap<&str, u32> = Default::default();
        for d in &self.dropped {
            match &d.word {
                Word::Cell(i) => {
                    if let Some(m) = dropped_cells.get_mut(*i as usize) {
                        *m |= d.mask;
                    }
                }
                Word::Property(p) => *dropped_props.entry(p).or_default() |= d.mask,
                Word::MasterProperty(p) => *dropped_master.entry(p).or_default() |= d.mask,
            }
        }
        let cells = counts
            .iter()
            .map(|&n| {
                let mut read = vec![0u32; n as usize];
                for f in &self.fields {
                    for s in &f.sources {
                        match s {
                            Source::Cell { index, bits, .. } if *index < n => {
                                read[*index as usize] |= bits.mask();
                                break;
                            }
                            Source::Const { .. } => break,
                            _ => {}
                        }
                    }
                }
                let refused = (0..n as usize)
                    .map(|i| !read[i] & !dropped_cells.get(i).copied().unwrap_or(0))
                    .collect();
                (n, refused)
            })
            .collect();
        let mut read_props: std::collections::HashMap<&str, u32> = Default::default();
        let mut read_master: std::collections::HashMap<&str, u32> = Default::default();
        for s in self.fields.iter().flat_map(|f| &f.sources) {
            match s {
                Source::Property { name, bits, .. } => {
                    *read_props.entry(name).or_default() |= bits.mask();
                }
                Source::MasterProperty { name, bits, .. } => {
                    *read_master.entry(name).or_default() |= bits.mask();
                }
                _ => {}
            }
        }
        let refused = |read: std::collections::HashMap<&str, u32>,
                       dropped: &std::collections::HashMap<&str, u32>| {
            let mut v: Vec<(String, u32)> = read
                .into_iter()
                .map(|(p, read)| {
                    let dropped = dropped.get(p).copied().unwrap_or(0);
                    (p.to_owned(), !read & !dropped)
                })
                .collect();
            v.sort_unstable();
            v
        };
        let properties = refused(read_props, &dropped_props);
        let master_properties = refused(read_master, &dropped_master);
        RefusedBits {
            cells,
            properties,
            master_properties,
        }
    }
}
