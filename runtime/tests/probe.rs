//! The probe step (Linux's `probe_device`): after every specifier of a
//! master went through `of_xlate`, each driver of its fwspec sees its part
//! of it once and may refuse the master, which then runs untranslated.

mod common;
mod raw;

use common::*;
use iommugen_runtime::boot::setup_master;
use iommugen_runtime::configure::{of_iommu_configure, of_pci_iommu_configure, Configured};
use iommugen_runtime::decl::{
    Declaration, DomainPolicy, DriverError, DriverInfo, InstanceData, IommuDriver,
};
use iommugen_runtime::fdt::{Node, NodeId};
use iommugen_runtime::fwspec::{FwSpec, IdSink};
use iommugen_runtime::init::{iommu_init, IommuRecord};
use iommugen_runtime::master::Master;
use iommugen_runtime::ops::{DmaOps, DomainInfo, DomainTable};
use iommugen_runtime::probe::{ProbePolicy, ProbeRefusal, ProbeView, SameField};

/// A MediaTek-shaped driver: the cell is the ID, `larb << 5 | port`, and
/// its probe step wants one larb and one instance per master.
struct OneLarb;
const POLICY: ProbePolicy = ProbePolicy {
    one_instance: true,
    same: Some(SameField {
        name: "larb",
        shift: 5,
        width: 5,
    }),
};
impl IommuDriver for OneLarb {
    fn name(&self) -> &str {
        "one_larb"
    }
    fn info(&self) -> DriverInfo {
        info(DomainPolicy::PerInstance, true)
    }
    fn init(&self, _: Node<'_>) -> Result<InstanceData, DriverError> {
        Ok(InstanceData(0))
    }
    fn of_xlate(
        &self,
        _: &Master<'_>,
        _: Node<'_>,
        _: InstanceData,
        args: &[u32],
        ids: &mut IdSink<'_>,
    ) -> Result<(), DriverError> {
        for &a in args {
            ids.push(a)?;
        }
        Ok(())
    }
    fn probe_device(&self, _: &Master<'_>, fwspec: &ProbeView<'_>) -> Result<(), DriverError> {
        POLICY.check(fwspec).map_err(DriverError::ProbeRefused)
    }
}

/// A driver with no probe rule: the trait's default accepts.
struct Plain;
impl IommuDriver for Plain {
    fn name(&self) -> &str {
        "plain"
    }
    fn info(&self) -> DriverInfo {
        info(DomainPolicy::PerInstance, true)
    }
    fn init(&self, _: Node<'_>) -> Result<InstanceData, DriverError> {
        Ok(InstanceData(0))
    }
    fn of_xlate(
        &self,
        _: &Master<'_>,
        _: Node<'_>,
        _: InstanceData,
        args: &[u32],
        ids: &mut IdSink<'_>,
    ) -> Result<(), DriverError> {
        for &a in args {
            ids.push(a)?;
        }
        Ok(())
    }
}

static PROBE_TABLE: &[Declaration<'static>] = &[
    Declaration {
        compatible: "acme,one-larb",
        driver: &OneLarb,
    },
    Declaration {
        compatible: "acme,plain",
        driver: &Plain,
    },
];

fn tree() -> Vec<u8> {
    let mut b = TreeBuilder::new();
    b.begin("soc")
        .u32("#address-cells", 2)
        .u32("#size-cells", 2)
        .flag("ranges");
    for (name, compatible, phandle) in [
        ("iommu@10000", "acme,one-larb", 1),
        ("iommu@20000", "acme,one-larb", 2),
        ("iommu@30000", "acme,plain", 3),
    ] {
        b.begin(name)
            .strs("compatible", &[compatible])
            .u32("#iommu-cells", 1)
            .u32("phandle", phandle)
            .end();
    }
    // Larb 3, ports 0 and 1: accepted.
    b.begin("venc@1").cells("iommus", &[1, 0x60, 1, 0x61]).end();
    // Larbs 3 and 5 (the mt8173 encoder before Linux split it): refused.
    b.begin("venc@2")
        .cells("iommus", &[1, 0x60, 1, 0x61, 1, 0xa0])
        .end();
    // One larb, but on two instances of the driver: refused.
    b.begin("venc@3").cells("iommus", &[1, 0x60, 2, 0x61]).end();
    // One instance of each of two drivers: each sees its own part only.
    b.begin("venc@4").cells("iommus", &[1, 0x60, 3, 0xa0]).end();
    b.begin("pcie@5")
        .cells("iommu-map", &[0, 1, 0x60, 0x100])
        .end();
    b.end();
    b.finish()
}

#[test]
fn probe_step_refuses_after_every_specifier_was_read() {
    let blob = tree();
    with_tree(&blob, |t| {
        let mut records = vec![IommuRecord::EMPTY; t.len()];
        let table = iommu_init(&t, &[PROBE_TABLE], &mut records).unwrap();
        let node = |p: &str| t.find_path(p).unwrap();
        let first: NodeId = node("/soc/iommu@10000").id();
        let second: NodeId = node("/soc/iommu@20000").id();
        let mut fw = FwSpec::<8, 4>::new();

        let ok = of_iommu_configure(node("/soc/venc@1"), &table, &mut fw);
        assert_eq!(ok, Ok(Configured::Translated));
        assert_eq!(
            fw.all_ids().map(|(_, id)| id).collect::<Vec<_>>(),
            [0x60, 0x61]
        );

        // The third ID's larb (5) is not the first's (3): refused, and the
        // fwspec left empty, as for an of_xlate refusal.
        let two_larbs = of_iommu_configure(node("/soc/venc@2"), &table, &mut fw);
        assert_eq!(
            two_larbs,
            Ok(Configured::ProbeRefused {
                node: first,
                refusal: ProbeRefusal::FieldDiffers {
                    field: "larb",
                    first: 3,
                    other: 5,
                    first_id: 0x60,
                    other_id: 0xa0,
                },
            })
        );
        assert!(fw.is_empty());

        let two_instances = of_iommu_configure(node("/soc/venc@3"), &table, &mut fw);
        assert_eq!(
            two_instances,
            Ok(Configured::ProbeRefused {
                node: first,
                refusal: ProbeRefusal::SeveralInstances {
                    first,
                    other: second
                },
            })
        );

        // 0xa0 is larb 5, but on the plain driver's IOMMU: not compared.
        let mixed = of_iommu_configure(node("/soc/venc@4"), &table, &mut fw);
        assert_eq!(mixed, Ok(Configured::Translated));
        assert_eq!(fw.iommus().len(), 2);

        // A PCI function's single mapped ID passes the probe step too.
        let (c, mapped) = of_pci_iommu_configure(node("/soc/pcie@5"), 1, &table, &mut fw).unwrap();
        assert_eq!((c, mapped), (Configured::Translated, Some((first, 0x61))));
    });
}

#[test]
fn a_refused_master_gets_direct_dma_and_no_domain() {
    let blob = tree();
    with_tree(&blob, |t| {
        let mut records = vec![IommuRecord::EMPTY; t.len()];
        let table = iommu_init(&t, &[PROBE_TABLE], &mut records).unwrap();
        let mut fw = FwSpec::<8, 4>::new();
        let mut storage = [DomainInfo::EMPTY; 4];
        let mut slots = [0u32; 8];
        let mut domains = DomainTable::new(&mut storage, &mut slots);
        let venc = t.find_path("/soc/venc@2").unwrap();
        let setup = setup_master(venc, &table, &mut fw, &mut domains).unwrap();
        assert!(matches!(setup.configured, Configured::ProbeRefused { .. }));
        assert!(matches!(setup.dma.ops, DmaOps::Direct), "{:?}", setup.dma);
        assert!(domains.domains().is_empty());
    });
}

#[test]
fn the_policy_alone() {
    // No rule: everything passes; the field is read in place.
    let larb = SameField {
        name: "larb",
        shift: 5,
        width: 5,
    };
    assert_eq!(larb.of(0x3ff), 0x1f);
    assert_eq!(larb.of(0xa0), 5);
    let wide = SameField {
        name: "w",
        shift: 0,
        width: 32,
    };
    assert_eq!(wide.of(u32::MAX), u32::MAX);
    assert_eq!(ProbePolicy::ACCEPT, ProbePolicy::default());
    // An empty fwspec has nothing to refuse.
    let fw = FwSpec::<4, 2>::new();
    let all = |_: NodeId| true;
    assert_eq!(POLICY.check(&fw.probe_view(&all)), Ok(()));
}
