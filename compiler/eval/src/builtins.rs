//! The builtins: Nix's pure builtins (global names and `builtins.*`), each behaving as its
//! Nix namesake, plus the `builtins.hac` natives behind the library's network helpers.

use crate::diag;
use crate::eval::{fail, missing_attr, EvalError, Evaluator, R};
use crate::json::{self, FloatStyle};
use crate::value::{Attr, AttrSet, PrimOp, Sym, Thunk, ThunkState, Value};
use hac_core::{Diagnostic, Span};
use hac_syntax::ast::BinOp;
use std::rc::Rc;

macro_rules! prim {
    ($name:expr, $arity:expr, $f:expr) => {
        PrimOp {
            name: $name,
            arity: $arity,
            func: $f,
        }
    };
}

/// The longest list `genList` makes (each element costs memory even while unevaluated).
const MAX_GENERATED_LIST: i64 = 1 << 24;

/// Every builtin function (reachable as `builtins.NAME`).
pub static PRIMOPS: &[PrimOp] = &[
    prim!("abort", 1, |ev, a, s| {
        let msg = string_arg(ev, a, 0, s, "abort")?;
        fail(
            Diagnostic::error(format!("evaluation aborted: {msg}"))
                .with_code("E0013")
                .with_span(s)
                .with_span_label("aborted here"),
        )
    }),
    prim!("add", 2, |ev, a, s| arith(ev, a, s, BinOp::Add)),
    prim!("addErrorContext", 2, |ev, a, _| ev.force(&a[1])),
    prim!("all", 2, |ev, a, s| {
        let f = ev.force(&a[0])?;
        let l = list_arg(ev, a, 1, s, "all")?;
        for t in l.iter() {
            if !bool_of(ev, &f, t.clone(), s, "all")? {
                return Ok(Value::Bool(false));
            }
        }
        Ok(Value::Bool(true))
    }),
    prim!("any", 2, |ev, a, s| {
        let f = ev.force(&a[0])?;
        let l = list_arg(ev, a, 1, s, "any")?;
        for t in l.iter() {
            if bool_of(ev, &f, t.clone(), s, "any")? {
                return Ok(Value::Bool(true));
            }
        }
        Ok(Value::Bool(false))
    }),
    prim!("attrNames", 1, |ev, a, s| {
        let set = attrs_arg(ev, a, 0, s, "attrNames")?;
        Ok(Value::list(
            set.entries
                .iter()
                .map(|e| Thunk::done(Value::Str(e.name.clone()), e.key_span))
                .collect(),
        ))
    }),
    prim!("attrValues", 1, |ev, a, s| {
        let set = attrs_arg(ev, a, 0, s, "attrValues")?;
        Ok(Value::list(
            set.entries.iter().map(|e| e.value.clone()).collect(),
        ))
    }),
    prim!("baseNameOf", 1, |ev, a, s| {
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
        let (x, y) = (
            int_arg(ev, a, 0, s, "bitAnd")?,
            int_arg(ev, a, 1, s, "bitAnd")?,
        );
        Ok(Value::Int(x & y))
    }),
    prim!("bitOr", 2, |ev, a, s| {
        let (x, y) = (
            int_arg(ev, a, 0, s, "bitOr")?,
            int_arg(ev, a, 1, s, "bitOr")?,
        );
        Ok(Value::Int(x | y))
    }),
    prim!("bitXor", 2, |ev, a, s| {
        let (x, y) = (
            int_arg(ev, a, 0, s, "bitXor")?,
            int_arg(ev, a, 1, s, "bitXor")?,
        );
        Ok(Value::Int(x ^ y))
    }),
    prim!("catAttrs", 2, |ev, a, s| {
        let name = string_arg(ev, a, 0, s, "catAttrs")?;
        let l = list_arg(ev, a, 1, s, "catAttrs")?;
        let mut out = Vec::new();
        for t in l.iter() {
            let v = ev.force(t)?;
            let Value::Attrs(set) = v else {
                return fail(expected(s, "catAttrs", "a set", v.describe()));
            };
            if let Some(x) = set.get(&name) {
                out.push(x.value.clone());
            }
        }
        Ok(Value::list(out))
    }),
    prim!("ceil", 1, |ev, a, s| round(ev, a, s, "ceil", f64::ceil)),
    prim!("compareVersions", 2, |ev, a, s| {
        let x = string_arg(ev, a, 0, s, "compareVersions")?;
        let y = string_arg(ev, a, 1, s, "compareVersions")?;
        Ok(Value::Int(compare_versions(&x, &y)))
    }),
    prim!("concatLists", 1, |ev, a, s| {
        let l = list_arg(ev, a, 0, s, "concatLists")?;
        let mut out = Vec::new();
        for t in l.iter() {
            let v = ev.force(t)?;
            let Value::List(items) = v else {
                return fail(expected(s, "concatLists", "a list", v.describe()));
            };
            crate::eval::check_list_len(out.len() + items.len(), s)?;
            out.extend(items.iter().cloned());
        }
        Ok(Value::list(out))
    }),
    prim!("concatMap", 2, |ev, a, s| {
        let f = ev.force(&a[0])?;
        let l = list_arg(ev, a, 1, s, "concatMap")?;
        let mut out = Vec::new();
        for t in l.iter() {
            let v = ev.call(f.clone(), t.clone(), s)?;
            let Value::List(items) = v else {
                return fail(expected(s, "concatMap", "a list", v.describe()));
            };
            crate::eval::check_list_len(out.len() + items.len(), s)?;
            out.extend(items.iter().cloned());
        }
        Ok(Value::list(out))
    }),
    prim!("concatStringsSep", 2, |ev, a, s| {
        let sep = string_arg(ev, a, 0, s, "concatStringsSep")?;
        let l = list_arg(ev, a, 1, s, "concatStringsSep")?;
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
    prim!("dirOf", 1, |ev, a, s| {
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
        let l = list_arg(ev, a, 1, s, "elem")?;
        for t in l.iter() {
            let v = ev.force(t)?;
            if ev.equal(&x, &v, s)? {
                return Ok(Value::Bool(true));
            }
        }
        Ok(Value::Bool(false))
    }),
    prim!("elemAt", 2, |ev, a, s| {
        let l = list_arg(ev, a, 0, s, "elemAt")?;
        let i = int_arg(ev, a, 1, s, "elemAt")?;
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
        let l = list_arg(ev, a, 1, s, "filter")?;
        let mut out = Vec::new();
        for t in l.iter() {
            if bool_of(ev, &f, t.clone(), s, "filter")? {
                out.push(t.clone());
            }
        }
        Ok(Value::list(out))
    }),
    prim!("floor", 1, |ev, a, s| round(ev, a, s, "floor", f64::floor)),
    prim!("foldl'", 3, |ev, a, s| {
        let f = ev.force(&a[0])?;
        let l = list_arg(ev, a, 2, s, "foldl'")?;
        let mut acc = a[1].clone();
        ev.force(&acc)?;
        for t in l.iter() {
            let v = ev.call2(&f, acc, t.clone(), s)?;
            acc = Thunk::done(v, Some(s));
        }
        ev.force(&acc)
    }),
    prim!("fromJSON", 1, |ev, a, s| {
        let text = string_arg(ev, a, 0, s, "fromJSON")?;
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
            other => fail(expected(s, "functionArgs", "a function", other.describe())),
        }
    }),
    prim!("genList", 2, |ev, a, s| {
        let n = int_arg(ev, a, 1, s, "genList")?;
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
        let name = string_arg(ev, a, 0, s, "getAttr")?;
        let set = attrs_arg(ev, a, 1, s, "getAttr")?;
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
        let l = list_arg(ev, a, 1, s, "groupBy")?;
        let mut groups: std::collections::HashMap<Sym, Vec<Thunk>> =
            std::collections::HashMap::new();
        for t in l.iter() {
            let k = ev.call(f.clone(), t.clone(), s)?;
            let Value::Str(k) = k else {
                return fail(expected(
                    s,
                    "groupBy",
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
        let name = string_arg(ev, a, 0, s, "hasAttr")?;
        let set = attrs_arg(ev, a, 1, s, "hasAttr")?;
        Ok(Value::Bool(
            set.get(&name).is_some()
                && !(set.is_builtins && crate::eval::is_unsupported_builtin(&name)),
        ))
    }),
    prim!("hashString", 2, |ev, a, s| {
        use sha2::Digest;
        let algo = string_arg(ev, a, 0, s, "hashString")?;
        let text = string_arg(ev, a, 1, s, "hashString")?;
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
        let l = list_arg(ev, a, 0, s, "head")?;
        match l.first() {
            Some(t) => {
                let t = t.clone();
                ev.force(&t)
            }
            None => fail(diag::invalid(s, "`head` of an empty list")),
        }
    }),
    prim!("import", 1, |ev, a, s| {
        let v = ev.force(&a[0])?;
        ev.import_value(&v, s)
    }),
    prim!("intersectAttrs", 2, |ev, a, s| {
        let x = attrs_arg(ev, a, 0, s, "intersectAttrs")?;
        let y = attrs_arg(ev, a, 1, s, "intersectAttrs")?;
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
    prim!("isNull", 1, |ev, a, _| Ok(Value::Bool(matches!(
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
        list_arg(ev, a, 0, s, "length")?.len() as i64
    ))),
    prim!("lessThan", 2, |ev, a, s| {
        let x = ev.force(&a[0])?;
        let y = ev.force(&a[1])?;
        Ok(Value::Bool(ev.less_than(&x, &y, s)?))
    }),
    prim!("listToAttrs", 1, |ev, a, s| {
        let l = list_arg(ev, a, 0, s, "listToAttrs")?;
        let mut entries: Vec<Attr> = Vec::with_capacity(l.len());
        for t in l.iter() {
            let v = ev.force(t)?;
            let Value::Attrs(set) = &v else {
                return fail(expected(
                    s,
                    "listToAttrs",
                    "a set { name, value }",
                    v.describe(),
                ));
            };
            let Some(n) = set.get("name").map(|x| x.value.clone()) else {
                return fail(missing_attr(set, "name", t.span().unwrap_or(s)));
            };
            let name = match ev.force(&n)? {
                Value::Str(x) => x,
                other => {
                    return fail(expected(
                        n.span().unwrap_or(s),
                        "listToAttrs",
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
    prim!("map", 2, |ev, a, s| {
        ev.force(&a[0])?;
        let l = list_arg(ev, a, 1, s, "map")?;
        Ok(Value::list(
            l.iter()
                .map(|t| Thunk::lazy(ThunkState::Apply(a[0].clone(), t.clone(), s), Some(s)))
                .collect(),
        ))
    }),
    prim!("mapAttrs", 2, |ev, a, s| {
        ev.force(&a[0])?;
        let set = attrs_arg(ev, a, 1, s, "mapAttrs")?;
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
        let re = string_arg(ev, a, 0, s, "match")?;
        let text = string_arg(ev, a, 1, s, "match")?;
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
        let l = list_arg(ev, a, 1, s, "partition")?;
        let (mut right, mut wrong) = (Vec::new(), Vec::new());
        for t in l.iter() {
            if bool_of(ev, &f, t.clone(), s, "partition")? {
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
    prim!("removeAttrs", 2, |ev, a, s| {
        let set = attrs_arg(ev, a, 0, s, "removeAttrs")?;
        let l = list_arg(ev, a, 1, s, "removeAttrs")?;
        let mut names = Vec::with_capacity(l.len());
        for t in l.iter() {
            match ev.force(t)? {
                Value::Str(x) => names.push(x),
                other => {
                    return fail(expected(
                        s,
                        "removeAttrs",
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
        let from_l = list_arg(ev, a, 0, s, "replaceStrings")?;
        let to_l = list_arg(ev, a, 1, s, "replaceStrings")?;
        let text = string_arg(ev, a, 2, s, "replaceStrings")?;
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
                other => {
                    return fail(expected(
                        s,
                        "replaceStrings",
                        "a list of strings",
                        other.describe(),
                    ))
                }
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
                                    "replaceStrings",
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
        let l = list_arg(ev, a, 1, s, "sort")?;
        let sorted = merge_sort(ev, &f, l.to_vec(), s)?;
        Ok(Value::list(sorted))
    }),
    prim!("split", 2, |ev, a, s| {
        let re = string_arg(ev, a, 0, s, "split")?;
        let text = string_arg(ev, a, 1, s, "split")?;
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
        let v = string_arg(ev, a, 0, s, "splitVersion")?;
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
        let start = int_arg(ev, a, 0, s, "substring")?;
        let len = int_arg(ev, a, 1, s, "substring")?;
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
        let l = list_arg(ev, a, 0, s, "tail")?;
        if l.is_empty() {
            return fail(diag::invalid(s, "`tail` of an empty list"));
        }
        Ok(Value::list(l[1..].to_vec()))
    }),
    prim!("throw", 1, |ev, a, s| {
        let v = ev.force(&a[0])?;
        let mut msg = String::new();
        ev.coerce_to_string(&v, s, false, &mut msg)?;
        fail(
            Diagnostic::error(msg)
                .with_code("E0012")
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
    prim!("toString", 1, |ev, a, s| {
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
                    .map(|_| out)
                    .unwrap_or_else(|_| format!("<{}>", other.type_name()))
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
        let l = list_arg(ev, a, 1, s, "zipAttrsWith")?;
        let mut groups: std::collections::BTreeMap<Sym, Vec<Thunk>> =
            std::collections::BTreeMap::new();
        for t in l.iter() {
            let v = ev.force(t)?;
            let Value::Attrs(set) = v else {
                return fail(expected(s, "zipAttrsWith", "a list of sets", v.describe()));
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
        let net = string_arg(ev, a, 0, s, "cidrHost")?;
        let n = int_arg(ev, a, 1, s, "cidrHost")?;
        crate::cidr::host(&net, n)
            .map(|x| Value::str(&x))
            .map_err(|m| EvalError::new(diag::invalid(s, m)))
    }),
    prim!("cidrSubnet", 3, |ev, a, s| {
        let net = string_arg(ev, a, 0, s, "cidrSubnet")?;
        let bits = int_arg(ev, a, 1, s, "cidrSubnet")?;
        let n = int_arg(ev, a, 2, s, "cidrSubnet")?;
        crate::cidr::subnet(&net, bits, n)
            .map(|x| Value::str(&x))
            .map_err(|m| EvalError::new(diag::invalid(s, m)))
    }),
    prim!("cidrContains", 2, |ev, a, s| {
        let net = string_arg(ev, a, 0, s, "cidrContains")?;
        let addr = string_arg(ev, a, 1, s, "cidrContains")?;
        crate::cidr::contains(&net, &addr)
            .map(Value::Bool)
            .map_err(|m| EvalError::new(diag::invalid(s, m)))
    }),
    prim!("cidrPrefixLength", 1, |ev, a, s| {
        let net = string_arg(ev, a, 0, s, "cidrPrefixLength")?;
        crate::cidr::prefix_length(&net)
            .map(Value::Int)
            .map_err(|m| EvalError::new(diag::invalid(s, m)))
    }),
    prim!("cidrOffset", 2, |ev, a, s| {
        let addr = string_arg(ev, a, 0, s, "cidrOffset")?;
        let n = int_arg(ev, a, 1, s, "cidrOffset")?;
        crate::cidr::offset(&addr, n)
            .map(|x| Value::str(&x))
            .map_err(|m| EvalError::new(diag::invalid(s, m)))
    }),
    prim!("cidrAddress", 1, |ev, a, s| {
        let addr = string_arg(ev, a, 0, s, "cidrAddress")?;
        crate::cidr::address(&addr)
            .map(|x| Value::str(&x))
            .map_err(|m| EvalError::new(diag::invalid(s, m)))
    }),
];

/// Builtins that are also global names (as in Nix).
pub const GLOBAL_PRIMOPS: &[&str] = &[
    "abort",
    "baseNameOf",
    "dirOf",
    "import",
    "isNull",
    "map",
    "removeAttrs",
    "throw",
    "toString",
];

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
fn merge_sort(ev: &mut Evaluator, f: &Value, items: Vec<Thunk>, s: Span) -> R<Vec<Thunk>> {
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
                            "sort",
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
            .with_code("E0015")
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
            json::write_string(x, out)
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

/// The `builtins` set and the base environment's names and values.
pub fn base_bindings() -> (Vec<Sym>, Vec<Thunk>) {
    let mut builtins: Vec<Attr> = Vec::new();
    let prim = |op: &'static PrimOp| {
        Value::Prim(Rc::new(crate::value::PrimApp {
            op,
            args: Vec::new(),
        }))
    };
    for op in PRIMOPS {
        builtins.push(Attr {
            name: Sym::from(op.name),
            value: Thunk::done(prim(op), None),
            key_span: None,
        });
    }
    let hac: Vec<Attr> = HAC_PRIMOPS
        .iter()
        .map(|op| Attr {
            name: Sym::from(op.name),
            value: Thunk::done(prim(op), None),
            key_span: None,
        })
        .collect();
    builtins.push(Attr {
        name: Sym::from("hac"),
        value: Thunk::done(Value::attrs(AttrSet::from_unsorted(hac)), None),
        key_span: None,
    });
    for (n, v) in [
        ("true", Value::Bool(true)),
        ("false", Value::Bool(false)),
        ("null", Value::Null),
    ] {
        builtins.push(Attr {
            name: Sym::from(n),
            value: Thunk::done(v, None),
            key_span: None,
        });
    }
    let mut set = AttrSet::from_unsorted(builtins);
    set.is_builtins = true;
    let builtins_value = Value::attrs(set.clone());
    let mut names: Vec<Sym> = Vec::new();
    let mut values: Vec<Thunk> = Vec::new();
    for (n, v) in [
        ("true", Value::Bool(true)),
        ("false", Value::Bool(false)),
        ("null", Value::Null),
    ] {
        names.push(Sym::from(n));
        values.push(Thunk::done(v, None));
    }
    names.push(Sym::from("builtins"));
    values.push(Thunk::done(builtins_value, None));
    for e in &set.entries {
        if GLOBAL_PRIMOPS.contains(&&*e.name) {
            names.push(e.name.clone());
            values.push(e.value.clone());
        }
        names.push(Sym::from(format!("__{}", e.name).as_str()));
        values.push(e.value.clone());
    }
    (names, values)
}
