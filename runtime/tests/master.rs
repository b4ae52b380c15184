//! Device names (`devname`) and the master `of_xlate` sees (`master`).
//! Expected names are the ones Linux gives on real trees: R-Car H3
//! (r8a77951.dtsi: `ee100000.mmc`, `e6e88000.serial`,
//! `e6700000.dma-controller`, `fe000000.pcie`), and `firmware:optee`
//! (no `reg` anywhere on the way up), following drivers/of/platform.c's
//! `of_device_make_bus_id`.

mod common;
mod raw;

use common::*;
use iommugen_runtime::configure::{of_iommu_configure, of_pci_iommu_configure, Configured};
use iommugen_runtime::decl::{
    Declaration, DomainPolicy, DriverError, DriverInfo, InstanceData, IommuDriver,
};
use iommugen_runtime::devname::{pci_name, platform_name, translate_reg, DevNameError};
use iommugen_runtime::fdt::Node;
use iommugen_runtime::fwspec::{FwSpec, IdSink};
use iommugen_runtime::init::iommu_init;
use iommugen_runtime::master::{DeniedSoc, Master, MasterPolicy, Refusal, NAME_LEN};

/// R-Car H3-shaped: `/soc` maps 1:1 (`ranges;`), a bus with a real
/// translation, a bus without `ranges`, and nodes with no `reg`.
fn tree() -> Vec<u8> {
    let mut b = TreeBuilder::new();
    b.strs("compatible", &["renesas,h3ulcb", "renesas,r8a7795"]);
    b.begin("firmware").begin("optee").end().end();
    b.begin("soc")
        .u32("#address-cells", 2)
        .u32("#size-cells", 2)
        .flag("ranges");
    b.begin("iommu@e7740000")
        .strs("compatible", &["acme,allow-iommu"])
        .cells("reg", &[0, 0xe774_0000, 0, 0x1000])
        .u32("#iommu-cells", 1)
        .u32("phandle", 1)
        .end();
    b.begin("mmc@ee100000")
        .cells("reg", &[0, 0xee10_0000, 0, 0x2000])
        .cells("iommus", &[1, 32])
        .end();
    b.begin("serial@e6e88000")
        .cells("reg", &[0, 0xe6e8_8000, 0, 64])
        .end();
    b.begin("dma-controller@e6700000")
        .cells("reg", &[0, 0xe670_0000, 0, 0x10000])
        .cells("iommus", &[1, 0])
        .end();
    b.begin("pcie@fe000000")
        .cells("reg", &[0, 0xfe00_0000, 0, 0x80000])
        .cells("iommu-map", &[0, 1, 0, 0x10000])
        .u32("linux,pci-domain", 1)
        .end();
    // A bus 0x1000_0000 up, 1 address and 1 size cell inside.
    b.begin("bus@10000000")
        .cells("reg", &[0, 0x1000_0000, 0, 0x10_0000])
        .u32("#address-cells", 1)
        .u32("#size-cells", 1)
        .cells("ranges", &[0, 0, 0x1000_0000, 0x10_0000]);
    b.begin("timer@40").cells("reg", &[0x40, 0x10]).end();
    b.begin("outside@200000")
        .cells("reg", &[0x20_0000, 0x10])
        .end();
    b.end();
    // A bus without `ranges`: its children do not translate.
    b.begin("i2c@e6500000")
        .cells("reg", &[0, 0xe650_0000, 0, 0x40])
        .u32("#address-cells", 1)
        .u32("#size-cells", 0);
    b.begin("codec@10").cells("reg", &[0x10]).end();
    b.end();
    b.end();
    b.finish()
}

fn name_of(path: &str) -> Result<String, DevNameError> {
    let blob = tree();
    with_tree(&blob, |t| {
        let node = t.find_path(path).unwrap();
        let mut buf = [0u8; NAME_LEN];
        platform_name(node, &mut buf).map(str::to_owned)
    })
}

#[test]
fn platform_names_are_linuxs() {
    assert_eq!(name_of("/soc/mmc@ee100000").unwrap(), "ee100000.mmc");
    assert_eq!(name_of("/soc/serial@e6e88000").unwrap(), "e6e88000.serial");
    assert_eq!(
        name_of("/soc/dma-controller@e6700000").unwrap(),
        "e6700000.dma-controller"
    );
    assert_eq!(name_of("/soc/pcie@fe000000").unwrap(), "fe000000.pcie");
    // No `reg` on the way up: the full names of the chain below the root.
    assert_eq!(name_of("/firmware/optee").unwrap(), "firmware:optee");
    assert_eq!(name_of("/soc").unwrap(), "soc");
    // Through a non-identity `ranges`: 0x10000000 + 0x40.
    assert_eq!(
        name_of("/soc/bus@10000000/timer@40").unwrap(),
        "10000040.timer"
    );
    assert_eq!(name_of("/soc/bus@10000000").unwrap(), "10000000.bus");
    // Outside every `ranges` window: the bus's name is prefixed.
    assert_eq!(
        name_of("/soc/bus@10000000/outside@200000").unwrap(),
        "10000000.bus:outside@200000"
    );
    // The i2c bus has no `ranges`: the codec is named after its bus.
    assert_eq!(
        name_of("/soc/i2c@e6500000/codec@10").unwrap(),
        "e6500000.i2c:codec@10"
    );
    assert_eq!(name_of("/"), Err(DevNameError::Root));
}

#[test]
fn translation_and_buffers() {
    let blob = tree();
    with_tree(&blob, |t| {
        let n = |p| t.find_path(p).unwrap();
        assert_eq!(translate_reg(n("/soc/mmc@ee100000")), Some(0xee10_0000));
        assert_eq!(translate_reg(n("/soc/i2c@e6500000/codec@10")), None);
        assert_eq!(translate_reg(n("/firmware/optee")), None);
        // A buffer one byte short is refused, never truncated.
        let mut small = [0u8; 11];
        assert_eq!(
            platform_name(n("/soc/mmc@ee100000"), &mut small),
            Err(DevNameError::TooLong)
        );
        let mut exact = [0u8; 12];
        assert_eq!(
            platform_name(n("/soc/mmc@ee100000"), &mut exact),
            Ok("ee100000.mmc")
        );
    });
}

#[test]
fn pci_names_are_domain_bus_device_function() {
    let mut buf = [0u8; 16];
    assert_eq!(pci_name(0, 0, &mut buf).unwrap(), "0000:00:00.0");
    // RID 0x010a: bus 1, device 1, function 2.
    assert_eq!(pci_name(1, 0x010a, &mut buf).unwrap(), "0001:01:01.2");
    assert_eq!(
        pci_name(0, 0x10a, &mut [0u8; 5]),
        Err(DevNameError::TooLong)
    );
}

/// A driver that lets only `ee100000.mmc` (and PCI functions) attach,
/// and none on `acme,bad-soc`, as Renesas IPMMU's allow-list does.
struct AllowList;
const ALLOW: &[&str] = &["ee100000.mmc"];
const DENY: &[DeniedSoc<'static>] = &[
    DeniedSoc {
        machine: "acme,bad-soc",
        revision: None,
    },
    DeniedSoc {
        machine: "renesas,r8a7795",
        revision: Some("ES2.*"),
    },
];
impl IommuDriver for AllowList {
    fn name(&self) -> &str {
        "allow_list"
    }
    fn info(&self) -> DriverInfo {
        info(DomainPolicy::PerInstance, true)
    }
    fn init(&self, _: Node<'_>) -> Result<InstanceData, DriverError> {
        Ok(InstanceData(0))
    }
    fn of_xlate(
        &self,
        master: &Master<'_>,
        _: Node<'_>,
        _: InstanceData,
        args: &[u32],
        ids: &mut IdSink<'_>,
    ) -> Result<(), DriverError> {
        let policy = MasterPolicy {
            allow: Some(ALLOW),
            deny: DENY,
        };
        policy.admit(master).map_err(DriverError::MasterRefused)?;
        for &a in args {
            ids.push(a)?;
        }
        Ok(())
    }
}

static ALLOW_TABLE: &[Declaration<'static>] = &[Declaration {
    compatible: "acme,allow-iommu",
    driver: &AllowList,
}];

#[test]
fn allow_list_refuses_unlisted_masters_and_admits_pci() {
    let blob = tree();
    with_tree(&blob, |t| {
        let mut records = vec![iommugen_runtime::init::IommuRecord::EMPTY; t.len()];
        let table = iommu_init(&t, &[ALLOW_TABLE], &mut records).unwrap();
        let mut fw = FwSpec::<8, 4>::new();
        let mmc = t.find_path("/soc/mmc@ee100000").unwrap();
        assert_eq!(
            of_iommu_configure(mmc, &table, &mut fw),
            Ok(Configured::Translated)
        );
        assert_eq!(fw.all_ids().map(|(_, id)| id).collect::<Vec<_>>(), [32]);
        // Not on the list: refused, untranslated, the fwspec empty.
        let dmac = t.find_path("/soc/dma-controller@e6700000").unwrap();
        let iommu = t.find_path("/soc/iommu@e7740000").unwrap().id();
        assert_eq!(
            of_iommu_configure(dmac, &table, &mut fw),
            Ok(Configured::MasterRefused {
                node: iommu,
                refusal: Refusal::NotAllowed
            })
        );
        assert!(fw.is_empty());
        // A PCI function behind the bridge's iommu-map is admitted.
        let host = t.find_path("/soc/pcie@fe000000").unwrap();
        let (c, mapped) = of_pci_iommu_configure(host, 0x100, &table, &mut fw).unwrap();
        assert_eq!((c, mapped), (Configured::Translated, Some((iommu, 0x100))));
    });
}

#[test]
fn master_carries_node_pci_and_name() {
    let blob = tree();
    with_tree(&blob, |t| {
        let host = t.find_path("/soc/pcie@fe000000").unwrap();
        let mut buf = [0u8; NAME_LEN];
        let m = Master::named_pci(host, 0x0108, &mut buf).unwrap();
        assert!(m.is_pci());
        assert_eq!(m.rid(), Some(0x108));
        // linux,pci-domain = <1>.
        assert_eq!(m.name(), Some("0001:01:01.0"));
        assert_eq!(m.node(), host);
        // The root's compatible is the machine.
        assert!(m.machine_is("renesas,r8a7795"));
        assert!(!m.machine_is("renesas,r8a7796"));
        let mmc = t.find_path("/soc/mmc@ee100000").unwrap();
        let mut buf = [0u8; NAME_LEN];
        let p = Master::named_platform(mmc, &mut buf).unwrap();
        assert!(!p.is_pci() && p.rid().is_none());
        assert_eq!(p.name(), Some("ee100000.mmc"));
        // The deny list: a revision-qualified entry never matches from
        // the tree alone; a plain one does.
        let revision_only = MasterPolicy {
            allow: None,
            deny: &DENY[1..],
        };
        assert_eq!(revision_only.admit(&p), Ok(()));
        let h3 = [DeniedSoc {
            machine: "renesas,r8a7795",
            revision: None,
        }];
        let denied = MasterPolicy {
            allow: Some(ALLOW),
            deny: &h3,
        };
        assert_eq!(
            denied.admit(&m),
            Err(Refusal::SocDenied {
                machine: "renesas,r8a7795",
                revision: None,
            })
        );
        // With the chip's revision known, the ES2.* entry applies to
        // ES2.x (the PCI function too: the deny list comes first) and not
        // to ES1.1, where the allow-list decides.
        let h3_es2 = MasterPolicy {
            allow: Some(ALLOW),
            deny: DENY,
        };
        let es2 = Err(Refusal::SocDenied {
            machine: "renesas,r8a7795",
            revision: Some("ES2.*"),
        });
        assert_eq!(h3_es2.admit_on(&p, Some("ES2.0")), es2);
        assert_eq!(h3_es2.admit_on(&m, Some("ES2.1")), es2);
        assert_eq!(h3_es2.admit_on(&p, Some("ES1.1")), Ok(()));
        assert_eq!(h3_es2.admit_on(&m, Some("ES3.0")), Ok(()));
        assert_eq!(h3_es2.admit_on(&p, None), Ok(()));
        let sata = Master::platform(mmc, Some("ee300000.sata"));
        assert_eq!(
            h3_es2.admit_on(&sata, Some("ES1.1")),
            Err(Refusal::NotAllowed)
        );
        // Without a name, an allow-list admits no platform master.
        let unnamed = Master::platform(mmc, None);
        let allow = MasterPolicy {
            allow: Some(ALLOW),
            deny: &[],
        };
        assert_eq!(allow.admit(&unnamed), Err(Refusal::NotAllowed));
        assert_eq!(MasterPolicy::default().admit(&unnamed), Ok(()));
    });
}

/// Hostile depth: names are bounded work. A chain 100,000 deep without
/// `reg` overflows the buffer after a few levels instead of walking it
/// all; with `reg` and `ranges;` at every level the translation gives up
/// past `MAX_LEVELS` buses (Linux has no limit; no real tree is that deep).
#[test]
fn deep_chains_are_bounded() {
    for with_reg in [false, true] {
        const DEPTH: usize = 100_000;
        let one = |v: u32| v.to_be_bytes();
        let mut r = raw::Raw::new();
        r.begin(b"")
            .prop("#address-cells", &one(1))
            .prop("#size-cells", &one(1));
        for _ in 0..DEPTH {
            r.begin(b"n@1");
            if with_reg {
                r.prop("ranges", &[])
                    .prop("reg", &[one(1), one(1)].concat());
            }
        }
        for _ in 0..DEPTH {
            r.end_node();
        }
        r.end_node().finish();
        let blob = r.blob();
        with_tree(&blob, |t| {
            let leaf = t.nodes().last().unwrap();
            let mut buf = [0u8; NAME_LEN];
            assert_eq!(platform_name(leaf, &mut buf), Err(DevNameError::TooLong));
            assert_eq!(translate_reg(leaf), None);
            // Near the root the same chain translates (1:1 `ranges;`).
            let shallow = t.find_path("/n@1/n@1").unwrap();
            let want = if with_reg { Ok("1.n") } else { Ok("n@1:n@1") };
            assert_eq!(platform_name(shallow, &mut buf), want);
        });
    }
}
