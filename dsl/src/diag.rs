//! Diagnostics: one value type for the terminal, build scripts and editors.
//!
//! A [`Diagnostic`] carries a stable [`Code`], a severity, a message that says
//! what is wrong, a help line that says how to fix it, and labelled byte spans.
//! It implements [`miette::Diagnostic`]; attach the source text with
//! [`Diagnostic::with_source`] to render it (see [`crate::render`]).

use core::fmt;

use crate::ir::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

macro_rules! codes {
    ($($variant:ident = $code:literal, $sev:ident, $what:literal;)*) => {
        /// Stable diagnostic codes. The printed form is `iommu::E0203`; codes are
        /// never reused for a different meaning.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
            /// `iommu::E0203`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => concat!("iommu::", $code),)* }
            }
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev,)* }
            }
            /// One line on what the code means (for the book and `--explain`-style help).
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $what,)* }
            }
        }
    };
}

codes! {
    Syntax = "E0001", Error, "syntax error";
    NumberTooLarge = "E0002", Error, "number does not fit in 64 bits";
    UnclosedBlock = "E0003", Error, "a `{` has no matching `}`";
    TooDeep = "E0004", Error, "expression nested deeper than the language allows";
    InvalidUtf8 = "E0005", Error, "spec file is not valid UTF-8";
    UnknownItem = "E0101", Error, "unknown item";
    RepeatedItem = "E0102", Error, "item given more than once";
    MissingItem = "E0103", Error, "required item missing";
    MissingInit = "E0104", Error, "driver has no `init` hook";
    DuplicateDriver = "E0105", Error, "two drivers with the same name";
    BadCellCount = "E0106", Error, "invalid `#iommu-cells` value";
    NotInExtension = "E0107", Error, "an extending driver restates part of its base";
    UnknownBase = "E0108", Error, "`extends` names no driver above it in the file";
    CellOutOfRange = "E0201", Error, "cell index beyond the declared cell count";
    BadBitRange = "E0202", Error, "bit range or shift outside a 32-bit cell";
    FieldTooNarrow = "E0203", Error, "field type narrower than the bits it takes";
    BadMask = "E0204", Error, "mask is not a run of low bits";
    UnknownField = "E0205", Error, "expression names no field";
    DuplicateField = "E0206", Error, "two fields with the same name";
    FieldMayBeMissing = "E0207", Error, "field has no value for some accepted cell count";
    BadFieldType = "E0208", Error, "field type is not u1..u32";
    IgnoreOverlap = "E0209", Error, "`ignore` names bits a field reads, or bits already ignored";
    IgnoreUnreadProperty = "E0210", Error, "`ignore` names a property no field reads";
    ChildKeyNotProperty = "E0211", Error, "`child` key is not a property of the child node";
    PackOverlap = "E0301", Error, "packed fields overlap";
    PackOverflow = "E0302", Error, "packed ID overflows 32 bits";
    BadPacking = "E0303", Error, "ID is not an OR of shifted fields";
    BadOutputSize = "E0401", Error, "output address size the Arm architecture does not define";
    NeedsLpa2 = "E0402", Error, "geometry needs FEAT_LPA2, which iommugen does not support";
    BadInputSize = "E0403", Error, "input address size out of range for the granule";
    BadBlockSize = "E0404", Error, "page or block size the granule cannot map";
    SizesMissGranule = "E0405", Error, "page sizes do not include the granule";
    PoolTooSmall = "E0406", Error, "page-table pool cannot hold one walk";
    BadGranule = "E0407", Error, "granule is not 4K, 16K or 64K";
    UnknownFormat = "E0408", Error, "unknown page-table format";
    ItemNotInFormat = "E0410", Error, "item the page-table format or request protocol does not have";
    UnknownVariant = "E0411", Error, "unknown generation or version of the format";
    TwoTranslations = "E0412", Error, "driver has both `page-table` and `requests`";
    UnknownProtocol = "E0413", Error, "unknown request protocol";
    BadAperture = "E0501", Error, "IOVA aperture empty, unaligned or outside the input range";
    UnknownDomainPolicy = "E0502", Error, "unknown DMA domain policy";
    DuplicateGroup = "E0503", Error, "two groups of one driver have the same name";
    TooManyGroups = "E0504", Error, "more groups than a master's IDs can carry (32)";
    PerGroupWithoutGroups = "E0505", Error, "`domain per-group` in a driver with no group";
    UnknownDefaultDomain = "E0506", Error, "unknown default domain type";
    TranslatedForCompatibles = "E0507", Error, "`default translated` with a `for compatible` list";
    DuplicateCompatible = "E0601", Error, "compatible string claimed by two drivers";
    PciNeedsOneCell = "E0602", Error, "a field cannot be computed from the single cell `iommu-map` gives";
    BadMasterName = "E0701", Error, "`allow masters` names a device name Linux never makes";
    DuplicateListEntry = "E0702", Error, "a name or SoC listed twice in `allow masters` or `deny soc`";
    BadDeniedSoc = "E0703", Error, "`deny soc` entry is not a machine compatible or revision pattern";
    ProbeUnknownField = "E0704", Error, "`master same` names no field of the driver";
    ProbeRepeated = "E0705", Error, "a `master` probe statement given more than once";
    ProbeFieldNotInId = "E0706", Error, "`master same` names a field not packed at one place in every ID";
    NoContexts = "E0901", Error, "`contexts 0`: a driver with no translation context";
    AllContextsReserved = "E0902", Error, "`contexts N reserved K` with K >= N: no context left for domains";
    ContextsTooMany = "E0903", Error, "`contexts` count does not fit in 32 bits";
    UnusedField = "W0001", Warning, "field is never used by a check or an ID";
    FieldWiderThanBits = "W0002", Warning, "field type wider than any of its sources";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A labelled span. The primary label is where the problem is; secondary
/// labels give context (the first definition of a repeated item).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
    pub primary: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    pub labels: Vec<Label>,
}

impl Diagnostic {
    /// A diagnostic with the code's own severity and one primary label.
    pub fn new(
        code: Code,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            help: None,
            labels: vec![Label {
                span,
                text: label.into(),
                primary: true,
            }],
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn secondary(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: text.into(),
            primary: false,
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The first primary label's span, if any (for sorting and editors).
    pub fn primary_span(&self) -> Option<Span> {
        self.labels
            .iter()
            .find(|l| l.primary)
            .or(self.labels.first())
            .map(|l| l.span.clone())
    }

    /// Pairs the diagnostic with its source so any miette handler can draw
    /// the labels (borrowed, not copied). [`crate::render`] does not use
    /// this: it shows an excerpt, which copes with lines of any length.
    pub fn with_source<'a>(&'a self, name: &'a str, source: &'a str) -> WithSource<'a> {
        WithSource {
            diag: self,
            source: Named { name, text: source },
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

fn miette_labels(d: &Diagnostic) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
    if d.labels.is_empty() {
        return None;
    }
    Some(Box::new(d.labels.iter().map(|l| {
        let span =
            miette::SourceSpan::new(l.span.start.into(), l.span.end.saturating_sub(l.span.start));
        let text = (!l.text.is_empty()).then(|| l.text.clone());
        if l.primary {
            miette::LabeledSpan::new_primary_with_span(text, span)
        } else {
            miette::LabeledSpan::new_with_span(text, span)
        }
    })))
}

fn miette_severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Warning => miette::Severity::Warning,
        Severity::Error => miette::Severity::Error,
    }
}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette_severity(self.severity))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        miette_labels(self)
    }
}

/// A [`Diagnostic`] with its source attached, ready for any miette handler.
#[derive(Debug)]
pub struct WithSource<'a> {
    diag: &'a Diagnostic,
    source: Named<'a>,
}

/// A borrowed source with a name (miette's `NamedSource` wants to own it).
#[derive(Debug)]
struct Named<'a> {
    name: &'a str,
    text: &'a str,
}

impl miette::SourceCode for Named<'_> {
    fn read_span<'b>(
        &'b self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'b> + 'b>, miette::MietteError> {
        let c = self.text.read_span(span, before, after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.to_owned(),
            c.data(),
            *c.span(),
            c.line(),
            c.column(),
            c.line_count(),
        )))
    }
}

impl fmt::Display for WithSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for WithSource<'_> {}

impl miette::Diagnostic for WithSource<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diag.code.as_str()))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette_severity(self.diag.severity))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        miette_labels(self.diag)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
}
