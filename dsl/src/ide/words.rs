//! What each word of the language means: one line per keyword, block
//! parameter and format name, from the book's DSL reference
//! (`book/src/dsl-reference.md`). Hover shows these; completion lists them.

/// Where a word may be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Outside any driver.
    Top,
    /// A driver's body.
    Driver,
    /// Inside `page-table FORMAT { }` or `requests PROTOCOL { }`.
    PageTable,
    /// Inside `dma { }`.
    Dma,
    /// After `page-table` (a format name) or `requests` (a protocol).
    Format,
    /// A value: `domain` policies, `generation` names, `pci`'s map.
    Value,
}

/// `(word, scope, meaning)`.
pub const WORDS: &[(&str, Scope, &str)] = &[
    ("driver", Scope::Top, "`driver NAME { … }`: one IOMMU driver; `NAME` becomes a Rust item name and must be unique in the spec (E0105)."),
    ("extends", Scope::Value, "`driver NAME extends BASE { … }`: the driver takes BASE's contract (cells, fields, checks, IDs, PCI, translation, DMA, init) and adds its own `compatible` strings; it may name its own `init` and nothing else (E0107). BASE is a driver above it in the same file (E0108)."),
    ("compatible", Scope::Driver, "`compatible \"…\", \"…\";`: the device-tree compatible strings this driver claims (required; may repeat, the lists concatenate). A string may be claimed by one driver only, across all files checked together (E0601)."),
    ("cells", Scope::Driver, "`cells N;` or `cells N | M;`: the `#iommu-cells` values the binding allows (required, once; at most 16, E0106)."),
    ("field", Scope::Driver, "`field NAME: uN = SOURCE else SOURCE …;`: a named value taken from the specifier; `uN` is u1..u32 and the first available source gives the value."),
    ("ignore", Scope::Driver, "`ignore cell[I][HI:LO], property \"NAME\"[HI:LO];`: bits of a cell or property the driver drops on purpose (otherwise bits no field reads are refused)."),
    ("check", Scope::Driver, "`check EXPR;`: a condition every master's fields must meet; the generated `of_xlate` rejects a specifier that fails it."),
    ("child", Scope::Driver, "`child \"COMPAT\", … where FIELD == property \"NAME\" else …;`: the IOMMU node must have an available child node compatible with one of the strings whose key (the first of the child's properties listed, with bit selections) equals the field; `of_xlate` refuses the specifier otherwise (Qualcomm context banks). Keys are properties of the child (E0211)."),
    ("where", Scope::Value, "`where FIELD == KEY` (in `child`): the field the child's key must equal."),
    ("id", Scope::Driver, "`id = FIELD << SHIFT | FIELD …;`: how fields pack into one 32-bit ID kept per master (Linux's fwspec IDs)."),
    ("pci", Scope::Driver, "`pci iommu-map;`: the driver can be the target of a PCI host bridge's `iommu-map`; `of_xlate` gets the single mapped cell."),
    ("main", Scope::Driver, "`main property \"NAME\";`: the driver's instances are main or cache ones (Renesas R-Car Gen3/Gen4 IPMMUs, `renesas,ipmmu-main`): a node with the property is a cache instance, which comes up only when a main instance of its family (a node its spec claims, without the property) is in the tree; a main instance hosts the contexts and is no master's IOMMU."),
    ("page-table", Scope::Driver, "`page-table FORMAT { … }`: the translation-table format the hardware walks, fixed at build time (required unless `requests`; not both, E0412)."),
    ("requests", Scope::Driver, "`requests PROTOCOL { … }`: an IOMMU that takes map/unmap requests instead of walking tables (virtio-iommu)."),
    ("dma", Scope::Driver, "`dma { … }`: the DMA domain policy and default IOVA aperture."),
    ("init", Scope::Driver, "`init PATH;`: the Rust path of the early-init hook, called once per matching IOMMU node (required, E0104)."),
    ("allow", Scope::Driver, "`allow masters \"NAME\", …;`: only the platform masters with these Linux device names (`ee100000.mmc`: translated `reg` address, a dot, node name) attach, and every PCI function; others are refused and run untranslated, as Linux's Renesas IPMMU does (E0701, E0702)."),
    ("contexts", Scope::Driver, "`contexts N [reserved K];`: each main instance (the instance itself without `main property`) has N translation contexts, the first K kept back; every domain attached takes one, and a master whose domain finds none left runs untranslated (Renesas IPMMU: number_of_contexts, reserved_context; ipmmu_domain_allocate_context's -EBUSY) (E0901-E0903)."),
    ("deny", Scope::Driver, "`deny soc \"MACHINE\" [revision \"GLOB\"], …;`: no master attaches on an SoC whose root node lists MACHINE; with `revision`, only on those chip revisions, which a device tree does not record (`iommugen dt` warns, dt::W0305) (E0702, E0703)."),
    ("granule", Scope::PageTable, "`granule 4K;`: translation granule, 4K, 16K or 64K (E0407)."),
    ("ias", Scope::PageTable, "`ias 48;`: input (IOVA or IPA) address size in bits (E0403)."),
    ("oas", Scope::PageTable, "`oas 48;`: output (physical) address size in bits (E0401)."),
    ("sizes", Scope::PageTable, "`sizes 4K 2M 1G;`: page and block sizes to use; default every size allowed; must include the granule (E0404, E0405)."),
    ("coherent-walk", Scope::PageTable, "`coherent-walk;`: the walker snoops CPU caches, so no cache maintenance after descriptor writes."),
    ("pool", Scope::PageTable, "`pool 256;`: tables in the static pool (each one granule); at least one walk's tables (E0406)."),
    ("mtk-ext", Scope::PageTable, "`mtk-ext;` (arm-v7s): MediaTek's PA bits 32-34 in spare leaf bits, for `oas` 33-35 (Linux's IO_PGTABLE_QUIRK_ARM_MTK_EXT)."),
    ("generation", Scope::PageTable, "`generation t8103;` (apple-dart, required): `t8103` is DART1 (OAS 36), `t6000` DART2 (OAS 42); `generation tegra124;` (tegra-smmu, required): tegra30, tegra114 (OAS 32), tegra124, tegra132, tegra210 (OAS 34) (E0411)."),
    ("version", Scope::PageTable, "`version 1;` (rockchip: 1 or 2; exynos-sysmmu: 1-7, required; E0411)."),
    ("domain", Scope::Dma, "`domain per-instance;` (default: one DMA domain per IOMMU instance), `domain per-device;` (one per master, for isolation) or `domain per-group;` (only masters in a `group` attach) (E0502, E0505)."),
    ("group", Scope::Dma, "`group NAME [aperture START..END] where COND;`: masters whose every ID satisfies COND (first group in order) share one domain per instance, in the group's aperture if given (E0503, E0504)."),
    ("shared-domains", Scope::Dma, "`shared-domains;`: every instance of the driver shares the domains and groups of the first one (Linux's MediaTek SHARE_PGTABLE: one page table for all M4Us)."),
    ("default", Scope::Dma, "`default identity;`: masters start with an identity (pass-through) domain; `default translated;` (the default) gives them a DMA domain (E0506)."),
    ("aperture", Scope::Dma, "`aperture START..END;`: default IOVA window, half open; default `granule..2^ias`; non-empty, granule-aligned, inside the input range (E0501)."),
    ("arm-lpae-s1", Scope::Format, "`arm-lpae-s1`: VMSAv8-64 long descriptors, stage 1; items granule ias oas sizes coherent-walk pool (granule, ias, oas, pool required)."),
    ("arm-lpae-s2", Scope::Format, "`arm-lpae-s2`: VMSAv8-64 long descriptors, stage 2 (the start level may hold up to 16 concatenated tables); items as arm-lpae-s1."),
    ("arm-v7s", Scope::Format, "`arm-v7s`: ARMv7 short descriptors; granule 4K, ias 32; oas 32, or 33-35 with mtk-ext; sizes among 4K 64K 1M 16M; pool counts 1K slots, at least 17."),
    ("apple-dart", Scope::Format, "`apple-dart`: Apple DART tables; generation t8103 or t6000 (required); granule 16K, ias 32; pool counts 16K tables, at least 2."),
    ("rockchip", Scope::Format, "`rockchip`: Rockchip IOMMU tables; version 1 (OAS 32) or 2 (OAS 40) (required); granule 4K, ias 32; pool counts 4K tables, at least 2."),
    ("exynos-sysmmu", Scope::Format, "`exynos-sysmmu`: Samsung Exynos SysMMU; version 1-7; granule 4K, ias 32; oas 32 (v1-v4) or 36 (v5+); pool counts 1K slots, at least 17."),
    ("sun50i", Scope::Format, "`sun50i`: Allwinner sun50i IOMMU; 4K pages, ias 32, oas 32; pool counts 1K slots, at least 17."),
    ("tegra-smmu", Scope::Format, "`tegra-smmu`: NVIDIA Tegra30-generation SMMU (in the memory controller); generation tegra30, tegra114, tegra124, tegra132 or tegra210 (required, fixes oas 32 or 34); granule 4K, ias 32; pool counts 4K tables, at least 2."),
    ("virtio-iommu", Scope::Format, "`virtio-iommu` (after `requests`): the host keeps the translation; items granule, ias (12 to 64), sizes (E0413)."),
    ("per-instance", Scope::Value, "`per-instance`: one DMA domain per IOMMU instance, shared by its masters (the default)."),
    ("per-device", Scope::Value, "`per-device`: one DMA domain per master, for isolation."),
    ("per-group", Scope::Value, "`per-group`: one DMA domain per `group` and instance; a master in no group gets no IOMMU."),
    ("identity", Scope::Value, "`identity`: the default domain passes DMA through untranslated."),
    ("translated", Scope::Value, "`translated`: the default domain translates DMA (the default)."),
    ("iommu-map", Scope::Value, "`iommu-map`: the PCI host bridge's map from Requester ID to ID (with `iommu-map-mask`)."),
    ("t8103", Scope::Value, "`t8103`: DART1 (apple,t8103-dart, M1): 36-bit PA in place."),
    ("tegra30", Scope::Value, "`tegra30`: Tegra30 memory controller (nvidia,tegra30-mc): 32-bit PA, PFN in entry bits 19:0."),
    ("tegra114", Scope::Value, "`tegra114`: Tegra114 memory controller (nvidia,tegra114-mc): 32-bit PA."),
    ("tegra124", Scope::Value, "`tegra124`: Tegra124 memory controller (nvidia,tegra124-mc): 34-bit PA, PFN in entry bits 21:0."),
    ("tegra132", Scope::Value, "`tegra132`: Tegra132 memory controller (nvidia,tegra132-mc): 34-bit PA."),
    ("tegra210", Scope::Value, "`tegra210`: Tegra210 memory controller (nvidia,tegra210-mc): 34-bit PA."),
    ("t6000", Scope::Value, "`t6000`: DART2 (apple,t6000-dart, M1 Pro/Max): 42-bit PA shifted by 4."),
    ("cell", Scope::Value, "`cell[I]`: cell I of the IOMMU specifier, available when the specifier has more than I cells."),
    ("property", Scope::Value, "`property \"NAME\"`: a u32 property of the IOMMU node (in a `child` key, of the child node; after `main`, the phandle property naming the main instance), available when the node has it."),
    ("master", Scope::Driver, "`master one instance;` / `master same FIELD;`: the probe policy, checked once all of a master's specifiers went through `of_xlate` (Linux's probe_device): its fwspec names one instance of the driver (qcom_iommu), or its IDs agree in FIELD (MediaTek's one larb per master); a master breaking it runs untranslated, `probe-refused` (E0704-E0706). In a field source, `master property \"NAME\"`: a u32 property of the master's own node, available when the master is a platform device whose node has it (a PCI function has none)."),
    ("one", Scope::Value, "`master one instance;`: a master's specifiers may name one instance of this driver only (Linux's qcom_iommu: all banks of one IOMMU)."),
    ("instance", Scope::Value, "`master one instance;`: a master's specifiers may name one instance of this driver only."),
    ("same", Scope::Value, "`master same FIELD;`: every ID of a master has the same value in FIELD, a field packed into every `id` (Linux's mtk_iommu_probe_device: \"Can only use one larb\")."),
    ("masters", Scope::Value, "`allow masters`: the list that follows names the platform masters that may attach."),
    ("soc", Scope::Value, "`deny soc`: the list that follows names SoCs, by root compatible, on which no master attaches."),
    ("reserved", Scope::Value, "`reserved K` (after `contexts N`): the first K contexts are kept from domains (Renesas IPMMU's reserved_context: context 0); K must be below N (E0902)."),
    ("revision", Scope::Value, "`revision \"GLOB\"` (after a `deny soc` machine): only chips of these revisions, e.g. `ES2.*`; read from the chip, not the tree."),
    ("else", Scope::Value, "`else`: the next source, tried when the one before is not available."),
];

/// The meaning of `word`, if it is one of the language's.
pub fn meaning(word: &str) -> Option<&'static str> {
    WORDS
        .iter()
        .find(|(w, _, _)| *w == word)
        .map(|(_, _, m)| *m)
}

/// The words written in `scope`.
pub fn in_scope(scope: Scope) -> impl Iterator<Item = (&'static str, &'static str)> {
    WORDS
        .iter()
        .filter(move |(_, s, _)| *s == scope)
        .map(|(w, _, m)| (*w, *m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_keyword_the_parser_knows_has_a_meaning() {
        let all = crate::parse::DRIVER_ITEMS
            .iter()
            .chain(crate::parse::PAGE_TABLE_ITEMS)
            .chain(crate::parse::DMA_ITEMS);
        for k in all {
            assert!(meaning(k).is_some(), "{k}");
        }
        for f in iommugen_runtime::pgtable::legal::FormatName::ALL {
            assert!(meaning(f.dsl_name()).is_some(), "{}", f.dsl_name());
        }
    }

    #[test]
    fn the_book_names_every_word() {
        let book = include_str!("../../../book/src/dsl-reference.md");
        for (w, _, _) in WORDS {
            assert!(book.contains(&format!("`{w}")) || book.contains(w), "{w}");
        }
    }
}
