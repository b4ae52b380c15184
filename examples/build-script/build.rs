//! Generates one module per shipped spec into OUT_DIR. A spec error fails
//! the build with the same report `iommugen check` prints.

fn main() -> Result<(), iommugen_codegen::Error> {
    iommugen_codegen::Builder::new()
        .specs([
            "../apple-dart.iommu",
            "../arm-smmu.iommu",
            "../arm-smmu-v3.iommu",
            "../exynos-sysmmu.iommu",
            "../ipmmu-vmsa.iommu",
            "../mediatek-m4u.iommu",
            "../qcom-iommu.iommu",
            "../rockchip-iommu.iommu",
            "../sun50i-iommu.iommu",
            "../tegra-smmu.iommu",
            "../virtio-iommu.iommu",
            // Test-only: every kind of check expression (tests/checks.rs).
            "specs/check-zoo.iommu",
            // Test-only: unread and dropped cell bits (tests/of_xlate.rs).
            "specs/bits-zoo.iommu",
        ])
        .generate()?;
    Ok(())
}
