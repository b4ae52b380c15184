//! Check expressions as straight-line Rust.
//!
//! The IR evaluates on `u64` (so `1 << 32` means what it says), with
//! wrapping arithmetic, shifts of 64 or more giving 0, and comparisons and
//! logic giving 0 or 1. The emitted code keeps exactly those semantics while
//! reading like hand-written Rust: literal-only subtrees are folded,
//! comparisons stay `bool`, and a failed check is tested by the negated
//! condition (`if stream_id >= 0x10_0000 { return Err(..) }`).

use iommugen_dsl::ir::{BinOp, Driver, Expr};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::names::{ident, local};

/// Rust type of an emitted subexpression.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ty {
    Bool,
    U64,
}

/// Value of a literal-only expression, with the IR's semantics.
pub fn fold(expr: &Expr) -> Option<u64> {
    Some(match expr {
        Expr::Field(_) => return None,
        Expr::Lit(v) => *v,
        Expr::Not(e) => u64::from(fold(e)? == 0),
        Expr::Binary(op, a, b) => op.apply(fold(a)?, fold(b)?),
    })
}

/// An integer literal token, hex from 0x1000 up (as the checker prints
/// literals in check texts), with `_` every four hex digits.
pub fn int_literal(v: u64) -> TokenStream {
    if v < 0x1000 {
        let lit = Literal::u64_unsuffixed(v);
        return quote!(#lit);
    }
    let hex = format!("{v:x}");
    let mut grouped = String::with_capacity(hex.len() + hex.len() / 4 + 2);
    for (i, c) in hex.chars().enumerate() {
        if i > 0 && (hex.len() - i) % 4 == 0 {
            grouped.push('_');
        }
        grouped.push(c);
    }
    let lit: Literal = format!("0x{grouped}")
        .parse()
        .unwrap_or_else(|_| Literal::u64_unsuffixed(v));
    quote!(#lit)
}

struct Emitter<'d> {
    driver: &'d Driver,
}

impl Emitter<'_> {
    /// `expr` as tokens of type `Ty`; compound results are parenthesised
    /// so the caller may use them as operands.
    fn emit(&self, expr: &Expr) -> (TokenStream, Ty) {
        if let Some(v) = fold(expr) {
            return (int_literal(v), Ty::U64);
        }
        match expr {
            Expr::Field(i) => {
                let name = self
                    .driver
                    .fields
                    .get(*i)
                    .map_or_else(|| format!("field_{i}"), |f| f.name.clone());
                let name = local(&name);
                (quote!(u64::from(#name)), Ty::U64)
            }
            Expr::Lit(v) => (int_literal(*v), Ty::U64),
            Expr::Not(e) => {
                let (t, ty) = self.emit(e);
                match ty {
                    Ty::Bool => (quote!((!#t)), Ty::Bool),
                    Ty::U64 => (quote!((#t == 0)), Ty::Bool),
                }
            }
            Expr::Binary(op, a, b) => self.binary(*op, a, b),
        }
    }

    fn u64(&self, expr: &Expr) -> TokenStream {
        let (t, ty) = self.emit(expr);
        match ty {
            Ty::U64 => t,
            Ty::Bool => quote!(u64::from(#t)),
        }
    }

    /// A `u64` operand that may receive a method call (literals get a suffix).
    fn receiver(&self, expr: &Expr) -> TokenStream {
        match fold(expr) {
            Some(v) => {
                let lit = Literal::u64_suffixed(v);
                quote!(#lit)
            }
            None => self.u64(expr),
        }
    }

    fn bool(&self, expr: &Expr) -> TokenStream {
        let (t, ty) = self.emit(expr);
        match ty {
            Ty::Bool => t,
            Ty::U64 => quote!((#t != 0)),
        }
    }

    fn binary(&self, op: BinOp, a: &Expr, b: &Expr) -> (TokenStream, Ty) {
        match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul => {
                let method = ident(match op {
                    BinOp::Add => "wrapping_add",
                    BinOp::Sub => "wrapping_sub",
                    _ => "wrapping_mul",
                });
                let (x, y) = (self.receiver(a), self.u64(b));
                (quote!(#x.#method(#y)), Ty::U64)
            }
            BinOp::Shl | BinOp::Shr => {
                let x = self.receiver(a);
                let token = if op == BinOp::Shl {
                    quote!(<<)
                } else {
                    quote!(>>)
                };
                match fold(b) {
                    // A constant in-range shift is a plain shift.
                    Some(s) if s < 64 => {
                        let s = Literal::u64_unsuffixed(s);
                        (quote!((#x #token #s)), Ty::U64)
                    }
                    Some(_) => (quote!(0), Ty::U64),
                    None => {
                        let method = ident(if op == BinOp::Shl {
                            "checked_shl"
                        } else {
                            "checked_shr"
                        });
                        let y = self.u64(b);
                        (
                            quote!(u32::try_from(#y).ok().and_then(|s| #x.#method(s)).unwrap_or(0)),
                            Ty::U64,
                        )
                    }
                }
            }
            BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                let token = match op {
                    BinOp::BitAnd => quote!(&),
                    BinOp::BitOr => quote!(|),
                    _ => quote!(^),
                };
                let (x, y) = (self.u64(a), self.u64(b));
                (quote!((#x #token #y)), Ty::U64)
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne => {
                let token = cmp_token(op);
                let (x, y) = (self.u64(a), self.u64(b));
                (quote!((#x #token #y)), Ty::Bool)
            }
            BinOp::And | BinOp::Or => {
                let token = if op == BinOp::And {
                    quote!(&&)
                } else {
                    quote!(||)
                };
                let (x, y) = (self.bool(a), self.bool(b));
                (quote!((#x #token #y)), Ty::Bool)
            }
        }
    }

    /// Tokens true exactly when `expr` evaluates to 0 (the check fails).
    fn negated(&self, expr: &Expr) -> TokenStream {
        if fold(expr).is_some() {
            return self.bool_of_negation_folded(expr);
        }
        match expr {
            Expr::Binary(
                op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne),
                a,
                b,
            ) => {
                let token = cmp_token(flip(*op));
                let (x, y) = (self.u64(a), self.u64(b));
                quote!(#x #token #y)
            }
            Expr::Binary(BinOp::And, a, b) => {
                let (x, y) = (self.negated_operand(a), self.negated_operand(b));
                quote!(#x || #y)
            }
            Expr::Binary(BinOp::Or, a, b) => {
                let (x, y) = (self.negated_operand(a), self.negated_operand(b));
                quote!(#x && #y)
            }
            Expr::Not(e) => self.bool_top(e),
            _ => {
                let x = self.u64(expr);
                quote!(#x == 0)
            }
        }
    }

    /// `expr` as a `bool` without outer parentheses (a whole `if` condition).
    fn bool_top(&self, expr: &Expr) -> TokenStream {
        if fold(expr).is_some() {
            return self.bool(expr);
        }
        match expr {
            Expr::Binary(
                op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne),
                a,
                b,
            ) => {
                let token = cmp_token(*op);
                let (x, y) = (self.u64(a), self.u64(b));
                quote!(#x #token #y)
            }
            Expr::Binary(op @ (BinOp::And | BinOp::Or), a, b) => {
                let token = if *op == BinOp::And {
                    quote!(&&)
                } else {
                    quote!(||)
                };
                let (x, y) = (self.bool(a), self.bool(b));
                quote!(#x #token #y)
            }
            Expr::Not(inner) => {
                let x = self.bool(inner);
                quote!(!#x)
            }
            _ => {
                let x = self.u64(expr);
                quote!(#x != 0)
            }
        }
    }

    fn negated_operand(&self, expr: &Expr) -> TokenStream {
        let t = self.negated(expr);
        quote!((#t))
    }

    fn bool_of_negation_folded(&self, expr: &Expr) -> TokenStream {
        if fold(expr) == Some(0) {
            quote!(true)
        } else {
            quote!(false)
        }
    }
}

fn cmp_token(op: BinOp) -> TokenStream {
    match op {
        BinOp::Lt => quote!(<),
        BinOp::Le => quote!(<=),
        BinOp::Gt => quote!(>),
        BinOp::Ge => quote!(>=),
        BinOp::Eq => quote!(==),
        _ => quote!(!=),
    }
}

/// The comparison true exactly when `op` is false.
fn flip(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Ge,
        BinOp::Le => BinOp::Gt,
        BinOp::Gt => BinOp::Le,
        BinOp::Ge => BinOp::Lt,
        BinOp::Eq => BinOp::Ne,
        _ => BinOp::Eq,
    }
}

/// A condition that holds exactly when the check `expr` fails.
///
/// The emitter recurses on the expression, and so do `syn` and rustc on
/// the code it emits. The checker never lets through an expression deeper
/// than the language's limit; one built directly in the IR becomes a
/// `compile_error!` instead of a stack overflow here.
pub fn failure_condition(driver: &Driver, expr: &Expr) -> TokenStream {
    guarded(driver, "a check", expr, |e| e.negated(expr))
}

/// A condition that holds exactly when `expr` does (a group's), under the
/// same depth guard as [`failure_condition`].
pub fn holding_condition(driver: &Driver, expr: &Expr) -> TokenStream {
    guarded(driver, "a group", expr, |e| e.bool_top(expr))
}

/// `emit` on `expr`, or a `compile_error!` naming `what` when `expr` nests
/// past the language's limit.
fn guarded(
    driver: &Driver,
    what: &str,
    expr: &Expr,
    emit: impl FnOnce(&Emitter<'_>) -> TokenStream,
) -> TokenStream {
    if iommugen_dsl::depth::ir_too_deep(expr) {
        let msg = format!(
            "iommugen: {what} of driver `{}` nests deeper than {} levels",
            driver.name,
            iommugen_dsl::depth::MAX_EXPR_DEPTH
        );
        return quote!(::core::compile_error!(#msg));
    }
    emit(&Emitter { driver })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(v: u64) -> Box<Expr> {
        Box::new(Expr::Lit(v))
    }

    #[test]
    fn folds_with_u64_semantics() {
        // 1 << 20 is the SMMUv3 linear stream-table limit.
        assert_eq!(
            fold(&Expr::Binary(BinOp::Shl, lit(1), lit(20))),
            Some(1 << 20)
        );
        // Shifts past 63 give 0, as the interpreter does.
        assert_eq!(fold(&Expr::Binary(BinOp::Shl, lit(1), lit(64))), Some(0));
        assert_eq!(
            fold(&Expr::Binary(BinOp::Sub, lit(0), lit(1))),
            Some(u64::MAX)
        );
        assert_eq!(fold(&Expr::Not(lit(5))), Some(0));
    }

    #[test]
    fn hex_literals_are_grouped() {
        assert_eq!(int_literal(0x10_0000).to_string(), "0x10_0000");
        assert_eq!(int_literal(16).to_string(), "16");
    }
}
