//! Generative differential test: thousands of random well-typed programs (integers that
//! cannot overflow, strings, booleans, lists, attribute sets, let/rec/with/if, lambdas with
//! plain and formal arguments, application, the list/attrset/string builtins) are evaluated
//! by both `nix-instantiate --eval --strict --json` and `hac eval --json`, and must agree.
//!
//! Programs are batched: a batch is one file `[ p0 p1 … ]` evaluated once by each tool and
//! compared element-wise. The seed is fixed (HAC_DIFF_SEED overrides it, HAC_DIFF_CASES the
//! number of programs), so a failure reproduces; on a mismatch the smallest failing program
//! is printed.
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod lang_support;

use lang_support::*;
use serde_json::Value;
use std::fmt::Write as _;

const DEFAULT_SEED: u64 = 0x5eed_0ac0_2026;
const DEFAULT_CASES: usize = 20000;
const BATCH: usize = 250;

/// splitmix64: tiny, seedable, identical on every machine.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Ty {
    Int,
    Str,
    Bool,
    IntList,
    StrList,
    IntSet,
    IntFn,
}

const VALUE_TYPES: &[Ty] = &[
    Ty::Int,
    Ty::Str,
    Ty::Bool,
    Ty::IntList,
    Ty::StrList,
    Ty::IntSet,
];
const KEYS: &[&str] = &["a", "b", "c", "node-1", "x'"];
/// ASCII only: Nix's `substring` counts bytes and would cut a multi-byte character in two,
/// which Nix then prints as invalid JSON (non-ASCII is covered by the corpus instead).
const WORDS: &[&str] = &[
    "", "a", "ab", "hac", "k8s", "10.0.0.1", "x y", "a\\nb", "q\\\"q", "$x", "1.2.3",
];

/// Generates well-typed expressions. Integers stay small (|v| < 2^40 at most): `*` only
/// multiplies literals, sums are over short lists, so no program can overflow.
struct Gen {
    rng: Rng,
    scope: Vec<(String, Ty)>,
    fresh: usize,
}

impl Gen {
    fn var(&mut self) -> String {
        self.fresh += 1;
        format!("v{}", self.fresh)
    }

    fn in_scope(&mut self, ty: Ty) -> Option<String> {
        let names: Vec<String> = self
            .scope
            .iter()
            .filter(|(_, t)| *t == ty)
            .map(|(n, _)| n.clone())
            .collect();
        if names.is_empty() {
            None
        } else {
            Some(self.rng.pick(&names).clone())
        }
    }

    fn int_lit(&mut self) -> String {
        let v = self.rng.range(-50, 1000);
        if v < 0 {
            format!("({v})")
        } else {
            v.to_string()
        }
    }

    fn str_lit(&mut self) -> String {
        format!("\"{}\"", self.rng.pick(WORDS))
    }

    fn key(&mut self) -> &'static str {
        KEYS[self.rng.below(KEYS.len() as u64) as usize]
    }

    fn attr_name(key: &str) -> String {
        if key.contains('\'') || key.contains('-') {
            format!("\"{key}\"")
        } else {
            key.to_string()
        }
    }

    /// `let`, `if`, `with`, `rec` or a lambda application around an expression of `ty`.
    fn wrapper(&mut self, ty: Ty, depth: u32) -> String {
        match self.rng.below(6) {
            0 => {
                let bound_ty = *self.rng.pick(VALUE_TYPES);
                let v = self.var();
                let bound = self.gen(bound_ty, depth - 1);
                self.scope.push((v.clone(), bound_ty));
                let body = self.gen(ty, depth - 1);
                self.scope.pop();
                format!("(let {v} = {bound}; in {body})")
            }
            1 => {
                let c = self.gen(Ty::Bool, depth - 1);
                let a = self.gen(ty, depth - 1);
                let b = self.gen(ty, depth - 1);
                format!("(if {c} then {a} else {b})")
            }
            2 => {
                let v = self.var();
                let bound = self.gen(Ty::Int, depth - 1);
                self.scope.push((v.clone(), Ty::Int));
                let body = self.gen(ty, depth - 1);
                self.scope.pop();
                format!("(with {{ {v} = {bound}; }}; {body})")
            }
            3 => {
                let (a, b) = (self.var(), self.var());
                let ea = self.gen(Ty::Int, depth - 1);
                self.scope.push((a.clone(), Ty::Int));
                let eb = self.gen(ty, depth - 1);
                self.scope.pop();
                format!("(rec {{ {b} = {eb}; {a} = {ea}; }}).{b}")
            }
            4 => {
                let v = self.var();
                let arg_ty = *self.rng.pick(VALUE_TYPES);
                let arg = self.gen(arg_ty, depth - 1);
                self.scope.push((v.clone(), arg_ty));
                let body = self.gen(ty, depth - 1);
                self.scope.pop();
                format!("(({v}: {body}) {arg})")
            }
            _ => {
                let (p, q) = (self.var(), self.var());
                let ep = self.gen(Ty::Int, depth - 1);
                let dq = self.gen(Ty::Int, depth - 1);
                self.scope.push((p.clone(), Ty::Int));
                self.scope.push((q.clone(), Ty::Int));
                let body = self.gen(ty, depth - 1);
                self.scope.pop();
                self.scope.pop();
                if self.rng.chance(50) {
                    format!("(({{ {p}, {q} ? {dq}, ... }}: {body}) {{ {p} = {ep}; extra = 1; }})")
                } else {
                    format!("((args@{{ {p}, {q} ? {dq} }}: {body}) {{ {p} = {ep}; {q} = {dq}; }})")
                }
            }
        }
    }

    fn gen(&mut self, ty: Ty, depth: u32) -> String {
        if depth == 0 || self.rng.chance(15) {
            return self.leaf(ty);
        }
        if self.rng.chance(20) {
            return self.wrapper(ty, depth);
        }
        let d = depth - 1;
        match ty {
            Ty::Int => match self.rng.below(15) {
                14 => format!(
                    "(builtins.seq {} (builtins.deepSeq {} {}))",
                    self.gen(Ty::StrList, d),
                    self.gen(Ty::IntSet, d),
                    self.gen(Ty::Int, d)
                ),
                0 => format!("({} + {})", self.gen(Ty::Int, d), self.gen(Ty::Int, d)),
                1 => format!("({} - {})", self.gen(Ty::Int, d), self.gen(Ty::Int, d)),
                2 => format!("({} * {})", self.int_lit(), self.int_lit()),
                3 => format!("({} / {})", self.gen(Ty::Int, d), self.rng.range(1, 9)),
                4 => format!("(builtins.length {})", self.gen(Ty::IntList, d)),
                5 => format!("(builtins.stringLength {})", self.gen(Ty::Str, d)),
                6 => format!(
                    "(builtins.foldl' (acc: x: acc + x) 0 {})",
                    self.gen(Ty::IntList, d)
                ),
                7 => format!(
                    "(builtins.head ({} ++ [ {} ]))",
                    self.gen(Ty::IntList, d),
                    self.int_lit()
                ),
                8 => format!(
                    "({}.{} or {})",
                    self.gen(Ty::IntSet, d),
                    Self::attr_name(self.key()),
                    self.int_lit()
                ),
                9 => format!("({} {})", self.gen(Ty::IntFn, d), self.gen(Ty::Int, d)),
                10 => {
                    let op = *self.rng.pick(&["bitAnd", "bitOr", "bitXor"]);
                    format!(
                        "(builtins.{op} {} {})",
                        self.gen(Ty::Int, d),
                        self.gen(Ty::Int, d)
                    )
                }
                11 => format!(
                    "(builtins.elemAt ([ {} ] ++ {}) 0)",
                    self.gen(Ty::Int, d),
                    self.gen(Ty::IntList, d)
                ),
                12 => format!(
                    "(builtins.compareVersions {} {})",
                    self.gen(Ty::Str, d),
                    self.gen(Ty::Str, d)
                ),
                _ => format!("(builtins.floor ({} / 4.0))", self.gen(Ty::Int, d)),
            },
            Ty::Str => match self.rng.below(11) {
                0 => format!("({} + {})", self.gen(Ty::Str, d), self.gen(Ty::Str, d)),
                1 => format!("\"<${{{}}}>\"", self.gen(Ty::Str, d)),
                2 => format!("(toString {})", self.gen(Ty::Int, d)),
                3 => format!(
                    "(builtins.concatStringsSep \",\" {})",
                    self.gen(Ty::StrList, d)
                ),
                4 => format!(
                    "(builtins.substring {} {} {})",
                    self.rng.range(0, 4),
                    self.rng.range(0, 6),
                    self.gen(Ty::Str, d)
                ),
                5 => format!(
                    "(builtins.replaceStrings [ \"a\" ] [ \"A\" ] {})",
                    self.gen(Ty::Str, d)
                ),
                6 => {
                    let t = *self.rng.pick(VALUE_TYPES);
                    format!("(builtins.typeOf {})", self.gen(t, d))
                }
                7 => format!("(builtins.toJSON {})", self.gen(Ty::IntSet, d)),
                8 => format!("''\n  line ${{{}}}\n    more\n''", self.gen(Ty::Str, d)),
                9 => format!(
                    "(builtins.head ({} ++ [ \"z\" ]))",
                    self.gen(Ty::StrList, d)
                ),
                _ => format!("(builtins.hashString \"sha256\" {})", self.gen(Ty::Str, d)),
            },
            Ty::Bool => match self.rng.below(14) {
                12 => format!(
                    "(builtins.tryEval (if {} then throw \"no\" else {})).success",
                    self.gen(Ty::Bool, d),
                    self.gen(Ty::Int, d)
                ),
                13 => format!(
                    "(builtins.tryEval (assert {}; {})).value",
                    self.gen(Ty::Bool, d),
                    self.gen(Ty::Bool, d)
                ),
                11 => format!(
                    "(builtins.match \"[a-z0-9.]+\" {} == null)",
                    self.gen(Ty::Str, d)
                ),
                0 => format!("({} == {})", self.gen(Ty::Int, d), self.gen(Ty::Int, d)),
                1 => format!("({} < {})", self.gen(Ty::Int, d), self.gen(Ty::Int, d)),
                2 => format!("({} <= {})", self.gen(Ty::Str, d), self.gen(Ty::Str, d)),
                3 => format!("(!{})", self.gen(Ty::Bool, d)),
                4 => format!("({} && {})", self.gen(Ty::Bool, d), self.gen(Ty::Bool, d)),
                5 => format!("({} || {})", self.gen(Ty::Bool, d), self.gen(Ty::Bool, d)),
                6 => format!("({} -> {})", self.gen(Ty::Bool, d), self.gen(Ty::Bool, d)),
                7 => format!(
                    "(builtins.elem {} {})",
                    self.gen(Ty::Int, d),
                    self.gen(Ty::IntList, d)
                ),
                8 => format!(
                    "({} ? {})",
                    self.gen(Ty::IntSet, d),
                    Self::attr_name(self.key())
                ),
                9 => format!(
                    "(builtins.any (x: x > {}) {})",
                    self.int_lit(),
                    self.gen(Ty::IntList, d)
                ),
                _ => format!(
                    "({} == {})",
                    self.gen(Ty::IntList, d),
                    self.gen(Ty::IntList, d)
                ),
            },
            Ty::IntList => match self.rng.below(10) {
                0 => {
                    let n = self.rng.below(4);
                    let items: Vec<String> = (0..n).map(|_| self.gen(Ty::Int, d)).collect();
                    format!("[ {} ]", items.join(" "))
                }
                1 => format!(
                    "({} ++ {})",
                    self.gen(Ty::IntList, d),
                    self.gen(Ty::IntList, d)
                ),
                2 => format!(
                    "(map {} {})",
                    self.gen(Ty::IntFn, d),
                    self.gen(Ty::IntList, d)
                ),
                3 => format!(
                    "(builtins.filter (x: x > {}) {})",
                    self.int_lit(),
                    self.gen(Ty::IntList, d)
                ),
                4 => format!(
                    "(builtins.genList (i: i * {}) {})",
                    self.rng.range(-3, 9),
                    self.rng.range(0, 6)
                ),
                5 => format!("(builtins.sort (a: b: a < b) {})", self.gen(Ty::IntList, d)),
                6 => format!("(builtins.attrValues {})", self.gen(Ty::IntSet, d)),
                7 => format!(
                    "(builtins.concatLists [ {} {} ])",
                    self.gen(Ty::IntList, d),
                    self.gen(Ty::IntList, d)
                ),
                8 => format!("(builtins.tail ({} ++ [ 0 ]))", self.gen(Ty::IntList, d)),
                _ => format!(
                    "(builtins.partition (x: x > 10) {}).right",
                    self.gen(Ty::IntList, d)
                ),
            },
            Ty::StrList => match self.rng.below(7) {
                6 => format!(
                    "(builtins.filter builtins.isString (builtins.split \"[.]\" {}))",
                    self.gen(Ty::Str, d)
                ),
                0 => {
                    let n = self.rng.below(4);
                    let items: Vec<String> = (0..n).map(|_| self.gen(Ty::Str, d)).collect();
                    format!("[ {} ]", items.join(" "))
                }
                1 => format!("(map toString {})", self.gen(Ty::IntList, d)),
                2 => format!("(builtins.attrNames {})", self.gen(Ty::IntSet, d)),
                3 => format!(
                    "(builtins.concatMap (s: [ s s ]) {})",
                    self.gen(Ty::StrList, d)
                ),
                4 => format!("(builtins.splitVersion {})", self.gen(Ty::Str, d)),
                _ => format!(
                    "(builtins.sort builtins.lessThan {})",
                    self.gen(Ty::StrList, d)
                ),
            },
            Ty::IntSet => match self.rng.below(9) {
                8 => format!(
                    "(builtins.mapAttrs (n: vs: builtins.length vs) (builtins.groupBy (s: s) {}))",
                    self.gen(Ty::StrList, d)
                ),
                0 => {
                    let n = self.rng.below(4);
                    let mut keys: Vec<&str> = (0..n).map(|_| self.key()).collect();
                    keys.sort();
                    keys.dedup();
                    let binds: Vec<String> = keys
                        .iter()
                        .map(|k| format!("{} = {};", Self::attr_name(k), self.gen(Ty::Int, d)))
                        .collect();
                    format!("{{ {} }}", binds.join(" "))
                }
                1 => format!(
                    "({} // {})",
                    self.gen(Ty::IntSet, d),
                    self.gen(Ty::IntSet, d)
                ),
                2 => format!(
                    "(builtins.mapAttrs (n: v: v + {}) {})",
                    self.int_lit(),
                    self.gen(Ty::IntSet, d)
                ),
                3 => format!(
                    "(builtins.listToAttrs (map (k: {{ name = k; value = {}; }}) {}))",
                    self.int_lit(),
                    self.gen(Ty::StrList, d)
                ),
                4 => format!(
                    "(removeAttrs {} [ \"{}\" ])",
                    self.gen(Ty::IntSet, d),
                    self.key()
                ),
                5 => format!(
                    "(builtins.intersectAttrs {} {})",
                    self.gen(Ty::IntSet, d),
                    self.gen(Ty::IntSet, d)
                ),
                6 => {
                    let v = self.var();
                    format!(
                        "(let {v} = {}; in {{ inherit {v}; }})",
                        self.gen(Ty::Int, d)
                    )
                }
                _ => format!(
                    "(builtins.zipAttrsWith (n: vs: builtins.length vs) [ {} {} ])",
                    self.gen(Ty::IntSet, d),
                    self.gen(Ty::IntSet, d)
                ),
            },
            Ty::IntFn => match self.rng.below(4) {
                0 => {
                    let v = self.var();
                    self.scope.push((v.clone(), Ty::Int));
                    let body = self.gen(Ty::Int, d);
                    self.scope.pop();
                    format!("({v}: {body})")
                }
                1 => format!("(builtins.add {})", self.gen(Ty::Int, d)),
                2 => {
                    let (f, g) = (self.gen(Ty::IntFn, d), self.gen(Ty::IntFn, d));
                    let v = self.var();
                    format!("({v}: {f} ({g} {v}))")
                }
                _ => format!("(builtins.sub {})", self.gen(Ty::Int, d)),
            },
        }
    }

    fn leaf(&mut self, ty: Ty) -> String {
        if self.rng.chance(40) {
            if let Some(v) = self.in_scope(ty) {
                return v;
            }
        }
        match ty {
            Ty::Int => self.int_lit(),
            Ty::Str => self.str_lit(),
            Ty::Bool => (*self.rng.pick(&["true", "false"])).to_string(),
            Ty::IntList => format!("[ {} {} ]", self.int_lit(), self.int_lit()),
            Ty::StrList => format!("[ {} ]", self.str_lit()),
            Ty::IntSet => format!(
                "{{ {} = {}; }}",
                Self::attr_name(self.key()),
                self.int_lit()
            ),
            Ty::IntFn => format!("(x: x + {})", self.int_lit()),
        }
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

/// Evaluates a batch with both tools; returns the element-wise results or a batch error.
fn eval_batch(
    dir: &std::path::Path,
    programs: &[String],
) -> Result<(Vec<Value>, Vec<Value>), String> {
    let mut text = String::from("[\n");
    for p in programs {
        let _ = writeln!(text, "  ({p})");
    }
    text.push_str("]\n");
    let file = dir.join("batch.ha");
    std::fs::write(&file, &text).map_err(|e| e.to_string())?;
    let nix = nix_eval(dir, "batch.ha", HANG_TIMEOUT)?;
    let hac = hac_eval(dir, "batch.ha", &["--message-format", "json"], HANG_TIMEOUT)?;
    let as_list = |run: &Run, who: &str| -> Result<Vec<Value>, String> {
        if run.code() != Some(0) {
            return Err(format!("{who} failed on the batch: {}", run.describe()));
        }
        match serde_json::from_slice::<Value>(&run.stdout) {
            Ok(Value::Array(items)) if items.len() == programs.len() => Ok(items),
            Ok(other) => Err(format!(
                "{who} printed no list of {}: {}",
                programs.len(),
                other
            )),
            Err(e) => Err(format!("{who} printed no JSON: {e}")),
        }
    };
    Ok((as_list(&nix, "nix-instantiate")?, as_list(&hac, "hac")?))
}

/// A program on its own: Nix's and hac's outcome, a value or an error text.
fn eval_one(
    dir: &std::path::Path,
    program: &str,
) -> (Result<Value, String>, Result<Value, String>) {
    let file = dir.join("one.ha");
    if let Err(e) = std::fs::write(&file, program) {
        let e = format!("cannot write one.ha: {e}");
        return (Err(e.clone()), Err(e));
    }
    let outcome = |r: Result<Run, String>| match r {
        Ok(run) if run.code() == Some(0) => serde_json::from_slice::<Value>(&run.stdout)
            .map_err(|e| format!("printed no JSON: {e}")),
        Ok(run) => Err(run.describe()),
        Err(e) => Err(e),
    };
    (
        outcome(nix_eval(dir, "one.ha", HANG_TIMEOUT)),
        outcome(hac_eval(
            dir,
            "one.ha",
            &["--message-format", "json"],
            HANG_TIMEOUT,
        )),
    )
}

/// `None` when both tools give the same value, else what differs.
fn disagreement(nix: &Result<Value, String>, hac: &Result<Value, String>) -> Option<String> {
    match (nix, hac) {
        (Ok(n), Ok(h)) => json_diff(n, h),
        (Ok(n), Err(e)) => Some(format!("Nix gives {n} but hac fails: {e}")),
        (Err(e), Ok(h)) => Some(format!(
            "hac gives {h} but Nix fails (a generator bug?): {e}"
        )),
        (Err(n), Err(h)) => Some(format!(
            "both fail (a generator bug?)\n  nix: {n}\n  hac: {h}"
        )),
    }
}

#[test]
fn random_programs_agree_with_nix() {
    require_tool("nix-instantiate");
    let seed = env_number("HAC_DIFF_SEED", DEFAULT_SEED);
    let cases = env_number("HAC_DIFF_CASES", DEFAULT_CASES as u64) as usize;
    let mut generator = Gen {
        rng: Rng(seed),
        scope: Vec::new(),
        fresh: 0,
    };
    let programs: Vec<String> = (0..cases)
        .map(|_| {
            generator.fresh = 0;
            let ty = *generator.rng.pick(VALUE_TYPES);
            let depth = generator.rng.range(1, 6) as u32;
            generator.gen(ty, depth)
        })
        .collect();
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let mut failing: Vec<(String, String)> = Vec::new();
    for chunk in programs.chunks(BATCH) {
        match eval_batch(tmp.path(), chunk) {
            Ok((nix, hac)) => {
                for ((program, n), h) in chunk.iter().zip(&nix).zip(&hac) {
                    if let Some(d) = json_diff(n, h) {
                        failing.push((program.clone(), d));
                    }
                }
            }
            Err(batch_error) => {
                // Find the culprits one by one (slow, only on failure).
                let before = failing.len();
                for program in chunk {
                    let (nix, hac) = eval_one(tmp.path(), program);
                    if let Some(d) = disagreement(&nix, &hac) {
                        failing.push((program.clone(), d));
                    }
                }
                if failing.len() == before {
                    failing.push((format!("[ {} ]", chunk.join("\n")), batch_error));
                }
            }
        }
    }
    if let Some((smallest, why)) = failing.iter().min_by_key(|(p, _)| p.len()) {
        panic!(
            "{} of {cases} random programs (seed {seed}) disagree; the smallest:\n\n{smallest}\n\n{why}\n\n\
             reproduce with HAC_DIFF_SEED={seed} HAC_DIFF_CASES={cases}",
            failing.len()
        );
    }
    assert_eq!(programs.len(), cases, "every program was generated");
}

#[test]
fn generator_is_deterministic_and_varied() {
    let make = |seed| {
        let mut g = Gen {
            rng: Rng(seed),
            scope: Vec::new(),
            fresh: 0,
        };
        (0..200).map(|_| g.gen(Ty::Int, 4)).collect::<Vec<_>>()
    };
    assert_eq!(make(7), make(7), "same seed, same programs");
    assert_ne!(make(7), make(8), "another seed, other programs");
    let programs = make(7).join("\n");
    for needle in [
        "let ",
        "if ",
        "with ",
        "rec ",
        "builtins.foldl'",
        "map ",
        ": ",
    ] {
        assert!(
            programs.contains(needle),
            "the generator never produces {needle:?}"
        );
    }
}
