//! `contexts N reserved K;`: at least one context, and at least one left
//! for domains once K are kept back (Renesas IPMMU's
//! `ipmmu_features.number_of_contexts` and `reserved_context`).

use crate::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::ir;

use super::single;

/// The driver's `contexts` statement, checked; `None` when absent or bad.
pub(crate) fn contexts(d: &DriverAst, diags: &mut Vec<Diagnostic>) -> Option<ir::Contexts> {
    let item = single(d, "contexts", diags)?;
    let ItemKind::Contexts { total, reserved } = &item.kind else {
        return None;
    };
    let Ok(n) = u32::try_from(total.value) else {
        diags.push(
            Diagnostic::new(
                Code::ContextsTooMany,
                format!("{} contexts do not fit in 32 bits", total.value),
                total.span.clone(),
                "too many",
            )
            .help("give the count the hardware has (Renesas IPMMU: 8 on R-Car Gen3, 16 on Gen4)"),
        );
        return None;
    };
    if n == 0 {
        diags.push(
            Diagnostic::new(
                Code::NoContexts,
                "`contexts 0`: no domain could ever attach",
                total.span.clone(),
                "no context",
            )
            .help(
                "give the count the hardware has, at least 1 (Linux's ipmmu_features_default: 1)",
            ),
        );
        return None;
    }
    let k = reserved.as_ref().map_or(0, |r| r.value);
    if k >= u64::from(n) {
        let r = reserved
            .as_ref()
            .map_or(total.span.clone(), |r| r.span.clone());
        diags.push(
            Diagnostic::new(
                Code::AllContextsReserved,
                format!("{k} reserved of {n} contexts leaves none for domains"),
                r,
                "reserved here",
            )
            .secondary(total.span.clone(), format!("{n} contexts"))
            .help("reserve fewer than the count (Linux's reserved_context keeps context 0 only: `reserved 1`)"),
        );
        return None;
    }
    Some(ir::Contexts {
        total: n,
        reserved: k as u32,
        span: item.span.clone(),
    })
}
