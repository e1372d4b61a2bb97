//! The builtins: Nix's pure builtins (global names and `builtins.*`), each behaving as its
//! Nix namesake, plus the `builtins.hac` natives behind the library's network helpers.

use crate::diag;
use crate::eval::{fail, missing_attr, EvalError, Evaluator, R};
use crate::json::{self, FloatStyle};
use crate::value::{Attr, AttrSet, PrimApp, PrimOp, Sym, Thunk, ThunkState, Value};
use hac_core::{Diagnostic, Span};
use hac_syntax::ast::BinOp;
use std::rc::Rc;

/// Declares one builtin: `prim!(NAME, ARITY, |ev, args, span| body)`, or
/// `prim!(global NAME, …)` for one that is also a global name (as in Nix). Inside the body
/// `NAME` is the builtin's name, for its messages.
macro_rules! prim {
    ($name:literal, $arity:literal, $f:expr) => {
        prim!(@ $name, $arity, false, $f)
    };
    (global $name:literal, $arity:literal, $f:expr) => {
        prim!(@ $name, $arity, true, $f)
    };
    (@ $name:literal, $arity:literal, $global:literal, $f:expr) => {{
        const NAME: &str = $name;
        PrimOp {
            name: NAME,
            arity: $arity,
            global: $global,
            func: $f,
        }
    }};
}

/// The longest list `genList` makes (each element costs memory even while unevaluated).
const MAX_GENERATED_LIST: i64 = 1 << 24;

/// Every builtin function (reachable as `builtins.NAME`, the `global` ones also by name),
/// declared once: the base environment, the `builtins` set and the suggestions for a
/// misspelt name are all made from this table.
pub static PRIMOPS: &[PrimOp] = &[
    prim!(global "abort", 1, |ev, a, s| {
        let msg = string_arg(ev, a, 0, s, NAME)?;
        fail(
            Diagnostic::error(format!("evaluation aborted: {msg}"))
                .with_code(hac_core::LanguageCode::Abort)
                .with_span(s)
                .with_span_label("aborted here"),
        )
    }),
    prim!("add", 2, |ev, a, s| arith(ev, a, s, BinOp::Add)),
    prim!("addErrorContext", 2, |ev, a, _| ev.force(&a[1])),
    prim!("all", 2, |ev, a, s| {
        let f = ev.force(&a[0])?;
        let l = list_arg(ev, a, 1, s, NAME)?;
        for t in l.iter() {
            if !bool_of(ev, &f, t.clone(), s, NAME)? {
                return Ok(Value::Bool(false));
            }
        }
        Ok(Value::Bool(true))
    }),
    prim!("any", 2, |ev, a, s| {
        let f = ev.force(&a[0])?;
        let l = list_arg(ev, a, 1, s, NAME)?;
        for t in l.iter() {
            if bool_of(ev, &f, t.clone(), s, NAME)? {
                return Ok(Value::Bool(true));
            }
        }
        Ok(Value::Bool(false))
    }),
    prim!("attrNames", 1, |ev, a, s| {
        let set = attrs_arg(ev, a, 0, s, NAME)?;
        Ok(Value::list(
            set.entries
                .iter()
                .map(|e| Thunk::done(Value::Str(e.name.clone()), e.key_span))
                .collect(),
        ))
    }),
    prim!("attrValues", 1, |ev, a, s| {
        let set = attrs_arg(ev, a, 0, s, NAME)?;
        Ok(Value::list(
            set.entries.iter().map(|e| e.value.clone()).collect(),
        ))
    }),
    prim!(global "baseNameOf", 1, |ev, a, s| {
        let v = ev.force(&a[0])?;
        let mut st = String::new();
        ev.coerce_to_string(&v, s, false, &mut st)?;
        let trimmed = st.strip_suffix('/').unwrap_or(&st);
        let base = match trimmed.rfind('/') {
            Some(i) => &trimmed[i + 1..],
            None => trimmed,
        };
        Ok(Value::str(base))
    }),
    prim!("bitAnd", 2, |ev, a, s| {
        let (x, y) = (int_arg(ev, a, 0, s, NAME)?, int_arg(ev, a, 1, s, NAME)?);
        Ok(Value::Int(x & y))
    }),
    prim!("bitOr", 2, |ev, a, s| {
        let (x, y) = (int_arg(ev, a, 0, s, NAME)?, int_arg(ev, a, 1, s, NAME)?);
        Ok(Value::Int(x | y))
    }),
    prim!("bitXor", 2, |ev, a, s| {
        let (x, y) = (int_arg(ev, a, 0, s, NAME)?, int_arg(ev, a, 1, s, NAME)?);
        Ok(Value::Int(x ^ y))
    }),
    prim!("catAttrs", 2, |ev, a, s| {
        let name = string_arg(ev, a, 0, s, NAME)?;
        let l = list_arg(ev, a, 1, s, NAME)?;
        let mut out = Vec::new();
        for t in l.iter() {
            let v = ev.force(t)?;
            let Value::Attrs(set) = v else {
                return fail(expected(s, NAME, "a set", v.describe()));
            };
            if let Some(x) = set.get(&name) {
                out.push(x.value.clone());
            }
        }
        Ok(Value::list(out))
    }),
    prim!("ceil", 1, |ev, a, s| round(ev, a, s, NAME, f64::ceil)),
    prim!("compareVersions", 2, |ev, a, s| {
        let x = string_arg(ev, a, 0, s, NAME)?;
        let y = string_arg(ev, a, 1, s, NAME)?;
        Ok(Value::Int(compare_versions(&x, &y)))
    }),
    prim!("concatLists", 1, |ev, a, s| {
        let l = list_arg(ev, a, 0, s, NAME)?;
        let mut out = Vec::new();
        for t in l.iter() {
            let v = ev.force(t)?;
            let Value::List(items) = v else {
                return fail(expected(s, NAME, "a list", v.describe()));
            };
            crate::eval::check_list_len(out.len() + items.len(), s)?;
            out.extend(items.iter().cloned());
        }
        Ok(Value::list(out))
    }),
    prim!("concatMap", 2, |ev, a, s| {
        let f = ev.force(&a[0])?;
        let l = list_arg(ev, a, 1, s, NAME)?;
        let mut out = Vec::new();
        for t in l.iter() {
            let v = ev.call(f.clone(), t.clone(), s)?;
            let Value::List(items) = v else {
                return fail(expected(s, NAME, "a list", v.describe()));
            };
            crate::eval::check_list_len(out.len() + items.len(), s)?;
            out.extend(items.iter().cloned());
        }
        Ok(Value::list(out))
    }),
    prim!("concatStringsSep", 2, |ev, a, s| {
        let sep = string_arg(ev, a, 0, s, NAME)?;
        let l = list_arg(ev, a, 1, s, NAME)?;
        let mut out = String::new();
        for (i, t) in l.iter().enumerate() {
            if i > 0 {
                out.push_str(&sep);
            }
            let v = ev.force(t)?;
            ev.coerce_to_string(&v, t.span().unwrap_or(s), false, &mut out)?;
        }
        Ok(Value::string(out))
    }),
    prim!("deepSeq", 2, |ev, a, s| {
        let v = ev.force(&a[0])?;
        deep_force(ev, &v, s)?;
        ev.force(&a[1])
    }),
    prim!(global "dirOf", 1, |ev, a, s| {
        let v = ev.force(&a[0])?;
        let mut st = String::new();
        ev.coerce_to_string(&v, s, false, &mut st)?;
        let d = match st.rfind('/') {
            None => ".".to_string(),
            Some(0) => "/".to_string(),
            Some(i) => st[..i].to_string(),
        };
        Ok(Value::str(&d))
    }),
    prim!("div", 2, |ev, a, s| arith(ev, a, s, BinOp::Div)),
    prim!("elem", 2, |ev, a, s| {
        let x = ev.force(&a[0])?;
        let l = list_arg(ev, a, 1, s, NAME)?;
        for t in l.iter() {
            let v = ev.force(t)?;
            if ev.equal(&x, &v, s)? {
                return Ok(Value::Bool(true));
            }
        }
        Ok(Value::Bool(false))
    }),
    prim!("elemAt", 2, |ev, a, s| {
        let l = list_arg(ev, a, 0, s, NAME)?;
        let i = int_arg(ev, a, 1, s, NAME)?;
        match usize::try_from(i).ok().and_then(|i| l.get(i)) {
            Some(t) => {
                let t = t.clone();
                ev.force(&t)
            }
            None => fail(diag::invalid(
                s,
                format!(
                    "list index {i} is out of bounds (the list has {} elements)",
                    l.len()
                ),
            )),
        }
    }),
    prim!("filter", 2, |ev, a, s| {
        let f = ev.force(&a[0])?;
        let l = list_arg(ev, a, 1, s, NAME)?;
        let mut out = Vec::new();
        for t in l.iter() {
            if bool_of(ev, &f, t.clone(), s, NAME)? {
                out.push(t.clone());
            }
        }
        Ok(Value::list(out))
    }),
    prim!("floor", 1, |ev, a, s| round(ev, a, s, NAME, f64::floor)),
    prim!("foldl'", 3, |ev, a, s| {
        let f = ev.force(&a[0])?;
        let l = list_arg(ev, a, 2, s, NAME)?;
        let mut acc = a[1].clone();
        ev.force(&acc)?;
        for t in l.iter() {
            let v = ev.call2(&f, acc, t.clone(), s)?;
            acc = Thunk::done(v, Some(s));
        }
        ev.force(&acc)
    }),
    prim!("fromJSON", 1, |ev, a, s| {
        let text = string_arg(ev, a, 0, s, NAME)?;
        match crate::json::parse(&text) {
            Ok(j) => Ok(from_json(j, s)),
            Err(crate::json::JsonError::Syntax(m)) => {
                fail(diag::invalid(s, format!("invalid JSON: {m}")))
            }
            Err(crate::json::JsonError::Overflow(m)) => {
                fail(diag::overflow(s, "`fromJSON`").with_note(m))
            }
        }
    }),
    prim!("functionArgs", 1, |ev, a, s| {
        let f = ev.force(&a[0])?;
        match &f {
            Value::Lambda(c) => match &c.lambda.param {
                crate::ir::ParamIr::Pattern { formals, .. } => {
                    Ok(Value::attrs(AttrSet::from_unsorted(
                        formals
                            .iter()
                            .map(|f| Attr {
                                name: f.name.clone(),
                                value: Thunk::done(Value::Bool(f.default.is_some()), Some(f.span)),
                                key_span: Some(f.span),
                            })
                            .collect(),
                    )))
                }
                _ => Ok(Value::attrs(AttrSet::default())),
            },
            Value::Prim(_) => Ok(Value::attrs(AttrSet::default())),
            other => fail(expected(s, NAME, "a function", other.describe())),
        }
    }),
    prim!("genList", 2, |ev, a, s| {
        let n = int_arg(ev, a, 1, s, NAME)?;
        if n < 0 {
            return fail(diag::invalid(
                s,
                format!("cannot create a list of size {n}"),
            ));
        }
        if n > MAX_GENERATED_LIST {
            return fail(diag::invalid(
                s,
                format!("`genList` of {n} elements is too large (at most {MAX_GENERATED_LIST})"),
            ));
        }
        ev.force(&a[0])?;
        let mut out = Vec::with_capacity(n as usize);
        for i in 0..n {
            out.push(Thunk::lazy(
                ThunkState::Apply(a[0].clone(), Thunk::done(Value::Int(i), Some(s)), s),
                Some(s),
            ));
        }
        Ok(Value::list(out))
    }),
    prim!("getAttr", 2, |ev, a, s| {
        let name = string_arg(ev, a, 0, s, NAME)?;
        let set = attrs_arg(ev, a, 1, s, NAME)?;
        match set.get(&name) {
            Some(x) => {
                let t = x.value.clone();
                ev.force(&t)
            }
            None => fail(missing_attr(&set, &name, s)),
        }
    }),
    prim!("groupBy", 2, |ev, a, s| {
        let f = ev.force(&a[0])?;
        let l = list_arg(ev, a, 1, s, NAME)?;
        let mut groups: std::collections::HashMap<Sym, Vec<Thunk>> =
            std::collections::HashMap::new();
        for t in l.iter() {
            let k = ev.call(f.clone(), t.clone(), s)?;
            let Value::Str(k) = k else {
                return fail(expected(
                    s,
                    NAME,
                    "the function to return a string",
                    k.describe(),
                ));
            };
            groups.entry(k).or_default().push(t.clone());
        }
        Ok(Value::attrs(AttrSet::from_unsorted(
            groups
                .into_iter()
                .map(|(k, v)| Attr {
                    name: k,
                    value: Thunk::done(Value::list(v), Some(s)),
                    key_span: None,
                })
                .collect(),
        )))
    }),
    prim!("hasAttr", 2, |ev, a, s| {
        let name = string_arg(ev, a, 0, s, NAME)?;
        let set = attrs_arg(ev, a, 1, s, NAME)?;
        Ok(Value::Bool(
            set.get(&name).is_some() && !(set.is_builtins && is_unsupported(&name)),
        ))
    }),
    prim!("hashString", 2, |ev, a, s| {
        use sha2::Digest;
        let algo = string_arg(ev, a, 0, s, NAME)?;
        let text = string_arg(ev, a, 1, s, NAME)?;
        let bytes: Vec<u8> = match &*algo {
            "md5" => md5::Md5::digest(text.as_bytes()).to_vec(),
            "sha1" => sha1::Sha1::digest(text.as_bytes()).to_vec(),
            "sha256" => sha2::Sha256::digest(text.as_bytes()).to_vec(),
            "sha512" => sha2::Sha512::digest(text.as_bytes()).to_vec(),
            other => {
                return fail(diag::invalid(
                    s,
                    format!(
                        "unknown hash algorithm `{other}` (expected md5, sha1, sha256 or sha512)"
                    ),
                ))
            }
        };
        Ok(Value::str(
            &bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        ))
    }),
    prim!("head", 1, |ev, a, s| {
        let l = list_arg(ev, a, 0, s, NAME)?;
        match l.first() {
            Some(t) => {
                let t = t.clone();
                ev.force(&t)
            }
            None => fail(diag::invalid(s, "`head` of an empty list")),
        }
    }),
    prim!(global "import", 1, |ev, a, s| {
        let v = ev.force(&a[0])?;
        ev.import_value(&v, s)
    }),
    prim!("intersectAttrs", 2, |ev, a, s| {
        let x = attrs_arg(ev, a, 0, s, NAME)?;
        let y = attrs_arg(ev, a, 1, s, NAME)?;
        Ok(Value::attrs(AttrSet {
            entries: y
                .entries
                .iter()
                .filter(|e| x.get(&e.name).is_some())
                .cloned()
                .collect(),
            is_builtins: false,
            index: Default::default(),
        }))
    }),
    prim!("isAttrs", 1, |ev, a, _| Ok(Value::Bool(matches!(
        ev.force(&a[0])?,
        Value::Attrs(_)
    )))),
    prim!("isBool", 1, |ev, a, _| Ok(Value::Bool(matches!(
        ev.force(&a[0])?,
        Value::Bool(_)
    )))),
    prim!("isFloat", 1, |ev, a, _| Ok(Value::Bool(matches!(
        ev.force(&a[0])?,
        Value::Float(_)
    )))),
    prim!("isFunction", 1, |ev, a, _| Ok(Value::Bool(matches!(
        ev.force(&a[0])?,
        Value::Lambda(_) | Value::Prim(_)
    )))),
    prim!("isInt", 1, |ev, a, _| Ok(Value::Bool(matches!(
        ev.force(&a[0])?,
        Value::Int(_)
    )))),
    prim!("isList", 1, |ev, a, _| Ok(Value::Bool(matches!(
        ev.force(&a[0])?,
        Value::List(_)
    )))),
    prim!(global "isNull", 1, |ev, a, _| Ok(Value::Bool(matches!(
        ev.force(&a[0])?,
        Value::Null
    )))),
    prim!("isPath", 1, |ev, a, _| Ok(Value::Bool(matches!(
        ev.force(&a[0])?,
        Value::Path(_)
    )))),
    prim!("isString", 1, |ev, a, _| Ok(Value::Bool(matches!(
        ev.force(&a[0])?,
        Value::Str(_)
    )))),
    prim!("length", 1, |ev, a, s| Ok(Value::Int(
        list_arg(ev, a, 0, s, NAME)?.len() as i64
    ))),
    prim!("lessThan", 2, |ev, a, s| {
        let x = ev.force(&a[0])?;
        let y = ev.force(&a[1])?;
        Ok(Value::Bool(ev.less_than(&x, &y, s)?))
    }),
    prim!("listToAttrs", 1, |ev, a, s| {
        let l = list_arg(ev, a, 0, s, NAME)?;
        let mut entries: Vec<Attr> = Vec::with_capacity(l.len());
        for t in l.iter() {
            let v = ev.force(t)?;
            let Value::Attrs(set) = &v else {
                return fail(expected(s, NAME, "a set { name, value }", v.describe()));
            };
            let Some(n) = set.get("name").map(|x| x.value.clone()) else {
                return fail(missing_attr(set, "name", t.span().unwrap_or(s)));
            };
            let name = match ev.force(&n)? {
                Value::Str(x) => x,
                other => {
                    return fail(expected(
                        n.span().unwrap_or(s),
                        NAME,
                        "a string name",
                        other.describe(),
                    ))
                }
            };
            let Some(value) = set.get("value").map(|x| x.value.clone()) else {
                return fail(missing_attr(set, "value", t.span().unwrap_or(s)));
            };
            entries.push(Attr {
                name,
                value,
                key_span: n.span(),
            });
        }
        // The first definition of a name wins: stable sort, then keep the first of each run.
        entries.sort_by(|x, y| x.name.cmp(&y.name));
        entries.dedup_by(|later, earlier| later.name == earlier.name);
        Ok(Value::attrs(AttrSet {
            entries,
            is_builtins: false,
            index: Default::default(),
        }))
    }),
    prim!(global "map", 2, |ev, a, s| {
        ev.force(&a[0])?;
        let l = list_arg(ev, a, 1, s, NAME)?;
        Ok(Value::list(
            l.iter()
                .map(|t| Thunk::lazy(ThunkState::Apply(a[0].clone(), t.clone(), s), Some(s)))
                .collect(),
        ))
    }),
    prim!("mapAttrs", 2, |ev, a, s| {
        ev.force(&a[0])?;
        let set = attrs_arg(ev, a, 1, s, NAME)?;
        Ok(Value::attrs(AttrSet {
            entries: set
                .entries
                .iter()
                .map(|e| {
                    let partial = Thunk::lazy(
                        ThunkState::Apply(
                            a[0].clone(),
                            Thunk::done(Value::Str(e.name.clone()), e.key_span),
                            s,
                        ),
                        Some(s),
                    );
                    Attr {
                        name: e.name.clone(),
                        value: Thunk::lazy(ThunkState::Apply(partial, e.value.clone(), s), Some(s)),
                        key_span: e.key_span,
                    }
                })
                .collect(),
            is_builtins: false,
            index: Default::default(),
        }))
    }),
    prim!("match", 2, |ev, a, s| {
        let re = string_arg(ev, a, 0, s, NAME)?;
        let text = string_arg(ev, a, 1, s, NAME)?;
        let rx = ev.regex(&re, true, s)?;
        match rx.captures(&text) {
            None => Ok(Value::Null),
            Some(c) => Ok(Value::list(
                c.iter()
                    .skip(1)
                    .map(|m| {
                        Thunk::done(m.map_or(Value::Null, |m| Value::str(m.as_str())), Some(s))
                    })
                    .collect(),
            )),
        }
    }),
    prim!("mul", 2, |ev, a, s| arith(ev, a, s, BinOp::Mul)),
    prim!("partition", 2, |ev, a, s| {
        let f = ev.force(&a[0])?;
        let l = list_arg(ev, a, 1, s, NAME)?;
        let (mut right, mut wrong) = (Vec::new(), Vec::new());
        for t in l.iter() {
            if bool_of(ev, &f, t.clone(), s, NAME)? {
                right.push(t.clone());
            } else {
                wrong.push(t.clone());
            }
        }
        Ok(Value::attrs(AttrSet::from_unsorted(vec![
            Attr {
                name: Sym::from("right"),
                value: Thunk::done(Value::list(right), Some(s)),
                key_span: None,
            },
            Attr {
                name: Sym::from("wrong"),
                value: Thunk::done(Value::list(wrong), Some(s)),
                key_span: None,
            },
        ])))
    }),
    prim!(global "removeAttrs", 2, |ev, a, s| {
        let set = attrs_arg(ev, a, 0, s, NAME)?;
        let l = list_arg(ev, a, 1, s, NAME)?;
        let mut names = Vec::with_capacity(l.len());
        for t in l.iter() {
            match ev.force(t)? {
                Value::Str(x) => names.push(x),
                other => {
                    return fail(expected(
                        s,
                        NAME,
                        "a list of strings",
                        other.describe(),
                    ))
                }
            }
        }
        Ok(Value::attrs(AttrSet {
            entries: set
                .entries
                .iter()
                .filter(|e| !names.contains(&e.name))
                .cloned()
                .collect(),
            is_builtins: false,
            index: Default::default(),
        }))
    }),
    prim!("replaceStrings", 3, |ev, a, s| {
        let from_l = list_arg(ev, a, 0, s, NAME)?;
        let to_l = list_arg(ev, a, 1, s, NAME)?;
        let text = string_arg(ev, a, 2, s, NAME)?;
        if from_l.len() != to_l.len() {
            return fail(diag::invalid(
                s,
                "`from` and `to` arguments of `replaceStrings` have different lengths",
            ));
        }
        let mut from = Vec::with_capacity(from_l.len());
        for t in from_l.iter() {
            match ev.force(t)? {
                Value::Str(x) => from.push(x),
                other => return fail(expected(s, NAME, "a list of strings", other.describe())),
            }
        }
        let mut to: Vec<Option<Rc<str>>> = vec![None; to_l.len()];
        let bytes = text.as_bytes();
        let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
        let mut p = 0;
        while p <= bytes.len() {
            let mut found = false;
            for (i, pat) in from.iter().enumerate() {
                if bytes[p..].starts_with(pat.as_bytes()) {
                    found = true;
                    if to[i].is_none() {
                        match ev.force(&to_l[i])? {
                            Value::Str(x) => to[i] = Some(x),
                            other => {
                                return fail(expected(
                                    s,
                                    NAME,
                                    "a list of strings",
                                    other.describe(),
                                ))
                            }
                        }
                    }
                    if let Some(r) = &to[i] {
                        crate::eval::check_string_len(out.len() + r.len(), s)?;
                        out.extend_from_slice(r.as_bytes());
                    }
                    if pat.is_empty() {
                        if p < bytes.len() {
                            out.push(bytes[p]);
                        }
                        p += 1;
                    } else {
                        p += pat.len();
                    }
                    break;
                }
            }
            if !found {
                if p < bytes.len() {
                    out.push(bytes[p]);
                }
                p += 1;
            }
        }
        Ok(Value::str(&String::from_utf8_lossy(&out)))
    }),
    prim!("seq", 2, |ev, a, _| {
        ev.force(&a[0])?;
        ev.force(&a[1])
    }),
    prim!("sort", 2, |ev, a, s| {
        let f = ev.force(&a[0])?;
        let l = list_arg(ev, a, 1, s, NAME)?;
        let sorted = merge_sort(ev, &f, l.to_vec(), s, NAME)?;
        Ok(Value::list(sorted))
    }),
    prim!("split", 2, |ev, a, s| {
        let re = string_arg(ev, a, 0, s, NAME)?;
        let text = string_arg(ev, a, 1, s, NAME)?;
        let rx = ev.regex(&re, false, s)?;
        let mut out = Vec::new();
        let mut last = 0;
        for c in rx.captures_iter(&text) {
            let Some(m) = c.get(0) else { continue };
            out.push(Thunk::done(Value::str(&text[last..m.start()]), Some(s)));
            let groups = c
                .iter()
                .skip(1)
                .map(|g| Thunk::done(g.map_or(Value::Null, |g| Value::str(g.as_str())), Some(s)))
                .collect();
            out.push(Thunk::done(Value::list(groups), Some(s)));
            last = m.end();
        }
        out.push(Thunk::done(Value::str(&text[last..]), Some(s)));
        Ok(Value::list(out))
    }),
    prim!("splitVersion", 1, |ev, a, s| {
        let v = string_arg(ev, a, 0, s, NAME)?;
        let mut p = 0;
        let mut out = Vec::new();
        loop {
            let c = next_version_component(&v, &mut p);
            if c.is_empty() {
                break;
            }
            out.push(Thunk::done(Value::str(&c), Some(s)));
        }
        Ok(Value::list(out))
    }),
    prim!("stringLength", 1, |ev, a, s| {
        let v = ev.force(&a[0])?;
        let mut st = String::new();
        ev.coerce_to_string(&v, s, false, &mut st)?;
        Ok(Value::Int(st.len() as i64))
    }),
    prim!("sub", 2, |ev, a, s| arith(ev, a, s, BinOp::Sub)),
    prim!("substring", 3, |ev, a, s| {
        let start = int_arg(ev, a, 0, s, NAME)?;
        let len = int_arg(ev, a, 1, s, NAME)?;
        let v = ev.force(&a[2])?;
        let mut st = String::new();
        ev.coerce_to_string(&v, s, false, &mut st)?;
        if start < 0 {
            return fail(diag::invalid(s, "negative start position in `substring`"));
        }
        let b = st.as_bytes();
        let start = (start as u64).min(b.len() as u64) as usize;
        let end = if len < 0 {
            b.len()
        } else {
            start.saturating_add(len as usize).min(b.len())
        };
        Ok(Value::str(&String::from_utf8_lossy(&b[start..end])))
    }),
    prim!("tail", 1, |ev, a, s| {
        let l = list_arg(ev, a, 0, s, NAME)?;
        if l.is_empty() {
            return fail(diag::invalid(s, "`tail` of an empty list"));
        }
        Ok(Value::list(l[1..].to_vec()))
    }),
    prim!(global "throw", 1, |ev, a, s| {
        let v = ev.force(&a[0])?;
        let mut msg = String::new();
        ev.coerce_to_string(&v, s, false, &mut msg)?;
        fail(
            Diagnostic::error(msg)
                .with_code(hac_core::LanguageCode::Throw)
                .with_span(s)
                .with_span_label("thrown here"),
        )
    }),
    prim!("toJSON", 1, |ev, a, s| {
        let v = ev.force(&a[0])?;
        let mut out = String::new();
        to_json(ev, &v, s, &mut out)?;
        Ok(Value::string(out))
    }),
    prim!(global "toString", 1, |ev, a, s| {
        let v = ev.force(&a[0])?;
        let mut out = String::new();
        ev.coerce_to_string(&v, s, true, &mut out)?;
        Ok(Value::string(out))
    }),
    prim!("trace", 2, |ev, a, s| {
        let v = ev.force(&a[0])?;
        let text = match &v {
            Value::Str(x) => x.to_string(),
            other => {
                let mut out = String::new();
                deep_force(ev, other, s)?;
                to_json(ev, other, s, &mut out)
                    .map_or_else(|_| format!("<{}>", other.type_name()), |_| out)
            }
        };
        eprintln!("trace: {text}");
        ev.force(&a[1])
    }),
    prim!("tryEval", 1, |ev, a, s| {
        let (ok, value) = match ev.force(&a[0]) {
            Ok(v) => (true, v),
            Err(e) if e.catchable() => (false, Value::Bool(false)),
            Err(e) => return Err(e),
        };
        Ok(Value::attrs(AttrSet::from_unsorted(vec![
            Attr {
                name: Sym::from("success"),
                value: Thunk::done(Value::Bool(ok), Some(s)),
                key_span: None,
            },
            Attr {
                name: Sym::from("value"),
                value: Thunk::done(value, Some(s)),
                key_span: None,
            },
        ])))
    }),
    prim!("typeOf", 1, |ev, a, _| Ok(Value::str(
        ev.force(&a[0])?.type_name()
    ))),
    prim!("zipAttrsWith", 2, |ev, a, s| {
        ev.force(&a[0])?;
        let l = list_arg(ev, a, 1, s, NAME)?;
        let mut groups: std::collections::BTreeMap<Sym, Vec<Thunk>> =
            std::collections::BTreeMap::new();
        for t in l.iter() {
            let v = ev.force(t)?;
            let Value::Attrs(set) = v else {
                return fail(expected(s, NAME, "a list of sets", v.describe()));
            };
            for e in &set.entries {
                groups
                    .entry(e.name.clone())
                    .or_default()
                    .push(e.value.clone());
            }
        }
        Ok(Value::attrs(AttrSet {
            entries: groups
                .into_iter()
                .map(|(k, v)| {
                    let partial = Thunk::lazy(
                        ThunkState::Apply(
                            a[0].clone(),
                            Thunk::done(Value::Str(k.clone()), Some(s)),
                            s,
                        ),
                        Some(s),
                    );
                    Attr {
                        name: k,
                        value: Thunk::lazy(
                            ThunkState::Apply(partial, Thunk::done(Value::list(v), Some(s)), s),
                            Some(s),
                        ),
                        key_span: None,
                    }
                })
                .collect(),
            is_builtins: false,
            index: Default::default(),
        }))
    }),
];

/// The `builtins.hac` natives (the only non-Nix builtins).
pub static HAC_PRIMOPS: &[PrimOp] = &[
    prim!("cidrHost", 2, |ev, a, s| {
        let net = string_arg(ev, a, 0, s, NAME)?;
        let n = int_arg(ev, a, 1, s, NAME)?;
        crate::cidr::host(&net, n)
            .map(|x| Value::str(&x))
            .map_err(|m| EvalError::new(diag::invalid(s, m)))
    }),
    prim!("cidrSubnet", 3, |ev, a, s| {
        let net = string_arg(ev, a, 0, s, NAME)?;
        let bits = int_arg(ev, a, 1, s, NAME)?;
        let n = int_arg(ev, a, 2, s, NAME)?;
        crate::cidr::subnet(&net, bits, n)
            .map(|x| Value::str(&x))
            .map_err(|m| EvalError::new(diag::invalid(s, m)))
    }),
    prim!("cidrContains", 2, |ev, a, s| {
        let net = string_arg(ev, a, 0, s, NAME)?;
        let addr = string_arg(ev, a, 1, s, NAME)?;
        crate::cidr::contains(&net, &addr)
            .map(Value::Bool)
            .map_err(|m| EvalError::new(diag::invalid(s, m)))
    }),
    prim!("cidrPrefixLength", 1, |ev, a, s| {
        let net = string_arg(ev, a, 0, s, NAME)?;
        crate::cidr::prefix_length(&net)
            .map(Value::Int)
            .map_err(|m| EvalError::new(diag::invalid(s, m)))
    }),
    prim!("cidrOffset", 2, |ev, a, s| {
        let addr = string_arg(ev, a, 0, s, NAME)?;
        let n = int_arg(ev, a, 1, s, NAME)?;
        crate::cidr::offset(&addr, n)
            .map(|x| Value::str(&x))
            .map_err(|m| EvalError::new(diag::invalid(s, m)))
    }),
    prim!("cidrAddress", 1, |ev, a, s| {
        let addr = string_arg(ev, a, 0, s, NAME)?;
        crate::cidr::address(&addr)
            .map(|x| Value::str(&x))
            .map_err(|m| EvalError::new(diag::invalid(s, m)))
    }),
];

/// Why a Nix builtin is not part of `.ha`.
#[derive(Clone, Copy, PartialEq)]
pub enum Refused {
    /// It reads time, the environment, files, the store or the network.
    Impure,
    /// It is pure, but outside the language.
    NotInLanguage,
}

/// The Nix builtins outside the `.ha` subset (E0002 when used, by name or as
/// `builtins.NAME`), each with why.
pub const UNSUPPORTED: &[(&str, Refused)] = &[
    ("currentTime", Refused::Impure),
    ("currentSystem", Refused::Impure),
    ("getEnv", Refused::Impure),
    ("fetchurl", Refused::Impure),
    ("fetchTarball", Refused::Impure),
    ("fetchGit", Refused::Impure),
    ("fetchTree", Refused::Impure),
    ("fetchMercurial", Refused::Impure),
    ("fetchClosure", Refused::Impure),
    ("derivation", Refused::Impure),
    ("derivationStrict", Refused::Impure),
    ("readFile", Refused::Impure),
    ("readDir", Refused::Impure),
    ("readFileType", Refused::Impure),
    ("pathExists", Refused::Impure),
    ("toFile", Refused::Impure),
    ("storePath", Refused::Impure),
    ("storeDir", Refused::Impure),
    ("nixPath", Refused::Impure),
    ("findFile", Refused::Impure),
    ("placeholder", Refused::Impure),
    ("scopedImport", Refused::Impure),
    ("filterSource", Refused::Impure),
    ("path", Refused::Impure),
    ("toPath", Refused::Impure),
    ("getContext", Refused::Impure),
    ("hasContext", Refused::Impure),
    ("appendContext", Refused::Impure),
    ("unsafeDiscardStringContext", Refused::Impure),
    ("unsafeDiscardOutputDependency", Refused::Impure),
    ("unsafeGetAttrPos", Refused::Impure),
    ("addDrvOutputDependencies", Refused::Impure),
    ("hashFile", Refused::Impure),
    ("nixVersion", Refused::Impure),
    ("langVersion", Refused::Impure),
    ("getFlake", Refused::Impure),
    ("exec", Refused::Impure),
    ("importNative", Refused::Impure),
    ("__curPos", Refused::Impure),
    ("traceVerbose", Refused::Impure),
    ("outputOf", Refused::Impure),
    ("convertHash", Refused::Impure),
    ("genericClosure", Refused::NotInLanguage),
    ("fromTOML", Refused::NotInLanguage),
    ("toXML", Refused::NotInLanguage),
    ("parseDrvName", Refused::NotInLanguage),
    ("break", Refused::NotInLanguage),
    ("warn", Refused::NotInLanguage),
    ("parseFlakeRef", Refused::NotInLanguage),
    ("flakeRefToString", Refused::NotInLanguage),
];

/// True for a Nix builtin outside the `.ha` subset.
pub fn is_unsupported(name: &str) -> bool {
    UNSUPPORTED.iter().any(|(n, _)| *n == name)
}

/// Why a Nix builtin is refused (the note of its E0002).
pub fn unsupported_note(name: &str) -> &'static str {
    match UNSUPPORTED.iter().find(|(n, _)| *n == name) {
        Some((_, Refused::NotInLanguage)) => "this Nix builtin is not part of the .ha language",
        _ => "evaluation is hermetic: impure Nix builtins (time, environment, files, the store, fetchers) are not part of the language",
    }
}

fn expected(span: Span, builtin: &str, what: &str, found: &str) -> Diagnostic {
    diag::type_error_msg(
        span,
        format!("`builtins.{builtin}`: expected {what}, found {found}"),
        format!("expected {what}, found {found}"),
    )
}

fn arg_span(a: &[Thunk], i: usize, s: Span) -> Span {
    a[i].span().filter(|x| x.file == s.file).unwrap_or(s)
}

pub fn string_arg(ev: &mut Evaluator, a: &[Thunk], i: usize, s: Span, name: &str) -> R<Rc<str>> {
    match ev.force(&a[i])? {
        Value::Str(x) => Ok(x),
        other => fail(expected(
            arg_span(a, i, s),
            name,
            "a string",
            other.describe(),
        )),
    }
}

pub fn int_arg(ev: &mut Evaluator, a: &[Thunk], i: usize, s: Span, name: &str) -> R<i64> {
    match ev.force(&a[i])? {
        Value::Int(x) => Ok(x),
        other => fail(expected(
            arg_span(a, i, s),
            name,
            "an integer",
            other.describe(),
        )),
    }
}

pub fn list_arg(
    ev: &mut Evaluator,
    a: &[Thunk],
    i: usize,
    s: Span,
    name: &str,
) -> R<Rc<Vec<Thunk>>> {
    match ev.force(&a[i])? {
        Value::List(x) => Ok(x),
        other => fail(expected(
            arg_span(a, i, s),
            name,
            "a list",
            other.describe(),
        )),
    }
}

pub fn attrs_arg(ev: &mut Evaluator, a: &[Thunk], i: usize, s: Span, name: &str) -> R<Rc<AttrSet>> {
    match ev.force(&a[i])? {
        Value::Attrs(x) => Ok(x),
        other => fail(expected(arg_span(a, i, s), name, "a set", other.describe())),
    }
}

fn bool_of(ev: &mut Evaluator, f: &Value, x: Thunk, s: Span, name: &str) -> R<bool> {
    match ev.call(f.clone(), x, s)? {
        Value::Bool(b) => Ok(b),
        other => fail(expected(
            s,
            name,
            "the function to return a Boolean",
            other.describe(),
        )),
    }
}

fn arith(ev: &mut Evaluator, a: &[Thunk], s: Span, op: BinOp) -> R<Value> {
    let x = ev.force(&a[0])?;
    let y = ev.force(&a[1])?;
    let (xs, ys) = (arg_span(a, 0, s), arg_span(a, 1, s));
    match (&x, &y) {
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            ev.binary_values(op, x, y, xs, ys, s)
        }
        (Value::Int(_) | Value::Float(_), other) => {
            fail(diag::type_error(ys, "a number", other.describe()))
        }
        (other, _) => fail(diag::type_error(xs, "a number", other.describe())),
    }
}

fn round(ev: &mut Evaluator, a: &[Thunk], s: Span, name: &str, f: fn(f64) -> f64) -> R<Value> {
    match ev.force(&a[0])? {
        Value::Int(i) => Ok(Value::Int(i)),
        Value::Float(x) => {
            let r = f(x);
            if r.is_finite() && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&r) {
                Ok(Value::Int(r as i64))
            } else {
                fail(diag::overflow(s, name))
            }
        }
        other => fail(expected(
            arg_span(a, 0, s),
            name,
            "a number",
            other.describe(),
        )),
    }
}

/// A stable merge sort with a fallible "less than" given as a `.ha` function.
fn merge_sort(
    ev: &mut Evaluator,
    f: &Value,
    items: Vec<Thunk>,
    s: Span,
    name: &str,
) -> R<Vec<Thunk>> {
    let n = items.len();
    let mut src = items;
    let mut width = 1;
    while width < n {
        let mut dst = Vec::with_capacity(n);
        let mut lo = 0;
        while lo < n {
            let mid = (lo + width).min(n);
            let hi = (lo + 2 * width).min(n);
            let (mut i, mut j) = (lo, mid);
            while i < mid && j < hi {
                // Take the right element only if it is strictly less (stability).
                let less = match ev.call2(f, src[j].clone(), src[i].clone(), s)? {
                    Value::Bool(b) => b,
                    other => {
                        return fail(expected(
                            s,
                            name,
                            "the comparator to return a Boolean",
                            other.describe(),
                        ))
                    }
                };
                if less {
                    dst.push(src[j].clone());
                    j += 1;
                } else {
                    dst.push(src[i].clone());
                    i += 1;
                }
            }
            dst.extend_from_slice(&src[i..mid]);
            dst.extend_from_slice(&src[j..hi]);
            lo = hi;
        }
        src = dst;
        width *= 2;
    }
    Ok(src)
}

fn next_version_component(s: &str, p: &mut usize) -> String {
    let b = s.as_bytes();
    while *p < b.len() && (b[*p] == b'.' || b[*p] == b'-') {
        *p += 1;
    }
    let start = *p;
    if *p >= b.len() {
        return String::new();
    }
    if b[*p].is_ascii_digit() {
        while *p < b.len() && b[*p].is_ascii_digit() {
            *p += 1;
        }
    } else {
        while *p < b.len() && !b[*p].is_ascii_digit() && b[*p] != b'.' && b[*p] != b'-' {
            *p += 1;
        }
    }
    String::from_utf8_lossy(&b[start..*p]).into_owned()
}

fn components_lt(c1: &str, c2: &str) -> bool {
    let n1 = c1
        .parse::<i32>()
        .ok()
        .filter(|_| !c1.is_empty() && c1.bytes().all(|b| b.is_ascii_digit()));
    let n2 = c2
        .parse::<i32>()
        .ok()
        .filter(|_| !c2.is_empty() && c2.bytes().all(|b| b.is_ascii_digit()));
    match (n1, n2) {
        (Some(a), Some(b)) => a < b,
        _ if c1.is_empty() && n2.is_some() => true,
        _ if c1 == "pre" && c2 != "pre" => true,
        _ if c2 == "pre" => false,
        (_, Some(_)) => true,
        (Some(_), _) => false,
        _ => c1 < c2,
    }
}

pub fn compare_versions(a: &str, b: &str) -> i64 {
    let (mut p1, mut p2) = (0, 0);
    while p1 < a.len() || p2 < b.len() {
        let c1 = next_version_component(a, &mut p1);
        let c2 = next_version_component(b, &mut p2);
        if components_lt(&c1, &c2) {
            return -1;
        }
        if components_lt(&c2, &c1) {
            return 1;
        }
    }
    0
}

fn from_json(j: crate::json::Json, s: Span) -> Value {
    use crate::json::Json as J;
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(b),
        J::Int(i) => Value::Int(i),
        J::Float(f) => Value::Float(f),
        J::Str(x) => Value::str(&x),
        J::Array(items) => Value::list(
            items
                .into_iter()
                .map(|i| Thunk::done(from_json(i, s), Some(s)))
                .collect(),
        ),
        J::Object(map) => Value::attrs(AttrSet::from_unsorted(
            map.into_iter()
                .map(|(k, v)| Attr {
                    name: Sym::from(k.as_str()),
                    value: Thunk::done(from_json(v, s), Some(s)),
                    key_span: None,
                })
                .collect(),
        )),
    }
}

/// E0015 of `toJSON`, `deepSeq` and `trace` (a plain message: no label, no hint).
fn too_deep(s: Span) -> Box<EvalError> {
    EvalError::new(
        Diagnostic::error("evaluation too deep (depth limit reached)")
            .with_code(hac_core::LanguageCode::TooDeep)
            .with_span(s),
    )
}

fn to_json(ev: &mut Evaluator, v: &Value, s: Span, out: &mut String) -> R<()> {
    to_json_inner(&mut *ev.enter_or(|| too_deep(s))?, v, s, out)
}

fn to_json_inner(ev: &mut Evaluator, v: &Value, s: Span, out: &mut String) -> R<()> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => json::write_float(*f, FloatStyle::Nix, out),
        Value::Str(x) => {
            crate::eval::check_string_len(out.len() + x.len(), s)?;
            json::write_string(x, out);
        }
        Value::Path(_) => return fail(crate::eval::path_misuse(s)),
        Value::List(items) => {
            out.push('[');
            for (i, t) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let x = ev.force(t)?;
                to_json(ev, &x, s, out)?;
            }
            out.push(']');
        }
        Value::Attrs(set) => {
            if set.get("__toString").is_some() || set.get("outPath").is_some() {
                let mut st = String::new();
                ev.coerce_to_string(v, s, false, &mut st)?;
                json::write_string(&st, out);
                return Ok(());
            }
            out.push('{');
            for (i, e) in set.entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json::write_string(&e.name, out);
                out.push(':');
                let x = ev.force(&e.value)?;
                to_json(ev, &x, s, out)?;
            }
            out.push('}');
        }
        Value::Lambda(_) | Value::Prim(_) => {
            return fail(diag::unrepresentable(Some(s), "a function"))
        }
    }
    Ok(())
}

/// Forces a value and everything inside it.
pub fn deep_force(ev: &mut Evaluator, v: &Value, s: Span) -> R<()> {
    let ev = &mut *ev.enter_or(|| too_deep(s))?;
    match v {
        Value::List(items) => {
            for t in items.iter() {
                let x = ev.force(t)?;
                deep_force(ev, &x, s)?;
            }
        }
        Value::Attrs(set) => {
            for e in &set.entries {
                let x = ev.force(&e.value)?;
                deep_force(ev, &x, s)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The `builtins` set and the base environment's names and values, made from [`PRIMOPS`]
/// and [`HAC_PRIMOPS`]: `true`, `false`, `null`, `builtins`, then for every attribute of
/// `builtins` in name order its global name (the `global` builtins) and `__NAME`.
pub fn base_bindings() -> (Vec<Sym>, Vec<Thunk>) {
    let attr = |name: &str, value: Value| Attr {
        name: Sym::from(name),
        value: Thunk::done(value, None),
        key_span: None,
    };
    let prim = |op: &'static PrimOp| {
        let value = Value::Prim(Rc::new(PrimApp {
            op,
            args: Vec::new(),
        }));
        attr(op.name, value)
    };
    let constants = || {
        [
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("null", Value::Null),
        ]
        .map(|(name, value)| attr(name, value))
    };
    let mut builtins: Vec<Attr> = PRIMOPS.iter().map(prim).collect();
    let hac = AttrSet::from_unsorted(HAC_PRIMOPS.iter().map(prim).collect());
    builtins.push(attr("hac", Value::attrs(hac)));
    builtins.extend(constants());
    let mut set = AttrSet::from_unsorted(builtins);
    set.is_builtins = true;
    let mut globals: Vec<Attr> = constants().into();
    globals.push(attr("builtins", Value::attrs(set.clone())));
    for e in &set.entries {
        let global =
            matches!(&*e.value.0.state.borrow(), ThunkState::Done(Value::Prim(p)) if p.op.global);
        if global {
            globals.push(e.clone());
        }
        globals.push(Attr {
            name: Sym::from(format!("__{}", e.name).as_str()),
            ..e.clone()
        });
    }
    globals.into_iter().map(|a| (a.name, a.value)).unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_name_is_declared_once() {
        let mut names: Vec<&str> = PRIMOPS
            .iter()
            .chain(HAC_PRIMOPS)
            .map(|op| op.name)
            .chain(UNSUPPORTED.iter().map(|(n, _)| *n))
            .collect();
        let declared = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), declared, "a builtin name is declared twice");
        let globals: Vec<&str> = PRIMOPS
            .iter()
            .filter(|op| op.global)
            .map(|op| op.name)
            .collect();
        assert_eq!(
            globals,
            [
                "abort",
                "baseNameOf",
                "dirOf",
                "import",
                "isNull",
                "map",
                "removeAttrs",
                "throw",
                "toString"
            ]
        );
    }

    #[test]
    fn the_base_environment_binds_globals_and_underscored_names() {
        let (names, values) = base_bindings();
        assert_eq!(names.len(), values.len());
        let names: Vec<&str> = names.iter().map(|n| &**n).collect();
        assert_eq!(names[..4], ["true", "false", "null", "builtins"]);
        for op in PRIMOPS {
            assert_eq!(names.contains(&op.name), op.global, "{}", op.name);
            assert!(
                names.contains(&format!("__{}", op.name).as_str()),
                "{}",
                op.name
            );
        }
        assert!(names.contains(&"__hac") && !names.contains(&"hac"));
    }
}
