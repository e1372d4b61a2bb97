//! Every construct of the syntax parses to the expected AST shape, written as a compact
//! S-expression (see tests/common/mod.rs), and operators follow Nix's precedence and
//! associativity. The expectations are the shapes Nix's own parser builds.

mod common;

use common::sexpr_of;

/// (input, expected S-expression)
const CASES: &[(&str, &str)] = &[
    // literals
    ("42", "42"),
    ("1.5", "1.5"),
    (".5", "0.5"),
    ("1.", "1.0"),
    ("1.5e3", "1500.0"),
    ("1.5e-3", "0.0015"),
    ("2.E2", "200.0"),
    ("9223372036854775807", "9223372036854775807"),
    ("x", "x"),
    ("master-0", "master-0"),
    ("x'", "x'"),
    ("_a'-b", "_a'-b"),
    ("true", "true"),
    ("null", "null"),
    // paths
    ("./x.ha", "(path ./x.ha)"),
    ("../a/b.ha", "(path ../a/b.ha)"),
    ("a/b", "(path a/b)"),
    ("/abs/x", "(abspath /abs/x)"),
    ("<hac/lib>", "<hac/lib>"),
    ("import ./lib.ha", "(import (path ./lib.ha))"),
    // strings
    (r#""""#, "(str)"),
    (r#""abc""#, r#"(str "abc")"#),
    (r#""a${b}c""#, r#"(str "a" ${b} "c")"#),
    (r#""${a}${b}""#, "(str ${a} ${b})"),
    (r#""\${x}""#, r#"(str "${x}")"#),
    (r#""$${x}""#, r#"(str "$${x}")"#),
    (r#""$""#, r#"(str "$")"#),
    ("''a''", r#"(str "a")"#),
    ("''${x}''", "(str ${x})"),
    // lists
    ("[ ]", "[]"),
    ("[ 1 2 3 ]", "[1 2 3]"),
    ("[ f x ]", "[f x]"),
    ("[ (f x) a.b (-1) ]", "[(f x) (. a b) (neg 1)]"),
    // attribute sets
    ("{ }", "({})"),
    ("{ a = 1; }", "({a=1;})"),
    ("{ a.b.c = 1; a.d = 2; }", "({a.b.c=1; a.d=2;})"),
    (r#"{ "q k" = 1; }"#, r#"({(str "q k")=1;})"#),
    ("{ ${k} = 1; }", "({${k}=1;})"),
    (r#"{ ${"k"} = 1; }"#, r#"({(str "k")=1;})"#),
    (r#"{ "a-${b}" = 1; }"#, r#"({(str "a-" ${b})=1;})"#),
    ("{ or = 1; }", "({or=1;})"),
    ("{ inherit a b; }", "({inherit a b;})"),
    (
        r#"{ inherit (x.y) a "b"; }"#,
        r#"({inherit((. x y)) a (str "b");})"#,
    ),
    ("{ inherit; }", "({inherit ;})"),
    ("rec { a = 1; b = a; }", "(rec {a=1; b=a;})"),
    // let / with / assert / if
    ("let a = 1; in a", "(let {a=1;} a)"),
    (
        "let inherit (x) a; b.c = 1; in b",
        "(let {inherit(x) a; b.c=1;} b)",
    ),
    ("let in 1", "(let {} 1)"),
    ("with x; y", "(with x y)"),
    ("assert a; b", "(assert a b)"),
    ("if a then b else c", "(if a b c)"),
    ("if a then b else if c then d else e", "(if a b (if c d e))"),
    ("with a; with b; c", "(with a (with b c))"),
    (
        "let a = 1; in let b = 2; in a",
        "(let {a=1;} (let {b=2;} a))",
    ),
    // lambdas
    ("x: x", "(fn x x)"),
    ("x: y: x", "(fn x (fn y x))"),
    ("{ a, b ? 1, ... }: a", "(fn {a,b?1,...} a)"),
    ("{ a, }: a", "(fn {a} a)"),
    ("{ ... }: 1", "(fn {...} 1)"),
    ("{ }: 1", "(fn {} 1)"),
    ("args@{ a, ... }: a", "(fn args@{a,...} a)"),
    ("{ a }@args: a", "(fn args@{a} a)"),
    ("{ a ? x: x }: a", "(fn {a?(fn x x)} a)"),
    ("x: if x then 1 else 2", "(fn x (if x 1 2))"),
    ("x: x + 1", "(fn x (+ x 1))"),
    // application and selection
    ("f x y", "((f x) y)"),
    ("f x.y", "(f (. x y))"),
    ("x.a.b", "(. x a.b)"),
    ("x.\"a b\".${c}", r#"(. x (str "a b").${c})"#),
    ("x.a or d", "(. x a or d)"),
    ("x.a.b or d", "(. x a.b or d)"),
    ("x.a or y.b or z", "(. x a or (. y b or z))"),
    ("x.a or f y", "((. x a or f) y)"),
    ("x.or", "(. x or)"),
    ("x.or or 1", "(. x or or 1)"),
    ("{ a = 1; }.a", "(. ({a=1;}) a)"),
    ("(f x).y", "(. (f x) y)"),
    ("x ? a", "(? x a)"),
    ("x ? a.b.\"c\"", r#"(? x a.b.(str "c"))"#),
    ("x ? ${k}", "(? x ${k})"),
];

/// Precedence and associativity, as Nix's parser groups them.
const PRECEDENCE: &[(&str, &str)] = &[
    ("f -1", "(- f 1)"),
    ("f (-1)", "(f (neg 1))"),
    ("- f x", "(neg (f x))"),
    ("-x.a", "(neg (. x a))"),
    ("-a ? b", "(? (neg a) b)"),
    ("a ? b ++ c", "(++ (? a b) c)"),
    ("a ? b ? c", "(? (? a b) c)"),
    ("a ++ b ++ c", "(++ a (++ b c))"),
    ("a ++ b * c", "(* (++ a b) c)"),
    ("a * b / c", "(/ (* a b) c)"),
    ("a + b * c", "(+ a (* b c))"),
    ("a - b - c", "(- (- a b) c)"),
    ("a + b - c", "(- (+ a b) c)"),
    ("!a + b", "(! (+ a b))"),
    ("! true == false", "(== (! true) false)"),
    ("! a // b", "(// (! a) b)"),
    ("!a && b", "(&& (! a) b)"),
    ("a // b // c", "(// a (// b c))"),
    ("a // b < c", "(< (// a b) c)"),
    ("a < b == c", "(== (< a b) c)"),
    ("(a < b) < c", "(< (< a b) c)"),
    ("a == b && c != d", "(&& (== a b) (!= c d))"),
    ("a && b || c && d", "(|| (&& a b) (&& c d))"),
    ("a || b || c", "(|| (|| a b) c)"),
    ("a -> b -> c", "(-> a (-> b c))"),
    ("a || b -> c", "(-> (|| a b) c)"),
    ("a <= b", "(<= a b)"),
    ("a >= b", "(>= a b)"),
    ("a > b", "(> a b)"),
    ("1 - -1", "(- 1 (neg 1))"),
    ("- - 1", "(neg (neg 1))"),
    ("!!a", "(! (! a))"),
    ("a: b: a + b", "(fn a (fn b (+ a b)))"),
    ("x.a or 1 + 2", "(+ (. x a or 1) 2)"),
    ("f x ++ g y", "(++ (f x) (g y))"),
    ("a/ b", "(/ a b)"),
    ("a //b", "(// a b)"),
    ("a -b", "(- a b)"),
    ("a - b", "(- a b)"),
    ("a-b", "a-b"),
    ("6/2", "(path 6/2)"),
];

fn check(cases: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (input, expected) in cases {
        let actual = sexpr_of(input);
        if actual != *expected {
            failures.push(format!(
                "{input:?}\n   expected {expected}\n   actual   {actual}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_construct_has_the_expected_shape() {
    check(CASES);
}

#[test]
fn operators_follow_nix_precedence_and_associativity() {
    check(PRECEDENCE);
}

#[test]
fn comments_and_whitespace_are_ignored() {
    check(&[
        ("# c\n1 # d", "1"),
        ("/* a */ 1 /* b\n c */", "1"),
        ("a /* x */ + /**/ b", "(+ a b)"),
        ("\t{\r\n a = 1;\n}", "({a=1;})"),
    ]);
}

#[test]
fn spans_point_at_the_source() {
    let expr = common::parse("  f (x + 1)").expect("parses");
    assert_eq!((expr.span.start, expr.span.end), (2, 11));
    let hac_syntax::ast::ExprKind::Apply { func, arg } = &expr.kind else {
        panic!("expected an application, got {:?}", expr.kind);
    };
    assert_eq!((func.span.start, func.span.end), (2, 3));
    assert_eq!((arg.span.start, arg.span.end), (4, 11));
}

#[test]
fn a_realistic_cluster_file_snapshot() {
    let text = r#"{ lib, ... }:
let
  n = 3;
  common = import ./common.ha;
in
{
  name = "prod";
  nodes = lib.nodes { prefix = "master"; count = n; first = "10.0.2.10/24"; roles = [ "control-plane" ]; };
  vip = common.vip or "10.0.2.5";
  extra = lib.optionalAttrs (n > 1) { ha = true; };
  motd = ''
    cluster ${name}
      has ${toString n} masters
  '';
}
"#;
    insta::assert_snapshot!(sexpr_of(text));
}
