//! An [`IommuDriver`] that interprets a checked [`ir::Driver`]: the same
//! field extraction, checks and ID packing that generated `of_xlate` code
//! performs, evaluated at run time.

use iommugen_dsl::ir::{self, Expr, Source};
use iommugen_runtime::decl::{
    Declaration, DomainPolicy, DriverError, DriverInfo, InstanceData, IommuDriver,
};
use iommugen_runtime::fdt::Node;
use iommugen_runtime::fwspec::IdSink;

/// A spec's driver, ready to be registered.
pub struct SpecDriver {
    pub ir: ir::Driver,
}

impl SpecDriver {
    /// The text of check `index`, for error messages.
    pub fn check_text(&self, index: u16) -> Option<&str> {
        self.ir.checks.get(index as usize).map(|c| c.text.as_str())
    }

    pub fn field_name(&self, index: u16) -> Option<&str> {
        self.ir.fields.get(index as usize).map(|f| f.name.as_str())
    }

    /// Field values for one specifier (`None`: no source available).
    fn fields(&self, iommu: Node<'_>, args: &[u32]) -> Result<Vec<u64>, DriverError> {
        self.ir
            .fields
            .iter()
            .enumerate()
            .map(|(i, field)| {
                field
                    .sources
                    .iter()
                    .find_map(|s| source_value(s, iommu, args))
                    .map(u64::from)
                    .ok_or(DriverError::MissingField { field: i as u16 })
            })
            .collect()
    }
}

fn source_value(source: &Source, iommu: Node<'_>, args: &[u32]) -> Option<u32> {
    match source {
        Source::Cell { index, bits, .. } => args.get(*index as usize).map(|&c| bits.extract(c)),
        Source::Property { name, bits, .. } => iommu.u32_property(name).map(|v| bits.extract(v)),
        Source::Const { value, .. } => Some(*value),
    }
}

/// Evaluate a check expression on `u64` (shifts of 64 or more give 0;
/// arithmetic wraps, as generated code with `wrapping_*` does).
pub fn eval(expr: &Expr, fields: &[u64]) -> u64 {
    match expr {
        Expr::Field(i) => fields.get(*i).copied().unwrap_or(0),
        Expr::Lit(v) => *v,
        Expr::Not(e) => u64::from(eval(e, fields) == 0),
        Expr::Binary(op, a, b) => op.apply(eval(a, fields), eval(b, fields)),
    }
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
            },
            aperture_base: self.ir.dma.aperture_base,
            aperture_size: self.ir.dma.aperture_size,
            pci: self.ir.pci.is_some(),
            granule: self.ir.translation.granule().bytes(),
        }
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
        Ok(InstanceData(node.id().0 as usize))
    }

    fn of_xlate(
        &self,
        iommu: Node<'_>,
        _data: InstanceData,
        args: &[u32],
        ids: &mut IdSink<'_>,
    ) -> Result<(), DriverError> {
        let count = args.len() as u32;
        let from_pci_map = self.ir.pci.is_some() && count == 1;
        if !(self.ir.cells.accepts(count) || from_pci_map) {
            return Err(DriverError::WrongCellCount { got: count });
        }
        let fields = self.fields(iommu, args)?;
        for (i, check) in self.ir.checks.iter().enumerate() {
            if eval(&check.expr, &fields) == 0 {
                return Err(DriverError::CheckFailed { check: i as u16 });
            }
        }
        for packing in &self.ir.ids {
            let id = packing.parts.iter().fold(0u64, |acc, p| {
                acc | fields.get(p.field).copied().unwrap_or(0) << p.shift
            });
            // The checker guarantees parts stay below bit 32.
            ids.push(id as u32)?;
        }
        Ok(())
    }
}

/// Leak the drivers and their declaration rows for the life of the process
/// (a CLI run), giving the `'static` table the runtime's entry type wants.
pub fn declarations(
    drivers: Vec<ir::Driver>,
) -> (&'static [SpecDriver], &'static [Declaration<'static>]) {
    let drivers: &'static [SpecDriver] =
        Vec::leak(drivers.into_iter().map(|ir| SpecDriver { ir }).collect());
    let rows: Vec<Declaration<'static>> = drivers
        .iter()
        .flat_map(|d| {
            d.ir.compatibles.iter().map(move |c| Declaration {
                compatible: c.as_str(),
                driver: d as &dyn IommuDriver,
            })
        })
        .collect();
    (drivers, Vec::leak(rows))
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
}
