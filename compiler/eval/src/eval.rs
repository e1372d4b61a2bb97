//! The call-by-need evaluator proper: forcing thunks (with blackholing and a depth limit),
//! evaluating the intermediate form, calling functions, the operators with Nix semantics,
//! attribute selection, string coercion and equality/ordering of values.

use crate::diag;
use crate::ir::{AttrValueIr, AttrsIr, DynAttr, Ir, IrKind, KeyIr, ParamIr, StrPartIr};
use crate::value::{Attr, AttrSet, Closure, Env, PrimApp, Sym, Thunk, ThunkState, Value};
use hac_core::{suggest::did_you_mean, Diagnostic, FileId, SourceMap, Span};
use hac_syntax::ast::BinOp;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

/// An evaluation error: the diagnostic and how many trace frames were left out.
pub struct EvalError {
    pub diag: Diagnostic,
    pub dropped_frames: usize,
}

pub type R<T> = Result<T, Box<EvalError>>;

/// How many call frames an error keeps while propagating (more are only counted).
const MAX_KEPT_FRAMES: usize = 200;
const KEPT_INNER_FRAMES: usize = 16;

impl EvalError {
    pub fn new(diag: Diagnostic) -> Box<EvalError> {
        Box::new(EvalError {
            diag,
            dropped_frames: 0,
        })
    }
    /// Adds a call-site frame (outer frames come later: the trace is innermost first).
    pub fn frame(mut self: Box<Self>, span: Span, message: impl FnOnce() -> String) -> Box<Self> {
        if self.diag.span == Some(span) && self.diag.trace.is_empty() {
            return self;
        }
        if self.diag.trace.len() >= MAX_KEPT_FRAMES {
            // Keep the innermost frames and the newest (outermost) ones.
            self.diag.trace.remove(KEPT_INNER_FRAMES);
            self.dropped_frames += 1;
        }
        self.diag = self.diag.with_trace(span, message());
        self
    }
    /// `tryEval` catches only `throw` and failed assertions.
    pub fn catchable(&self) -> bool {
        hac_core::LanguageCode::Throw.matches(&self.diag)
            || hac_core::LanguageCode::AssertionFailed.matches(&self.diag)
    }
}

pub fn fail<T>(d: Diagnostic) -> R<T> {
    Err(EvalError::new(d))
}

/// One level of evaluation depth, taken by [`Evaluator::enter`] and given back when dropped
/// (on every path out, errors included). Use the evaluator through it meanwhile.
pub struct Level<'a> {
    ev: &'a mut Evaluator,
}

impl std::ops::Deref for Level<'_> {
    type Target = Evaluator;
    #[inline]
    fn deref(&self) -> &Evaluator {
        self.ev
    }
}

impl std::ops::DerefMut for Level<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Evaluator {
        self.ev
    }
}

impl Drop for Level<'_> {
    #[inline]
    fn drop(&mut self) {
        self.ev.depth -= 1;
    }
}

/// The state of one evaluation run.
pub struct Evaluator {
    pub depth: usize,
    /// Lists and sets entered while deep-forcing the result (bounded by `MAX_DATA_NESTING`).
    pub nesting: usize,
    pub max_depth: usize,
    pub sources: SourceMap,
    /// Names of the base environment, in slot order.
    pub globals: Rc<[Sym]>,
    pub base_env: Rc<Env>,
    /// Imported files by canonical path (each evaluated once).
    pub imports: HashMap<PathBuf, Value>,
    /// Files being imported right now (cycle detection).
    pub importing: Vec<PathBuf>,
    /// Canonical directories imports may read.
    pub sandbox: Vec<PathBuf>,
    /// Files of the embedded library (spans there are replaced by the user's call site).
    pub lib_files: Vec<FileId>,
    pub stdlib_cache: HashMap<String, Value>,
    pub regex_cache: HashMap<String, Rc<regex::Regex>>,
    /// Values kept alive until the evaluator is dropped (the result's value graph).
    pub retained: Vec<Value>,
    /// A reused buffer for building interpolated strings.
    pub scratch: String,
    /// Address of a local near the bottom of the evaluation thread's stack.
    pub stack_base: usize,
    /// How many bytes of stack evaluation may use before it stops with E0015.
    pub stack_budget: usize,
    /// Thunks forced and functions called so far, and the budget (E0020).
    pub steps: u64,
    pub max_steps: u64,
    /// The step count at which the budgets are checked next.
    pub next_budget_check: u64,
    /// Approximate bytes of values allowed (E0021; see `value::account`).
    pub max_memory: u64,
}

/// The longest string a value may be (E0022): far beyond any file of a cluster.
pub const MAX_STRING_BYTES: usize = 1 << 27;
/// The longest list a value may be (E0022); `genList`'s own limit.
pub const MAX_LIST_LEN: usize = 1 << 24;
/// Steps between two checks of the budgets.
const BUDGET_CHECK_INTERVAL: u64 = 4096;

/// E0022 when a string would exceed [`MAX_STRING_BYTES`].
#[inline]
pub fn check_string_len(len: usize, span: Span) -> R<()> {
    if len > MAX_STRING_BYTES {
        return fail(too_large(
            span,
            &format!("a string of {len} bytes"),
            &format!("{} MiB", MAX_STRING_BYTES >> 20),
        ));
    }
    Ok(())
}

/// E0022 when a list would exceed [`MAX_LIST_LEN`] elements.
#[inline]
pub fn check_list_len(len: usize, span: Span) -> R<()> {
    if len > MAX_LIST_LEN {
        return fail(too_large(
            span,
            &format!("a list of {len} elements"),
            &format!("{MAX_LIST_LEN} elements"),
        ));
    }
    Ok(())
}

#[cold]
fn too_large(span: Span, what: &str, limit: &str) -> Diagnostic {
    Diagnostic::error(format!("{what} is too large (at most {limit})"))
        .with_code(hac_core::LanguageCode::TooLarge)
        .with_span(span)
        .with_span_label("this value would be too large")
        .with_hint("this is usually a runaway doubling or repetition; check the expression")
}

impl Evaluator {
    /// Counts one step; every [`BUDGET_CHECK_INTERVAL`] steps compares the step count and the
    /// accounted memory with their budgets.
    #[inline]
    fn step(&mut self, span: Option<Span>) -> R<()> {
        self.steps += 1;
        if self.steps >= self.next_budget_check {
            return self.check_budget(span);
        }
        Ok(())
    }

    #[cold]
    fn check_budget(&mut self, span: Option<Span>) -> R<()> {
        self.next_budget_check = self.steps + BUDGET_CHECK_INTERVAL;
        if self.steps > self.max_steps {
            return fail(
                Diagnostic::error(format!(
                    "evaluation step limit reached ({} steps)",
                    self.max_steps
                ))
                .with_code(hac_core::LanguageCode::StepLimit)
                .with_span_opt(span)
                .with_span_label("evaluation was here when the limit was reached")
                .with_hint("this is usually runaway or exponential recursion; raise the limit with --max-eval-steps if the work is real"),
            );
        }
        let used = crate::value::allocated();
        if used > self.max_memory {
            return fail(
                Diagnostic::error(format!(
                    "evaluation memory limit reached (about {} MiB of values)",
                    used >> 20
                ))
                .with_code(hac_core::LanguageCode::MemoryLimit)
                .with_span_opt(span)
                .with_span_label("evaluation was here when the limit was reached")
                .with_hint("this is usually a runaway string or list; raise the limit with --max-memory MIB if the values are real"),
            );
        }
        Ok(())
    }
}

fn depth_error(span: Option<Span>) -> Box<EvalError> {
    EvalError::new(
        Diagnostic::error("evaluation too deep (depth limit reached)")
            .with_code(hac_core::LanguageCode::TooDeep)
            .with_span_opt(span)
            .with_span_label("the depth limit was reached here")
            .with_hint("this is usually unbounded recursion; check the function's base case"),
    )
}

/// True for `a: b: body`: a function whose call with two arguments binds both directly.
fn takes_two_plain_arguments(f: &Value) -> bool {
    let Value::Lambda(c) = f else { return false };
    let ParamIr::Ident(_) = c.lambda.param else {
        return false;
    };
    matches!(&c.lambda.body.kind, IrKind::Lambda(inner) if matches!(inner.param, ParamIr::Ident(_)))
}

/// An address on the current stack (of a local of this function).
#[inline(never)]
pub fn stack_position() -> usize {
    let marker = 0u8;
    std::hint::black_box(std::ptr::addr_of!(marker)) as usize
}

impl Evaluator {
    /// True when the depth limit is reached or the stack is nearly used up (unoptimised
    /// builds use far more stack per level than optimised ones; both stop cleanly).
    #[inline]
    pub fn too_deep(&self) -> bool {
        self.depth >= self.max_depth
            || self.stack_base.abs_diff(stack_position()) > self.stack_budget
    }

    /// One level deeper (a force, a call, a step into a structure): the returned guard
    /// counts it until it is dropped, and gives access to the evaluator meanwhile. E0015
    /// when the depth limit is reached or the stack is nearly used up.
    #[inline]
    pub fn enter(&mut self, span: Option<Span>) -> R<Level<'_>> {
        self.enter_or(|| depth_error(span))
    }

    /// [`Evaluator::enter`] with the caller's own error when it is too deep.
    #[inline]
    pub fn enter_or(&mut self, too_deep: impl FnOnce() -> Box<EvalError>) -> R<Level<'_>> {
        if self.too_deep() {
            return Err(too_deep());
        }
        self.depth += 1;
        Ok(Level { ev: self })
    }

    /// Forces a thunk to a value (weak head normal form), at most once.
    pub fn force(&mut self, t: &Thunk) -> R<Value> {
        if let ThunkState::Done(v) = &*t.0.state.borrow() {
            return Ok(v.clone());
        }
        self.step(t.span())?;
        let state = std::mem::replace(&mut *t.0.state.borrow_mut(), ThunkState::Blackhole);
        let mut ev = match self.enter(t.span()) {
            Ok(level) => level,
            Err(e) => {
                *t.0.state.borrow_mut() = state;
                return Err(e);
            }
        };
        let result = match &state {
            ThunkState::Done(v) => Ok(v.clone()),
            ThunkState::Blackhole => {
                return fail(
                    Diagnostic::error("infinite recursion encountered")
                        .with_code(hac_core::LanguageCode::InfiniteRecursion)
                        .with_span_opt(t.span())
                        .with_span_label("this value depends on itself"),
                );
            }
            ThunkState::Expr(ir, env) => ev.eval(ir, env),
            ThunkState::Apply(f, arg, span) => {
                let f = f.clone();
                ev.force(&f).and_then(|fv| ev.call(fv, arg.clone(), *span))
            }
            ThunkState::Select(from, name, span) => {
                let from = from.clone();
                ev.force(&from)
                    .and_then(|v| ev.select_one(&v, name, *span, None))
            }
        };
        drop(ev);
        match result {
            Ok(v) => {
                *t.0.state.borrow_mut() = ThunkState::Done(v.clone());
                Ok(v)
            }
            Err(e) => {
                *t.0.state.borrow_mut() = state;
                Err(e)
            }
        }
    }

    /// A thunk for an expression, without allocating when the value is at hand.
    pub fn thunk(&mut self, ir: &Rc<Ir>, env: &Rc<Env>) -> Thunk {
        match &ir.kind {
            IrKind::Const(t) => t.clone(),
            IrKind::Var { up, idx, .. } => lookup(env, *up, *idx),
            IrKind::Lambda(l) => Thunk::done(
                Value::Lambda(Rc::new(Closure {
                    lambda: l.clone(),
                    env: env.clone(),
                })),
                Some(ir.span),
            ),
            _ => Thunk::expr(ir, env.clone()),
        }
    }

    // One match over the IR's kinds: the evaluator's dispatch, read as a table of cases.
    #[allow(clippy::too_many_lines)]
    pub fn eval(&mut self, ir: &Ir, env: &Rc<Env>) -> R<Value> {
        match &ir.kind {
            IrKind::Const(t) => match &*t.0.state.borrow() {
                ThunkState::Done(v) => Ok(v.clone()),
                _ => Ok(Value::Null),
            },
            IrKind::Str(parts) => {
                // `"${s}"` of a string is that string: share it instead of copying.
                if let [StrPartIr::Interp(e)] = parts.as_slice() {
                    let v = self.eval(e, env)?;
                    if let Value::Str(_) = v {
                        return Ok(v);
                    }
                    let mut s = std::mem::take(&mut self.scratch);
                    s.clear();
                    let result = self.coerce_to_string(&v, e.span, false, &mut s);
                    let value = Value::str(s.as_str());
                    self.scratch = s;
                    return result.map(|_| value);
                }
                // Build in a reused buffer, then allocate the string once.
                let mut s = std::mem::take(&mut self.scratch);
                s.clear();
                let mut result = Ok(());
                for p in parts {
                    match p {
                        StrPartIr::Lit(l) => s.push_str(l),
                        StrPartIr::Interp(e) => {
                            result = self
                                .eval(e, env)
                                .and_then(|v| self.coerce_to_string(&v, e.span, false, &mut s));
                            if result.is_err() {
                                break;
                            }
                        }
                    }
                }
                let value = Value::str(s.as_str());
                self.scratch = s;
                result.map(|_| value)
            }
            IrKind::Var { up, idx, .. } => {
                let t = lookup(env, *up, *idx);
                self.force(&t)
            }
            IrKind::WithVar { name, withs } => {
                for up in withs {
                    let t = lookup(env, *up, 0);
                    let scope = self.force(&t)?;
                    let Value::Attrs(set) = scope else {
                        return fail(diag::type_error(
                            t.span().unwrap_or(ir.span),
                            "a set",
                            scope.describe(),
                        ));
                    };
                    if let Some(a) = set.get(name) {
                        let v = a.value.clone();
                        return self.force(&v);
                    }
                }
                fail(
                    Diagnostic::error(format!("undefined variable `{name}`"))
                        .with_code(hac_core::LanguageCode::UndefinedVariable)
                        .with_span(ir.span)
                        .with_span_label("not defined here nor by an enclosing `with`"),
                )
            }
            IrKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.thunk(i, env));
                }
                Ok(Value::list(out))
            }
            IrKind::Attrs(a) => {
                let (set, _) = self.instantiate(a, env, ir.span)?;
                Ok(Value::attrs(set))
            }
            IrKind::Let { attrs, body } => {
                let (_, inner) = self.instantiate(attrs, env, ir.span)?;
                self.eval(body, &inner)
            }
            IrKind::With { scope, body } => {
                let t = self.thunk(scope, env);
                let inner = Rc::new(Env {
                    parent: Some(env.clone()),
                    slots: smallvec::smallvec![t],
                });
                self.eval(body, &inner)
            }
            IrKind::Assert { cond, body } => {
                let c = self.eval(cond, env)?;
                match c {
                    Value::Bool(true) => self.eval(body, env),
                    Value::Bool(false) => fail(
                        Diagnostic::error("assertion failed")
                            .with_code(hac_core::LanguageCode::AssertionFailed)
                            .with_span(cond.span)
                            .with_span_label("this condition is false"),
                    ),
                    other => fail(diag::type_error(cond.span, "a Boolean", other.describe())),
                }
            }
            IrKind::If { cond, then, else_ } => match self.eval(cond, env)? {
                Value::Bool(true) => self.eval(then, env),
                Value::Bool(false) => self.eval(else_, env),
                other => fail(diag::type_error(cond.span, "a Boolean", other.describe())),
            },
            IrKind::Lambda(l) => Ok(Value::Lambda(Rc::new(Closure {
                lambda: l.clone(),
                env: env.clone(),
            }))),
            IrKind::Apply { func, arg, name } => {
                let f = match &func.kind {
                    // `f x y` with `f = a: b: body`: bind both arguments at once (no
                    // intermediate closure); any other function is applied one by one.
                    IrKind::Apply {
                        func: head,
                        arg: first,
                        name: head_name,
                    } => {
                        let h = self.eval(head, env)?;
                        if takes_two_plain_arguments(&h) {
                            let a = self.thunk(first, env);
                            let b = self.thunk(arg, env);
                            return self.call2(&h, a, b, ir.span).map_err(|e| {
                                e.frame(ir.span, || match name {
                                    Some(n) => format!("while calling `{n}`"),
                                    None => "while calling a function".to_string(),
                                })
                            });
                        }
                        let a = self.thunk(first, env);
                        self.call(h, a, func.span).map_err(|e| {
                            e.frame(func.span, || match head_name {
                                Some(n) => format!("while calling `{n}`"),
                                None => "while calling a function".to_string(),
                            })
                        })?
                    }
                    _ => self.eval(func, env)?,
                };
                let a = self.thunk(arg, env);
                self.call(f, a, ir.span).map_err(|e| {
                    e.frame(ir.span, || match name {
                        Some(n) => format!("while calling `{n}`"),
                        None => "while calling a function".to_string(),
                    })
                })
            }
            IrKind::Select {
                expr,
                path,
                default,
            } => {
                let mut v = self.eval(expr, env)?;
                for key in path {
                    let (name, kspan) = self.key_name(key, env)?;
                    let Some(name) = name else {
                        return fail(diag::type_error(kspan, "a string", "null"));
                    };
                    if let Some(d) = default {
                        match &v {
                            Value::Attrs(set) => match set.get(&name) {
                                Some(a) => {
                                    let t = a.value.clone();
                                    v = self.force(&t)?;
                                }
                                None => return self.eval(d, env),
                            },
                            _ => return self.eval(d, env),
                        }
                    } else {
                        v = self.select_one(&v, &name, kspan, Some(expr.span))?;
                    }
                }
                Ok(v)
            }
            IrKind::HasAttr { expr, path } => {
                let mut v = self.eval(expr, env)?;
                let n = path.len();
                for (i, key) in path.iter().enumerate() {
                    let (name, _) = self.key_name(key, env)?;
                    let Some(name) = name else {
                        return Ok(Value::Bool(false));
                    };
                    let Value::Attrs(set) = &v else {
                        return Ok(Value::Bool(false));
                    };
                    if set.is_builtins && crate::builtins::is_unsupported(&name) {
                        return Ok(Value::Bool(false));
                    }
                    match set.get(&name) {
                        None => return Ok(Value::Bool(false)),
                        Some(a) => {
                            if i + 1 == n {
                                return Ok(Value::Bool(true));
                            }
                            let t = a.value.clone();
                            v = self.force(&t)?;
                        }
                    }
                }
                Ok(Value::Bool(true))
            }
            IrKind::Neg(e) => match self.eval(e, env)? {
                Value::Int(i) => i
                    .checked_neg()
                    .map(Value::Int)
                    .ok_or_else(|| EvalError::new(diag::overflow(ir.span, "negation"))),
                Value::Float(f) => Ok(Value::Float(-f)),
                other => fail(diag::type_error(e.span, "a number", other.describe())),
            },
            IrKind::Not(e) => match self.eval(e, env)? {
                Value::Bool(b) => Ok(Value::Bool(!b)),
                other => fail(diag::type_error(e.span, "a Boolean", other.describe())),
            },
            IrKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, env, ir.span),
        }
    }

    fn key_name(&mut self, key: &KeyIr, env: &Rc<Env>) -> R<(Option<Sym>, Span)> {
        match key {
            KeyIr::Static(s, span) => Ok((Some(s.clone()), *span)),
            KeyIr::Dynamic(e) => match self.eval(e, env)? {
                Value::Str(s) => Ok((Some(s), e.span)),
                Value::Null => Ok((None, e.span)),
                other => fail(diag::type_error(e.span, "a string", other.describe())),
            },
        }
    }

    /// `v.name`, forcing the attribute. `expr_span`: the expression `v` came from.
    pub fn select_one(
        &mut self,
        v: &Value,
        name: &str,
        span: Span,
        expr_span: Option<Span>,
    ) -> R<Value> {
        let Value::Attrs(set) = v else {
            let mut d = diag::type_error_msg(
                expr_span.unwrap_or(span),
                format!(
                    "cannot select attribute `{name}`: expected a set, found {}",
                    v.describe()
                ),
                format!("expected a set, found {}", v.describe()),
            );
            if expr_span.is_some() {
                d = d.with_label(span, "attribute selected here");
            }
            return fail(d);
        };
        match set.get(name) {
            Some(a) => {
                let t = a.value.clone();
                self.force(&t)
            }
            None => fail(missing_attr(set, name, span)),
        }
    }

    /// Builds the set of a literal (or the scope of a `let`): returns it and the environment
    /// its values see (a new one for `rec`/`let`).
    pub fn instantiate(&mut self, a: &AttrsIr, env: &Rc<Env>, span: Span) -> R<(AttrSet, Rc<Env>)> {
        let inner_env: Rc<Env>;
        let mut entries: Vec<Attr> = Vec::with_capacity(a.statics.len() + a.dynamics.len());
        let is_scope = a.rec; // `let` is compiled as rec
        if is_scope {
            // Slots first (blank), then the environment, then the slots' states.
            let slots: smallvec::SmallVec<[Thunk; 2]> = a
                .statics
                .iter()
                .map(|s| match &s.value {
                    AttrValueIr::Expr(ir) => match &ir.kind {
                        IrKind::Const(t) => t.clone(),
                        IrKind::Var { up, idx, .. } if *up > 0 => lookup(env, up - 1, *idx),
                        _ => Thunk::lazy(ThunkState::Blackhole, Some(ir.span)),
                    },
                    AttrValueIr::InheritFrom { span, .. } => {
                        Thunk::lazy(ThunkState::Blackhole, Some(*span))
                    }
                })
                .collect();
            let new_env = Rc::new(Env {
                parent: Some(env.clone()),
                slots,
            });
            let froms: Vec<Thunk> = a.froms.iter().map(|f| self.thunk(f, &new_env)).collect();
            for (s, slot) in a.statics.iter().zip(new_env.slots.iter()) {
                match &s.value {
                    AttrValueIr::Expr(ir) => match &ir.kind {
                        IrKind::Const(_) => {}
                        IrKind::Var { up, .. } if *up > 0 => {}
                        IrKind::Lambda(l) => {
                            *slot.0.state.borrow_mut() =
                                ThunkState::Done(Value::Lambda(Rc::new(Closure {
                                    lambda: l.clone(),
                                    env: new_env.clone(),
                                })));
                        }
                        _ => {
                            *slot.0.state.borrow_mut() =
                                ThunkState::Expr(ir.clone(), new_env.clone());
                        }
                    },
                    AttrValueIr::InheritFrom { from, name, span } => {
                        *slot.0.state.borrow_mut() =
                            ThunkState::Select(froms[*from].clone(), name.clone(), *span);
                    }
                }
                entries.push(Attr {
                    name: s.name.clone(),
                    value: slot.clone(),
                    key_span: Some(s.key_span),
                });
            }
            inner_env = new_env;
        } else {
            let froms: Vec<Thunk> = a.froms.iter().map(|f| self.thunk(f, env)).collect();
            for s in &a.statics {
                let value = match &s.value {
                    AttrValueIr::Expr(ir) => self.thunk(ir, env),
                    AttrValueIr::InheritFrom { from, name, span } => Thunk::lazy(
                        ThunkState::Select(froms[*from].clone(), name.clone(), *span),
                        Some(*span),
                    ),
                };
                entries.push(Attr {
                    name: s.name.clone(),
                    value,
                    key_span: Some(s.key_span),
                });
            }
            inner_env = env.clone();
        }
        entries.sort_by(|x, y| x.name.cmp(&y.name));
        if !a.dynamics.is_empty() {
            self.add_dynamics(&mut entries, &a.dynamics, &inner_env)?;
        }
        let _ = span;
        Ok((
            AttrSet {
                entries,
                is_builtins: false,
                index: Default::default(),
            },
            inner_env,
        ))
    }

    /// Adds the attributes with computed names (`${k} = …`) to the sorted `entries`; a name
    /// that evaluates to `null` adds nothing, one already defined is an error.
    fn add_dynamics(
        &mut self,
        entries: &mut Vec<Attr>,
        dynamics: &[DynAttr],
        env: &Rc<Env>,
    ) -> R<()> {
        for d in dynamics {
            let name = match self.eval(&d.key, env)? {
                Value::Str(s) => s,
                Value::Null => continue,
                other => return fail(diag::type_error(d.key.span, "a string", other.describe())),
            };
            match entries.binary_search_by(|e| e.name.cmp(&name)) {
                Ok(i) => {
                    let mut diag =
                        diag::duplicate(d.key_span, format!("attribute `{name}` already defined"));
                    if let Some(prev) = entries[i].key_span {
                        diag = diag.with_label(prev, "first defined here");
                    }
                    return fail(diag);
                }
                Err(i) => {
                    let value = self.thunk(&d.value, env);
                    entries.insert(
                        i,
                        Attr {
                            name,
                            value,
                            key_span: Some(d.key_span),
                        },
                    );
                }
            }
        }
        Ok(())
    }

    /// Applies a function value to an argument.
    pub fn call(&mut self, f: Value, arg: Thunk, span: Span) -> R<Value> {
        self.step(Some(span))?;
        self.enter(Some(span))?.call_inner(f, arg, span)
    }

    // One match over what is applied (lambda, pattern lambda, builtin, functor): the table of calls.
    #[allow(clippy::too_many_lines)]
    fn call_inner(&mut self, f: Value, arg: Thunk, span: Span) -> R<Value> {
        match f {
            Value::Lambda(c) => {
                let lambda = &c.lambda;
                match &lambda.param {
                    ParamIr::Ident(_) => {
                        let env = Rc::new(Env {
                            parent: Some(c.env.clone()),
                            slots: smallvec::smallvec![arg],
                        });
                        self.eval(&lambda.body, &env)
                    }
                    ParamIr::Pattern {
                        formals,
                        ellipsis,
                        at,
                    } => {
                        let argv = self.force(&arg)?;
                        let Value::Attrs(set) = &argv else {
                            return fail(
                                diag::type_error(span, "a set", argv.describe()).with_label(
                                    lambda.span,
                                    "this function takes a set of named arguments",
                                ),
                            );
                        };
                        let mut slots =
                            smallvec::SmallVec::<[Thunk; 2]>::with_capacity(formals.len() + 1);
                        let mut defaults = Vec::new();
                        for f in formals {
                            match set.get(&f.name) {
                                Some(a) => slots.push(a.value.clone()),
                                None => match &f.default {
                                    Some(d) => {
                                        let t = Thunk::lazy(ThunkState::Blackhole, Some(d.span));
                                        defaults.push((t.clone(), d));
                                        slots.push(t);
                                    }
                                    None => {
                                        return fail(
                                            Diagnostic::error(format!(
                                                "function called without required argument `{}`",
                                                f.name
                                            ))
                                            .with_code(hac_core::LanguageCode::WrongArguments)
                                            .with_span(span)
                                            .with_span_label(format!(
                                                "argument `{}` is missing",
                                                f.name
                                            ))
                                            .with_label(f.span, "the argument is declared here"),
                                        )
                                    }
                                },
                            }
                        }
                        if !ellipsis && set.len() > formals.len() - defaults.len() {
                            for a in &set.entries {
                                if !formals.iter().any(|f| f.name == a.name) {
                                    let mut d = Diagnostic::error(format!(
                                        "function called with unexpected argument `{}`",
                                        a.name
                                    ))
                                    .with_code(hac_core::LanguageCode::WrongArguments)
                                    .with_span(
                                        a.key_span
                                            .filter(|k| !self.lib_files.contains(&k.file))
                                            .unwrap_or(span),
                                    )
                                    .with_span_label("this argument is not accepted")
                                    .with_label(lambda.span, "the function is defined here");
                                    if let Some(s) =
                                        did_you_mean(&a.name, formals.iter().map(|f| &*f.name))
                                    {
                                        d = d.with_hint(format!("did you mean `{s}`?"));
                                    } else {
                                        let names: Vec<&str> =
                                            formals.iter().map(|f| &*f.name).collect();
                                        d = d.with_note(format!(
                                            "the function accepts: {}",
                                            names.join(", ")
                                        ));
                                    }
                                    return fail(d);
                                }
                            }
                        }
                        if at.is_some() {
                            slots.push(arg);
                        }
                        let env = Rc::new(Env {
                            parent: Some(c.env.clone()),
                            slots,
                        });
                        for (t, d) in defaults {
                            *t.0.state.borrow_mut() = ThunkState::Expr(d.clone(), env.clone());
                        }
                        self.eval(&lambda.body, &env)
                    }
                }
            }
            Value::Prim(p) => {
                if p.args.len() + 1 == p.op.arity {
                    let mut args = Vec::with_capacity(p.op.arity);
                    args.extend(p.args.iter().cloned());
                    args.push(arg);
                    (p.op.func)(self, &args, span)
                } else {
                    let mut args = p.args.clone();
                    args.push(arg);
                    Ok(Value::Prim(Rc::new(PrimApp { op: p.op, args })))
                }
            }
            Value::Attrs(set) if set.get("__functor").is_some() => {
                let functor = set.get("__functor").map(|a| a.value.clone());
                let Some(functor) = functor else {
                    return fail(diag::type_error(span, "a function", "a set"));
                };
                let fv = self.force(&functor)?;
                let selft = Thunk::done(Value::Attrs(set.clone()), Some(span));
                let g = self.call(fv, selft, span)?;
                self.call(g, arg, span)
            }
            other => fail(diag::type_error_msg(
                span,
                format!(
                    "attempt to call {}: expected a function, found {}",
                    other.describe(),
                    other.describe()
                ),
                format!("expected a function, found {}", other.describe()),
            )),
        }
    }

    pub fn call2(&mut self, f: &Value, a: Thunk, b: Thunk, span: Span) -> R<Value> {
        // `a: b: body` (as given to `sort` and `foldl'`): bind both arguments at once,
        // without building the intermediate closure `b: body` that nothing else can see.
        if let Value::Lambda(c) = f {
            if let (ParamIr::Ident(_), IrKind::Lambda(inner)) =
                (&c.lambda.param, &c.lambda.body.kind)
            {
                if let ParamIr::Ident(_) = inner.param {
                    self.step(Some(span))?;
                    let mut ev = self.enter(Some(span))?;
                    let outer = Rc::new(Env {
                        parent: Some(c.env.clone()),
                        slots: smallvec::smallvec![a],
                    });
                    let env = Rc::new(Env {
                        parent: Some(outer),
                        slots: smallvec::smallvec![b],
                    });
                    return ev.eval(&inner.body, &env);
                }
            }
        }
        let g = self.call(f.clone(), a, span)?;
        self.call(g, b, span)
    }

    fn binary(&mut self, op: BinOp, lhs: &Ir, rhs: &Ir, env: &Rc<Env>, span: Span) -> R<Value> {
        match op {
            BinOp::And | BinOp::Or | BinOp::Impl => {
                let l = match self.eval(lhs, env)? {
                    Value::Bool(b) => b,
                    other => {
                        return fail(diag::type_error(lhs.span, "a Boolean", other.describe()))
                    }
                };
                let short = match op {
                    BinOp::And => (!l).then_some(false),
                    BinOp::Or => l.then_some(true),
                    _ => (!l).then_some(true),
                };
                if let Some(b) = short {
                    return Ok(Value::Bool(b));
                }
                match self.eval(rhs, env)? {
                    Value::Bool(b) => Ok(Value::Bool(b)),
                    other => fail(diag::type_error(rhs.span, "a Boolean", other.describe())),
                }
            }
            _ => {
                let l = self.eval(lhs, env)?;
                let r = self.eval(rhs, env)?;
                self.binary_values(op, l, r, lhs.span, rhs.span, span)
            }
        }
    }

    pub fn binary_values(
        &mut self,
        op: BinOp,
        l: Value,
        r: Value,
        ls: Span,
        rs: Span,
        span: Span,
    ) -> R<Value> {
        match op {
            BinOp::Eq => Ok(Value::Bool(self.equal(&l, &r, span)?)),
            BinOp::Ne => Ok(Value::Bool(!self.equal(&l, &r, span)?)),
            BinOp::Lt => Ok(Value::Bool(self.less_than(&l, &r, span)?)),
            BinOp::Gt => Ok(Value::Bool(self.less_than(&r, &l, span)?)),
            BinOp::Le => Ok(Value::Bool(!self.less_than(&r, &l, span)?)),
            BinOp::Ge => Ok(Value::Bool(!self.less_than(&l, &r, span)?)),
            BinOp::Concat => match (l, r) {
                (Value::List(a), Value::List(b)) => {
                    if b.is_empty() {
                        return Ok(Value::List(a));
                    }
                    if a.is_empty() {
                        return Ok(Value::List(b));
                    }
                    check_list_len(a.len() + b.len(), span)?;
                    let mut v = Vec::with_capacity(a.len() + b.len());
                    v.extend(a.iter().cloned());
                    v.extend(b.iter().cloned());
                    Ok(Value::list(v))
                }
                (Value::List(_), other) => fail(diag::type_error(rs, "a list", other.describe())),
                (other, _) => fail(diag::type_error(ls, "a list", other.describe())),
            },
            BinOp::Update => match (l, r) {
                (Value::Attrs(a), Value::Attrs(b)) => {
                    if b.is_empty() {
                        return Ok(Value::Attrs(a));
                    }
                    if a.is_empty() {
                        return Ok(Value::Attrs(b));
                    }
                    Ok(Value::attrs(a.update(&b)))
                }
                (Value::Attrs(_), other) => fail(diag::type_error(rs, "a set", other.describe())),
                (other, _) => fail(diag::type_error(ls, "a set", other.describe())),
            },
            BinOp::Add => match (&l, &r) {
                (Value::Int(a), Value::Int(b)) => a
                    .checked_add(*b)
                    .map(Value::Int)
                    .ok_or_else(|| EvalError::new(diag::overflow(span, "addition"))),
                (Value::Str(a), Value::Str(b)) => {
                    check_string_len(a.len() + b.len(), span)?;
                    let mut s = String::with_capacity(a.len() + b.len());
                    s.push_str(a);
                    s.push_str(b);
                    Ok(Value::string(s))
                }
                (Value::Path(_), _) | (_, Value::Path(_)) => fail(path_misuse(span)),
                (Value::Str(a), other) => {
                    let mut s = a.to_string();
                    self.coerce_to_string(other, rs, false, &mut s)?;
                    Ok(Value::string(s))
                }
                _ => arith(op, &l, &r, ls, rs, span),
            },
            BinOp::Sub | BinOp::Mul | BinOp::Div => arith(op, &l, &r, ls, rs, span),
            BinOp::And | BinOp::Or | BinOp::Impl => {
                // Only reached through builtins; evaluate strictly.
                match (l, r) {
                    (Value::Bool(a), Value::Bool(b)) => Ok(Value::Bool(match op {
                        BinOp::And => a && b,
                        BinOp::Or => a || b,
                        _ => !a || b,
                    })),
                    (Value::Bool(_), other) => {
                        fail(diag::type_error(rs, "a Boolean", other.describe()))
                    }
                    (other, _) => fail(diag::type_error(ls, "a Boolean", other.describe())),
                }
            }
        }
    }

    /// Nix `==`: numbers across int/float, lists and sets structurally, functions never equal.
    pub fn equal(&mut self, a: &Value, b: &Value, span: Span) -> R<bool> {
        Ok(match (a, b) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::Float(x), Value::Float(y)) => x == y,
            (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => {
                (*x as f64) == *y
            }
            (Value::Str(x), Value::Str(y)) => x == y,
            (Value::Path(x), Value::Path(y)) => x == y,
            (Value::List(x), Value::List(y)) => {
                if Rc::ptr_eq(x, y) {
                    return Ok(true);
                }
                if x.len() != y.len() {
                    return Ok(false);
                }
                let mut ev = self.enter(Some(span))?;
                for (p, q) in x.iter().zip(y.iter()) {
                    if p.ptr_eq(q) {
                        continue;
                    }
                    let (pv, qv) = match (ev.force(p), ev.force(q)) {
                        (Ok(a), Ok(b)) => (a, b),
                        (Err(e), _) | (_, Err(e)) => return Err(e),
                    };
                    match ev.equal(&pv, &qv, span) {
                        Ok(true) => {}
                        other => return other,
                    }
                }
                true
            }
            (Value::Attrs(x), Value::Attrs(y)) => {
                if Rc::ptr_eq(x, y) {
                    return Ok(true);
                }
                if x.len() != y.len() {
                    return Ok(false);
                }
                if x.entries
                    .iter()
                    .zip(y.entries.iter())
                    .any(|(p, q)| p.name != q.name)
                {
                    return Ok(false);
                }
                let mut ev = self.enter(Some(span))?;
                for (p, q) in x.entries.iter().zip(y.entries.iter()) {
                    if p.value.ptr_eq(&q.value) {
                        continue;
                    }
                    let pv = ev.force(&p.value)?;
                    let qv = ev.force(&q.value)?;
                    if !ev.equal(&pv, &qv, span)? {
                        return Ok(false);
                    }
                }
                true
            }
            _ => false,
        })
    }

    /// Nix `<`: numbers, strings (bytes), lists lexicographically; anything else is an error.
    pub fn less_than(&mut self, a: &Value, b: &Value, span: Span) -> R<bool> {
        match (a, b) {
            (Value::Int(x), Value::Int(y)) => Ok(x < y),
            (Value::Float(x), Value::Float(y)) => Ok(x < y),
            (Value::Int(x), Value::Float(y)) => Ok((*x as f64) < *y),
            (Value::Float(x), Value::Int(y)) => Ok(*x < (*y as f64)),
            (Value::Str(x), Value::Str(y)) => Ok(x.as_bytes() < y.as_bytes()),
            (Value::List(x), Value::List(y)) => {
                let mut ev = self.enter(Some(span))?;
                let mut i = 0;
                loop {
                    if i == y.len() {
                        return Ok(false);
                    }
                    if i == x.len() {
                        return Ok(true);
                    }
                    let p = ev.force(&x[i])?;
                    let q = ev.force(&y[i])?;
                    if !ev.equal(&p, &q, span)? {
                        return ev.less_than(&p, &q, span);
                    }
                    i += 1;
                }
            }
            _ => fail(diag::type_error_msg(
                span,
                format!("cannot compare {} with {}", a.describe(), b.describe()),
                "only numbers, strings and lists can be ordered",
            )),
        }
    }

    /// Appends the string form of `v`: with `to_string` as `builtins.toString`, else as `"${v}"`.
    pub fn coerce_to_string(
        &mut self,
        v: &Value,
        span: Span,
        to_string: bool,
        out: &mut String,
    ) -> R<()> {
        match v {
            Value::Str(s) => {
                check_string_len(out.len() + s.len(), span)?;
                out.push_str(s);
            }
            Value::Path(_) => return fail(path_misuse(span)),
            Value::Attrs(set) => {
                if let Some(f) = set.get("__toString").map(|a| a.value.clone()) {
                    let fv = self.force(&f)?;
                    let r = self.call(fv, Thunk::done(v.clone(), Some(span)), span)?;
                    return self
                        .enter(Some(span))?
                        .coerce_to_string(&r, span, to_string, out);
                }
                if let Some(o) = set.get("outPath").map(|a| a.value.clone()) {
                    let ov = self.force(&o)?;
                    return self
                        .enter(Some(span))?
                        .coerce_to_string(&ov, span, to_string, out);
                }
                return fail(diag::type_error_msg(
                    span,
                    "cannot coerce a set to a string",
                    "expected a string, found a set",
                ));
            }
            Value::Int(i) if to_string => out.push_str(&i.to_string()),
            Value::Float(f) if to_string => out.push_str(&format!("{f:.6}")),
            Value::Bool(b) if to_string => {
                if *b {
                    out.push('1');
                }
            }
            Value::Null if to_string => {}
            Value::List(items) if to_string => {
                return self.enter(Some(span))?.list_to_string(items, span, out);
            }
            other => {
                return fail(diag::type_error_msg(
                    span,
                    format!("cannot coerce {} to a string", other.describe()),
                    format!("expected a string, found {}", other.describe()),
                ))
            }
        }
        Ok(())
    }
}

impl Evaluator {
    /// `toString` of a list: elements separated by spaces (none after an empty list).
    fn list_to_string(&mut self, items: &Rc<Vec<Thunk>>, span: Span, out: &mut String) -> R<()> {
        let items = items.clone();

        let n = items.len();
        for (i, t) in items.iter().enumerate() {
            let item = self.force(t)?;
            self.coerce_to_string(&item, span, true, out)?;
            if i + 1 < n && !matches!(item, Value::List(ref l) if l.is_empty()) {
                out.push(' ');
            }
        }
        Ok(())
    }
}

/// The thunk in slot `idx` of the scope `up` levels out.
pub fn lookup(env: &Rc<Env>, up: u32, idx: u32) -> Thunk {
    let mut e = env;
    for _ in 0..up {
        match &e.parent {
            Some(p) => e = p,
            None => break,
        }
    }
    match e.slots.get(idx as usize) {
        Some(t) => t.clone(),
        None => Thunk::done(Value::Null, None),
    }
}

pub fn missing_attr(set: &AttrSet, name: &str, span: Span) -> Diagnostic {
    if set.is_builtins && crate::builtins::is_unsupported(name) {
        return diag::unsupported(
            span,
            format!("`builtins.{name}` is not supported in .ha"),
            crate::builtins::unsupported_note(name.trim_start_matches("__")),
        );
    }
    let mut d = Diagnostic::error(format!("attribute `{name}` missing"))
        .with_code(hac_core::LanguageCode::MissingAttribute)
        .with_span(span)
        .with_span_label(format!("the set has no attribute `{name}`"));
    if let Some(s) = did_you_mean(name, set.names()) {
        d = d.with_hint(format!("did you mean `{s}`?"));
    } else if set.len() <= 12 && !set.is_builtins {
        let names: Vec<&str> = set.names().collect();
        if !names.is_empty() {
            d = d.with_note(format!("the set has: {}", names.join(", ")));
        }
    }
    d
}

pub fn path_misuse(span: Span) -> Diagnostic {
    diag::unsupported(
        span,
        "paths can only be used as the argument of `import`",
        "a path literal such as ./x.ha is only meaningful in `import ./x.ha`; use a string for file names in values",
    )
}

fn arith(op: BinOp, l: &Value, r: &Value, ls: Span, rs: Span, span: Span) -> R<Value> {
    let what = match op {
        BinOp::Add => "addition",
        BinOp::Sub => "subtraction",
        BinOp::Mul => "multiplication",
        _ => "division",
    };
    match (l, r) {
        (Value::Int(a), Value::Int(b)) => {
            let res = match op {
                BinOp::Add => a.checked_add(*b),
                BinOp::Sub => a.checked_sub(*b),
                BinOp::Mul => a.checked_mul(*b),
                _ => {
                    if *b == 0 {
                        return fail(diag::div_zero(rs));
                    }
                    a.checked_div(*b)
                }
            };
            res.map(Value::Int)
                .ok_or_else(|| EvalError::new(diag::overflow(span, what)))
        }
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            let a = as_f64(l);
            let b = as_f64(r);
            Ok(Value::Float(match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                _ => {
                    if b == 0.0 {
                        return fail(diag::div_zero(rs));
                    }
                    a / b
                }
            }))
        }
        (Value::Path(_), _) | (_, Value::Path(_)) => fail(path_misuse(span)),
        (Value::Int(_) | Value::Float(_), other) => {
            fail(diag::type_error(rs, "a number", other.describe()))
        }
        (other, _) => fail(diag::type_error(
            ls,
            if op == BinOp::Add {
                "a number or a string"
            } else {
                "a number"
            },
            other.describe(),
        )),
    }
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => 0.0,
    }
}
