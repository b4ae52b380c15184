//! The generated spec every scale benchmark checks: `n` drivers in the
//! shape of the shipped Arm SMMU example, each with every kind of
//! statement, a page-table block and a DMA block (about 500 bytes each).
//! Shared by `dsl/benches`, `codegen/benches/scale.rs` and the root
//! package's `benches/lsp_edit.rs` through `#[path]`, so their figures are
//! about the same input.

/// `n` drivers, each different only in its names and numbers.
pub fn generated_spec(n: usize) -> String {
    let mut s = String::with_capacity(n * 560);
    for i in 0..n {
        s.push_str(&format!(
            r#"/// Generated driver {i}.
driver drv_{i} {{
    compatible "vendor,iommu-{i}";
    cells 1 | 2;
    field stream_id: u16 = cell[0][15:0];
    field mask: u16 = cell[1][15:0] else property "stream-match-mask"[15:0] else 0;
    check stream_id < 1 << 15;
    id = mask << 16 | stream_id;
    pci iommu-map;
    page-table arm-lpae-s1 {{ granule 4K; ias 48; oas 44; sizes 4K 2M 1G; pool 64; }}
    dma {{ domain per-device; aperture 0x1000_0000..0x1_0000_0000; }}
    init crate::drivers::probe_{i};
}}
"#
        ));
    }
    s
}
