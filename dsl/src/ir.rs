//! The checked intermediate form of a driver description.
//!
//! Everything downstream (the generator, the attribute macro, the host-side
//! boot-flow interpreter behind `iommugen dt`) consumes these types and never
//! the surface syntax. Values here have passed every check: cell indices are
//! in range, fields fit their bits, packings do not overlap, the page-table
//! geometry is one the Arm architecture allows. Consumers may rely on that and
//! need not re-check.
//!
//! Spans are byte ranges into the source the item came from (a `.iommu` file,
//! or the attribute's synthetic source); they let later stages point back at
//! the spec line that produced a generated item.

use core::ops::Range;

mod nodes;
pub use nodes::{ChildKey, ChildMatch, MainInstance};

/// A byte range into the source a checked item came from.
pub type Span = Range<usize>;

mod masters;
pub use masters::{AllowList, DeniedSoc, MasterPolicy};

mod refused;
pub use refused::RefusedBits;

mod contexts;
pub use contexts::Contexts;

mod probe;
pub use probe::{ProbePolicy, SameField};

mod dma;
pub use dma::{DmaPolicy, DomainGroup, DomainPolicy, MAX_GROUPS};

/// One checked source file: every driver it declares, in source order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    pub drivers: Vec<Driver>,
}

/// One IOMMU driver: its device-tree contract, its ID translation, and the
/// page-table format of the hardware it drives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Driver {
    /// Rust-style identifier, unique within a spec.
    pub name: String,
    /// Doc-comment lines (`///`), without the marker, in order.
    pub docs: Vec<String>,
    /// `compatible` strings this driver claims, in declaration order.
    pub compatibles: Vec<String>,
    /// The driver this one extends (`driver NAME extends BASE`), if any:
    /// every item but the name, docs, compatibles (and `init`, when the
    /// extending driver names its own) is then BASE's.
    pub extends: Option<String>,
    /// The `#iommu-cells` values this driver accepts.
    pub cells: CellCount,
    /// Named values extracted from the phandle arguments (and defaults).
    pub fields: Vec<Field>,
    /// Bits the spec declares the driver drops (`ignore`). Every other bit
    /// of a cell or property that no field reads is refused by `of_xlate`
    /// when set; see [`Driver::refused_cell_bits`].
    pub dropped: Vec<DroppedBits>,
    /// Conditions every master's IDs must satisfy; checked in order by
    /// `of_xlate` after all fields are extracted.
    pub checks: Vec<Check>,
    /// Child nodes the IOMMU node must have, one per `child` statement,
    /// checked in order by `of_xlate` after the checks (Qualcomm's context
    /// banks: the cell names a bank that must exist as a child).
    pub children: Vec<ChildMatch>,
    /// How fields pack into the 32-bit IDs kept per master (Linux's
    /// `fwspec->ids`). Each entry yields one ID per `of_xlate` call; empty for
    /// IOMMUs that identify a master by the phandle alone (Rockchip).
    pub ids: Vec<IdPacking>,
    /// PCI support: present when the driver may be the target of a host
    /// bridge's `iommu-map` (the mapped ID arrives as a single cell).
    pub pci: Option<PciSupport>,
    /// `main property "NAME";`: instances split into main ones, which host
    /// the translation contexts, and cache ones, whose node has `NAME`
    /// (Renesas R-Car Gen3/Gen4 IPMMUs and `renesas,ipmmu-main`).
    pub main: Option<MainInstance>,
    /// `contexts N reserved K;`: how many domains each main instance holds.
    pub contexts: Option<Contexts>,
    /// `master one instance;` / `master same FIELD;`: rules over all of a
    /// master's IDs, checked once its last specifier is read (Linux's
    /// `probe_device`); a master breaking one runs untranslated.
    pub probe: ProbePolicy,
    /// How IOVAs are translated: tables the IOMMU walks, or requests to the
    /// host; fixed at build time.
    pub translation: Translation,
    /// Domain policy and default IOVA aperture.
    pub dma: DmaPolicy,
    /// Rust path of the early-init hook (seed step 1), e.g. `crate::smmu::probe`.
    pub init: HookPath,
    /// Which masters may attach (`allow masters`, `deny soc`); by default
    /// every master may.
    pub masters: MasterPolicy,
    pub span: Span,
}

/// Allowed `#iommu-cells` values, sorted and deduplicated, never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellCount {
    pub allowed: Vec<u32>,
    pub span: Span,
}

impl CellCount {
    pub fn accepts(&self, n: u32) -> bool {
        self.allowed.contains(&n)
    }
    pub fn max(&self) -> u32 {
        self.allowed.iter().copied().max().unwrap_or(0)
    }
}

/// Index of a field in [`Driver::fields`].
pub type FieldId = usize;

/// A named ID field. Its value is the first available of `sources`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// Width in bits of the field's type (1..=32); every source's value fits.
    pub width: u8,
    /// Tried in order; the first available one gives the value. The last is
    /// always available (a constant, or a cell every accepted count has)
    /// unless the field is optional.
    pub sources: Vec<Source>,
    pub span: Span,
}

/// Where a field's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Bits `[bits.lsb, bits.lsb + bits.width)` of phandle argument `index`;
    /// available when the specifier has more than `index` cells.
    Cell {
        index: u32,
        bits: BitRange,
        span: Span,
    },
    /// Bits of a `u32` property of the IOMMU node (Arm SMMU's
    /// `stream-match-mask`); available when the node has the property.
    Property {
        name: String,
        bits: BitRange,
        span: Span,
    },
    /// Bits of a `u32` property of the master's own node; available when
    /// the master is a platform device whose node has it (a PCI function
    /// has no node of its own).
    MasterProperty {
        name: String,
        bits: BitRange,
        span: Span,
    },
    /// A constant; always available.
    Const { value: u32, span: Span },
}

/// A 32-bit word of input whose bits fields read: a specifier cell, a
/// `u32` property of the IOMMU node, or one of the master's node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Word {
    Cell(u32),
    Property(String),
    MasterProperty(String),
}

impl Source {
    /// The word this source reads and the bits of it, `None` for a constant.
    pub fn read(&self) -> Option<(Word, BitRange)> {
        match self {
            Source::Cell { index, bits, .. } => Some((Word::Cell(*index), *bits)),
            Source::Property { name, bits, .. } => Some((Word::Property(name.clone()), *bits)),
            Source::MasterProperty { name, bits, .. } => {
                Some((Word::MasterProperty(name.clone()), *bits))
            }
            Source::Const { .. } => None,
        }
    }

    fn reads(&self, word: &Word) -> Option<BitRange> {
        match (self, word) {
            (Source::Cell { index, bits, .. }, Word::Cell(i)) if index == i => Some(*bits),
            (Source::Property { name, bits, .. }, Word::Property(p)) if name == p => Some(*bits),
            (Source::MasterProperty { name, bits, .. }, Word::MasterProperty(p)) if name == p => {
                Some(*bits)
            }
            _ => None,
        }
    }
}

/// `ignore cell[0][31:16];`: bits of a word the driver drops, as Linux's
/// arm-smmu does with `FIELD_PREP`. Never overlaps bits a field reads, nor
/// another `ignore` of the same word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DroppedBits {
    pub word: Word,
    /// Non-zero.
    pub mask: u32,
    pub span: Span,
}

impl Driver {
    /// The bits of `word` the spec declares dropped (0 if none). The device
    /// tree lint warns on cells that have such bits set.
    pub fn dropped_bits(&self, word: &Word) -> u32 {
        self.dropped
            .iter()
            .filter(|d| d.word == *word)
            .fold(0, |m, d| m | d.mask)
    }

    /// The bits of cell `index` that fields read when the specifier has
    /// `count` cells. A field's chain is followed only as far as it can
    /// go with that count: past cells it lacks, past properties (the node
    /// may lack them), and no further than an available cell or a constant.
    pub fn read_cell_bits(&self, count: u32, index: u32) -> u32 {
        let word = Word::Cell(index);
        let mut read = 0;
        for f in &self.fields {
            for s in &f.sources {
                if let Some(bits) = s.reads(&word) {
                    read |= bits.mask();
                }
                let stops = match s {
                    Source::Cell { index: i, .. } => *i < count,
                    Source::Property { .. } | Source::MasterProperty { .. } => false,
                    Source::Const { .. } => true,
                };
                if stops {
                    break;
                }
            }
        }
        read
    }

    /// The bits of cell `index` that make `of_xlate` refuse a specifier of
    /// `count` cells when set: read by no field and not dropped.
    pub fn refused_cell_bits(&self, count: u32, index: u32) -> u32 {
        !self.read_cell_bits(count, index) & !self.dropped_bits(&Word::Cell(index))
    }

    /// The bits of property `name` that fields read, wherever it appears.
    pub fn read_property_bits(&self, name: &str) -> u32 {
        let word = Word::Property(name.to_owned());
        self.fields
            .iter()
            .flat_map(|f| &f.sources)
            .filter_map(|s| s.reads(&word))
            .fold(0, |m, b| m | b.mask())
    }

    /// The bits of property `name` that make `of_xlate` refuse a
    /// specifier when a field takes its value from the property and they
    /// are set: read by no field and not dropped.
    pub fn refused_property_bits(&self, name: &str) -> u32 {
        !self.read_property_bits(name) & !self.dropped_bits(&Word::Property(name.to_owned()))
    }
}

/// A contiguous bit range of a 32-bit cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitRange {
    pub lsb: u8,
    /// 1..=32, and `lsb + width <= 32`.
    pub width: u8,
}

impl BitRange {
    pub const WHOLE: BitRange = BitRange { lsb: 0, width: 32 };

    /// The range as a mask of the 32-bit word.
    pub fn mask(self) -> u32 {
        let ones = if self.width >= 32 {
            u32::MAX
        } else {
            (1u32 << self.width) - 1
        };
        ones.checked_shl(u32::from(self.lsb)).unwrap_or(0)
    }

    pub fn extract(self, word: u32) -> u32 {
        let shifted = word >> self.lsb;
        if self.width >= 32 {
            shifted
        } else {
            shifted & ((1u32 << self.width) - 1)
        }
    }
}

/// A condition over fields, with the source text for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub expr: Expr,
    /// The condition as written, e.g. `stream_id < 1 << 16`.
    pub text: String,
    pub span: Span,
}

/// Integer expressions over fields. Arithmetic is on `u64` so that shifts such
/// as `1 << 32` mean what they say; comparisons and logic yield 0 or 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Field(FieldId),
    Lit(u64),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Shl,
    Shr,
    BitAnd,
    BitOr,
    BitXor,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl BinOp {
    /// The operator's value under the IR's semantics, shared by every
    /// consumer (the generator's constant folding, the host interpreter
    /// behind `iommugen dt`) so they cannot disagree: `u64` arithmetic that
    /// wraps, shifts by 64 or more give 0, comparisons and logic give 0 or 1.
    pub fn apply(self, x: u64, y: u64) -> u64 {
        let shift = |f: fn(u64, u32) -> Option<u64>| {
            u32::try_from(y).ok().and_then(|s| f(x, s)).unwrap_or(0)
        };
        match self {
            BinOp::Add => x.wrapping_add(y),
            BinOp::Sub => x.wrapping_sub(y),
            BinOp::Mul => x.wrapping_mul(y),
            BinOp::Shl => shift(u64::checked_shl),
            BinOp::Shr => shift(u64::checked_shr),
            BinOp::BitAnd => x & y,
            BinOp::BitOr => x | y,
            BinOp::BitXor => x ^ y,
            BinOp::Lt => u64::from(x < y),
            BinOp::Le => u64::from(x <= y),
            BinOp::Gt => u64::from(x > y),
            BinOp::Ge => u64::from(x >= y),
            BinOp::Eq => u64::from(x == y),
            BinOp::Ne => u64::from(x != y),
            BinOp::And => u64::from(x != 0 && y != 0),
            BinOp::Or => u64::from(x != 0 || y != 0),
        }
    }
}

/// One 32-bit ID: the OR of fields shifted into place. Parts never overlap
/// and never pass bit 31.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdPacking {
    pub parts: Vec<PackPart>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackPart {
    pub field: FieldId,
    pub shift: u8,
}

/// PCI through the host bridge's `iommu-map` / `iommu-map-mask`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PciSupport {
    pub span: Span,
}

/// The translation-table format the hardware walks (only formats this
/// runtime implements reach the IR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// VMSAv8-64 long descriptors, stage 1.
    ArmLpaeS1,
    /// VMSAv8-64 long descriptors, stage 2.
    ArmLpaeS2,
    /// ARMv7 short descriptors; `mtk_ext`: MediaTek's PA bits 32-34
    /// (Linux's `IO_PGTABLE_QUIRK_ARM_MTK_EXT`).
    ArmV7s { mtk_ext: bool },
    /// Apple DART tables with 16K pages (Linux's io-pgtable-dart).
    AppleDart { generation: DartGeneration },
    /// Rockchip IOMMU directory and page tables; `version` 1 (32-bit PA)
    /// or 2 (40-bit PA, `rockchip,rk3568-iommu`).
    Rockchip { version: u8 },
    /// Samsung Exynos SysMMU tables; `version` is the major version 1 to 7
    /// (from 5 on, entries hold PA >> 4: 36-bit PA).
    ExynosSysmmu { version: u8 },
    /// Allwinner sun50i (H6) IOMMU tables: 4K pages, 32-bit PA.
    Sun50i,
    /// NVIDIA Tegra30-generation SMMU tables (the memory controller's
    /// SMMU): 4K pages, 32-bit IOVA; the generation fixes the PA width.
    TegraSmmu { generation: TegraGeneration },
}

impl Format {
    /// The name the DSL gives the format.
    pub fn dsl_name(self) -> &'static str {
        match self {
            Format::ArmLpaeS1 => "arm-lpae-s1",
            Format::ArmLpaeS2 => "arm-lpae-s2",
            Format::ArmV7s { .. } => "arm-v7s",
            Format::AppleDart { .. } => "apple-dart",
            Format::Rockchip { .. } => "rockchip",
            Format::ExynosSysmmu { .. } => "exynos-sysmmu",
            Format::Sun50i => "sun50i",
            Format::TegraSmmu { .. } => "tegra-smmu",
        }
    }
}

/// The DART hardware generation, which decides the entry encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DartGeneration {
    /// DART1 (`apple,t8103-dart`, M1): 36-bit PA in place.
    T8103,
    /// DART2 (`apple,t6000-dart`, M1 Pro/Max): 42-bit PA shifted by 4.
    T6000,
}

impl DartGeneration {
    /// The name `generation` takes in the DSL.
    pub fn dsl_name(self) -> &'static str {
        match self {
            DartGeneration::T8103 => "t8103",
            DartGeneration::T6000 => "t6000",
        }
    }
    /// The runtime's generation parameter (`AppleDart<GEN, _>`): 1 or 2.
    pub fn number(self) -> u8 {
        match self {
            DartGeneration::T8103 => 1,
            DartGeneration::T6000 => 2,
        }
    }
}

/// The Tegra SoC whose memory controller holds the SMMU, which decides the
/// physical address width of its entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TegraGeneration {
    Tegra30,
    Tegra114,
    Tegra124,
    Tegra132,
    Tegra210,
}

impl TegraGeneration {
    /// Every generation, in the runtime's order
    /// (`formats::tegra_smmu::GENERATIONS`).
    pub const ALL: [TegraGeneration; 5] = [
        TegraGeneration::Tegra30,
        TegraGeneration::Tegra114,
        TegraGeneration::Tegra124,
        TegraGeneration::Tegra132,
        TegraGeneration::Tegra210,
    ];

    /// The name `generation` takes in the DSL.
    pub fn dsl_name(self) -> &'static str {
        iommugen_runtime::pgtable::legal::tegra_smmu::GENERATIONS[self as usize]
    }

    /// Physical address bits: 32 (Tegra30, Tegra114) or 34.
    pub fn pa_bits(self) -> u8 {
        iommugen_runtime::pgtable::legal::tegra_smmu::oas(self as usize) as u8
    }
}

/// How a driver's IOVAs become physical addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Translation {
    /// Tables in memory that the IOMMU walks (`page-table FORMAT { }`).
    Tables(PageTable),
    /// Map/unmap requests sent to the host, which keeps the tables
    /// (`requests virtio-iommu { }`).
    Requests(HostRequests),
}

impl Translation {
    /// The smallest page the domain maps.
    pub fn granule(&self) -> Granule {
        match self {
            Translation::Tables(pt) => pt.granule,
            Translation::Requests(r) => r.granule,
        }
    }
    /// Input (IOVA) address size in bits.
    pub fn ias(&self) -> u8 {
        match self {
            Translation::Tables(pt) => pt.ias,
            Translation::Requests(r) => r.ias,
        }
    }
    pub fn page_table(&self) -> Option<&PageTable> {
        match self {
            Translation::Tables(pt) => Some(pt),
            Translation::Requests(_) => None,
        }
    }
    pub fn span(&self) -> &Span {
        match self {
            Translation::Tables(pt) => &pt.span,
            Translation::Requests(r) => &r.span,
        }
    }
}

/// The request protocol of a `requests` block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// virtio-iommu MAP/UNMAP requests (virtio spec, "IOMMU device").
    VirtioIommu,
}

/// `requests PROTOCOL { }`: the device offers these pages and input range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostRequests {
    pub protocol: Protocol,
    /// Smallest page size the domain uses (the device's page-size mask must
    /// include it).
    pub granule: Granule,
    /// Input (IOVA) address size in bits, up to 64.
    pub ias: u8,
    /// Mapping sizes requests may use, ascending, each a power of two at
    /// least the granule.
    pub page_sizes: Vec<u64>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granule {
    K4,
    K16,
    K64,
}

impl Granule {
    pub fn bytes(self) -> u64 {
        match self {
            Granule::K4 => 4 << 10,
            Granule::K16 => 16 << 10,
            Granule::K64 => 64 << 10,
        }
    }
    pub fn shift(self) -> u32 {
        match self {
            Granule::K4 => 12,
            Granule::K16 => 14,
            Granule::K64 => 16,
        }
    }
}

/// Page-table geometry, all fixed at build time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageTable {
    pub format: Format,
    pub granule: Granule,
    /// Input (IOVA) address size in bits.
    pub ias: u8,
    /// Output (physical) address size in bits.
    pub oas: u8,
    /// Page and block sizes the engine may use, ascending; always contains the
    /// granule, and every entry is a size the granule can map at some level
    /// within `ias`.
    pub page_sizes: Vec<u64>,
    /// The walker snoops CPU caches: no cache maintenance after writing
    /// descriptors.
    pub coherent_walk: bool,
    /// Tables in the static pool (each one granule in size).
    pub pool_tables: u32,
    pub span: Span,
}

/// A Rust path such as `crate::smmu_v3::probe`, split on `::`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookPath {
    pub segments: Vec<String>,
    pub span: Span,
}

impl HookPath {
    pub fn to_path_string(&self) -> String {
        self.segments.join("::")
    }
}
