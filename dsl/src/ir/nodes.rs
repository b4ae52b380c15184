//! The parts of a driver that read other nodes than the IOMMU node's own
//! properties: child nodes (`child`) and a family's main instance (`main
//! property`).

use super::{BitRange, FieldId, Span};

/// `child "COMPAT", … where FIELD == KEY else KEY …;`: `of_xlate` refuses
/// a specifier unless the IOMMU node has an available child (`status`
/// absent or okay, as Linux's `of_platform_populate` creates devices only
/// for those) compatible with one of `compatibles` whose key equals the
/// field. A child's key is the first of `key` it has; a child with none
/// matches nothing. Reading a key follows Linux's `of_property_read_u32`:
/// the first cell of a property at least one cell long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildMatch {
    /// Non-empty, in the order written.
    pub compatibles: Vec<String>,
    pub field: FieldId,
    /// Non-empty; tried in order on each child.
    pub key: Vec<ChildKey>,
    /// The statement as written after `child`, for error messages, e.g.
    /// `"qcom,msm-iommu-v1-ns" where asid == property "reg" >> 12`.
    pub text: String,
    pub span: Span,
}

/// Bits of a property of a child node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildKey {
    pub property: String,
    pub bits: BitRange,
    pub span: Span,
}

impl ChildKey {
    /// The key of a child whose property holds `first_cell`.
    pub fn value(&self, first_cell: u32) -> u32 {
        self.bits.extract(first_cell)
    }
}

/// `main property "NAME";`. A node of the driver that has `NAME` is a
/// cache instance: `NAME` holds a phandle (and maybe cells Linux does not
/// read) to the main instance whose contexts it uses. A node without it is
/// a main instance: it hosts contexts and is not an IOMMU masters may name
/// (Linux registers only the cache IPMMUs with the IOMMU core). A cache
/// instance comes up only once a main instance of the same family (a node
/// a driver of the same spec claims, without `NAME`) exists, as Linux's
/// `ipmmu_probe` defers until `ipmmu_find_root` finds one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MainInstance {
    pub property: String,
    pub span: Span,
}
