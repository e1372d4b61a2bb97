//! Test helpers: a compact, one-line S-expression printout of the AST (spans left out) so
//! tests and snapshots can state the expected shape of a parse.

#![allow(dead_code)]

use hac_core::{Diagnostic, FileId};
use hac_syntax::ast::*;

/// Parses `text` as file 0.
pub fn parse(text: &str) -> Result<Expr, Vec<Diagnostic>> {
    hac_syntax::parse(FileId(0), text)
}

/// The S-expression of a successful parse, or `ERR <code> <message>` for a failed one.
pub fn sexpr_of(text: &str) -> String {
    match parse(text) {
        Ok(expr) => sexpr(&expr),
        Err(diagnostics) => {
            let first = &diagnostics[0];
            format!(
                "ERR {} {}",
                first.code.clone().unwrap_or_default(),
                first.message
            )
        }
    }
}

pub fn sexpr(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Int(value) => value.to_string(),
        ExprKind::Float(value) => format!("{value:?}"),
        ExprKind::Str(parts) => str_parts(parts),
        ExprKind::Path(PathLit::Relative(path)) => format!("(path {path})"),
        ExprKind::Path(PathLit::Absolute(path)) => format!("(abspath {path})"),
        ExprKind::Path(PathLit::Search(path)) => format!("<{path}>"),
        ExprKind::Var(ident) => ident.name.clone(),
        ExprKind::List(items) => {
            let items: Vec<String> = items.iter().map(sexpr).collect();
            format!("[{}]", items.join(" "))
        }
        ExprKind::Attrs { rec, bindings } => {
            let bindings: Vec<String> = bindings.iter().map(binding).collect();
            format!(
                "({}{{{}}})",
                if *rec { "rec " } else { "" },
                bindings.join(" ")
            )
        }
        ExprKind::Let { bindings, body } => {
            let bindings: Vec<String> = bindings.iter().map(binding).collect();
            format!("(let {{{}}} {})", bindings.join(" "), sexpr(body))
        }
        ExprKind::With { scope, body } => format!("(with {} {})", sexpr(scope), sexpr(body)),
        ExprKind::Assert { cond, body } => format!("(assert {} {})", sexpr(cond), sexpr(body)),
        ExprKind::If { cond, then, else_ } => {
            format!("(if {} {} {})", sexpr(cond), sexpr(then), sexpr(else_))
        }
        ExprKind::Lambda { param, body } => format!("(fn {} {})", param_text(param), sexpr(body)),
        ExprKind::Apply { func, arg } => format!("({} {})", sexpr(func), sexpr(arg)),
        ExprKind::Select {
            expr,
            path,
            default,
        } => match default {
            Some(default) => {
                format!(
                    "(. {} {} or {})",
                    sexpr(expr),
                    attr_path(path),
                    sexpr(default)
                )
            }
            None => format!("(. {} {})", sexpr(expr), attr_path(path)),
        },
        ExprKind::HasAttr { expr, path } => format!("(? {} {})", sexpr(expr), attr_path(path)),
        ExprKind::Unary {
            op: UnaryOp::Neg,
            expr,
        } => format!("(neg {})", sexpr(expr)),
        ExprKind::Unary {
            op: UnaryOp::Not,
            expr,
        } => format!("(! {})", sexpr(expr)),
        ExprKind::Binary { op, lhs, rhs } => {
            format!("({} {} {})", op.symbol(), sexpr(lhs), sexpr(rhs))
        }
    }
}

fn str_parts(parts: &[StrPart]) -> String {
    let parts: Vec<String> = parts
        .iter()
        .map(|part| match part {
            StrPart::Lit(text) => format!("{text:?}"),
            StrPart::Interp(expr) => format!("${{{}}}", sexpr(expr)),
        })
        .collect();
    format!(
        "(str{}{})",
        if parts.is_empty() { "" } else { " " },
        parts.join(" ")
    )
}

fn attr_key(key: &AttrKey) -> String {
    match &key.kind {
        AttrKeyKind::Ident(name) => name.clone(),
        AttrKeyKind::Str(parts) => str_parts(parts),
        AttrKeyKind::Dynamic(expr) => format!("${{{}}}", sexpr(expr)),
    }
}

fn attr_path(path: &[AttrKey]) -> String {
    path.iter().map(attr_key).collect::<Vec<_>>().join(".")
}

fn binding(binding: &Binding) -> String {
    match binding {
        Binding::Assign { path, value, .. } => format!("{}={};", attr_path(path), sexpr(value)),
        Binding::Inherit { from, names, .. } => {
            let names: Vec<String> = names.iter().map(attr_key).collect();
            match from {
                Some(from) => format!("inherit({}) {};", sexpr(from), names.join(" ")),
                None => format!("inherit {};", names.join(" ")),
            }
        }
    }
}

fn param_text(param: &Param) -> String {
    match param {
        Param::Ident(ident) => ident.name.clone(),
        Param::Pattern {
            formals,
            ellipsis,
            at,
        } => {
            let mut items: Vec<String> = formals
                .iter()
                .map(|formal| match &formal.default {
                    Some(default) => format!("{}?{}", formal.name.name, sexpr(default)),
                    None => formal.name.name.clone(),
                })
                .collect();
            if *ellipsis {
                items.push("...".to_string());
            }
            let pattern = format!("{{{}}}", items.join(","));
            match at {
                Some(at) => format!("{}@{}", at.name, pattern),
                None => pattern,
            }
        }
    }
}
