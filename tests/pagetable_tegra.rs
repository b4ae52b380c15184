//! `iommugen pagetable` on the Tegra SMMU spec: both drivers' JSON dumps,
//! read by `refwalk::tegra_smmu` (written apart from the engine) over the
//! raw table words, give the command's own lookups, and the walker lists
//! every page with no malformed entry; the human output decodes the PFN,
//! the permissions and the non-secure bit.

mod cli;

use std::collections::BTreeMap;

use iommugen_runtime::refwalk::tegra_smmu::{leaves, walk, WalkConfig};
use serde_json::Value;

fn spec() -> String {
    format!("{}/examples/tegra-smmu.iommu", env!("CARGO_MANIFEST_DIR"))
}

fn hex(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn run(driver: &str, format: &str, ops: &str) -> String {
    let s = spec();
    let args = [
        "pagetable",
        &s,
        "--driver",
        driver,
        "--ops",
        "-",
        "--format",
        format,
    ];
    let out = cli::iommugen_with_stdin(&args, ops.as_bytes());
    assert!(out.status.success(), "{}", cli::stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// The dump as memory: the 32-bit entry at a physical address inside a
/// dumped table, 0 elsewhere.
fn memory(j: &Value) -> impl Fn(u64) -> u32 {
    let tables: BTreeMap<u64, Vec<u32>> = j["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let e = t["entries"].as_array().unwrap();
            (hex(&t["addr"]), e.iter().map(|w| hex(w) as u32).collect())
        })
        .collect();
    move |pa| {
        let Some((&addr, entries)) = tables.range(..=pa).next_back() else {
            return 0;
        };
        entries
            .get(((pa - addr) / 4) as usize)
            .copied()
            .unwrap_or(0)
    }
}

const OPS_34: &str = "\
map 0x1000 0x8000_0000 0x3000 rw
map 0x40_0000 0x3_ffff_f000 0x1000 r
map 0xffff_f000 0x1_0000_0000 0x1000 w
map 0x5000 0x4_0000_0000 0x1000 rw   # beyond 34 bits: refused
unmap 0x2000 0x1000
lookup 0x1004
lookup 0x2000
lookup 0x3fff
lookup 0x40_0123
lookup 0xffff_f008
lookup 0x5000
";

#[test]
fn tegra124_dump_walks_like_lookup() {
    let j: Value = serde_json::from_str(&run("tegra124_smmu", "json", OPS_34)).unwrap();
    assert_eq!(
        (
            j["format"].as_str(),
            j["generation"].as_str(),
            j["entry_bits"].as_u64(),
            j["oas"].as_u64()
        ),
        (Some("tegra-smmu"), Some("tegra124"), Some(32), Some(34))
    );
    assert_eq!(j["ops"][3]["ok"], false);
    let cfg = WalkConfig { pa_bits: 34 };
    let read = memory(&j);
    let root = hex(&j["roots"][0]);
    // The directory as far as the 32-bit IOVA reaches: 1024 entries.
    assert_eq!(
        j["tables"][0]["entries"].as_array().map(Vec::len),
        Some(1024)
    );
    let (pages, tables) = leaves(&cfg, root, &read).expect("well-formed tables");
    assert_eq!((pages.len(), tables), (4, 3));
    let mut probed = 0;
    for op in j["ops"].as_array().unwrap() {
        if op["op"] == "lookup" {
            let want = (!op["pa"].is_null()).then(|| hex(&op["pa"]));
            let got = walk(&cfg, root, hex(&op["iova"]) as u32, &read)
                .ok()
                .map(|t| t.pa);
            assert_eq!(got, want, "lookup {}", op["iova"]);
            probed += 1;
        }
    }
    assert_eq!(probed, 6);
    let text = run("tegra124_smmu", "human", OPS_34);
    assert!(text.contains("format tegra-smmu tegra124"), "{text}");
    assert!(text.contains("page -> 0x3fffff000 r ns"), "{text}");
    assert!(text.contains("page -> 0x100000000 w ns"), "{text}");
    assert!(text.contains("page table -> 0x"), "{text}");
}

#[test]
fn tegra30_holds_32_bits() {
    let ops = "\
map 0x1000 0xffff_f000 0x1000 rw
map 0x2000 0x1_0000_0000 0x1000 rw   # beyond 32 bits: refused
lookup 0x1abc
lookup 0x2000
";
    let j: Value = serde_json::from_str(&run("tegra30_smmu", "json", ops)).unwrap();
    assert_eq!(
        (j["generation"].as_str(), j["oas"].as_u64()),
        (Some("tegra30"), Some(32))
    );
    assert_eq!(
        (j["ops"][0]["ok"].clone(), j["ops"][1]["ok"].clone()),
        (true.into(), false.into())
    );
    let read = memory(&j);
    let root = hex(&j["roots"][0]);
    let cfg = WalkConfig { pa_bits: 32 };
    assert_eq!(
        walk(&cfg, root, 0x1abc, &read).map(|t| t.pa),
        Ok(0xffff_fabc)
    );
    assert_eq!(hex(&j["ops"][2]["pa"]), 0xffff_fabc);
    assert!(j["ops"][3]["pa"].is_null());
    // The PTE by hand: PFN 0xfffff | R | W | NS.
    let (pages, _) = leaves(&cfg, root, &read).unwrap();
    assert_eq!(pages.len(), 1);
    let pde = read(root);
    let pte = read(u64::from(pde & 0xf_ffff) << 12 | 4);
    assert_eq!((pde >> 28, pte), (0xf, 0xe00f_ffff));
}
