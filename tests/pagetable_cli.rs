//! `iommugen pagetable`: the JSON dump read by the runtime's reference
//! walkers (`iommugen_runtime::refwalk`, written apart from the engine)
//! over its raw table words must give the same translations as the
//! command's own `lookup`s; script errors are located; large scripts are
//! handled.

mod cli;

use std::collections::BTreeMap;
use std::process::Output;

use iommugen_runtime::refwalk::{apple_dart, arm_v7s, exynos, lpae, rockchip, sun50i};
use serde_json::Value;

fn iommugen(args: &[&str], stdin: &str) -> Output {
    cli::iommugen_with_stdin(args, stdin.as_bytes())
}

fn example(name: &str) -> String {
    format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn json(spec: &str, ops: &str) -> Value {
    json_args(&[], spec, ops)
}

fn json_args(extra: &[&str], spec: &str, ops: &str) -> Value {
    let mut args = vec!["pagetable", spec, "--ops", "-", "--format", "json"];
    args.extend_from_slice(extra);
    let out = iommugen(&args, ops);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn hex(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// The dumped tables by address: (level, entries).
fn tables(j: &Value) -> BTreeMap<u64, (u64, Vec<u64>)> {
    j["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let entries = t["entries"].as_array().unwrap().iter().map(hex).collect();
            (hex(&t["addr"]), (t["level"].as_u64().unwrap(), entries))
        })
        .collect()
}

/// The dump as memory: the entry word at a physical address inside a
/// dumped table, 0 elsewhere (what the reference walkers read).
struct Dump {
    tables: BTreeMap<u64, (u64, Vec<u64>)>,
    entry_bytes: u64,
}

impl Dump {
    fn new(j: &Value) -> Dump {
        Dump {
            tables: tables(j),
            entry_bytes: j["entry_bits"].as_u64().unwrap() / 8,
        }
    }

    fn read(&self, pa: u64) -> u64 {
        let Some((&addr, (_, entries))) = self.tables.range(..=pa).next_back() else {
            return 0;
        };
        let i = ((pa - addr) / self.entry_bytes) as usize;
        assert_eq!(
            (pa - addr) % self.entry_bytes,
            0,
            "unaligned read at {pa:#x}"
        );
        entries.get(i).copied().unwrap_or(0)
    }

    fn read32(&self, pa: u64) -> u32 {
        u32::try_from(self.read(pa)).expect("a 32-bit entry")
    }
}

fn roots(j: &Value) -> Vec<u64> {
    j["roots"].as_array().unwrap().iter().map(hex).collect()
}

/// VMSAv8-64, by `refwalk::lpae` over the dump.
fn lpae_walk(j: &Value, iova: u64) -> Option<u64> {
    let cfg = lpae::WalkConfig::new(
        j["stage"] == 2,
        hex(&j["granule"]),
        j["ias"].as_u64().unwrap() as u32,
        j["oas"].as_u64().unwrap() as u32,
    );
    let mem = Dump::new(j);
    assert_eq!(mem.tables[&roots(j)[0]].0, 1, "the root is level 1");
    lpae::walk(&cfg, roots(j)[0], iova, &|pa| mem.read(pa))
        .ok()
        .map(|t| t.pa)
}

/// ARMv7 short descriptors (MediaTek bits with `mtk-ext`), by
/// `refwalk::arm_v7s` over the dump.
fn v7s_walk(j: &Value, iova: u64) -> Option<u64> {
    let cfg = arm_v7s::WalkConfig {
        mtk_ext: j["mtk-ext"].as_bool().unwrap(),
        ias: j["ias"].as_u64().unwrap() as u32,
    };
    let mem = Dump::new(j);
    arm_v7s::walk(&cfg, roots(j)[0], iova, &|pa| mem.read32(pa))
        .ok()
        .map(|t| t.pa)
}

/// Apple DART through every TTBR root, by `refwalk::apple_dart`.
fn dart_walk(j: &Value, iova: u64) -> Option<u64> {
    let generation = match j["generation"].as_str().unwrap() {
        "t8103" => 1,
        "t6000" => 2,
        other => panic!("generation {other}"),
    };
    let cfg = apple_dart::WalkConfig {
        generation,
        ias: j["ias"].as_u64().unwrap() as u32,
    };
    let mem = Dump::new(j);
    apple_dart::walk(&cfg, &roots(j), iova, &|pa| mem.read(pa))
        .ok()
        .map(|t| t.pa)
}

/// Rockchip directory and page tables, by `refwalk::rockchip`.
fn rockchip_walk(j: &Value, iova: u64) -> Option<u64> {
    let cfg = rockchip::WalkConfig {
        version: j["version"].as_u64().unwrap() as u32,
    };
    let mem = Dump::new(j);
    rockchip::walk(&cfg, roots(j)[0], u32::try_from(iova).ok()?, &|pa| {
        mem.read32(pa)
    })
    .ok()
    .map(|t| t.pa)
}

/// Exynos SysMMU tables, by `refwalk::exynos`; every leaf well formed.
fn exynos_walk(j: &Value, iova: u64) -> Option<u64> {
    let cfg = exynos::WalkConfig {
        version: j["version"].as_u64().unwrap() as u32,
    };
    let mem = Dump::new(j);
    let read = |pa| mem.read32(pa);
    exynos::leaves(&cfg, roots(j)[0], &read).expect("well-formed tables");
    exynos::walk(&cfg, roots(j)[0], u32::try_from(iova).ok()?, &read)
        .ok()
        .map(|t| t.pa)
}

/// sun50i directory and page tables, by `refwalk::sun50i`; every leaf
/// well formed.
fn sun50i_walk(j: &Value, iova: u64) -> Option<u64> {
    let cfg = sun50i::WalkConfig {};
    let mem = Dump::new(j);
    let read = |pa| mem.read32(pa);
    sun50i::leaves(&cfg, roots(j)[0], &read).expect("well-formed tables");
    sun50i::walk(&cfg, roots(j)[0], u32::try_from(iova).ok()?, &read)
        .ok()
        .map(|t| t.pa)
}

/// Every lookup the command made agrees with the walker over its dump
/// (the script's lookups come after its maps and unmaps, so they see the
/// dumped end state), mapped or not.
fn agrees(j: &Value, walk: fn(&Value, u64) -> Option<u64>) {
    let (mut hits, mut misses) = (0, 0);
    for op in j["ops"].as_array().unwrap() {
        if op["op"] == "lookup" {
            let want = (!op["pa"].is_null()).then(|| hex(&op["pa"]));
            assert_eq!(walk(j, hex(&op["iova"])), want, "lookup {}", op["iova"]);
            if want.is_some() {
                hits += 1
            } else {
                misses += 1
            }
        }
    }
    assert!(
        hits > 0 && misses > 0,
        "the script probes mapped and unmapped IOVAs"
    );
}

const LPAE_OPS: &str = "\
map 0x1000 0x8000_0000 0x3000 rw
map 0x20_0000 0x9000_0000 0x40_0000 r+x
map 0x4000_0000 0x1_0000_0000 0x4000_0000 rw+dev
unmap 0x1000 0x1000
unmap 0x30_0000 0x1000
map 0x1000 0x8000_0000 0x1000 rw    # again, now free
map 0x2000 0 0x1000 rw              # overlaps: refused
lookup 0x1000
lookup 0x2fff
lookup 0x20_0000
lookup 0x2f_f000
lookup 0x30_0000
lookup 0x30_1000
lookup 0x5abc_d123
lookup 0x8000_0000
";

#[test]
fn lpae_dump_walks_like_lookup() {
    let j = json(&example("arm-smmu-v3.iommu"), LPAE_OPS);
    assert_eq!(
        (j["format"].as_str(), j["entry_bits"].as_u64()),
        (Some("arm-lpae-s1"), Some(64))
    );
    assert_eq!(j["stage"], 1);
    let ops = j["ops"].as_array().unwrap();
    assert_eq!(ops[6]["ok"], false);
    assert!(ops[6]["error"].as_str().unwrap().contains("overlap"));
    assert_eq!(ops[4]["unmapped"], "0x1000");
    agrees(&j, lpae_walk);
    // Every dumped table is reachable and at the fixed pool base.
    assert!(hex(&j["roots"][0]) >= 0x4000_0000);
}

#[test]
fn lpae_stage2_concatenated_root() {
    let spec = cli::write(
        &cli::scratch("pagetable", "s2"),
        "s2.iommu",
        "driver s { compatible \"v,s\"; cells 1; field i: u32 = cell[0]; id = i;\n\
         page-table arm-lpae-s2 { granule 4K; ias 40; oas 40; pool 64; }\n init crate::s::probe; }",
    );
    let j = json(&spec, "map 0x80_0000_0000 0x1000 0x20_0000 rw\nmap 0xff_ffff_f000 0x2000 0x1000 r\nlookup 0x80_0001_0000\nlookup 0xff_ffff_f010\nlookup 0x1000\n");
    // 40 bits at stage 2 with 4K: two concatenated level-1 tables, one root.
    let root = &j["tables"][0];
    assert_eq!(root["entries"].as_array().unwrap().len(), 1024);
    agrees(&j, lpae_walk);
}

#[test]
fn v7s_mediatek_dump_walks_like_lookup() {
    let ops = "\
map 0x1000 0x1_8000_0000 0x1000 rw      # above 4 GiB: the MediaTek bits
map 0x1_0000 0x2_0001_0000 0x1_0000 rw  # a large page
map 0x10_0000 0x4_0010_0000 0x10_0000 r # a section
map 0x100_0000 0x3_0000_0000 0x100_0000 rw+x # a supersection
map 0x2000 0x8_0000_0000 0x1000 rw      # beyond 35 bits: refused
unmap 0x100_0000 0x1000                 # splits the supersection
lookup 0x1abc
lookup 0x1_8000
lookup 0x18_0000
lookup 0x100_0000
lookup 0x100_2000
lookup 0x1ff_f000
lookup 0x2000
";
    let j = json_args(
        &["--driver", "mtk_m4u"],
        &example("mediatek-m4u.iommu"),
        ops,
    );
    assert_eq!(
        (j["format"].as_str(), j["entry_bits"].as_u64()),
        (Some("arm-v7s"), Some(32))
    );
    assert_eq!(j["mtk-ext"], true);
    assert_eq!(j["ops"][4]["ok"], false);
    assert_eq!(j["ops"][6]["pa"], "0x180000abc");
    assert_eq!(j["tables"][0]["entries"].as_array().unwrap().len(), 4096);
    agrees(&j, v7s_walk);
}

#[test]
fn apple_dart_dump_walks_like_lookup() {
    let ops = "\
map 0x4000 0xf_ffff_0000 0x8000 rw   # the top of the 36-bit PA range
map 0x200_0000 0x8000_0000 0x4000 r  # a second leaf table
map 0x1000 0 0x1000 rw               # not 16K-aligned: refused
map 0x8000 0x10_0000_0000 0x4000 rw  # beyond 36 bits: refused
unmap 0x8000 0x4000
lookup 0x4010
lookup 0x8000
lookup 0x200_0abc
lookup 0x200_4000
lookup 0xffff_c000
";
    let j = json_args(
        &["--driver", "apple_dart"],
        &example("apple-dart.iommu"),
        ops,
    );
    assert_eq!(
        (j["format"].as_str(), j["generation"].as_str()),
        (Some("apple-dart"), Some("t8103"))
    );
    assert_eq!(
        (j["entry_bits"].as_u64(), j["ias"].as_u64()),
        (Some(64), Some(32))
    );
    assert_eq!(j["ops"][2]["ok"], false);
    assert_eq!(j["ops"][3]["ok"], false);
    assert_eq!(j["ops"][5]["pa"], "0xfffff0010");
    // One TTBR covers the 32-bit IOVA: its first 128 first-level entries.
    assert_eq!(roots(&j).len(), 1);
    let t = tables(&j);
    let root = &t[&roots(&j)[0]];
    assert_eq!((root.0, root.1.len()), (1, 128));
    assert!(t
        .values()
        .filter(|(l, _)| *l == 2)
        .all(|(_, e)| e.len() == 2048));
    agrees(&j, dart_walk);
    // The human output decodes a page: address, permissions.
    let out = iommugen(
        &[
            "pagetable",
            &example("apple-dart.iommu"),
            "--driver",
            "apple_dart",
            "--ops",
            "-",
        ],
        ops,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("page -> 0x80000000 r sp-dis"), "{text}");
    assert!(text.contains("table -> 0x"), "{text}");
}

#[test]
fn apple_dart_t6000_packs_42_bit_addresses() {
    let spec = cli::write(
        &cli::scratch("pagetable", "dart2"),
        "dart2.iommu",
        "driver d { compatible \"apple,t6000-dart\"; cells 1; field s: u32 = cell[0]; id = s;\n\
         page-table apple-dart { generation t6000; pool 8; }\n init crate::d::probe; }",
    );
    let ops = "map 0x4000 0x3ff_ffff_c000 0x4000 w\nmap 0xc000 0x1_0000_4000 0x4000 rw+dev\nlookup 0x4abc\nlookup 0xc000\nlookup 0x8000\n";
    let j = json(&spec, ops);
    assert_eq!(
        (j["generation"].as_str(), j["oas"].as_u64()),
        (Some("t6000"), Some(42))
    );
    assert_eq!(j["ops"][2]["pa"], "0x3ffffffcabc");
    agrees(&j, dart_walk);
}

#[test]
fn rockchip_dumps_walk_like_lookup() {
    let spec = example("rockchip-iommu.iommu");
    let ops = "\
map 0x1000 0xfff0_0000 0x3000 rw     # the top of 4 GiB
map 0x40_0000 0x1000_0000 0x1000 r   # the second directory entry
map 0xffff_f000 0x2000 0x1000 w      # the last page of the IOVA space
unmap 0x2000 0x1000
lookup 0x1004
lookup 0x2000
lookup 0x3fff
lookup 0x40_0123
lookup 0xffff_f008
lookup 0x80_0000
";
    let v1 = json_args(&["--driver", "rockchip_iommu"], &spec, ops);
    assert_eq!(
        (
            v1["format"].as_str(),
            v1["version"].as_u64(),
            v1["entry_bits"].as_u64()
        ),
        (Some("rockchip"), Some(1), Some(32))
    );
    assert_eq!(tables(&v1)[&roots(&v1)[0]].1.len(), 1024);
    agrees(&v1, rockchip_walk);
    // Version 1 holds 32-bit addresses only.
    let high = "map 0x1000 0x1_0000_0000 0x1000 rw\nlookup 0x1000\nmap 0x2000 0x1000 0x1000 rw\nlookup 0x2000\nlookup 0x3000\n";
    let v1 = json_args(&["--driver", "rockchip_iommu"], &spec, high);
    assert_eq!(v1["ops"][0]["ok"], false);
    // Version 2 packs PA bits 39:32 into the low entry bits.
    let v2 = json_args(&["--driver", "rockchip_rk3568_iommu"], &spec, high);
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["ops"][1]["pa"], "0x100000000");
    agrees(&v2, rockchip_walk);
    let v2 = json_args(
        &["--driver", "rockchip_rk3568_iommu"],
        &spec,
        "map 0x5000 0xab_cdef_1000 0x1000 r\nlookup 0x5010\nlookup 0x6000\n",
    );
    assert_eq!(v2["ops"][1]["pa"], "0xabcdef1010");
    agrees(&v2, rockchip_walk);
    let out = iommugen(
        &[
            "pagetable",
            &spec,
            "--driver",
            "rockchip_rk3568_iommu",
            "--ops",
            "-",
        ],
        "map 0x5000 0xab_cdef_1000 0x1000 r\n",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("format rockchip v2"), "{text}");
    assert!(text.contains("page -> 0xabcdef1000 r"), "{text}");
    // Two drivers: the command asks which.
    let out = iommugen(&["pagetable", &spec], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--driver"));
}

/// Sections, large and small pages, an unmap that splits a section, and
/// (from version 5) a 36-bit output, against the walker.
#[test]
fn exynos_dumps_walk_like_lookup() {
    let ops = "\
map 0x10_0000 0x8_4010_0000 0x10_0000 rw  # a 1M section above 4 GiB
map 0x20_0000 0x4000_0000 0x1_0000 r      # a 64K large page
map 0x21_0000 0x4001_0000 0x1000 rw       # a 4K small page
unmap 0x18_0000 0x1000                    # splits the section
lookup 0x10_0004
lookup 0x18_0000
lookup 0x18_1000
lookup 0x20_fff0
lookup 0x21_0000
lookup 0x30_0000
";
    let v5 = json(&example("exynos-sysmmu.iommu"), ops);
    assert_eq!(
        (
            v5["format"].as_str(),
            v5["version"].as_u64(),
            v5["entry_bits"].as_u64(),
            v5["oas"].as_u64()
        ),
        (Some("exynos-sysmmu"), Some(5), Some(32), Some(36))
    );
    assert_eq!(v5["ops"][3]["unmapped"], "0x1000");
    assert_eq!(tables(&v5)[&roots(&v5)[0]].1.len(), 4096);
    agrees(&v5, exynos_walk);
    // Version 1: 32-bit addresses in place; the section above 4 GiB is refused.
    let src = std::fs::read_to_string(example("exynos-sysmmu.iommu")).unwrap();
    let spec = cli::write(
        &cli::scratch("pagetable", "exynos1"),
        "v1.iommu",
        src.replace("version 5;", "version 1;"),
    );
    let v1 = json(&spec, ops);
    assert_eq!(
        (v1["version"].as_u64(), v1["oas"].as_u64()),
        (Some(1), Some(32))
    );
    assert_eq!(v1["ops"][0]["ok"], false);
    let v1 = json(&spec, &ops.replace("0x8_4010_0000", "0x4010_0000"));
    agrees(&v1, exynos_walk);
    let out = iommugen(
        &["pagetable", &example("exynos-sysmmu.iommu"), "--ops", "-"],
        ops,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("format exynos-sysmmu v5"), "{text}");
    assert!(text.contains("large page -> 0x40000000 r"), "{text}");
    assert!(text.contains("page -> 0x840100000 rw"), "{text}");
}

/// 4K pages with their authority index, 32-bit addresses only.
#[test]
fn sun50i_dumps_walk_like_lookup() {
    let ops = "\
map 0x1000 0xfff0_0000 0x3000 rw
map 0x40_0000 0x1000_0000 0x1000 r
map 0xffff_f000 0x2000 0x1000 w
map 0x5000 0x1_0000_0000 0x1000 rw   # beyond 32 bits: refused
unmap 0x2000 0x1000
lookup 0x1004
lookup 0x2000
lookup 0x3fff
lookup 0x40_0123
lookup 0xffff_f008
lookup 0x5000
";
    let spec = example("sun50i-iommu.iommu");
    let j = json(&spec, ops);
    assert_eq!(
        (
            j["format"].as_str(),
            j["entry_bits"].as_u64(),
            j["oas"].as_u64()
        ),
        (Some("sun50i"), Some(32), Some(32))
    );
    assert_eq!(j["ops"][3]["ok"], false);
    agrees(&j, sun50i_walk);
    let out = iommugen(&["pagetable", &spec, "--ops", "-"], ops);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("page -> 0x10000000 r (aci 2)"), "{text}");
    assert!(text.contains("page -> 0x2000 w (aci 3)"), "{text}");
}

/// Every driver of every shipped spec with tables builds its table and
/// dumps it; the one `requests` spec (virtio-iommu) is refused with why.
#[test]
fn every_shipped_spec_builds_its_table() {
    let dir = format!("{}/examples", env!("CARGO_MANIFEST_DIR"));
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "iommu") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let spec = iommugen_dsl::check_source("s", &text).spec.unwrap();
        let file = path.display().to_string();
        for d in &spec.drivers {
            let args = ["--driver", d.name.as_str()];
            let Some(pt) = d.translation.page_table() else {
                let mut all = vec!["pagetable", file.as_str()];
                all.extend_from_slice(&args);
                let out = iommugen(&all, "");
                assert_eq!(out.status.code(), Some(1), "{file}");
                assert!(
                    cli::stderr(&out).contains("request"),
                    "{}",
                    cli::stderr(&out)
                );
                continue;
            };
            let page = pt.granule.bytes();
            let ops = format!("map {page:#x} 0x4000_0000 {page:#x} rw\nlookup {page:#x}\n");
            let j = json_args(&args, &file, &ops);
            assert_eq!(j["format"], pt.format.dsl_name(), "{file} {}", d.name);
            assert_eq!(
                j["ops"][0]["ok"], true,
                "{file} {}: {}",
                d.name, j["ops"][0]
            );
            assert_eq!(j["ops"][1]["pa"], "0x40000000");
            assert!(j["tables"].as_array().unwrap().len() >= 2);
            seen.push(pt.format.dsl_name());
        }
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(
        seen,
        [
            "apple-dart",
            "arm-lpae-s1",
            "arm-v7s",
            "exynos-sysmmu",
            "rockchip",
            "sun50i",
            "tegra-smmu"
        ]
    );
}

#[test]
fn script_errors_are_located() {
    let out = iommugen(
        &["pagetable", &example("arm-smmu-v3.iommu"), "--ops", "-"],
        "lookup 0x1000\nmap 0x1000 0x2000 0x1000 rwx\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("<stdin>:2:26: error"), "{err}");
    // A request-driven driver has no table to build.
    let out = iommugen(&["pagetable", &example("virtio-iommu.iommu")], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("requests"));
}

#[test]
fn megabyte_line_and_a_million_lines() {
    let long = format!("lookup {}\n", "9".repeat(1 << 20));
    let out = iommugen(
        &["pagetable", &example("arm-smmu-v3.iommu"), "--ops", "-"],
        &long,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("<stdin>:1:8: error"));
    let mut many = "# comment\n\n".repeat(500_000);
    many.push_str("map 0x1000 0x2000 0x1000 r\nlookup 0x1000\n");
    let out = iommugen(
        &["pagetable", &example("arm-smmu-v3.iommu"), "--ops", "-"],
        &many,
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("lookup 0x1000: 0x2000"));
}
