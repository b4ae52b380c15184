//! `master one instance;` / `master same FIELD;` as the driver's
//! `IommuDriver::probe_device`: the runtime's `ProbePolicy` as a constant,
//! checked on the driver's part of the fwspec once every specifier of a
//! master went through `of_xlate` (Linux's `probe_device`).

use iommugen_dsl::ir::Driver;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::origin::Locator;

/// The `PROBE` constant (inside `impl Driver`) and the `probe_device`
/// method, or nothing for a driver without a probe rule (the trait's
/// default accepts every master).
pub(crate) fn probe_items(
    driver: &Driver,
    rt: &TokenStream,
    origin: &Locator,
) -> (TokenStream, TokenStream) {
    let p = &driver.probe;
    let Some(span) = p.one_instance.as_ref().or(p.same.as_ref().map(|s| &s.span)) else {
        return (TokenStream::new(), TokenStream::new());
    };
    let one = p.one_instance.is_some();
    let same = match &p.same {
        None => quote!(None),
        Some(s) => {
            let name = &s.name;
            let shift = Literal::u8_unsuffixed(s.shift);
            let width = Literal::u8_unsuffixed(s.width);
            quote!(Some(#rt::probe::SameField { name: #name, shift: #shift, width: #width }))
        }
    };
    let doc = format!(
        " The probe policy, checked once all of a master's specifiers are read (from {}).",
        origin.at(span)
    );
    let constant = quote! {
        #[doc = #doc]
        pub const PROBE: #rt::probe::ProbePolicy = #rt::probe::ProbePolicy {
            one_instance: #one,
            same: #same,
        };
    };
    let method = quote! {
        fn probe_device(
            &self,
            _master: &#rt::master::Master<'_>,
            fwspec: &#rt::probe::ProbeView<'_>,
        ) -> Result<(), #rt::decl::DriverError> {
            Self::PROBE
                .check(fwspec)
                .map_err(#rt::decl::DriverError::ProbeRefused)
        }
    };
    (constant, method)
}
