//! Probe deferral in the boot flow (Linux's `-EPROBE_DEFER` for a master
//! whose IOMMU driver has not probed yet): masters behind an IOMMU whose
//! driver registers late, or whose hook fails and later succeeds, wait and
//! are configured by the retry that follows; a master behind an IOMMU no
//! driver ever claims is still waiting at the end, with the reason; the
//! retry order is the order they deferred in, as Linux's list is.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::*;
use iommugen_runtime::configure::Configured;
use iommugen_runtime::decl::{Declaration, DriverError, DriverInfo, InstanceData, IommuDriver};
use iommugen_runtime::deferred::{Deferred, Probe, ProbeError, WaitReason, Waiting};
use iommugen_runtime::fdt::{DeviceTree, Node, NodeId};
use iommugen_runtime::fwspec::{FwSpec, IdSink};
use iommugen_runtime::init::{iommu_init, iommu_retry, IommuRecord, IommuState};
use iommugen_runtime::ops::{DmaOps, DomainInfo, DomainTable};

/// An SMMUv3 whose hardware answers only from its second probe (a clock
/// that comes up late): the hook fails once, then succeeds.
struct Flaky;
static FLAKY_PROBES: AtomicU32 = AtomicU32::new(0);
impl IommuDriver for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    fn info(&self) -> DriverInfo {
        SmmuV3.info()
    }
    fn init(&self, node: Node<'_>) -> Result<InstanceData, DriverError> {
        if FLAKY_PROBES.fetch_add(1, Ordering::Relaxed) == 0 {
            return Err(DriverError::Other("clock not ready"));
        }
        SmmuV3.init(node)
    }
    fn of_xlate(
        &self,
        master: &iommugen_runtime::master::Master<'_>,
        iommu: Node<'_>,
        data: InstanceData,
        args: &[u32],
        ids: &mut IdSink<'_>,
    ) -> Result<(), DriverError> {
        SmmuV3.of_xlate(master, iommu, data, args, ids)
    }
}

/// The drivers built in (probed at `iommu_init`).
static EARLY: &[Declaration<'static>] = &[
    Declaration {
        compatible: "arm,mmu-500",
        driver: &ArmSmmu,
    },
    Declaration {
        compatible: "acme,flaky-smmu-v3",
        driver: &Flaky,
    },
];
/// A driver module loaded later.
static LATE: &[Declaration<'static>] = &[Declaration {
    compatible: "arm,smmu-v3",
    driver: &SmmuV3,
}];

/// IOMMUs: an MMU-500 (built in), an SMMUv3 (late driver), a flaky SMMUv3,
/// and one nobody drives. Masters behind each, in this order: late, flaky,
/// early, never, late again, and a PCI host behind the late one.
fn board() -> Vec<u8> {
    let mut b = TreeBuilder::new();
    for (name, compatible, phandle) in [
        ("iommu@1000", "arm,mmu-500", 1),
        ("iommu@2000", "arm,smmu-v3", 2),
        ("iommu@3000", "acme,flaky-smmu-v3", 3),
        ("iommu@4000", "acme,nobody-iommu", 4),
    ] {
        b.begin(name)
            .strs("compatible", &[compatible])
            .u32("#iommu-cells", 1)
            .u32("phandle", phandle)
            .end();
    }
    b.begin("dma@a000").cells("iommus", &[2, 0x21]).end();
    b.begin("gpu@b000").cells("iommus", &[3, 0x30]).end();
    b.begin("nic@c000").cells("iommus", &[1, 0x42]).end();
    b.begin("vpu@d000").cells("iommus", &[4, 0x5]).end();
    b.begin("isp@e000").cells("iommus", &[2, 0x22]).end();
    // Its one entry is missing the MMU-500's cell: an error, not a wait.
    b.begin("bad@10000").cells("iommus", &[1]).end();
    b.begin("pcie@f000")
        .str("device_type", "pci")
        .u32("#address-cells", 3)
        .u32("#size-cells", 2)
        .cells("iommu-map", &[0, 2, 0x1000, 0x100])
        .end();
    b.finish()
}

#[test]
fn deferred_masters_configure_after_a_late_driver_and_a_retried_hook() {
    FLAKY_PROBES.store(0, Ordering::Relaxed);
    let blob = board();
    with_tree(&blob, |tree: DeviceTree<'_>| {
        let node = |p: &str| tree.find_path(p).unwrap();
        let id = |p: &str| node(p).id();
        let mut records = vec![IommuRecord::EMPTY; tree.len()];
        let mut fw = FwSpec::<8, 4>::new();
        let mut d = vec![DomainInfo::EMPTY; 8];
        let mut slots = [Waiting::EMPTY; 8];
        let mut deferred = Deferred::new(&mut slots);
        let n;
        let mut per;
        {
            let iommus = iommu_init(&tree, &[EARLY], &mut records).unwrap();
            n = iommus.records().len();
            per = vec![0; n];
            let mut domains = DomainTable::new(&mut d, &mut per);
            let mut probe = |p: &str| deferred.probe(node(p), &iommus, &mut fw, &mut domains);
            assert_eq!(
                probe("/dma@a000"),
                Ok(Probe::Deferred {
                    iommu: id("/iommu@2000")
                })
            );
            assert_eq!(
                probe("/gpu@b000"),
                Ok(Probe::Deferred {
                    iommu: id("/iommu@3000")
                })
            );
            // Built-in IOMMU: configured now, not deferred.
            match probe("/nic@c000") {
                Ok(Probe::Configured(s)) => assert_eq!(s.configured, Configured::Translated),
                other => panic!("nic: {other:?}"),
            }
            assert_eq!(
                probe("/vpu@d000"),
                Ok(Probe::Deferred {
                    iommu: id("/iommu@4000")
                })
            );
            assert_eq!(
                probe("/isp@e000"),
                Ok(Probe::Deferred {
                    iommu: id("/iommu@2000")
                })
            );
            // A PCI function whose iommu-map lands on the late SMMUv3.
            assert_eq!(
                deferred.probe_pci(node("/pcie@f000"), 0x8, &iommus, &mut fw, &mut domains),
                Ok(Probe::Deferred {
                    iommu: id("/iommu@2000")
                })
            );
            // Not a deferral: an error stays an error.
            assert!(matches!(
                deferred.probe(node("/bad@10000"), &iommus, &mut fw, &mut domains),
                Err(ProbeError::Master(_))
            ));
            assert_eq!(deferred.waiting().len(), 5);
        }
        // The late driver registers, and every IOMMU that did not come up
        // is probed again: the SMMUv3 now has a driver, the flaky hook's
        // second attempt succeeds, nobody claims iommu@4000.
        let iommus = iommu_retry(&tree, &[EARLY, LATE], &mut records, n);
        assert!(matches!(
            iommus.get(id("/iommu@2000")).unwrap().state,
            IommuState::Initialised { .. }
        ));
        assert!(matches!(
            iommus.get(id("/iommu@3000")).unwrap().state,
            IommuState::Initialised { .. }
        ));
        assert!(matches!(
            iommus.get(id("/iommu@4000")).unwrap().state,
            IommuState::Unclaimed
        ));
        assert_eq!(
            FLAKY_PROBES.load(Ordering::Relaxed),
            2,
            "one retry of the failed hook"
        );
        let mut domains = DomainTable::new(&mut d, &mut per);
        let mut got: Vec<(NodeId, Option<u32>, Vec<u32>, DmaOps)> = Vec::new();
        deferred.retry(&tree, &iommus, &mut fw, &mut domains, |w, r, fw| {
            let s = r.expect("configured after the retry");
            assert_eq!(s.configured, Configured::Translated);
            let ids = fw.iommus().iter().flat_map(|&i| fw.ids_for(i)).collect();
            got.push((w.master, w.rid, ids, s.dma.ops));
        });
        // In the order they deferred; the PCI function's ID is the map's
        // output (RID 0x8 + 0x1000).
        let translated = |ops: &DmaOps| matches!(ops, DmaOps::Iommu { .. });
        assert_eq!(
            got.iter()
                .map(|g| (g.0, g.1, g.2.clone()))
                .collect::<Vec<_>>(),
            [
                (id("/dma@a000"), None, vec![0x21]),
                (id("/gpu@b000"), None, vec![0x30]),
                (id("/isp@e000"), None, vec![0x22]),
                (id("/pcie@f000"), Some(0x8), vec![0x1008]),
            ]
        );
        assert!(got.iter().all(|g| translated(&g.3)), "{got:?}");
        // Still waiting at the end: the VPU, because no driver claims its IOMMU.
        let left: Vec<(Waiting, WaitReason)> = deferred.why(&iommus).collect();
        assert_eq!(
            left,
            [(
                Waiting {
                    master: id("/vpu@d000"),
                    rid: None,
                    iommu: id("/iommu@4000"),
                },
                WaitReason::NoDriver
            )]
        );
        assert_eq!(left[0].1.to_string(), "no driver claims its IOMMU");
    });
}

/// A hook that keeps failing is the reason given; a full list refuses the
/// next master instead of dropping it.
#[test]
fn failed_hooks_are_the_reason_and_a_full_list_says_so() {
    static BROKEN: &[Declaration<'static>] = &[Declaration {
        compatible: "acme,broken-iommu",
        driver: &Broken,
    }];
    let mut b = TreeBuilder::new();
    b.begin("iommu@1000")
        .strs("compatible", &["acme,broken-iommu"])
        .u32("#iommu-cells", 1)
        .u32("phandle", 1)
        .end();
    b.begin("a@1").cells("iommus", &[1, 1]).end();
    b.begin("b@2").cells("iommus", &[1, 2]).end();
    let blob = b.finish();
    with_tree(&blob, |tree| {
        let mut records = vec![IommuRecord::EMPTY; tree.len()];
        let iommus = iommu_init(&tree, &[BROKEN], &mut records).unwrap();
        let mut fw = FwSpec::<8, 4>::new();
        let mut d = vec![DomainInfo::EMPTY; 4];
        let mut per = vec![0; iommus.records().len()];
        let mut domains = DomainTable::new(&mut d, &mut per);
        let mut slots = [Waiting::EMPTY; 1];
        let mut deferred = Deferred::new(&mut slots);
        let a = tree.find_path("/a@1").unwrap();
        let b = tree.find_path("/b@2").unwrap();
        assert!(matches!(
            deferred.probe(a, &iommus, &mut fw, &mut domains),
            Ok(Probe::Deferred { .. })
        ));
        assert_eq!(
            deferred.probe(b, &iommus, &mut fw, &mut domains),
            Err(ProbeError::Full { capacity: 1 })
        );
        let why: Vec<_> = deferred.why(&iommus).map(|(_, r)| r).collect();
        assert_eq!(
            why,
            [WaitReason::HookFailed(DriverError::Other(
                "no response from the hardware"
            ))]
        );
        // Retrying with the IOMMU still down changes nothing.
        let mut calls = 0;
        deferred.retry(&tree, &iommus, &mut fw, &mut domains, |_, _, _| calls += 1);
        assert_eq!((calls, deferred.waiting().len()), (0, 1));
    });
}
