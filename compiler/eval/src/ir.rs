//! The evaluator's intermediate form and the compiler from the AST to it. Compiling resolves
//! every variable to a (scope distance, slot) pair (or to a `with` lookup), merges nested
//! attribute paths (`a.b = 1; a.c = 2;`), reports undefined variables (E0003), duplicate
//! attributes (E0016) and unsupported Nix names (E0002) before anything runs, as Nix does.

use crate::value::{PathValue, Sym, Thunk, Value};
use crate::{builtins, diag};
use hac_core::{suggest::did_you_mean, Diagnostic, Span};
use hac_syntax::ast::{self, AttrKeyKind, BinOp, Binding, ExprKind, Param, StrPart, UnaryOp};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// One node of compiled code. Nodes a thunk or a closure can point to (list elements,
/// arguments, attribute values, `with` scopes, defaults, lambdas) are behind an `Rc`, which
/// those values hold: compiled code lives exactly as long as some value may still run it.
pub struct Ir {
    pub kind: IrKind,
    pub span: Span,
}

pub enum IrKind {
    /// A literal, as an already-forced thunk shared by every use.
    Const(Thunk),
    Str(Vec<StrPartIr>),
    /// A variable bound by an enclosing lexical scope: `up` scopes out, slot `idx`.
    #[allow(dead_code)] // `name` is kept for debugging output
    Var {
        up: u32,
        idx: u32,
        name: Sym,
    },
    /// A variable only `with` can provide: the `with` scopes (distances), innermost first.
    WithVar {
        name: Sym,
        withs: Vec<u32>,
    },
    List(Vec<Rc<Ir>>),
    Attrs(Box<AttrsIr>),
    Let {
        attrs: Box<AttrsIr>,
        body: Box<Ir>,
    },
    With {
        scope: Rc<Ir>,
        body: Box<Ir>,
    },
    Assert {
        cond: Box<Ir>,
        body: Box<Ir>,
    },
    If {
        cond: Box<Ir>,
        then: Box<Ir>,
        else_: Box<Ir>,
    },
    Lambda(Rc<LambdaIr>),
    Apply {
        func: Box<Ir>,
        arg: Rc<Ir>,
        name: Option<Sym>,
    },
    Select {
        expr: Box<Ir>,
        path: Vec<KeyIr>,
        default: Option<Box<Ir>>,
    },
    HasAttr {
        expr: Box<Ir>,
        path: Vec<KeyIr>,
    },
    Neg(Box<Ir>),
    Not(Box<Ir>),
    Binary {
        op: BinOp,
        lhs: Box<Ir>,
        rhs: Box<Ir>,
    },
}

pub enum StrPartIr {
    Lit(Sym),
    Interp(Ir),
}

pub enum KeyIr {
    Static(Sym, Span),
    Dynamic(Ir),
}

/// An attribute set literal (also the bindings of a `let`).
pub struct AttrsIr {
    pub rec: bool,
    /// The `(from)` expressions of `inherit (from) …`, evaluated once per set.
    pub froms: Vec<Rc<Ir>>,
    /// Statically named attributes; in a `rec` set or `let`, slot i of the scope is statics[i].
    pub statics: Vec<StaticAttr>,
    pub dynamics: Vec<DynAttr>,
}

pub struct StaticAttr {
    pub name: Sym,
    pub key_span: Span,
    pub value: AttrValueIr,
}

pub enum AttrValueIr {
    Expr(Rc<Ir>),
    InheritFrom { from: usize, name: Sym, span: Span },
}

pub struct DynAttr {
    pub key: Ir,
    pub key_span: Span,
    pub value: Rc<Ir>,
}

pub struct LambdaIr {
    pub param: ParamIr,
    pub body: Ir,
    pub span: Span,
}

pub enum ParamIr {
    /// `x: …` — slot 0.
    #[allow(dead_code)] // the name is kept for debugging output
    Ident(Sym),
    /// `{ a, b ? d, ... }@x: …` — formals in slots 0.., then `x`.
    Pattern {
        formals: Vec<FormalIr>,
        ellipsis: bool,
        at: Option<Sym>,
    },
}

pub struct FormalIr {
    pub name: Sym,
    pub span: Span,
    pub default: Option<Rc<Ir>>,
}

#[derive(PartialEq)]
enum ScopeKind {
    Lexical,
    With,
}

struct Scope {
    kind: ScopeKind,
    names: HashMap<Sym, u32>,
}

/// Compiles one parsed file.
pub struct Compiler {
    dir: PathBuf,
    scopes: Vec<Scope>,
    depth: usize,
}

const MAX_COMPILE_DEPTH: usize = 20_000;

type CResult<T> = Result<T, Box<Diagnostic>>;

impl Compiler {
    /// `globals`: the names of the base environment, in slot order.
    pub fn new(dir: &Path, globals: &[Sym]) -> Compiler {
        let names = globals
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32))
            .collect();
        Compiler {
            dir: dir.to_path_buf(),
            scopes: vec![Scope {
                kind: ScopeKind::Lexical,
                names,
            }],
            depth: 0,
        }
    }

    pub fn compile_root(&mut self, e: &ast::Expr) -> CResult<Ir> {
        self.compile(e)
    }

    fn resolve(&self, name: &str, span: Span, skip: usize) -> CResult<IrKind> {
        let mut withs = Vec::new();
        let n = self.scopes.len().saturating_sub(skip);
        for (up, scope) in self.scopes[..n].iter().rev().enumerate() {
            let up = (up + skip) as u32;
            match scope.kind {
                ScopeKind::With => withs.push(up),
                ScopeKind::Lexical => {
                    if let Some(&idx) = scope.names.get(name) {
                        return Ok(IrKind::Var {
                            up,
                            idx,
                            name: Sym::from(name),
                        });
                    }
                }
            }
        }
        if !withs.is_empty() {
            return Ok(IrKind::WithVar {
                name: Sym::from(name),
                withs,
            });
        }
        if builtins::is_unsupported(name)
            || name
                .strip_prefix("__")
                .is_some_and(builtins::is_unsupported)
        {
            return Err(Box::new(diag::unsupported(
                span,
                format!("`{name}` is not supported in .ha"),
                builtins::unsupported_note(name.trim_start_matches("__")),
            )));
        }
        let mut candidates: Vec<&str> = Vec::new();
        for s in &self.scopes {
            candidates.extend(
                s.names
                    .keys()
                    .map(|k| &**k)
                    .filter(|k| !k.starts_with("__")),
            );
        }
        let mut d = Diagnostic::error(format!("undefined variable `{name}`"))
            .with_code(hac_core::LanguageCode::UndefinedVariable)
            .with_span(span)
            .with_span_label("not defined here");
        if let Some(s) = did_you_mean(name, candidates) {
            d = d.with_hint(format!("did you mean `{s}`?"));
        }
        Err(Box::new(d))
    }

    /// Runs `f` with one more scope open (closed on every path out, errors included).
    fn in_scope<T>(
        &mut self,
        kind: ScopeKind,
        names: HashMap<Sym, u32>,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        self.scopes.push(Scope { kind, names });
        let r = f(self);
        self.scopes.pop();
        r
    }

    fn compile(&mut self, e: &ast::Expr) -> CResult<Ir> {
        if self.depth >= MAX_COMPILE_DEPTH {
            return Err(Box::new(
                Diagnostic::error("expression nested too deeply")
                    .with_code(hac_core::LanguageCode::TooDeep)
                    .with_span(e.span)
                    .with_span_label("nesting limit reached here"),
            ));
        }
        self.depth += 1;
        let r = self.compile_inner(e);
        self.depth -= 1;
        r
    }

    fn compile_inner(&mut self, e: &ast::Expr) -> CResult<Ir> {
        let span = e.span;
        let kind = match &e.kind {
            ExprKind::Int(i) => konst(Value::Int(*i), span),
            ExprKind::Float(f) => konst(Value::Float(*f), span),
            ExprKind::Str(parts) => self.compile_str(parts, span)?,
            ExprKind::Path(p) => konst(
                Value::Path(Rc::new(match p {
                    ast::PathLit::Relative(s) => PathValue::File(self.dir.join(s)),
                    ast::PathLit::Absolute(s) => PathValue::Absolute(PathBuf::from(s)),
                    ast::PathLit::Search(s) => PathValue::Search(s.clone()),
                })),
                span,
            ),
            ExprKind::Var(id) => self.resolve(&id.name, id.span, 0)?,
            ExprKind::List(items) => IrKind::List(
                items
                    .iter()
                    .map(|i| self.compile(i).map(Rc::new))
                    .collect::<CResult<Vec<_>>>()?,
            ),
            ExprKind::Attrs { rec, bindings } => {
                IrKind::Attrs(Box::new(self.compile_attrs(*rec, false, bindings, span)?))
            }
            ExprKind::Let { bindings, body } => {
                let attrs = self.compile_attrs(true, true, bindings, span)?;
                let names = attrs
                    .statics
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.name.clone(), i as u32))
                    .collect();
                let body = self.in_scope(ScopeKind::Lexical, names, |c| c.compile(body));
                IrKind::Let {
                    attrs: Box::new(attrs),
                    body: Box::new(body?),
                }
            }
            ExprKind::With { scope, body } => {
                let scope = self.compile(scope)?;
                let body = self.in_scope(ScopeKind::With, HashMap::new(), |c| c.compile(body));
                IrKind::With {
                    scope: Rc::new(scope),
                    body: Box::new(body?),
                }
            }
            ExprKind::Assert { cond, body } => IrKind::Assert {
                cond: Box::new(self.compile(cond)?),
                body: Box::new(self.compile(body)?),
            },
            ExprKind::If { cond, then, else_ } => IrKind::If {
                cond: Box::new(self.compile(cond)?),
                then: Box::new(self.compile(then)?),
                else_: Box::new(self.compile(else_)?),
            },
            ExprKind::Lambda { param, body } => {
                IrKind::Lambda(Rc::new(self.compile_lambda(param, body, span)?))
            }
            ExprKind::Apply { func, arg } => IrKind::Apply {
                name: func_name(func).map(Sym::from),
                func: Box::new(self.compile(func)?),
                arg: Rc::new(self.compile(arg)?),
            },
            ExprKind::Select {
                expr,
                path,
                default,
            } => IrKind::Select {
                expr: Box::new(self.compile(expr)?),
                path: self.compile_path(path)?,
                default: match default {
                    Some(d) => Some(Box::new(self.compile(d)?)),
                    None => None,
                },
            },
            ExprKind::HasAttr { expr, path } => IrKind::HasAttr {
                expr: Box::new(self.compile(expr)?),
                path: self.compile_path(path)?,
            },
            ExprKind::Unary {
                op: UnaryOp::Neg,
                expr,
            } => match &expr.kind {
                ExprKind::Int(i) => match i.checked_neg() {
                    Some(n) => konst(Value::Int(n), span),
                    None => IrKind::Neg(Box::new(self.compile(expr)?)),
                },
                _ => IrKind::Neg(Box::new(self.compile(expr)?)),
            },
            ExprKind::Unary {
                op: UnaryOp::Not,
                expr,
            } => IrKind::Not(Box::new(self.compile(expr)?)),
            ExprKind::Binary { op, lhs, rhs } => IrKind::Binary {
                op: *op,
                lhs: Box::new(self.compile(lhs)?),
                rhs: Box::new(self.compile(rhs)?),
            },
        };
        Ok(Ir { kind, span })
    }

    fn compile_str(&mut self, parts: &[StrPart], span: Span) -> CResult<IrKind> {
        match parts {
            [] => Ok(konst(Value::str(""), span)),
            [StrPart::Lit(s)] => Ok(konst(Value::str(s), span)),
            _ => {
                let mut out = Vec::with_capacity(parts.len());
                for p in parts {
                    out.push(match p {
                        StrPart::Lit(s) => StrPartIr::Lit(Sym::from(s.as_str())),
                        StrPart::Interp(e) => StrPartIr::Interp(self.compile(e)?),
                    });
                }
                Ok(IrKind::Str(out))
            }
        }
    }

    fn compile_path(&mut self, path: &[ast::AttrKey]) -> CResult<Vec<KeyIr>> {
        let mut out = Vec::with_capacity(path.len());
        for k in path {
            out.push(match static_key(k) {
                Some(s) => KeyIr::Static(Sym::from(s.as_str()), k.span),
                None => KeyIr::Dynamic(self.compile_dynamic_key(k)?),
            });
        }
        Ok(out)
    }

    fn compile_dynamic_key(&mut self, k: &ast::AttrKey) -> CResult<Ir> {
        match &k.kind {
            AttrKeyKind::Ident(s) => Ok(Ir {
                kind: konst(Value::str(s), k.span),
                span: k.span,
            }),
            AttrKeyKind::Str(parts) => Ok(Ir {
                kind: self.compile_str(parts, k.span)?,
                span: k.span,
            }),
            AttrKeyKind::Dynamic(e) => self.compile(e),
        }
    }

    fn compile_lambda(&mut self, param: &Param, body: &ast::Expr, span: Span) -> CResult<LambdaIr> {
        match param {
            Param::Ident(id) => {
                let name = Sym::from(id.name.as_str());
                let mut names = HashMap::new();
                names.insert(name.clone(), 0);
                let body = self.in_scope(ScopeKind::Lexical, names, |c| c.compile(body));
                Ok(LambdaIr {
                    param: ParamIr::Ident(name),
                    body: body?,
                    span,
                })
            }
            Param::Pattern {
                formals,
                ellipsis,
                at,
            } => {
                let mut names: HashMap<Sym, u32> = HashMap::new();
                for (i, f) in formals.iter().enumerate() {
                    let n = Sym::from(f.name.name.as_str());
                    if names.insert(n, i as u32).is_some() {
                        return Err(Box::new(diag::duplicate(
                            f.name.span,
                            format!("duplicate formal function argument `{}`", f.name.name),
                        )));
                    }
                }
                if let Some(a) = at {
                    let n = Sym::from(a.name.as_str());
                    if names.insert(n, formals.len() as u32).is_some() {
                        return Err(Box::new(diag::duplicate(
                            a.span,
                            format!("duplicate formal function argument `{}`", a.name),
                        )));
                    }
                }
                self.in_scope(ScopeKind::Lexical, names, |c| {
                    let mut fs = Vec::with_capacity(formals.len());
                    for f in formals {
                        fs.push(FormalIr {
                            name: Sym::from(f.name.name.as_str()),
                            span: f.name.span,
                            default: match &f.default {
                                Some(d) => Some(Rc::new(c.compile(d)?)),
                                None => None,
                            },
                        });
                    }
                    let body = c.compile(body)?;
                    Ok(LambdaIr {
                        param: ParamIr::Pattern {
                            formals: fs,
                            ellipsis: *ellipsis,
                            at: at.as_ref().map(|a| Sym::from(a.name.as_str())),
                        },
                        body,
                        span,
                    })
                })
            }
        }
    }

    /// Compiles the bindings of a set literal or `let`. For `rec`/`let` the static names form
    /// a scope (pushed while compiling values).
    fn compile_attrs(
        &mut self,
        rec: bool,
        is_let: bool,
        bindings: &[Binding],
        span: Span,
    ) -> CResult<AttrsIr> {
        let mut tree = Pending {
            rec,
            ..Pending::default()
        };
        for b in bindings {
            tree.add_binding(b)?;
        }
        if is_let && !tree.dynamics.is_empty() {
            return Err(Box::new(
                Diagnostic::error("dynamic attributes are not allowed in `let`")
                    .with_code(hac_core::LanguageCode::Syntax)
                    .with_span(tree.dynamics[0].0.span),
            ));
        }
        let _ = span;
        self.compile_pending(tree)
    }

    fn compile_pending(&mut self, tree: Pending<'_>) -> CResult<AttrsIr> {
        if !tree.rec {
            return self.compile_pending_in_scope(tree);
        }
        let names = tree
            .statics
            .iter()
            .enumerate()
            .map(|(i, (n, _, _))| (Sym::from(n.as_str()), i as u32))
            .collect();
        self.in_scope(ScopeKind::Lexical, names, |c| {
            c.compile_pending_in_scope(tree)
        })
    }

    fn compile_pending_in_scope(&mut self, tree: Pending<'_>) -> CResult<AttrsIr> {
        let rec = tree.rec;
        let froms = tree
            .froms
            .into_iter()
            .map(|f| self.compile(f).map(Rc::new))
            .collect::<CResult<Vec<_>>>()?;
        let mut statics = Vec::with_capacity(tree.statics.len());
        for (name, key_span, def) in tree.statics {
            let value = match def {
                PendingDef::Expr(e) => AttrValueIr::Expr(Rc::new(self.compile(e)?)),
                PendingDef::Inherit(None) => {
                    let kind = self.resolve(&name, key_span, usize::from(rec))?;
                    AttrValueIr::Expr(Rc::new(Ir {
                        kind,
                        span: key_span,
                    }))
                }
                PendingDef::Inherit(Some(from)) => AttrValueIr::InheritFrom {
                    from,
                    name: Sym::from(name.as_str()),
                    span: key_span,
                },
                PendingDef::Nested(sub, sub_span) => {
                    let attrs = self.compile_pending(*sub)?;
                    AttrValueIr::Expr(Rc::new(Ir {
                        kind: IrKind::Attrs(Box::new(attrs)),
                        span: sub_span,
                    }))
                }
            };
            statics.push(StaticAttr {
                name: Sym::from(name.as_str()),
                key_span,
                value,
            });
        }
        let mut dynamics = Vec::with_capacity(tree.dynamics.len());
        for (key, def) in tree.dynamics {
            let value = match def {
                PendingDef::Expr(e) => self.compile(e)?,
                PendingDef::Nested(sub, sub_span) => {
                    let attrs = self.compile_pending(*sub)?;
                    Ir {
                        kind: IrKind::Attrs(Box::new(attrs)),
                        span: sub_span,
                    }
                }
                PendingDef::Inherit(_) => continue,
            };
            dynamics.push(DynAttr {
                key: self.compile_dynamic_key(key)?,
                key_span: key.span,
                value: Rc::new(value),
            });
        }
        Ok(AttrsIr {
            rec,
            froms,
            statics,
            dynamics,
        })
    }
}

fn konst(v: Value, span: Span) -> IrKind {
    IrKind::Const(Thunk::done(v, Some(span)))
}

/// The text of a key that is known without evaluation (`a`, `"a"`), if it is one.
pub fn static_key(k: &ast::AttrKey) -> Option<String> {
    match &k.kind {
        AttrKeyKind::Ident(s) => Some(s.clone()),
        AttrKeyKind::Str(parts) => match parts.as_slice() {
            [] => Some(String::new()),
            [StrPart::Lit(s)] => Some(s.clone()),
            _ => None,
        },
        AttrKeyKind::Dynamic(e) => match &e.kind {
            ExprKind::Str(parts) => match parts.as_slice() {
                [] => Some(String::new()),
                [StrPart::Lit(s)] => Some(s.clone()),
                _ => None,
            },
            _ => None,
        },
    }
}

/// A name for the function being called, for call traces (`lib.nodes`).
fn func_name(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Var(id) => Some(id.name.clone()),
        ExprKind::Select {
            expr,
            path,
            default: None,
        } => {
            let mut s = func_name(expr)?;
            for k in path {
                s.push('.');
                s.push_str(&static_key(k)?);
            }
            Some(s)
        }
        ExprKind::Apply { func, .. } => func_name(func),
        _ => None,
    }
}

/// Bindings grouped by first path component before compiling.
#[derive(Default)]
struct Pending<'a> {
    rec: bool,
    statics: Vec<(String, Span, PendingDef<'a>)>,
    index: HashMap<String, usize>,
    dynamics: Vec<(&'a ast::AttrKey, PendingDef<'a>)>,
    /// The `(from)` expressions of this set's `inherit (from) …`.
    froms: Vec<&'a ast::Expr>,
}

enum PendingDef<'a> {
    Expr(&'a ast::Expr),
    /// `inherit name;` (None) or `inherit (froms[i]) name;`.
    Inherit(Option<usize>),
    Nested(Box<Pending<'a>>, Span),
}

impl<'a> Pending<'a> {
    fn add_binding(&mut self, b: &'a Binding) -> CResult<()> {
        match b {
            Binding::Assign { path, value, .. } => self.insert(path, value),
            Binding::Inherit { from, names, .. } => {
                let from_idx = from.as_ref().map(|f| {
                    self.froms.push(f);
                    self.froms.len() - 1
                });
                for k in names {
                    let Some(name) = static_key(k) else {
                        return Err(Box::new(
                            Diagnostic::error("dynamic attributes are not allowed in `inherit`")
                                .with_code(hac_core::LanguageCode::Syntax)
                                .with_span(k.span),
                        ));
                    };
                    self.insert_inherit(name, k.span, from_idx)?;
                }
                Ok(())
            }
        }
    }

    /// A nested set made from the bindings of a set literal (to merge more paths into it).
    fn from_literal(rec: bool, bindings: &'a [Binding]) -> CResult<Pending<'a>> {
        let mut sub = Pending {
            rec,
            ..Pending::default()
        };
        for b in bindings {
            sub.add_binding(b)?;
        }
        Ok(sub)
    }

    fn insert(&mut self, path: &'a [ast::AttrKey], value: &'a ast::Expr) -> CResult<()> {
        let Some((first, rest)) = path.split_first() else {
            return Ok(());
        };
        let make = |rest: &'a [ast::AttrKey]| -> CResult<PendingDef<'a>> {
            if rest.is_empty() {
                Ok(PendingDef::Expr(value))
            } else {
                let mut sub = Pending::default();
                sub.insert(rest, value)?;
                Ok(PendingDef::Nested(Box::new(sub), first.span.to(value.span)))
            }
        };
        let Some(name) = static_key(first) else {
            let def = make(rest)?;
            self.dynamics.push((first, def));
            return Ok(());
        };
        let Some(i) = self.index.get(&name).copied() else {
            let def = make(rest)?;
            self.index.insert(name.clone(), self.statics.len());
            self.statics.push((name, first.span, def));
            return Ok(());
        };
        let prev_span = self.statics[i].1;
        // Merge into an existing nested set or set literal (`a = { … }; a.b = …;`).
        let existing = &mut self.statics[i].2;
        if let PendingDef::Expr(e) = existing {
            if let ExprKind::Attrs { rec, bindings } = &e.kind {
                *existing =
                    PendingDef::Nested(Box::new(Pending::from_literal(*rec, bindings)?), e.span);
            }
        }
        match existing {
            PendingDef::Nested(sub, _) => {
                if rest.is_empty() {
                    match &value.kind {
                        ExprKind::Attrs { bindings, .. } => {
                            for b in bindings {
                                sub.add_binding(b)?;
                            }
                            Ok(())
                        }
                        _ => Err(Box::new(dup_attr(&name, first.span, prev_span))),
                    }
                } else {
                    sub.insert(rest, value)
                }
            }
            _ => Err(Box::new(dup_attr(&name, first.span, prev_span))),
        }
    }

    fn insert_inherit(&mut self, name: String, span: Span, from: Option<usize>) -> CResult<()> {
        if let Some(&i) = self.index.get(&name) {
            return Err(Box::new(dup_attr(&name, span, self.statics[i].1)));
        }
        self.index.insert(name.clone(), self.statics.len());
        self.statics.push((name, span, PendingDef::Inherit(from)));
        Ok(())
    }
}

fn dup_attr(name: &str, span: Span, prev: Span) -> Diagnostic {
    diag::duplicate(span, format!("attribute `{name}` already defined"))
        .with_label(prev, "first defined here")
}
