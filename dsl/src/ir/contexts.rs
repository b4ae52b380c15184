//! `contexts N reserved K;`: the translation contexts of a main instance.
//!
//! Renesas IPMMUs translate through a fixed set of contexts on the main
//! IPMMU (Linux's `ipmmu_features.number_of_contexts`; context 0 kept
//! back where `reserved_context` is set). Each domain attached takes one
//! (`ipmmu_domain_allocate_context`), and an attach past the last fails
//! with `-EBUSY`.

use super::Span;

/// Contexts per main instance (the instance itself for a driver without
/// `main property`); domains get `reserved..total` in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contexts {
    /// Contexts the hardware has (`N`, at least 1).
    pub total: u32,
    /// The first ones kept from domains (`K`, below `N`).
    pub reserved: u32,
    pub span: Span,
}

impl Contexts {
    /// How many domains one main instance can hold.
    pub fn usable(&self) -> u32 {
        self.total - self.reserved
    }
}
