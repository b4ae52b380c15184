//! Links the kernel with the SMMUv3 kernel's script (same entry, load
//! address and sections) and generates the virtio-iommu driver from the
//! shipped spec.
fn main() -> Result<(), iommugen_codegen::Error> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let script = format!("{dir}/../qemu-virt-smmuv3/link.x");
    println!("cargo:rustc-link-arg-bins=-T{script}");
    println!("cargo:rerun-if-changed={script}");
    let spec = format!("{dir}/../virtio-iommu.iommu");
    println!("cargo:rerun-if-changed={spec}");
    // OUT_DIR/virtio_iommu.rs: `pub mod virtio_iommu { ... }`.
    iommugen_codegen::Builder::new().spec(spec).generate()?;
    Ok(())
}
