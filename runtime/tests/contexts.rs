//! Translation contexts (`runtime::contexts`): an IPMMU-like driver, main
//! and cache instances, 3 contexts with context 0 reserved. Written from
//! Linux's ipmmu-vmsa.c (ipmmu_domain_allocate_context on mmu->root,
//! -EBUSY past the last), not from a spec.

mod common;

use common::{info, with_tree, TreeBuilder};
use iommugen_runtime::boot::{setup_master, MasterError};
use iommugen_runtime::contexts::ContextPool;
use iommugen_runtime::decl::{
    Declaration, DomainPolicy, DriverError, DriverInfo, InstanceData, IommuDriver,
};
use iommugen_runtime::fdt::Node;
use iommugen_runtime::fwspec::{FwSpec, IdSink};
use iommugen_runtime::init::{iommu_init, IommuRecord};
use iommugen_runtime::master::Master;
use iommugen_runtime::ops::{DmaOps, DomainInfo, DomainTable, SetupError};

const MAIN: &str = "renesas,ipmmu-main";
const FAMILY: &[&str] = &["acme,ipmmu"];

/// Three contexts, the first reserved: two domains fit.
struct Ipmmu(DomainPolicy);
impl IommuDriver for Ipmmu {
    fn name(&self) -> &str {
        "ipmmu"
    }
    fn info(&self) -> DriverInfo {
        info(self.0, false)
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
    fn contexts(&self, iommu: Node<'_>) -> Option<ContextPool> {
        ContextPool::of(iommu, 3, 1, Some((MAIN, FAMILY)))
    }
}

static PER_INSTANCE: Ipmmu = Ipmmu(DomainPolicy::PerInstance);
static PER_DEVICE: Ipmmu = Ipmmu(DomainPolicy::PerDevice);

/// A main IPMMU at phandle 1, three cache IPMMUs (phandles 2..4), and a
/// master per cache plus a second one on the first cache.
fn tree() -> Vec<u8> {
    let mut b = TreeBuilder::new();
    b.begin("iommu@1000")
        .strs("compatible", &["acme,ipmmu"])
        .u32("#iommu-cells", 1)
        .u32("phandle", 1)
        .end();
    for i in 0..3u32 {
        b.begin(&format!("iommu@{:x}", 0x2000 + i * 0x1000))
            .strs("compatible", &["acme,ipmmu"])
            .u32("#iommu-cells", 1)
            .cells(MAIN, &[1, i])
            .u32("phandle", 2 + i)
            .end();
    }
    for (name, cache) in [
        ("dev@a000", 2),
        ("dev@b000", 3),
        ("dev@c000", 4),
        ("dev@d000", 2),
    ] {
        b.begin(name).cells("iommus", &[cache, 7]).end();
    }
    b.finish()
}

/// Each master's outcome, in tree order, under `driver`.
fn outcomes(driver: &'static Ipmmu) -> Vec<Result<DmaOps, MasterError>> {
    let blob = tree();
    let table = [Declaration {
        compatible: "acme,ipmmu",
        driver,
    }];
    with_tree(&blob, |tree| {
        let mut records = vec![IommuRecord::EMPTY; tree.len()];
        let iommus = iommu_init(&tree, &[&table], &mut records).unwrap();
        let mut store = vec![DomainInfo::EMPTY; 8];
        let mut per = vec![0; iommus.records().len()];
        let mut domains = DomainTable::new(&mut store, &mut per);
        let out = ["/dev@a000", "/dev@b000", "/dev@c000", "/dev@d000"]
            .iter()
            .map(|p| {
                let node = tree.find_path(p).unwrap();
                let mut fw = FwSpec::<8, 4>::new();
                setup_master(node, &iommus, &mut fw, &mut domains).map(|s| s.dma.ops)
            })
            .collect();
        // Contexts 1 and 2 of the main IPMMU, in attach order.
        let main = tree.find_path("/iommu@1000").unwrap().id();
        let held: Vec<_> = domains.domains().iter().map(|d| d.context).collect();
        assert_eq!(held, [Some((main, 1)), Some((main, 2))]);
        out
    })
}

#[test]
fn the_domain_past_the_last_context_is_refused() {
    let blob = tree();
    let main = with_tree(&blob, |t| t.find_path("/iommu@1000").unwrap().id());
    let no_context = Err(MasterError::Setup(SetupError::NoContext {
        host: main,
        total: 3,
        reserved: 1,
    }));
    // Per instance: the caches at 0x2000 and 0x3000 take contexts 1 and 2;
    // the third cache finds none; the second master of the first cache
    // shares its domain.
    let got = outcomes(&PER_INSTANCE);
    assert!(matches!(got[0], Ok(DmaOps::Iommu { .. })), "{got:?}");
    assert!(matches!(got[1], Ok(DmaOps::Iommu { .. })), "{got:?}");
    assert_eq!(got[2], no_context);
    assert!(matches!(got[3], Ok(DmaOps::Iommu { .. })), "{got:?}");
    // Per device: every master wants its own; the third and fourth fail.
    let got = outcomes(&PER_DEVICE);
    assert_eq!(got[2], no_context);
    assert_eq!(got[3], no_context);
    let message = SetupError::NoContext {
        host: main,
        total: 3,
        reserved: 1,
    }
    .to_string();
    assert!(message.contains("3, 1 reserved"), "{message}");
}

#[test]
fn a_cache_without_a_main_instance_has_no_pool() {
    let mut b = TreeBuilder::new();
    b.begin("iommu@2000")
        .strs("compatible", &["acme,ipmmu"])
        .u32("#iommu-cells", 1)
        .cells(MAIN, &[9])
        .end();
    b.begin("iommu@3000")
        .strs("compatible", &["acme,ipmmu"])
        .u32("#iommu-cells", 1)
        .end();
    let blob = b.finish();
    with_tree(&blob, |tree| {
        let cache = tree.find_path("/iommu@2000").unwrap();
        let main = tree.find_path("/iommu@3000").unwrap();
        let pool = ContextPool::of(cache, 8, 1, Some((MAIN, FAMILY))).unwrap();
        assert_eq!(pool.host, main.id());
        // A driver without main and cache instances holds its own.
        assert_eq!(ContextPool::of(cache, 1, 0, None).unwrap().host, cache.id());
        assert_eq!(ContextPool::of(cache, 8, 1, Some((MAIN, &["other"]))), None);
    });
}
