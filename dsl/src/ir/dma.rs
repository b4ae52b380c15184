//! `dma { }` in the IR: how a driver's masters share domains (policy,
//! groups, sharing across instances), their apertures and default domain.

use super::Expr;
use super::Span;

/// How DMA domains are shared (the seed's "one domain per device" item).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainPolicy {
    /// One domain per IOMMU instance, shared by its masters (the seed).
    PerInstance,
    /// One domain per master: isolation.
    PerDevice,
    /// Only masters in one of the driver's groups attach (Linux's
    /// `device_group` fails for the others, which keep direct DMA).
    PerGroup,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmaPolicy {
    pub domain: DomainPolicy,
    /// Default IOVA aperture `[base, base + size)`; inside the input range.
    pub aperture_base: u64,
    pub aperture_size: u64,
    /// IOMMU groups, in the order they are tried (at most [`MAX_GROUPS`]).
    pub groups: Vec<DomainGroup>,
    /// Masters get an identity (pass-through) default domain.
    pub identity_default: bool,
    /// Masters with one of these compatibles do (`default identity for
    /// compatible ..`); the others are translated.
    pub identity_compatibles: Vec<String>,
    /// The driver's instances share their domains (`shared-domains`).
    pub shared_domains: bool,
    pub span: Span,
}

/// Most groups one driver may declare: a master's IDs carry one bit each.
pub const MAX_GROUPS: usize = 32;

/// `group NAME [aperture ..] where COND;`: the masters whose every ID
/// satisfies `cond` share one domain per IOMMU instance (Linux's
/// `device_group` handing out one group per class of master).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainGroup {
    pub name: String,
    /// The condition over fields, evaluated for each specifier's ID.
    pub cond: Expr,
    /// The condition as written.
    pub text: String,
    /// The group's IOVA aperture `(base, size)`; `None`: the driver's.
    pub aperture: Option<(u64, u64)>,
    pub span: Span,
}

impl DmaPolicy {
    /// The IOVA aperture `(base, size)` of `group`: its own, else the
    /// driver's.
    pub fn aperture_of(&self, group: &DomainGroup) -> (u64, u64) {
        group
            .aperture
            .unwrap_or((self.aperture_base, self.aperture_size))
    }
}
