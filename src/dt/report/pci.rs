//! One `--rid`: steps (3) and (4) for a PCI function, as a report entry.

use super::*;

pub(super) fn pci_entry(
    tree: &DeviceTree<'_>,
    q: &RidQuery,
    iommus: &IommuTable<'_, '_>,
    fw: &mut HostFwSpec,
    domains: &mut DomainTable<'_>,
    drivers: &[SpecDriver],
) -> PciEntry {
    let mut entry = PciEntry {
        host: q.host.clone(),
        rid: q.rid,
        iommu: None,
        id: None,
        ids: vec![],
        note: None,
        error: None,
        translation: Translation::None,
        untranslated: None,
        source: None,
    };
    let Some(host) = tree.find_path(&q.host) else {
        let why = format!("no node at {}", q.host);
        entry.untranslated = Some(Untranslated {
            reason: Reason::NotCreated,
            message: why.clone(),
        });
        entry.error = Some(why);
        return entry;
    };
    entry.host = path_of(host);
    match setup_pci(host, q.rid, iommus, fw, domains) {
        Ok((s, mapped)) => {
            if let Some((n, id)) = mapped {
                entry.iommu = tree.node(n).map(path_of);
                entry.id = Some(id);
                entry.ids = fw.ids_for(n).collect();
            }
            entry.note = untranslated_note(s.configured, tree, None);
            if s.dma.ops == DmaOps::Identity {
                entry.note = Some(translation::IDENTITY_NOTE.into());
            }
            let (t, reason) = translation::configured(s.configured, s.dma.ops);
            entry.translation = t;
            entry.untranslated = reason.map(|reason| Untranslated {
                reason,
                message: entry.note.clone().unwrap_or_default(),
            });
        }
        Err(e) => {
            if let MasterError::Configure(ConfigureError::NotInitialised { .. }) = e {
                // of_map_id found an entry; only the IOMMU's driver is
                // missing: say where the requester landed.
                if let Ok(Some((n, id))) = of_map_id(host, q.rid, "iommu-map", "iommu-map-mask") {
                    entry.iommu = tree.node(n).map(path_of);
                    entry.id = Some(id);
                }
            }
            (entry.translation, entry.untranslated, entry.error) =
                failure(e, tree, iommus, drivers);
        }
    }
    entry
}
