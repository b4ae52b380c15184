//! Links the kernel with its own script (entry, load address, sections) and
//! generates the SMMUv3 driver from the shipped spec.
fn main() -> Result<(), iommugen_codegen::Error> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    println!("cargo:rustc-link-arg-bins=-T{dir}/link.x");
    println!("cargo:rerun-if-changed=link.x");
    let spec = format!("{dir}/../arm-smmu-v3.iommu");
    println!("cargo:rerun-if-changed={spec}");
    // OUT_DIR/arm_smmu_v3.rs: `pub mod arm_smmu_v3 { ... }`.
    iommugen_codegen::Builder::new().spec(spec).generate()?;
    Ok(())
}
