//! Snapshots of the generated code for every shipped example, and
//! determinism. Update snapshots with `UPDATE_EXPECT=1 cargo test -p
//! iommugen-codegen`; review the diff like any code change.

use std::path::{Path, PathBuf};

use expect_test::expect_file;
use iommugen_codegen::{generate, module_name, Builder, Options};

fn example(name: &str) -> (String, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    (name.to_owned(), std::fs::read_to_string(path).unwrap())
}

fn generated(name: &str) -> String {
    let (file, text) = example(name);
    generate(&file, &text, &Options::default()).unwrap().code
}

#[test]
fn snapshot_apple_dart() {
    expect_file!["snapshots/apple_dart.rs"].assert_eq(&generated("apple-dart.iommu"));
}

#[test]
fn snapshot_arm_smmu() {
    expect_file!["snapshots/arm_smmu.rs"].assert_eq(&generated("arm-smmu.iommu"));
}

#[test]
fn snapshot_arm_smmu_v3() {
    expect_file!["snapshots/arm_smmu_v3.rs"].assert_eq(&generated("arm-smmu-v3.iommu"));
}

#[test]
fn snapshot_exynos_sysmmu() {
    expect_file!["snapshots/exynos_sysmmu.rs"].assert_eq(&generated("exynos-sysmmu.iommu"));
}

#[test]
fn snapshot_mediatek_m4u() {
    expect_file!["snapshots/mediatek_m4u.rs"].assert_eq(&generated("mediatek-m4u.iommu"));
}

#[test]
fn snapshot_rockchip_iommu() {
    expect_file!["snapshots/rockchip_iommu.rs"].assert_eq(&generated("rockchip-iommu.iommu"));
}

#[test]
fn snapshot_ipmmu_vmsa() {
    expect_file!["snapshots/ipmmu_vmsa.rs"].assert_eq(&generated("ipmmu-vmsa.iommu"));
}

#[test]
fn snapshot_tegra_smmu() {
    expect_file!["snapshots/tegra_smmu.rs"].assert_eq(&generated("tegra-smmu.iommu"));
}

#[test]
fn snapshot_qcom_iommu() {
    expect_file!["snapshots/qcom_iommu.rs"].assert_eq(&generated("qcom-iommu.iommu"));
}

#[test]
fn snapshot_sun50i_iommu() {
    expect_file!["snapshots/sun50i_iommu.rs"].assert_eq(&generated("sun50i-iommu.iommu"));
}

#[test]
fn snapshot_virtio_iommu() {
    expect_file!["snapshots/virtio_iommu.rs"].assert_eq(&generated("virtio-iommu.iommu"));
}

/// Every `.iommu` in `examples/` has a snapshot test above.
#[test]
fn every_example_has_a_snapshot() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "iommu") {
            let module = module_name(&path.display().to_string());
            let snap = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/snapshots")
                .join(format!("{module}.rs"));
            assert!(snap.exists(), "no snapshot for {}", path.display());
        }
    }
}

#[test]
fn generating_twice_gives_identical_bytes() {
    for name in ["arm-smmu.iommu", "mediatek-m4u.iommu", "arm-smmu-v3.iommu"] {
        let (file, text) = example(name);
        let a = generate(&file, &text, &Options::default()).unwrap().code;
        let b = generate(&file, &text, &Options::default()).unwrap().code;
        assert_eq!(a.as_bytes(), b.as_bytes(), "{name}");
    }
}

#[test]
fn runtime_path_is_the_one_way_in() {
    let (file, text) = example("arm-smmu.iommu");
    let options = Options {
        runtime: "crate::renamed_rt".to_owned(),
        register: false,
    };
    let code = generate(&file, &text, &options).unwrap().code;
    assert!(code.contains("use crate::renamed_rt as runtime;"));
    assert!(!code.contains("iommugen_runtime"));
}

#[test]
fn spec_errors_generate_nothing() {
    let bad = "driver d { compatible \"x,y\"; cells 1; field a: u4 = cell[3]; id = a; \
               page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 8; } init crate::p; }";
    let diags = generate("bad.iommu", bad, &Options::default()).unwrap_err();
    assert!(diags.iter().any(|d| d.is_error()));
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("iommugen-codegen-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn builder_writes_one_module_per_spec() {
    let out = temp_dir("builder");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let written = Builder::new()
        .spec(root.join("arm-smmu.iommu"))
        .spec(root.join("mediatek-m4u.iommu"))
        .out_dir(&out)
        .cargo_metadata(false)
        .generate()
        .unwrap();
    assert_eq!(
        written,
        vec![out.join("arm_smmu.rs"), out.join("mediatek_m4u.rs")]
    );
    let code = std::fs::read_to_string(&written[0]).unwrap();
    assert!(code.contains("pub mod arm_smmu {"));
}

#[test]
fn builder_reports_spec_errors_as_check_does() {
    let out = temp_dir("builder-err");
    let spec = out.join("bad.iommu");
    std::fs::write(
        &spec,
        "driver d {\n    compatible \"x,y\";\n    cells 1;\n    field a: u4 = cell[3];\n    id = a;\n    \
         page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 8; }\n    init crate::p;\n}\n",
    )
    .unwrap();
    let err = Builder::new()
        .spec(&spec)
        .out_dir(&out)
        .cargo_metadata(false)
        .generate()
        .unwrap_err();
    let text = format!("{err:?}");
    // The rendered report names the file and line of the bad cell index.
    assert!(text.contains("bad.iommu:4"), "{text}");
    assert!(text.contains("iommu::E0201"), "{text}");
    assert!(!out.join("bad.rs").exists());
}

/// Field names that would shadow `of_xlate`'s own bindings get a prefix,
/// a keyword driver name is still a valid module item, and the output
/// parses as Rust.
#[test]
fn reserved_names_are_renamed() {
    let spec = "/// Edge names.\ndriver type {\n    compatible \"e,dge\";\n    cells 2;\n    \
                field args: u16 = cell[0][15:0];\n    field ids: u8 = cell[1][7:0] else 3;\n    \
                check args > ids;\n    id = ids << 16 | args;\n    \
                page-table arm-lpae-s1 { granule 4K; ias 32; oas 40; pool 8; }\n    \
                init crate::r::probe;\n}\n";
    let code = generate("edge.iommu", spec, &Options::default())
        .unwrap()
        .code;
    assert!(code.contains("let field_args: u32"), "{code}");
    assert!(
        code.contains("ids.push((field_ids << 16) | field_args)?;"),
        "{code}"
    );
    assert!(code.contains("pub struct Type;"), "{code}");
    // The error still names the field as the spec does.
    assert!(code.contains("field: \"args\""), "{code}");
    assert!(syn::parse_file(&code).is_ok());
}
