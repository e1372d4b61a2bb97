//! Pest pairs → the spanned AST. Every construct Nix has but `.ha` rejects is reported here
//! (E0002), as are the syntax rules pest cannot express (non-associative comparisons, integer
//! literals out of range, dynamic attributes where Nix forbids them). The depth of the AST
//! being built is counted so that it can never exceed [`super::MAX_DEPTH`].

use std::cell::Cell;
use std::sync::LazyLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::grammar::Rule;
use super::strings::{self, IndPiece};
use super::MAX_DEPTH;
use crate::ast::*;
use hac_core::{Diagnostic, FileId, Span};

pub(super) type Fallible<T> = Result<T, Box<Diagnostic>>;

/// Nix's operator table, loosest first.
static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_impl, Assoc::Right))
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::infix(Rule::op_eq, Assoc::Left) | Op::infix(Rule::op_ne, Assoc::Left))
        .op(Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left))
        .op(Op::infix(Rule::op_update, Assoc::Right))
        .op(Op::prefix(Rule::not))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
        .op(Op::infix(Rule::op_concat, Assoc::Right))
        .op(Op::postfix(Rule::has_attr))
        .op(Op::prefix(Rule::neg))
});

/// The two groups of non-associative operators: `a < b < c` and `a == b == c` are errors.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NonAssoc {
    Comparison,
    Equality,
}

/// An operand or result inside the Pratt parser: the expression, and whether it is a bare
/// (unparenthesised) non-associative operation.
struct Operand {
    expr: Expr,
    bare: Option<NonAssoc>,
}

/// Converts pairs of one file into AST nodes.
pub(super) struct Converter {
    file: FileId,
    depth: Cell<usize>,
}

/// Gives back depth taken by [`Converter::enter`] when the nested conversion is done.
struct DepthGuard<'c> {
    depth: &'c Cell<usize>,
    amount: usize,
}

impl Drop for DepthGuard<'_> {
    fn drop(&mut self) {
        self.depth.set(self.depth.get().saturating_sub(self.amount));
    }
}

fn syntax_error(message: impl Into<String>, span: Span) -> Box<Diagnostic> {
    Box::new(
        Diagnostic::error(message)
            .with_code(hac_core::LanguageCode::Syntax)
            .with_span(span),
    )
}

fn unsupported(message: impl Into<String>, span: Span) -> Box<Diagnostic> {
    Box::new(
        Diagnostic::error(message)
            .with_code(hac_core::LanguageCode::NotSupported)
            .with_span(span),
    )
}

fn boxed(expr: Expr) -> Box<Expr> {
    Box::new(expr)
}

impl Converter {
    pub(super) fn new(file: FileId) -> Converter {
        Converter {
            file,
            depth: Cell::new(0),
        }
    }

    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let span = pair.as_span();
        Span::new(self.file, span.start(), span.end())
    }

    /// Takes `amount` levels of nesting; errors when the total would pass [`MAX_DEPTH`].
    fn enter(&self, amount: usize, span: Span) -> Fallible<DepthGuard<'_>> {
        let depth = self.depth.get().saturating_add(amount);
        if depth > MAX_DEPTH {
            return Err(Box::new(
                Diagnostic::error(format!("expression nested too deeply (limit {MAX_DEPTH})"))
                    .with_code(hac_core::LanguageCode::Syntax)
                    .with_span(span)
                    .with_span_label("nesting limit reached here")
                    .with_hint("split the expression with `let` bindings or into several files"),
            ));
        }
        self.depth.set(depth);
        Ok(DepthGuard {
            depth: &self.depth,
            amount,
        })
    }

    pub(super) fn file(&self, mut pairs: Pairs<'_, Rule>) -> Fallible<Expr> {
        let file = pairs.next().ok_or_else(|| self.internal("empty parse"))?;
        let expr = file
            .into_inner()
            .find(|pair| pair.as_rule() == Rule::expr)
            .ok_or_else(|| self.internal("no expression in file"))?;
        self.expr(expr)
    }

    fn internal(&self, what: &str) -> Box<Diagnostic> {
        Box::new(
            Diagnostic::error(format!("internal parser error: {what}"))
                .with_code(hac_core::LanguageCode::Syntax)
                .with_span(Span::new(self.file, 0, 0)),
        )
    }

    fn unexpected(&self, pair: &Pair<'_, Rule>) -> Box<Diagnostic> {
        Box::new(
            Diagnostic::error(format!(
                "internal parser error: unexpected {:?}",
                pair.as_rule()
            ))
            .with_code(hac_core::LanguageCode::Syntax)
            .with_span(self.span(pair)),
        )
    }

    fn child<'i>(&self, parent: &Pair<'i, Rule>, rule: Rule) -> Fallible<Pair<'i, Rule>> {
        parent
            .clone()
            .into_inner()
            .find(|pair| pair.as_rule() == rule)
            .ok_or_else(|| self.internal(&format!("missing {rule:?} in {:?}", parent.as_rule())))
    }

    /// `expr`: right-extending heads (lambda, let, with, assert, if) then an operator expression.
    fn expr(&self, pair: Pair<'_, Rule>) -> Fallible<Expr> {
        let span = self.span(&pair);
        let mut heads = Vec::new();
        let mut body = None;
        for child in pair.into_inner() {
            if child.as_rule() == Rule::op_expr {
                body = Some(child);
            } else {
                heads.push(child);
            }
        }
        let Some(body) = body else {
            return match heads.first() {
                Some(legacy) if legacy.as_rule() == Rule::legacy_let => Err(Box::new(
                    Diagnostic::error("legacy `let { … }` is not supported in .ha")
                        .with_code(hac_core::LanguageCode::NotSupported)
                        .with_span(self.span(legacy))
                        .with_hint("write `let name = value; in expression` instead"),
                )),
                _ => Err(self.internal("expression without a body")),
            };
        };
        let _guard = self.enter(heads.len() + 1, span)?;
        let mut result = self.op_expr(body)?;
        for head in heads.into_iter().rev() {
            let head_span = self.span(&head);
            let whole = Span::new(
                self.file,
                head_span.start as usize,
                result.span.end as usize,
            );
            let body = boxed(result);
            let kind = match head.as_rule() {
                Rule::let_head => {
                    let mut bindings = Vec::new();
                    for binding in head.into_inner() {
                        match binding.as_rule() {
                            Rule::assign | Rule::inherit => {
                                let binding = self.binding(binding)?;
                                self.check_let_binding(&binding)?;
                                bindings.push(binding);
                            }
                            _ => {}
                        }
                    }
                    ExprKind::Let { bindings, body }
                }
                Rule::with_head => {
                    let scope = self.child(&head, Rule::expr)?;
                    ExprKind::With {
                        scope: boxed(self.expr(scope)?),
                        body,
                    }
                }
                Rule::assert_head => {
                    let cond = self.child(&head, Rule::expr)?;
                    ExprKind::Assert {
                        cond: boxed(self.expr(cond)?),
                        body,
                    }
                }
                Rule::if_head => {
                    let mut exprs = head.into_inner().filter(|p| p.as_rule() == Rule::expr);
                    let (Some(cond), Some(then)) = (exprs.next(), exprs.next()) else {
                        return Err(self.internal("`if` without condition or branch"));
                    };
                    ExprKind::If {
                        cond: boxed(self.expr(cond)?),
                        then: boxed(self.expr(then)?),
                        else_: body,
                    }
                }
                Rule::lambda_head => ExprKind::Lambda {
                    param: self.lambda_param(head)?,
                    body,
                },
                _ => return Err(self.unexpected(&head)),
            };
            result = Expr { kind, span: whole };
        }
        Ok(result)
    }

    fn check_let_binding(&self, binding: &Binding) -> Fallible<()> {
        if let Binding::Assign { path, .. } = binding {
            if let Some(first) = path.first() {
                let dynamic = match &first.kind {
                    AttrKeyKind::Dynamic(_) => true,
                    AttrKeyKind::Str(parts) => {
                        parts.iter().any(|part| matches!(part, StrPart::Interp(_)))
                    }
                    AttrKeyKind::Ident(_) => false,
                };
                if dynamic {
                    return Err(Box::new(
                        Diagnostic::error("dynamic attributes are not allowed in `let`")
                            .with_code(hac_core::LanguageCode::Syntax)
                            .with_span(first.span)
                            .with_hint("use a static name, or build an attribute set instead"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn lambda_param(&self, head: Pair<'_, Rule>) -> Fallible<Param> {
        let inner = head
            .into_inner()
            .find(|p| p.as_rule() != Rule::colon)
            .ok_or_else(|| self.internal("lambda without parameter"))?;
        match inner.as_rule() {
            Rule::ident_param => {
                let ident = self.child(&inner, Rule::ident)?;
                Ok(Param::Ident(self.ident(&ident)))
            }
            Rule::at_formals | Rule::formals_param => {
                let mut at = None;
                let mut pattern = None;
                for part in inner.into_inner() {
                    match part.as_rule() {
                        Rule::ident => at = Some(self.ident(&part)),
                        Rule::formals => pattern = Some(part),
                        _ => {}
                    }
                }
                let pattern = pattern.ok_or_else(|| self.internal("pattern without formals"))?;
                let mut formals = Vec::new();
                let mut ellipsis = false;
                for part in pattern.into_inner() {
                    match part.as_rule() {
                        Rule::formal => {
                            let mut name = None;
                            let mut default = None;
                            for piece in part.into_inner() {
                                match piece.as_rule() {
                                    Rule::ident => name = Some(self.ident(&piece)),
                                    Rule::expr => default = Some(self.expr(piece)?),
                                    _ => {}
                                }
                            }
                            let name = name.ok_or_else(|| self.internal("formal without name"))?;
                            formals.push(Formal { name, default });
                        }
                        Rule::ellipsis => ellipsis = true,
                        _ => {}
                    }
                }
                self.check_duplicate_formals(&formals, at.as_ref())?;
                Ok(Param::Pattern {
                    formals,
                    ellipsis,
                    at,
                })
            }
            _ => Err(self.unexpected(&inner)),
        }
    }

    /// Nix rejects `{ a, a }: …` and `a@{ a }: …` while parsing.
    fn check_duplicate_formals(&self, formals: &[Formal], at: Option<&Ident>) -> Fallible<()> {
        let mut seen: Vec<&Ident> = at.into_iter().collect();
        for formal in formals {
            if let Some(first) = seen.iter().find(|ident| ident.name == formal.name.name) {
                return Err(Box::new(
                    Diagnostic::error(format!(
                        "duplicate formal function argument `{}`",
                        formal.name.name
                    ))
                    .with_code(hac_core::LanguageCode::Syntax)
                    .with_span(formal.name.span)
                    .with_label(first.span, "first defined here"),
                ));
            }
            seen.push(&formal.name);
        }
        Ok(())
    }

    fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }

    /// `op_expr`: operands and operators, arranged by the Pratt parser.
    fn op_expr(&self, pair: Pair<'_, Rule>) -> Fallible<Expr> {
        let span = self.span(&pair);
        let items: Vec<Pair<'_, Rule>> = pair.into_inner().collect();
        if let [single] = items.as_slice() {
            return self.app(single.clone());
        }
        let mut operators = 0usize;
        for item in &items {
            match item.as_rule() {
                Rule::app => {}
                Rule::unsupported_pipe => {
                    return Err(Box::new(
                        Diagnostic::error(format!(
                            "the pipe operator `{}` is not supported in .ha",
                            item.as_str()
                        ))
                        .with_code(hac_core::LanguageCode::NotSupported)
                        .with_span(self.span(item))
                        .with_hint("apply the function directly: `f x` instead of `x |> f`"),
                    ));
                }
                _ => operators += 1,
            }
        }
        let _guard = self.enter(operators, span)?;
        let result = PRATT
            .map_primary(|primary| {
                Ok(Operand {
                    expr: self.app(primary)?,
                    bare: None,
                })
            })
            .map_prefix(|op, operand: Fallible<Operand>| {
                let operand = operand?;
                let op_span = self.span(&op);
                let unary = match op.as_rule() {
                    Rule::neg => UnaryOp::Neg,
                    _ => UnaryOp::Not,
                };
                let whole = Span::new(
                    self.file,
                    op_span.start as usize,
                    operand.expr.span.end as usize,
                );
                Ok(Operand {
                    expr: Expr {
                        kind: ExprKind::Unary {
                            op: unary,
                            expr: boxed(operand.expr),
                        },
                        span: whole,
                    },
                    bare: None,
                })
            })
            .map_postfix(|operand: Fallible<Operand>, op| {
                let operand = operand?;
                let path = self.attrpath(self.child(&op, Rule::attrpath)?)?;
                let op_span = self.span(&op);
                let whole = Span::new(
                    self.file,
                    operand.expr.span.start as usize,
                    op_span.end as usize,
                );
                Ok(Operand {
                    expr: Expr {
                        kind: ExprKind::HasAttr {
                            expr: boxed(operand.expr),
                            path,
                        },
                        span: whole,
                    },
                    bare: None,
                })
            })
            .map_infix(|lhs: Fallible<Operand>, op, rhs: Fallible<Operand>| {
                self.binary(lhs?, &op, rhs?)
            })
            .parse(items.into_iter())?;
        Ok(result.expr)
    }

    /// `lhs op rhs`; comparisons and equalities do not chain (`a < b < c` is an error).
    fn binary(&self, lhs: Operand, op: &Pair<'_, Rule>, rhs: Operand) -> Fallible<Operand> {
        let (binop, class) = match op.as_rule() {
            Rule::op_impl => (BinOp::Impl, None),
            Rule::op_or => (BinOp::Or, None),
            Rule::op_and => (BinOp::And, None),
            Rule::op_eq => (BinOp::Eq, Some(NonAssoc::Equality)),
            Rule::op_ne => (BinOp::Ne, Some(NonAssoc::Equality)),
            Rule::op_lt => (BinOp::Lt, Some(NonAssoc::Comparison)),
            Rule::op_le => (BinOp::Le, Some(NonAssoc::Comparison)),
            Rule::op_gt => (BinOp::Gt, Some(NonAssoc::Comparison)),
            Rule::op_ge => (BinOp::Ge, Some(NonAssoc::Comparison)),
            Rule::op_update => (BinOp::Update, None),
            Rule::op_concat => (BinOp::Concat, None),
            Rule::op_add => (BinOp::Add, None),
            Rule::op_sub => (BinOp::Sub, None),
            Rule::op_mul => (BinOp::Mul, None),
            Rule::op_div => (BinOp::Div, None),
            _ => return Err(self.unexpected(op)),
        };
        if class.is_some() && (lhs.bare == class || rhs.bare == class) {
            let what = if class == Some(NonAssoc::Comparison) {
                "comparison operators"
            } else {
                "`==` and `!=`"
            };
            return Err(Box::new(
                Diagnostic::error(format!(
                    "syntax error: {what} cannot be chained (found `{}` after another one)",
                    op.as_str()
                ))
                .with_code(hac_core::LanguageCode::Syntax)
                .with_span(self.span(op))
                .with_hint("add parentheses, or combine the comparisons with `&&`"),
            ));
        }
        let whole = Span::new(
            self.file,
            lhs.expr.span.start as usize,
            rhs.expr.span.end as usize,
        );
        Ok(Operand {
            expr: Expr {
                kind: ExprKind::Binary {
                    op: binop,
                    lhs: boxed(lhs.expr),
                    rhs: boxed(rhs.expr),
                },
                span: whole,
            },
            bare: class,
        })
    }

    /// `app`: `f a b` is `(f a) b`.
    fn app(&self, pair: Pair<'_, Rule>) -> Fallible<Expr> {
        let span = self.span(&pair);
        let selects: Vec<Pair<'_, Rule>> = pair.into_inner().collect();
        let _guard = self.enter(selects.len().saturating_sub(1), span)?;
        let mut selects = selects.into_iter();
        let first = selects
            .next()
            .ok_or_else(|| self.internal("empty application"))?;
        let mut result = self.select(first)?;
        for arg in selects {
            let arg = self.select(arg)?;
            let whole = Span::new(self.file, result.span.start as usize, arg.span.end as usize);
            result = Expr {
                kind: ExprKind::Apply {
                    func: boxed(result),
                    arg: boxed(arg),
                },
                span: whole,
            };
        }
        Ok(result)
    }

    /// `select`: `e`, `e.a.b`, `e.a.b or d`, with `or` defaults nesting to the right.
    fn select(&self, pair: Pair<'_, Rule>) -> Fallible<Expr> {
        let span = self.span(&pair);
        let mut children = pair.into_inner();
        let primary = children
            .next()
            .ok_or_else(|| self.internal("empty selection"))?;
        let mut path = None;
        let mut defaults = Vec::new();
        for child in children {
            match child.as_rule() {
                Rule::attrpath => path = Some(child),
                Rule::or_default => defaults.push(child),
                _ => {}
            }
        }
        let Some(path) = path else {
            return self.primary(primary);
        };
        let _guard = self.enter(defaults.len() + 1, span)?;
        // Fold the `or` chain from the right.
        let mut default: Option<Expr> = None;
        let count = defaults.len();
        for (index, link) in defaults.into_iter().rev().enumerate() {
            let link_span = self.span(&link);
            let mut base = None;
            let mut link_path = None;
            for part in link.into_inner() {
                match part.as_rule() {
                    Rule::attrpath => link_path = Some(part),
                    Rule::or_kw | Rule::dot => {}
                    _ => base = Some(part),
                }
            }
            let base = base.ok_or_else(|| self.internal("`or` without a default"))?;
            let is_last = index == 0;
            let base = self.primary(base)?;
            let link_expr = match link_path {
                Some(link_path) => {
                    let whole =
                        Span::new(self.file, base.span.start as usize, link_span.end as usize);
                    let path = self.attrpath(link_path)?;
                    Expr {
                        kind: ExprKind::Select {
                            expr: boxed(base),
                            path,
                            default: default.take().map(boxed),
                        },
                        span: whole,
                    }
                }
                None if is_last => base,
                None => {
                    return Err(Box::new(
                        Diagnostic::error("syntax error: unexpected `or`")
                            .with_code(hac_core::LanguageCode::Syntax)
                            .with_span(Span::new(
                                self.file,
                                link_span.end as usize,
                                link_span.end as usize,
                            ))
                            .with_hint(
                                "`or` gives a default only after an attribute selection like `x.a or d`",
                            ),
                    ));
                }
            };
            default = Some(link_expr);
            let _ = count;
        }
        let base = self.primary(primary)?;
        let path = self.attrpath(path)?;
        Ok(Expr {
            kind: ExprKind::Select {
                expr: boxed(base),
                path,
                default: default.map(boxed),
            },
            span,
        })
    }

    fn attrpath(&self, pair: Pair<'_, Rule>) -> Fallible<Vec<AttrKey>> {
        pair.into_inner()
            .filter(|part| part.as_rule() != Rule::dot)
            .map(|part| self.attr_key(part))
            .collect()
    }

    fn attr_key(&self, pair: Pair<'_, Rule>) -> Fallible<AttrKey> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::attr_name => AttrKeyKind::Ident(pair.as_str().to_string()),
            Rule::string => AttrKeyKind::Str(self.string_parts(pair)?),
            Rule::dyn_attr => {
                let inner = self.expr(self.child(&pair, Rule::expr)?)?;
                // `${"a"}` with a plain string inside is a static name, as in Nix.
                match inner.kind {
                    ExprKind::Str(parts)
                        if parts.iter().all(|part| matches!(part, StrPart::Lit(_))) =>
                    {
                        AttrKeyKind::Str(parts)
                    }
                    kind => AttrKeyKind::Dynamic(boxed(Expr {
                        kind,
                        span: inner.span,
                    })),
                }
            }
            _ => return Err(self.unexpected(&pair)),
        };
        Ok(AttrKey { kind, span })
    }

    fn binding(&self, pair: Pair<'_, Rule>) -> Fallible<Binding> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::assign => {
                let mut path = None;
                let mut value = None;
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::attrpath => path = Some(self.attrpath(part)?),
                        Rule::expr => value = Some(self.expr(part)?),
                        _ => {}
                    }
                }
                let (Some(path), Some(value)) = (path, value) else {
                    return Err(self.internal("binding without name or value"));
                };
                Ok(Binding::Assign { path, value, span })
            }
            Rule::inherit => {
                let mut from = None;
                let mut names = Vec::new();
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::inherit_from => {
                            from = Some(boxed(self.expr(self.child(&part, Rule::expr)?)?));
                        }
                        Rule::attr_name | Rule::string | Rule::dyn_attr => {
                            let key = self.attr_key(part)?;
                            let dynamic = match &key.kind {
                                AttrKeyKind::Dynamic(_) => true,
                                AttrKeyKind::Str(parts) => {
                                    parts.iter().any(|p| matches!(p, StrPart::Interp(_)))
                                }
                                AttrKeyKind::Ident(_) => false,
                            };
                            if dynamic {
                                return Err(Box::new(
                                    Diagnostic::error(
                                        "dynamic attributes are not allowed in `inherit`",
                                    )
                                    .with_code(hac_core::LanguageCode::Syntax)
                                    .with_span(key.span)
                                    .with_hint("write `name = expression;` instead"),
                                ));
                            }
                            names.push(key);
                        }
                        _ => {}
                    }
                }
                Ok(Binding::Inherit { from, names, span })
            }
            _ => Err(self.unexpected(&pair)),
        }
    }

    fn bindings(&self, pair: Pair<'_, Rule>) -> Fallible<Vec<Binding>> {
        pair.into_inner()
            .filter(|part| matches!(part.as_rule(), Rule::assign | Rule::inherit))
            .map(|part| self.binding(part))
            .collect()
    }

    // One match over the grammar's primary expressions, read as a table of cases.
    #[allow(clippy::too_many_lines)]
    fn primary(&self, pair: Pair<'_, Rule>) -> Fallible<Expr> {
        let span = self.span(&pair);
        let text = pair.as_str();
        let kind = match pair.as_rule() {
            Rule::int => match text.parse::<i64>() {
                Ok(value) => ExprKind::Int(value),
                Err(_) => {
                    return Err(Box::new(
                        Diagnostic::error(format!(
                            "integer literal `{}` is too large",
                            abbreviate(text)
                        ))
                        .with_code(hac_core::LanguageCode::Syntax)
                        .with_span(span)
                        .with_span_label("does not fit in a 64-bit signed integer")
                        .with_note(format!("the largest integer is {}", i64::MAX)),
                    ));
                }
            },
            Rule::float => ExprKind::Float(parse_float(text).ok_or_else(|| {
                syntax_error(
                    format!("invalid float literal `{}`", abbreviate(text)),
                    span,
                )
            })?),
            Rule::bad_exponent => {
                return Err(Box::new(
                    Diagnostic::error(format!(
                        "`{text}` is not a number: Nix reads it as `{}` applied to `{}`",
                        text.split(['e', 'E']).next().unwrap_or(text),
                        &text[text.find(['e', 'E']).unwrap_or(0)..]
                    ))
                    .with_code(hac_core::LanguageCode::Syntax)
                    .with_span(span)
                    .with_hint("a float with an exponent needs a dot: write e.g. `1.0e3`"),
                ));
            }
            Rule::path => {
                if pair
                    .clone()
                    .into_inner()
                    .any(|part| part.as_rule() == Rule::str_interp)
                {
                    return Err(unsupported(
                        "interpolation in paths is not supported in .ha",
                        span,
                    )
                    .map_hint("write the path literally, e.g. `./lib/nodes.ha`"));
                }
                if text.ends_with('/') {
                    return Err(Box::new(
                        Diagnostic::error(format!("path `{text}` has a trailing slash"))
                            .with_code(hac_core::LanguageCode::Syntax)
                            .with_span(span)
                            .with_hint("remove the `/` at the end"),
                    ));
                }
                if text.starts_with('/') {
                    ExprKind::Path(PathLit::Absolute(text.to_string()))
                } else {
                    ExprKind::Path(PathLit::Relative(text.to_string()))
                }
            }
            Rule::home_path => {
                return Err(unsupported(
                    format!("`~/` paths are not supported in .ha (`{text}`)"),
                    span,
                )
                .map_hint("use a path relative to this file, e.g. `./lib.ha`"));
            }
            Rule::search_path => {
                let inner = &text[1..text.len().saturating_sub(1)];
                match inner.strip_prefix("hac/") {
                    Some(name) if !name.is_empty() => {
                        ExprKind::Path(PathLit::Search(inner.to_string()))
                    }
                    _ => {
                        return Err(unsupported(
                            format!("search path `{text}` is not supported in .ha"),
                            span,
                        )
                        .map_hint("only the embedded library is available: `<hac/lib>`"));
                    }
                }
            }
            Rule::uri => {
                let mut diagnostic = Diagnostic::error(format!(
                    "URI literals are not supported in .ha (`{}`)",
                    abbreviate(text)
                ))
                .with_code(hac_core::LanguageCode::NotSupported)
                .with_span(span);
                if text.contains("://") {
                    diagnostic = diagnostic.with_hint(format!("quote it: `\"{text}\"`"));
                } else {
                    let (param, body) = text.split_once(':').unwrap_or((text, ""));
                    diagnostic = diagnostic
                        .with_note("Nix reads a name followed directly by `:` and text as a URI")
                        .with_hint(format!(
                            "for a function, put a space after the colon: `{param}: {body}`; for a string, quote it: `\"{text}\"`"
                        ));
                }
                return Err(Box::new(diagnostic));
            }
            Rule::cur_pos => {
                return Err(unsupported("`__curPos` is not supported in .ha", span));
            }
            Rule::string => ExprKind::Str(self.string_parts(pair)?),
            Rule::ind_string => ExprKind::Str(self.ind_string_parts(pair)?),
            Rule::paren => {
                // The parenthesised expression, spanning its parentheses.
                let inner = self.expr(self.child(&pair, Rule::expr)?)?;
                return Ok(Expr {
                    kind: inner.kind,
                    span,
                });
            }
            Rule::list => {
                let _guard = self.enter(1, span)?;
                let items = pair
                    .into_inner()
                    .filter(|item| item.as_rule() == Rule::select)
                    .map(|item| self.select(item))
                    .collect::<Fallible<Vec<_>>>()?;
                ExprKind::List(items)
            }
            Rule::attrs | Rule::rec_attrs => {
                let _guard = self.enter(1, span)?;
                let rec = pair.as_rule() == Rule::rec_attrs;
                ExprKind::Attrs {
                    rec,
                    bindings: self.bindings(pair)?,
                }
            }
            Rule::var => ExprKind::Var(Ident {
                name: text.to_string(),
                span,
            }),
            _ => return Err(self.unexpected(&pair)),
        };
        Ok(Expr { kind, span })
    }

    fn check_nul(&self, text: &str, span: Span) -> Fallible<()> {
        if text.contains('\0') {
            return Err(syntax_error("a string cannot contain a NUL byte", span));
        }
        Ok(())
    }

    fn string_parts(&self, pair: Pair<'_, Rule>) -> Fallible<Vec<StrPart>> {
        let mut parts = Vec::new();
        for piece in pair.into_inner() {
            match piece.as_rule() {
                Rule::str_text => {
                    let text = strings::unescape_double_quoted(piece.as_str());
                    self.check_nul(&text, self.span(&piece))?;
                    strings::push_lit(&mut parts, text);
                }
                Rule::str_interp => {
                    parts.push(StrPart::Interp(self.expr(self.child(&piece, Rule::expr)?)?));
                }
                _ => {}
            }
        }
        Ok(parts)
    }

    fn ind_string_parts(&self, pair: Pair<'_, Rule>) -> Fallible<Vec<StrPart>> {
        let mut pieces = Vec::new();
        for piece in pair.into_inner() {
            let text = piece.as_str();
            let literal = |text: String| IndPiece::Text {
                text,
                counts_for_indentation: false,
            };
            match piece.as_rule() {
                Rule::ind_text => {
                    self.check_nul(text, self.span(&piece))?;
                    pieces.push(IndPiece::Text {
                        text: text.to_string(),
                        counts_for_indentation: true,
                    });
                }
                Rule::ind_esc_dollar | Rule::ind_dollar => pieces.push(literal("$".to_string())),
                Rule::ind_esc_quotes => pieces.push(literal("''".to_string())),
                Rule::ind_quote => pieces.push(literal("'".to_string())),
                Rule::ind_esc_char => {
                    let escaped = text.chars().nth(3).unwrap_or('\\');
                    let decoded = strings::unescape_indented_char(escaped);
                    self.check_nul(&decoded, self.span(&piece))?;
                    pieces.push(literal(decoded));
                }
                Rule::ind_interp => {
                    pieces.push(IndPiece::Interp(
                        self.expr(self.child(&piece, Rule::expr)?)?,
                    ));
                }
                _ => {}
            }
        }
        Ok(strings::strip_indentation(pieces))
    }
}

trait MapHint {
    fn map_hint(self, hint: &str) -> Self;
}

impl MapHint for Box<Diagnostic> {
    fn map_hint(mut self, hint: &str) -> Self {
        self.hints.push(hint.to_string());
        self
    }
}

/// Nix float literals: `1.5`, `1.`, `.5`, `1.5e3`, `1.e3`.
fn parse_float(text: &str) -> Option<f64> {
    let normalized = text.replacen(".e", ".0e", 1).replacen(".E", ".0E", 1);
    let normalized = if normalized.ends_with('.') {
        format!("{normalized}0")
    } else {
        normalized
    };
    let normalized = if normalized.starts_with('.') {
        format!("0{normalized}")
    } else {
        normalized
    };
    normalized
        .parse::<f64>()
        .ok()
        .filter(|value| value.is_finite())
}

/// Cuts long literal text for messages.
fn abbreviate(text: &str) -> String {
    const LIMIT: usize = 40;
    if text.chars().count() <= LIMIT {
        text.to_string()
    } else {
        let head: String = text.chars().take(LIMIT).collect();
        format!("{head}…")
    }
}
