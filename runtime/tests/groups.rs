//! Domain groups and identity default domains in the boot flow, with a
//! hand-written MediaTek-like driver (Linux's mtk_iommu_device_group: the
//! first IOVA region holding every port a master uses is its group, each
//! region its own aperture, a master in none gets no IOMMU) and a
//! Tegra-like one (tegra_smmu_device_group's shared "drm" group,
//! tegra_smmu_def_domain_type's identity default). Not from a spec.

mod common;

use common::{info, with_tree, TreeBuilder};
use iommugen_runtime::boot::{setup_master, MasterError};
use iommugen_runtime::decl::{
    Declaration, DomainPolicy, DriverError, DriverInfo, GroupInfo, InstanceData, IommuDriver,
};
use iommugen_runtime::fdt::Node;
use iommugen_runtime::fwspec::{FwSpec, IdSink};
use iommugen_runtime::init::{iommu_init, IommuRecord};
use iommugen_runtime::master::Master;
use iommugen_runtime::ops::{DmaOps, DomainInfo, DomainOwner, DomainTable, SetupError};

/// The cell is `larb << 5 | port`; region 0 is larbs 0-1, region 1 larb 4
/// (4 GiB up), "ccu" larb 13 ports 9-10 (a 64 MiB window).
struct Regions {
    policy: DomainPolicy,
    identity: bool,
    shared: bool,
}

const GROUPS: [GroupInfo<'static>; 3] = [
    GroupInfo {
        name: "region0",
        aperture_base: 0x1000,
        aperture_size: 0xff7f_f000,
    },
    GroupInfo {
        name: "region1",
        aperture_base: 0x1_0000_0000,
        aperture_size: 0xff80_0000,
    },
    GroupInfo {
        name: "ccu",
        aperture_base: 0x2_4000_0000,
        aperture_size: 0x400_0000,
    },
];

impl IommuDriver for Regions {
    fn name(&self) -> &str {
        "regions"
    }
    fn info(&self) -> DriverInfo {
        DriverInfo {
            identity_default: self.identity,
            shared_domains: self.shared,
            ..info(self.policy, false)
        }
    }
    fn group(&self, index: u32) -> Option<GroupInfo<'_>> {
        GROUPS.get(index as usize).copied()
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
        let [cell] = args else {
            return Err(DriverError::WrongCellCount {
                got: args.len() as u32,
            });
        };
        let (larb, port) = (cell >> 5, cell & 0x1f);
        let mut groups = 0;
        if larb <= 1 {
            groups |= 1;
        }
        if larb == 4 {
            groups |= 2;
        }
        if larb == 13 && (port == 9 || port == 10) {
            groups |= 4;
        }
        ids.push_in(*cell, groups)?;
        Ok(())
    }
}

static PER_GROUP: Regions = Regions {
    policy: DomainPolicy::PerGroup,
    identity: false,
    shared: false,
};
static PER_DEVICE: Regions = Regions {
    policy: DomainPolicy::PerDevice,
    identity: false,
    shared: false,
};
static IDENTITY: Regions = Regions {
    policy: DomainPolicy::PerDevice,
    identity: true,
    shared: false,
};
static SHARED: Regions = Regions {
    policy: DomainPolicy::PerGroup,
    identity: false,
    shared: true,
};

const MASTERS: [(&str, &[u32]); 7] = [
    ("ovl@a000", &[0, 1]),           // larb 0: region0
    ("vdec@b000", &[0x80]),          // larb 4: region1
    ("vdec@c000", &[0x81]),          // larb 4: region1, shared
    ("ccu@d000", &[0x1a9, 0x1aa]),   // larb 13 ports 9, 10: ccu
    ("mixed@e000", &[0x1a9, 0x1a0]), // ports 9 and 0: no group holds both
    ("lonely@f000", &[0x60]),        // larb 3: no group
    ("disp@10000", &[0x20]),         // larb 1: region0
];

/// Two M4Us (phandles 1 and 2); every master on the first, and one more
/// on the second with a region-0 port.
fn tree() -> Vec<u8> {
    let mut b = TreeBuilder::new();
    for (name, phandle) in [("iommu@1000", 1), ("iommu@2000", 2)] {
        b.begin(name)
            .strs("compatible", &["acme,m4u"])
            .u32("#iommu-cells", 1)
            .u32("phandle", phandle)
            .end();
    }
    for (name, cells) in MASTERS {
        let iommus: Vec<u32> = cells.iter().flat_map(|&c| [1, c]).collect();
        b.begin(name).cells("iommus", &iommus).end();
    }
    b.begin("other@20000").cells("iommus", &[2, 0]).end();
    b.finish()
}

struct Outcome {
    ops: Vec<Result<DmaOps, MasterError>>,
    domains: Vec<DomainInfo>,
    first: iommugen_runtime::fdt::NodeId,
    second: iommugen_runtime::fdt::NodeId,
}

fn boot(driver: &'static Regions) -> Outcome {
    let blob = tree();
    let table = [Declaration {
        compatible: "acme,m4u",
        driver,
    }];
    with_tree(&blob, |tree| {
        let mut records = vec![IommuRecord::EMPTY; tree.len()];
        let iommus = iommu_init(&tree, &[&table], &mut records).unwrap();
        let mut store = vec![DomainInfo::EMPTY; 16];
        let mut per = vec![0; iommus.records().len()];
        let mut domains = DomainTable::new(&mut store, &mut per);
        let ops = MASTERS
            .iter()
            .map(|(name, _)| format!("/{name}"))
            .chain(["/other@20000".to_owned()])
            .map(|p| {
                let node = tree.find_path(&p).unwrap();
                let mut fw = FwSpec::<8, 4>::new();
                setup_master(node, &iommus, &mut fw, &mut domains).map(|s| s.dma.ops)
            })
            .collect();
        Outcome {
            ops,
            domains: domains.domains().to_vec(),
            first: tree.find_path("/iommu@1000").unwrap().id(),
            second: tree.find_path("/iommu@2000").unwrap().id(),
        }
    })
}

fn domain(ops: &Result<DmaOps, MasterError>) -> (u32, u64, u64) {
    match ops {
        Ok(DmaOps::Iommu {
            domain,
            iova_base,
            iova_last,
        }) => (domain.0, *iova_base, *iova_last),
        other => panic!("not translated: {other:?}"),
    }
}

#[test]
fn masters_share_their_group_domain_inside_its_aperture() {
    let o = boot(&PER_GROUP);
    let (ovl, vdec, vdec2, ccu, disp, other) = (
        domain(&o.ops[0]),
        domain(&o.ops[1]),
        domain(&o.ops[2]),
        domain(&o.ops[3]),
        domain(&o.ops[6]),
        domain(&o.ops[7]),
    );
    // One domain per group and instance, in the group's aperture.
    assert_eq!(ovl, (ovl.0, 0x1000, 0xff7f_ffff));
    assert_eq!(vdec, (vdec.0, 0x1_0000_0000, 0x1_ff7f_ffff));
    assert_eq!(vdec2, vdec);
    assert_eq!(ccu, (ccu.0, 0x2_4000_0000, 0x2_43ff_ffff));
    assert_eq!(disp, ovl);
    let mut ids = vec![ovl.0, vdec.0, ccu.0, other.0];
    ids.dedup();
    assert_eq!(ids.len(), 4, "the second M4U's region 0 is its own");
    let owner = |d: u32| o.domains[d as usize].owner;
    assert_eq!(
        owner(vdec.0),
        DomainOwner::Group {
            instance: o.first,
            group: 1
        }
    );
    assert_eq!(
        owner(other.0),
        DomainOwner::Group {
            instance: o.second,
            group: 0
        }
    );
    assert_eq!(o.domains.len(), 4);
    // No group holds both ports, or the larb: no IOMMU.
    for i in [4, 5] {
        assert_eq!(
            o.ops[i],
            Err(MasterError::Setup(SetupError::NoGroup { node: o.first })),
            "{}",
            MASTERS[i].0
        );
    }
}

#[test]
fn ungrouped_masters_follow_the_domain_policy() {
    let o = boot(&PER_DEVICE);
    // Grouped masters still share; the two ungrouped ones get a domain
    // each, in the driver's aperture.
    assert_eq!(domain(&o.ops[1]), domain(&o.ops[2]));
    let (mixed, lonely) = (domain(&o.ops[4]), domain(&o.ops[5]));
    assert_ne!(mixed.0, lonely.0);
    assert_eq!((mixed.1, mixed.2), (0, (1 << 48) - 1));
    assert!(matches!(
        o.domains[mixed.0 as usize].owner,
        DomainOwner::Device(_)
    ));
}

#[test]
fn identity_default_passes_dma_through_without_a_domain() {
    let o = boot(&IDENTITY);
    // Every grouped or ungrouped master: identity, no domain made.
    for (i, ops) in o.ops.iter().enumerate() {
        assert_eq!(*ops, Ok(DmaOps::Identity), "{i}");
    }
    assert!(o.domains.is_empty());
}

/// Many groups of many instances: finding a group's domain walks only
/// its instance's chain.
#[test]
fn group_domains_are_found_per_instance() {
    let o = boot(&PER_GROUP);
    for d in &o.domains {
        let DomainOwner::Group { instance, .. } = d.owner else {
            panic!("{:?}", d.owner)
        };
        // The chain never leaves the instance.
        let mut at = d.next_shared;
        while let Some(n) = o.domains.get(at as usize) {
            assert!(matches!(n.owner, DomainOwner::Group { instance: i, .. } if i == instance));
            at = n.next_shared;
        }
    }
}

/// `shared_domains` (Linux's SHARE_PGTABLE): the second M4U's region-0
/// master joins the first M4U's region-0 domain, which is then attached
/// to both instances.
#[test]
fn shared_domains_span_every_instance_of_the_driver() {
    let o = boot(&SHARED);
    let (ovl, other) = (domain(&o.ops[0]), domain(&o.ops[7]));
    assert_eq!(ovl, other);
    let d = o.domains[ovl.0 as usize];
    assert_eq!(
        d.owner,
        DomainOwner::Group {
            instance: o.first,
            group: 0
        }
    );
    assert_eq!(d.attached(), &[o.first, o.second]);
    // Three regions in use, three domains: none for the second instance.
    assert_eq!(o.domains.len(), 3);
}
