//! The generated Qualcomm `qcom_iommu` driver (examples/qcom-iommu.iommu)
//! on an IOMMU node with context-bank children, as Linux's
//! qcom_iommu_of_xlate decides: the cell must be the number of an enabled
//! bank (its `qcom,ctx-asid`, else its `reg` offset / 0x1000), and is then
//! stored whole.

use iommugen_example_build_script::generated::qcom_iommu::QcomIommu;
use iommugen_example_build_script::TABLES;
use iommugen_runtime::decl::DriverError;

mod support;
use support::{with_node, xlate};

const CHILD: &str = "\"qcom,msm-iommu-v1-ns\", \"qcom,msm-iommu-v1-sec\", \"qcom,msm-iommu-v2-ns\", \"qcom,msm-iommu-v2-sec\" where asid == property \"qcom,ctx-asid\" else property \"reg\" >> 12";

#[test]
fn banks_that_exist_are_taken_whole() {
    // support::with_node: iommu-ctx@1000 (bank 1), iommu-ctx@2000
    // (disabled), iommu-ctx@3000 with qcom,ctx-asid = <7>.
    with_node(1, None, |node| {
        assert_eq!(xlate(&QcomIommu, node, &[1]), Ok(vec![1]));
        assert_eq!(xlate(&QcomIommu, node, &[7]), Ok(vec![7]));
    });
}

#[test]
fn banks_that_do_not_exist_are_refused() {
    with_node(1, None, |node| {
        // 2: disabled (never populated); 3: 0x3000 / 0x1000, but that bank
        // says qcom,ctx-asid = <7>; 0 and 8: no bank at all.
        for key in [0u32, 2, 3, 8, u32::MAX] {
            assert_eq!(
                xlate(&QcomIommu, node, &[key]),
                Err(DriverError::NoChild {
                    child: CHILD,
                    key: u64::from(key)
                }),
                "{key}"
            );
        }
        assert_eq!(
            xlate(&QcomIommu, node, &[1, 1]),
            Err(DriverError::WrongCellCount { got: 2 })
        );
    });
}

#[test]
fn the_fallback_compatibles_select_the_driver() {
    for c in [
        "qcom,msm-iommu-v1",
        "qcom,msm-iommu-v2",
        "qcom,msm8916-iommu",
    ] {
        assert!(TABLES
            .iter()
            .flat_map(|t| t.iter())
            .any(|d| d.compatible == c && d.driver.name() == "qcom_iommu"));
    }
}
