//! `iommugen pagetable`: the JSON dump read by reference walkers written
//! here from the architecture manuals (not from the engine) must give the
//! same translations as the command's own `lookup`s; script errors are
//! located; large scripts are handled.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn iommugen(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_iommugen"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn example(name: &str) -> String {
    format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn json(spec: &str, ops: &str) -> Value {
    let out = iommugen(&["pagetable", spec, "--ops", "-", "--format", "json"], ops);
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
fn tables(j: &Value) -> std::collections::HashMap<u64, (u64, Vec<u64>)> {
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

/// VMSAv8-64 walk (Arm ARM D8): `bits` index bits per level below the
/// root, descriptors `0b11` table/page and `0b01` block.
fn lpae_walk(j: &Value, iova: u64) -> Option<u64> {
    let t = tables(j);
    let g = hex(&j["granule"]).trailing_zeros() as u64;
    let bits = g - 3;
    let (root_level, root) = t.get(&hex(&j["roots"][0])).map(|(l, e)| (*l, e.clone()))?;
    assert_eq!(root_level, 1);
    // Levels below the root: from the non-root table size, the root's
    // entries resolve the rest of the IAS.
    let ias = j["ias"].as_u64().unwrap();
    let root_bits = root.len().trailing_zeros() as u64;
    let levels = 1 + (ias - g - root_bits) / bits;
    let mut entries = root;
    for level in 1..=levels {
        let shift = g + (levels - level) * bits;
        let idx = ((iova >> shift) as usize) & (entries.len() - 1);
        let d = entries[idx];
        let oa = d & ((1 << 48) - 1) & !((1 << g) - 1);
        match (d & 3, level == levels) {
            (0b11, false) => entries = t.get(&oa)?.1.clone(),
            (0b11, true) | (0b01, false) => return Some(oa | (iova & ((1 << shift) - 1))),
            _ => return None,
        }
    }
    None
}

/// ARMv7 short-descriptor walk (ARM ARM B3.5), with MediaTek's PA bits
/// 32/33/34 in descriptor bits 9/4/5 of leaves.
fn v7s_walk(j: &Value, iova: u64) -> Option<u64> {
    let t = tables(j);
    let ext = j["mtk-ext"].as_bool().unwrap();
    let hi = |d: u64| {
        if ext {
            (d >> 9 & 1) << 32 | (d >> 4 & 1) << 33 | (d >> 5 & 1) << 34
        } else {
            0
        }
    };
    let l1 = &t.get(&hex(&j["roots"][0]))?.1;
    let d = l1[(iova >> 20) as usize];
    match d & 3 {
        0b01 => {
            let l2 = &t.get(&(d & 0xffff_fc00))?.1;
            let e = l2[((iova >> 12) & 0xff) as usize];
            match e & 3 {
                0b01 => Some((e & 0xffff_0000) | hi(e) | (iova & 0xffff)),
                0b10 | 0b11 => Some((e & 0xffff_f000) | hi(e) | (iova & 0xfff)),
                _ => None,
            }
        }
        0b10 if d & (1 << 18) != 0 => Some((d & 0xff00_0000) | hi(d) | (iova & 0xff_ffff)),
        0b10 => Some((d & 0xfff0_0000) | hi(d) | (iova & 0xf_ffff)),
        _ => None,
    }
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
    let dir = std::env::temp_dir().join(format!("iommugen-pt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("s2.iommu");
    std::fs::write(
        &spec,
        "driver s { compatible \"v,s\"; cells 1; field i: u32 = cell[0]; id = i;\n\
         page-table arm-lpae-s2 { granule 4K; ias 40; oas 40; pool 64; }\n init crate::s::probe; }",
    )
    .unwrap();
    let j = json(spec.to_str().unwrap(), "map 0x80_0000_0000 0x1000 0x20_0000 rw\nmap 0xff_ffff_f000 0x2000 0x1000 r\nlookup 0x80_0001_0000\nlookup 0xff_ffff_f010\nlookup 0x1000\n");
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
    let j = json(&example("mediatek-m4u.iommu"), ops);
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
