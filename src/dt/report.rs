//! Run the runtime's boot flow over a blob and describe what it decided,
//! as data (`Report`), JSON, or a human report.

use iommugen_runtime::boot::{setup_master, setup_pci, MasterError};
use iommugen_runtime::configure::ConfigureError;
use iommugen_runtime::decl::DriverError;
use iommugen_runtime::dma::{DmaFacts, NodeDma};
use iommugen_runtime::fdt::{DeviceTree, Fdt, FdtError, Node, NodeEntry, PhandleEntry};
use iommugen_runtime::fwspec::FwSpec;
use iommugen_runtime::init::{iommu_init, IommuRecord, IommuState, IommuTable, TooManyIommus};
use iommugen_runtime::map_id::of_map_id;
use iommugen_runtime::master::NAME_LEN;
use iommugen_runtime::ops::{DmaOps, DomainInfo, DomainOwner, DomainTable};

use super::driver::SpecDriver;
use super::messages::{
    compatible_list, driver_error, failure_consequence, master_error, untranslated_note,
};
use super::platform;
use super::source::SourceLocation;
use super::specifier::{self, SpecifierEntry};
use super::translation::{self, Reason, Translation, Untranslated};
use super::Drivers;

mod group;
mod pci;
use iommugen_runtime::instances;
use pci::pci_entry;

/// IDs and IOMMU instances one master may have on the host (generous: the
/// host allocates, a kernel would size these to its boards).
pub const HOST_IDS: usize = 256;
pub const HOST_IOMMUS: usize = 16;
type HostFwSpec = FwSpec<HOST_IDS, HOST_IOMMUS>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IommuStatus {
    Initialised,
    Disabled,
    Unclaimed,
    Failed(String),
}

#[derive(Clone, Debug)]
pub struct IommuEntry {
    pub path: String,
    pub driver: Option<String>,
    pub status: IommuStatus,
    /// For a cache instance (its spec says `main property` and the node has
    /// it): the main instance whose contexts it uses, as Linux's IPMMU
    /// driver finds it (`None` when the tree has none).
    pub main: Option<String>,
    /// Whether the node is a cache instance.
    pub cache: bool,
    /// For a main instance: the cache instances that use it, in order.
    pub caches: Vec<String>,
    /// Where the node is in the `.dts` sources ([`Report::locate`]).
    pub source: Option<SourceLocation>,
}

#[derive(Clone, Debug)]
pub struct MasterEntry {
    pub path: String,
    pub translations: Vec<(String, Vec<u32>)>,
    pub dma_coherent: bool,
    /// `(base, size)` in bus addresses.
    pub dma_window: Option<(u64, u64)>,
    pub dma_mask: u64,
    /// Domain index when the master goes through an IOMMU.
    pub domain: Option<u32>,
    /// The driver's group (`group NAME`) the master is in, when attached.
    pub group: Option<String>,
    /// `(first, last)` IOVA the master's buffers get, when translated: its
    /// domain's (or group's) aperture within its DMA window.
    pub iova: Option<(u64, u64)>,
    /// Why a master without error runs untranslated.
    pub note: Option<String>,
    pub error: Option<String>,
    /// The ops Linux ends up with (`iommu`, `direct`, ...).
    pub translation: Translation,
    /// Why it is not translated; `None` when it is.
    pub untranslated: Option<Untranslated>,
    /// Each `iommus` entry with the IDs its `of_xlate` stored (only for a
    /// translated master).
    pub specifiers: Vec<SpecifierEntry>,
    /// Where the node is in the `.dts` sources ([`Report::locate`]).
    pub source: Option<SourceLocation>,
}

#[derive(Clone, Debug)]
pub struct PciEntry {
    pub host: String,
    pub rid: u32,
    pub iommu: Option<String>,
    /// The `iommu-map` output: the ID handed to `of_xlate` as its one cell.
    pub id: Option<u32>,
    /// What `of_xlate` stored in the fwspec for it (empty unless translated).
    pub ids: Vec<u32>,
    pub note: Option<String>,
    pub error: Option<String>,
    pub translation: Translation,
    pub untranslated: Option<Untranslated>,
    /// Where the host bridge's `iommu-map` is in the `.dts` sources.
    pub source: Option<SourceLocation>,
}

/// A problem in the tree, in the shape of `check`'s diagnostics.
#[derive(Clone, Debug)]
pub struct TreeDiagnostic {
    pub severity: &'static str,
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
    /// The node (path) and property the diagnostic is about, if any.
    pub node: Option<String>,
    pub property: Option<&'static str>,
    /// Where that is in the `.dts` sources ([`Report::locate`]).
    pub source: Option<SourceLocation>,
}

impl TreeDiagnostic {
    /// A diagnostic about `node` (and `property`), not yet located.
    pub fn about(
        severity: &'static str,
        code: &'static str,
        node: &str,
        property: Option<&'static str>,
        message: String,
    ) -> Self {
        TreeDiagnostic {
            severity,
            code,
            message,
            help: None,
            node: Some(node.to_owned()),
            property,
            source: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub iommus: Vec<IommuEntry>,
    pub masters: Vec<MasterEntry>,
    pub pci: Vec<PciEntry>,
    pub diagnostics: Vec<TreeDiagnostic>,
    pub domains: usize,
    /// The spec files the drivers came from, as the caller names them
    /// (the library does not read files; the CLI fills this in).
    pub specs: Vec<String>,
    /// The chip revision the deny lists were matched on
    /// ([`Drivers::with_soc_revision`]); `None`: unknown.
    pub soc_revision: Option<String>,
    /// Each context-holding instance the tree asks for contexts (`contexts`).
    pub contexts: Vec<super::contexts::ContextUse>,
}

impl Report {
    /// Any IOMMU failed, or any master or RID has an error.
    pub fn has_errors(&self) -> bool {
        self.iommus
            .iter()
            .any(|i| matches!(i.status, IommuStatus::Failed(_)))
            || self.masters.iter().any(|m| m.error.is_some())
            || self.pci.iter().any(|p| p.error.is_some())
    }
}

/// A requester ID to configure below a host bridge.
#[derive(Clone, Debug)]
pub struct RidQuery {
    pub host: String,
    pub rid: u32,
}

pub fn path_of(node: Node<'_>) -> String {
    let mut s = String::new();
    let _ = node.write_path(&mut s);
    s
}

/// Why no report could be made: the blob is not a usable device tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtError {
    /// The header, layout or structure block is malformed (the error names
    /// the offset where there is one).
    Tree(FdtError),
    /// Storage sized from the tree ran out (cannot happen with the sizes
    /// [`run`] measures; kept as a value rather than a panic).
    Iommus(TooManyIommus),
}

impl std::fmt::Display for DtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DtError::Tree(e) => e.fmt(f),
            DtError::Iommus(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for DtError {}

impl From<FdtError> for DtError {
    fn from(e: FdtError) -> Self {
        DtError::Tree(e)
    }
}

/// Run the flow on `blob` with `drivers`: index, `iommu_init`, then every
/// master and every RID. Per-master problems are in the report; only a
/// blob that cannot be read at all is an error.
pub fn run(blob: &[u8], drivers: &Drivers, rids: &[RidQuery]) -> Result<Report, DtError> {
    let table = drivers.table();
    let soc_revision = drivers.soc_revision();
    let drivers = drivers.drivers();
    let fdt = Fdt::new(blob)?;
    let (n, p) = DeviceTree::measure(&fdt)?;
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    let tree = DeviceTree::new(fdt, &mut nodes, &mut phandles)?;
    let mut records = vec![IommuRecord::EMPTY; tree.len()];
    let iommus = iommu_init(&tree, &[&table], &mut records).map_err(DtError::Iommus)?;
    let mut facts_store = vec![NodeDma::EMPTY; tree.len()];
    // Sized from the tree just above.
    let facts = DmaFacts::new(&tree, &mut facts_store).map_err(|_| {
        DtError::Tree(FdtError::TooManyNodes {
            capacity: tree.len(),
        })
    })?;
    let mut report = Report {
        soc_revision: soc_revision.map(str::to_owned),
        ..Report::default()
    };
    let mut domain_store = vec![DomainInfo::EMPTY; tree.len() + rids.len()];
    let mut per_instance = vec![0u32; iommus.records().len()];
    let mut domains = DomainTable::new(&mut domain_store, &mut per_instance).with_dma_facts(facts);

    describe_iommus(&tree, &iommus, drivers, &mut report);
    report.diagnostics.extend(super::socs::undecidable(
        &tree,
        &iommus,
        drivers,
        soc_revision,
    ));
    let mut fw = HostFwSpec::new();
    let mut needs = super::contexts::Needs::default();
    let populated = platform::populated(&tree);
    for node in tree
        .nodes()
        .filter(|n| platform::is_dma_master(*n, &populated))
    {
        let entry = master_entry(node, &iommus, &mut fw, &mut domains, drivers, &facts);
        if no_context(&entry.untranslated) {
            needs.refused(DomainOwner::Device(node.id()), fw.iommus(), &iommus, &tree);
        }
        if let Some(e) = &entry.error {
            // A configuring error is about the master's `iommus`; a setup
            // error (dma-ranges, domains) about the node.
            let property = match entry.translation {
                Translation::None => None,
                _ => Some("iommus"),
            };
            report.diagnostics.push(TreeDiagnostic::about(
                "error",
                "dt::E0303",
                &entry.path,
                property,
                format!("{}: {e}", entry.path),
            ));
        }
        report.masters.push(entry);
    }
    for q in rids {
        let entry = pci_entry(&tree, q, &iommus, &mut fw, &mut domains, drivers);
        if let (true, Some(host)) = (no_context(&entry.untranslated), tree.find_path(&q.host)) {
            let owner = DomainOwner::Pci {
                host: host.id(),
                rid: q.rid,
            };
            needs.refused(owner, fw.iommus(), &iommus, &tree);
        }
        if let Some(e) = &entry.error {
            report.diagnostics.push(TreeDiagnostic::about(
                "error",
                "dt::E0304",
                &entry.host,
                Some("iommu-map"),
                format!("{} RID {:#x}: {e}", q.host, q.rid),
            ));
        }
        report.pci.push(entry);
    }
    report.domains = domains.domains().len();
    report.contexts = needs.finish(domains.domains(), &iommus, &tree);
    Ok(report)
}

fn no_context(u: &Option<Untranslated>) -> bool {
    u.as_ref().is_some_and(|u| u.reason == Reason::NoContext)
}

fn describe_iommus(
    tree: &DeviceTree<'_>,
    iommus: &IommuTable<'_, '_>,
    drivers: &[SpecDriver],
    report: &mut Report,
) {
    let first = report.iommus.len();
    for r in iommus.records() {
        let Some(node) = tree.node(r.node) else {
            continue;
        };
        let path = path_of(node);
        let (driver, status) = match r.state {
            IommuState::Initialised { decl, .. } => {
                (Some(decl.driver.name()), IommuStatus::Initialised)
            }
            IommuState::Failed { decl, error } => {
                let why = match error {
                    DriverError::WrongCellCount { got } => {
                        format!(
                            "{}: #iommu-cells = <{got}> is not one the spec allows",
                            decl.driver.name()
                        )
                    }
                    other => driver_error(other, decl.driver.name(), &[]),
                };
                (
                    Some(decl.driver.name()),
                    IommuStatus::Failed(format!("init: {why}")),
                )
            }
            IommuState::Disabled { decl } => (decl.map(|d| d.driver.name()), IommuStatus::Disabled),
            IommuState::Unclaimed => (None, IommuStatus::Unclaimed),
        };
        // A cache instance that cannot come up is the `main` property's fault.
        let at_property = match r.state {
            IommuState::Failed {
                error: DriverError::NoMainInstance { property },
                ..
            } => Some(property),
            _ => None,
        };
        let spec = driver.and_then(|name| drivers.iter().find(|d| d.ir.name == name));
        let main_property = spec.and_then(SpecDriver::main_property);
        let cache = main_property.is_some_and(|p| instances::is_cache(node, p));
        let main = match (spec, main_property) {
            (Some(spec), Some(p)) if cache => {
                instances::main_instance(*tree, p, spec.family()).map(path_of)
            }
            _ => None,
        };
        match &status {
            IommuStatus::Failed(e) => {
                let d = TreeDiagnostic::about(
                    "error",
                    "dt::E0301",
                    &path,
                    at_property,
                    format!("{path}: {e}"),
                );
                report.diagnostics.push(match at_property {
                    Some(_) => d.help(
                        "add the family's main instance to the tree (a node its spec claims, without this property)",
                    ),
                    None => d,
                });
            }
            IommuStatus::Unclaimed => report.diagnostics.push(
                TreeDiagnostic::about(
                    "warning",
                    "dt::W0302",
                    &path,
                    Some("compatible"),
                    format!(
                        "{path}: no spec claims compatible {}",
                        compatible_list(node)
                    ),
                )
                .help("pass the spec of this IOMMU with --spec"),
            ),
            _ => {}
        }
        report.iommus.push(IommuEntry {
            path,
            driver: driver.map(str::to_owned),
            status,
            main,
            cache,
            caches: Vec::new(),
            source: None,
        });
    }
    // Each main instance lists the cache instances that use it.
    for i in first..report.iommus.len() {
        if let Some(main) = report.iommus[i].main.clone() {
            let cache = report.iommus[i].path.clone();
            if let Some(m) = report.iommus[first..].iter_mut().find(|m| m.path == main) {
                m.caches.push(cache);
            }
        }
    }
}

fn translations(fw: &HostFwSpec, tree: &DeviceTree<'_>) -> Vec<(String, Vec<u32>)> {
    fw.iommus()
        .iter()
        .map(|&n| {
            (
                tree.node(n).map(path_of).unwrap_or_default(),
                fw.ids_for(n).collect(),
            )
        })
        .collect()
}

fn master_entry(
    node: Node<'_>,
    iommus: &IommuTable<'_, '_>,
    fw: &mut HostFwSpec,
    domains: &mut DomainTable<'_>,
    drivers: &[SpecDriver],
    facts: &DmaFacts<'_>,
) -> MasterEntry {
    let tree = &node.tree();
    let path = path_of(node);
    let coherent = facts.is_coherent(node);
    let window = facts.dma_window(node).ok().flatten();
    let mut entry = MasterEntry {
        path,
        translations: vec![],
        dma_coherent: coherent,
        dma_window: window.map(|w| (w.base, w.size)),
        dma_mask: window.map_or(u64::MAX, |w| w.mask()),
        domain: None,
        group: None,
        iova: None,
        note: None,
        error: None,
        translation: Translation::None,
        untranslated: None,
        specifiers: vec![],
        source: None,
    };
    // Linux creates no device for a node whose own status is not okay
    // (of_device_is_available), so it is never configured: report it, but
    // neither configure it nor give it a domain.
    if !node.is_available() {
        let why = "status is not \"okay\": no device is created, so it is not configured";
        entry.note = Some(why.into());
        entry.untranslated = Some(Untranslated {
            reason: Reason::NotCreated,
            message: why.into(),
        });
        return entry;
    }
    match setup_master(node, iommus, fw, domains) {
        Ok(s) => {
            entry.translations = translations(fw, tree);
            let mut name = [0u8; NAME_LEN];
            let name = iommugen_runtime::devname::platform_name(node, &mut name).ok();
            entry.note = untranslated_note(s.configured, tree, name);
            if s.dma.ops == DmaOps::Identity {
                entry.note = Some(translation::IDENTITY_NOTE.into());
            }
            if let DmaOps::Iommu {
                domain,
                iova_base,
                iova_last,
            } = s.dma.ops
            {
                entry.domain = Some(domain.0);
                entry.iova = Some((iova_base, iova_last));
                entry.specifiers = specifier::entries(node, iommus);
            }
            if matches!(s.dma.ops, DmaOps::Iommu { .. } | DmaOps::Identity) {
                entry.group = group::name(fw, iommus);
            }
            let (t, reason) = translation::configured(s.configured, s.dma.ops);
            entry.translation = t;
            entry.untranslated = reason.map(|reason| Untranslated {
                reason,
                message: entry
                    .note
                    .clone()
                    .unwrap_or_else(|| "names no IOMMU: direct DMA".into()),
            });
        }
        Err(e) => {
            (entry.translation, entry.untranslated, entry.error) =
                failure(e, tree, iommus, drivers);
        }
    }
    entry
}

/// A master's (or requester's) failed set-up as the report shows it: its
/// translation, why it runs untranslated, and the error, if the failure is
/// the tree's mistake. Out of contexts, Linux logs and runs the master
/// untranslated: an outcome, not a mistake of the tree (`--lint` W0321
/// says it), so no error.
fn failure(
    e: MasterError,
    tree: &DeviceTree<'_>,
    iommus: &IommuTable<'_, '_>,
    drivers: &[SpecDriver],
) -> (Translation, Option<Untranslated>, Option<String>) {
    let message = master_error(e, tree, iommus, drivers);
    let (t, reason) = translation::failed(e, iommus);
    let untranslated = Untranslated {
        reason,
        message: failure_consequence(t, &message),
    };
    let error = (reason != Reason::NoContext).then_some(message);
    (t, Some(untranslated), error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every truncation and thousands of corruptions of a real-shaped blob
    /// through the whole host report: errors, never panics.
    #[test]
    fn corrupted_blobs_never_panic() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        // dtc missing or failing is a failure, never a skip: `.ci/setup`
        // installs it (Debian's `device-tree-compiler`).
        let out = std::process::Command::new("dtc")
            .args(["-q", "-I", "dts", "-O", "dtb", "-o", "-"])
            .arg(root.join("tests/dts/juno-mmu401.dts"))
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "dtc not found ({e}): install Debian's device-tree-compiler (bash .ci/setup)"
                )
            });
        assert!(
            out.status.success(),
            "dtc failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let blob = out.stdout;
        let spec = std::fs::read_to_string(root.join("examples/arm-smmu.iommu")).unwrap();
        let checked = iommugen_dsl::check_source("arm-smmu.iommu", &spec);
        let drivers = Drivers::from_specs(checked.spec);
        let rids = [RidQuery {
            host: "/pcie@40000000".into(),
            rid: 0x100,
        }];
        let good = run(&blob, &drivers, &rids).unwrap();
        assert!(!good.has_errors());
        for cut in (0..blob.len()).step_by(3) {
            let _ = run(&blob[..cut], &drivers, &rids);
        }
        let mut seed = 0x0ddb_a11c_afe0_f00du64;
        for _ in 0..5_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut bad = blob.clone();
            let i = (seed as usize) % bad.len();
            bad[i] = (seed >> 32) as u8;
            if let Ok(r) = run(&bad, &drivers, &rids) {
                let _ = r.to_json("fuzz", vec![]);
                let _ = r.to_human();
                let _ = super::super::lint(&bad, &drivers, &r);
            }
        }
    }
}
