//! An [`IommuDriver`] that interprets a checked [`ir::Driver`]: the same
//! field extraction, checks and ID packing that generated `of_xlate` code
//! performs, evaluated at run time.

use iommugen_dsl::ir::{self, Expr, Source};
use iommugen_runtime::contexts::ContextPool;
use iommugen_runtime::decl::{
    DomainPolicy, DriverError, DriverInfo, GroupInfo, InstanceData, IommuDriver, SpecWord,
};
use iommugen_runtime::fdt::Node;
use iommugen_runtime::fwspec::IdSink;
use iommugen_runtime::instances;
use iommugen_runtime::master::{DeniedSoc, Master, MasterPolicy};
use iommugen_runtime::probe::{ProbePolicy, ProbeView, SameField};

/// A spec's driver, ready to be registered.
pub struct SpecDriver {
    pub ir: ir::Driver,
    /// The names of the properties its fields read, leaked for the
    /// `&'static str` that [`DriverError::UnreadBits`] carries (a CLI run
    /// leaks its drivers anyway).
    properties: Vec<&'static str>,
    /// The same for master properties.
    master_properties: Vec<&'static str>,
    /// What `of_xlate` refuses, for every length it accepts.
    refused: ir::RefusedBits,
    /// `allow masters` / `deny soc` as the runtime checks them (names
    /// leaked for the `'static` the policy holds).
    policy: MasterPolicy<'static>,
    /// The chip's revision the policy's deny list is matched on (leaked
    /// with the rest); `None`: unknown.
    soc_revision: Option<&'static str>,
    /// Each `child` statement's text and compatibles, leaked for the
    /// `&'static str`s [`DriverError::NoChild`] and the runtime's
    /// `Node::children_compatible` take.
    children: Vec<(&'static str, Vec<&'static str>)>,
    /// `main property`: the property, and the compatibles of the family
    /// (the drivers of its spec) a main instance must be claimed by.
    main: Option<(&'static str, Vec<&'static str>)>,
    /// `master one instance` / `master same FIELD` as the runtime checks
    /// them (the field's name leaked for the `'static` it holds).
    probe: ProbePolicy,
    /// `default identity for compatible ..` as a set: a master's few
    /// compatibles are looked up, so a long list costs nothing per master.
    identity_for: std::collections::HashSet<Vec<u8>>,
}

/// The IR's probe policy as the runtime's.
fn runtime_probe(p: &ir::ProbePolicy) -> ProbePolicy {
    ProbePolicy {
        one_instance: p.one_instance.is_some(),
        same: p.same.as_ref().map(|s| SameField {
            name: String::leak(s.name.clone()),
            shift: s.shift,
            width: s.width,
        }),
    }
}

/// The IR's master policy as the runtime's, its strings leaked.
fn runtime_policy(p: &ir::MasterPolicy) -> MasterPolicy<'static> {
    let leak = |s: &String| -> &'static str { String::leak(s.clone()) };
    let allow = p.allow.as_ref().map(|a| {
        let names: Vec<&'static str> = a.names.iter().map(leak).collect();
        &*Vec::leak(names)
    });
    let deny: Vec<DeniedSoc<'static>> = p
        .deny
        .iter()
        .map(|d| DeniedSoc {
            machine: leak(&d.machine),
            revision: d.revision.as_ref().map(leak),
        })
        .collect();
    MasterPolicy {
        allow,
        deny: Vec::leak(deny),
    }
}

impl SpecDriver {
    /// A driver alone: its own compatibles are its family.
    pub fn new(ir: ir::Driver) -> Self {
        let family = ir.compatibles.clone();
        Self::with_family(ir, &family)
    }

    /// A driver of a spec whose drivers claim `family` (where a cache
    /// instance's main instance is looked for).
    pub fn with_family(ir: ir::Driver, family: &[String]) -> Self {
        let mut properties: Vec<&'static str> = Vec::new();
        let mut master_properties: Vec<&'static str> = Vec::new();
        for s in ir.fields.iter().flat_map(|f| &f.sources) {
            let (list, name) = match s {
                Source::Property { name, .. } => (&mut properties, name),
                Source::MasterProperty { name, .. } => (&mut master_properties, name),
                _ => continue,
            };
            if !list.contains(&name.as_str()) {
                list.push(String::leak(name.clone()));
            }
        }
        let policy = runtime_policy(&ir.masters);
        let mut counts = ir.cells.allowed.clone();
        if ir.pci.is_some() && !counts.contains(&1) {
            // `iommu-map` hands a PCI master's ID over as one cell.
            counts.push(1);
        }
        let refused = ir.refused_bits(&counts);
        let children = ir
            .children
            .iter()
            .map(|c| {
                let compatibles = c
                    .compatibles
                    .iter()
                    .map(|s| &*String::leak(s.clone()))
                    .collect();
                (&*String::leak(c.text.clone()), compatibles)
            })
            .collect();
        let main = ir.main.as_ref().map(|m| {
            let family = family.iter().map(|c| &*String::leak(c.clone())).collect();
            (&*String::leak(m.property.clone()), family)
        });
        let probe = runtime_probe(&ir.probe);
        let identity_for = ir
            .dma
            .identity_compatibles
            .iter()
            .map(|c| c.as_bytes().to_vec())
            .collect();
        SpecDriver {
            ir,
            probe,
            identity_for,
            properties,
            master_properties,
            refused,
            policy,
            soc_revision: None,
            children,
            main,
        }
    }

    /// See [`super::Drivers::with_soc_revision`].
    pub(super) fn set_soc_revision(&mut self, revision: Option<&'static str>) {
        self.soc_revision = revision;
    }

    /// Refuses bits of the specifier's cells that no field reads and the
    /// spec does not drop, as generated `of_xlate` does before any field.
    fn refuse_unread_cells(&self, args: &[u32]) -> Result<(), DriverError> {
        let count = args.len() as u32;
        for (index, &cell) in (0u32..).zip(args) {
            let unread = cell & self.refused.cell(count, index);
            if unread != 0 {
                return Err(DriverError::UnreadBits {
                    word: SpecWord::Cell(index),
                    bits: unread,
                });
            }
        }
        Ok(())
    }

    /// `value` of property `name` (of the master's node when `master`),
    /// taken by a field: refused if it has bits set that no field reads
    /// and the spec does not drop.
    fn refuse_unread_property(
        &self,
        name: &str,
        master: bool,
        value: u32,
    ) -> Result<(), DriverError> {
        let (refused, names) = if master {
            (self.refused.master_property(name), &self.master_properties)
        } else {
            (self.refused.property(name), &self.properties)
        };
        let unread = value & refused;
        if unread == 0 {
            return Ok(());
        }
        let name = names.iter().copied().find(|p| *p == name).unwrap_or("?");
        Err(DriverError::UnreadBits {
            word: if master {
                SpecWord::MasterProperty(name)
            } else {
                SpecWord::Property(name)
            },
            bits: unread,
        })
    }

    /// Which masters the driver lets attach, as the runtime checks it.
    pub fn policy(&self) -> &MasterPolicy<'static> {
        &self.policy
    }

    /// Refuses the specifier unless each `child` statement finds its child:
    /// an available child of one of its compatibles whose key (the first
    /// key property it has, bits selected) equals the field.
    fn find_children(&self, iommu: Node<'_>, fields: &[u64]) -> Result<(), DriverError> {
        for (c, (text, compatibles)) in self.ir.children.iter().zip(&self.children) {
            let want = fields.get(c.field).copied().unwrap_or(0);
            let found = iommu.children_compatible(compatibles).any(|child| {
                let key = c
                    .key
                    .iter()
                    .find_map(|k| child.first_u32(&k.property).map(|v| k.value(v)));
                key.map(u64::from) == Some(want)
            });
            if !found {
                return Err(DriverError::NoChild {
                    child: text,
                    key: want,
                });
            }
        }
        Ok(())
    }

    /// The `main` property, if the spec splits instances into main and
    /// cache ones.
    pub fn main_property(&self) -> Option<&'static str> {
        self.main.as_ref().map(|(p, _)| *p)
    }

    /// The family's compatibles (the drivers of the spec).
    pub fn family(&self) -> &[&'static str] {
        self.main.as_ref().map_or(&[], |(_, f)| f.as_slice())
    }

    /// The text of check `index`, for error messages.
    pub fn check_text(&self, index: u16) -> Option<&str> {
        self.ir.checks.get(index as usize).map(|c| c.text.as_str())
    }

    pub fn field_name(&self, index: u16) -> Option<&str> {
        self.ir.fields.get(index as usize).map(|f| f.name.as_str())
    }

    /// Field values for one specifier, in order: the first available
    /// source of each, a property's unread bits refused as it is taken.
    fn fields(
        &self,
        master: &Master<'_>,
        iommu: Node<'_>,
        args: &[u32],
    ) -> Result<Vec<u64>, DriverError> {
        let mut values = Vec::with_capacity(self.ir.fields.len());
        for (i, field) in self.ir.fields.iter().enumerate() {
            let mut value = None;
            for s in &field.sources {
                value = match s {
                    Source::Cell { index, bits, .. } => {
                        args.get(*index as usize).map(|&c| bits.extract(c))
                    }
                    Source::Property { name, bits, .. } => match iommu.u32_property(name) {
                        Some(v) => {
                            self.refuse_unread_property(name, false, v)?;
                            Some(bits.extract(v))
                        }
                        None => None,
                    },
                    // A PCI function has no node of its own.
                    Source::MasterProperty { name, bits, .. } => match master
                        .pci_function()
                        .map_or_else(|| master.node().u32_property(name), |_| None)
                    {
                        Some(v) => {
                            self.refuse_unread_property(name, true, v)?;
                            Some(bits.extract(v))
                        }
                        None => None,
                    },
                    Source::Const { value, .. } => Some(*value),
                };
                if value.is_some() {
                    break;
                }
            }
            let value = value.ok_or(DriverError::MissingField { field: i as u16 })?;
            values.push(u64::from(value));
        }
        Ok(values)
    }
}

/// Evaluate a check expression on `u64` (shifts of 64 or more give 0;
/// arithmetic wraps, as generated code with `wrapping_*` does).
///
/// Post-order with explicit stacks rather than recursion: the IR is public,
/// so the expression need not have come through the checker's depth limit.
pub fn eval(expr: &Expr, fields: &[u64]) -> u64 {
    enum Step<'e> {
        Visit(&'e Expr),
        Not,
        Apply(ir::BinOp),
    }
    let mut todo = vec![Step::Visit(expr)];
    let mut values: Vec<u64> = Vec::with_capacity(8);
    while let Some(step) = todo.pop() {
        match step {
            Step::Visit(Expr::Field(i)) => values.push(fields.get(*i).copied().unwrap_or(0)),
            Step::Visit(Expr::Lit(v)) => values.push(*v),
            Step::Visit(Expr::Not(e)) => {
                todo.push(Step::Not);
                todo.push(Step::Visit(e));
            }
            Step::Visit(Expr::Binary(op, a, b)) => {
                todo.push(Step::Apply(*op));
                todo.push(Step::Visit(b));
                todo.push(Step::Visit(a));
            }
            Step::Not => {
                let v = values.pop().unwrap_or(0);
                values.push(u64::from(v == 0));
            }
            Step::Apply(op) => {
                let y = values.pop().unwrap_or(0);
                let x = values.pop().unwrap_or(0);
                values.push(op.apply(x, y));
            }
        }
    }
    values.pop().unwrap_or(0)
}

impl IommuDriver for SpecDriver {
    fn name(&self) -> &str {
        &self.ir.name
    }

    fn info(&self) -> DriverInfo {
        DriverInfo {
            domain: match self.ir.dma.domain {
                ir::DomainPolicy::PerInstance => DomainPolicy::PerInstance,
                ir::DomainPolicy::PerDevice => DomainPolicy::PerDevice,
                ir::DomainPolicy::PerGroup => DomainPolicy::PerGroup,
            },
            aperture_base: self.ir.dma.aperture_base,
            aperture_size: self.ir.dma.aperture_size,
            pci: self.ir.pci.is_some(),
            granule: self.ir.translation.granule().bytes(),
            identity_default: self.ir.dma.identity_default,
            shared_domains: self.ir.dma.shared_domains,
        }
    }

    fn identity_for(&self, master: Node<'_>) -> bool {
        !self.identity_for.is_empty()
            && master
                .property("compatible")
                .is_some_and(|p| p.strings().any(|s| self.identity_for.contains(s)))
    }

    fn group(&self, index: u32) -> Option<GroupInfo<'_>> {
        let g = self.ir.dma.groups.get(usize::try_from(index).ok()?)?;
        let (aperture_base, aperture_size) = self.ir.dma.aperture_of(g);
        Some(GroupInfo {
            name: &g.name,
            aperture_base,
            aperture_size,
        })
    }

    /// On the host there is no hardware to probe: the hook checks what a
    /// real probe would rely on, the node's `#iommu-cells`.
    fn init(&self, node: Node<'_>) -> Result<InstanceData, DriverError> {
        let Some(prop) = node.property("#iommu-cells") else {
            return Err(DriverError::Other("no #iommu-cells property"));
        };
        let Some(cells) = prop.as_u32() else {
            return Err(DriverError::Other("#iommu-cells is not a single cell"));
        };
        if !self.ir.cells.accepts(cells) {
            return Err(DriverError::WrongCellCount { got: cells });
        }
        if let Some((property, family)) = &self.main {
            if instances::is_cache(node, property)
                && instances::main_instance(node.tree(), property, family).is_none()
            {
                return Err(DriverError::NoMainInstance { property });
            }
        }
        Ok(InstanceData(node.id().0 as usize))
    }

    fn of_xlate(
        &self,
        master: &Master<'_>,
        iommu: Node<'_>,
        _data: InstanceData,
        args: &[u32],
        ids: &mut IdSink<'_>,
    ) -> Result<(), DriverError> {
        self.policy
            .admit_on(master, self.soc_revision)
            .map_err(DriverError::MasterRefused)?;
        if let Some((property, _)) = &self.main {
            if !instances::is_cache(iommu, property) {
                return Err(DriverError::MainInstance { property });
            }
        }
        let count = args.len() as u32;
        let from_pci_map = self.ir.pci.is_some() && count == 1;
        if !(self.ir.cells.accepts(count) || from_pci_map) {
            return Err(DriverError::WrongCellCount { got: count });
        }
        self.refuse_unread_cells(args)?;
        let fields = self.fields(master, iommu, args)?;
        for (i, check) in self.ir.checks.iter().enumerate() {
            if eval(&check.expr, &fields) == 0 {
                return Err(DriverError::CheckFailed { check: i as u16 });
            }
        }
        self.find_children(iommu, &fields)?;
        // The groups this specifier's fields satisfy, a bit each.
        let groups = self
            .ir
            .dma
            .groups
            .iter()
            .enumerate()
            .take(ir::MAX_GROUPS)
            .filter(|(_, g)| eval(&g.cond, &fields) != 0)
            .fold(0u32, |m, (i, _)| m | 1 << i);
        for packing in &self.ir.ids {
            let id = packing.parts.iter().fold(0u64, |acc, p| {
                acc | fields.get(p.field).copied().unwrap_or(0) << p.shift
            });
            // The checker guarantees parts stay below bit 32.
            ids.push_in(id as u32, groups)?;
        }
        Ok(())
    }

    /// The probe policy, checked by the runtime as generated drivers do.
    fn probe_device(
        &self,
        _master: &Master<'_>,
        fwspec: &ProbeView<'_>,
    ) -> Result<(), DriverError> {
        self.probe.check(fwspec).map_err(DriverError::ProbeRefused)
    }

    /// `contexts N reserved K`, drawn from the main instance's pool for a
    /// cache instance, as generated drivers do.
    fn contexts(&self, iommu: Node<'_>) -> Option<ContextPool> {
        let c = self.ir.contexts.as_ref()?;
        let main = self
            .main
            .as_ref()
            .map(|(property, family)| (*property, family.as_slice()));
        ContextPool::of(iommu, c.total, c.reserved, main)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iommugen_dsl::ir::BinOp;
    use iommugen_dsl::ir::Expr::{Binary, Field, Lit, Not};

    fn b(op: BinOp, x: Expr, y: Expr) -> Expr {
        Binary(op, Box::new(x), Box::new(y))
    }

    #[test]
    fn eval_follows_u64_semantics() {
        let f = [0x10_0000u64, 3];
        // stream_id < 1 << 20 with stream_id = 2^20: false.
        assert_eq!(
            eval(&b(BinOp::Lt, Field(0), b(BinOp::Shl, Lit(1), Lit(20))), &f),
            0
        );
        // 1 << 32 is 2^32 in u64, not 0 as in u32.
        assert_eq!(eval(&b(BinOp::Shl, Lit(1), Lit(32)), &f), 1 << 32);
        // Shifts of 64 or more give 0 rather than panicking.
        assert_eq!(eval(&b(BinOp::Shl, Lit(1), Lit(64)), &f), 0);
        assert_eq!(eval(&b(BinOp::Sub, Lit(0), Lit(1)), &f), u64::MAX);
        assert_eq!(eval(&Not(Box::new(Field(1))), &f), 0);
        assert_eq!(eval(&b(BinOp::And, Field(1), Lit(0)), &f), 0);
        assert_eq!(eval(&b(BinOp::Or, Field(1), Lit(0)), &f), 1);
        // A field index past the end reads as 0.
        assert_eq!(eval(&Field(9), &f), 0);
    }

    /// An IR built without the checker, a million levels deep each way,
    /// evaluates on a 2 MiB test thread.
    #[test]
    fn eval_does_not_recurse() {
        let (mut left, mut right, mut not) = (Field(1), Field(1), Field(1));
        for _ in 0..1_000_000 {
            left = b(BinOp::Add, left, Lit(1));
            right = b(BinOp::Sub, Lit(1), right);
            not = Not(Box::new(not));
        }
        let f = [0, 3];
        assert_eq!(eval(&left, &f), 1_000_003);
        // 1 - (1 - (... - 3)): an even count of subtractions gives 3 back.
        assert_eq!(eval(&right, &f), 3);
        // An even count of `!` normalises 3 to 1.
        assert_eq!(eval(&not, &f), 1);
    }
}
