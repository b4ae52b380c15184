//! `format_spec` formats a module driver by driver; it must give the same
//! bytes as formatting the whole file's tokens at once.

use iommugen_codegen::{format_file, format_spec, module_name, spec_file, Options, Origin};

fn same(file: &str, source: &str, options: &Options) {
    let checked = iommugen_dsl::check_source(file, source);
    let spec = checked.spec.expect("a clean spec");
    let origin = Origin::Spec { file, source };
    let module = module_name(file);
    let whole = format_file(file, spec_file(&spec, &module, &origin, options));
    let pieces = format_spec(file, &spec, &module, &origin, options);
    assert!(pieces == whole, "{file}: piecewise output differs");
}

#[test]
fn every_example_and_a_large_spec_format_the_same_piece_by_piece() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let mut specs: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "iommu"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), text)
        })
        .collect();
    assert!(specs.len() >= 6);
    let many: String = (0..200)
        .map(|i| format!("/// Driver {i}.\ndriver d{i} {{ compatible \"v,{i}\", \"w,{i}\"; cells 1 | 2; field sid: u16 = cell[0][15:0]; field m: u16 = cell[1][15:0] else 0; check sid < 1 << 15; id = m << 16 | sid; pci iommu-map; page-table arm-lpae-s1 {{ granule 4K; ias 48; oas 44; pool 8; }} init crate::p{i}; }}\n"))
        .collect();
    specs.push(("many.iommu".into(), many));
    specs.push(("empty.iommu".into(), String::new()));
    let registered = Options {
        runtime: "::iommugen::runtime".into(),
        register: true,
    };
    for (file, text) in &specs {
        same(file, text, &Options::default());
        same(file, text, &registered);
    }
}
