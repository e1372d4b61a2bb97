//! The AST's structure checked against Nix's own parser. Random expressions are parsed by
//! hac and printed the way `nix-instantiate --parse` prints Nix 2.8's AST (`a - b` is
//! `(__sub a b)`, `a > b` is `(__lessThan b a)`, applications are flattened, …); the two
//! printouts must be identical. This checks grouping of every operator, application,
//! selection with `or`, `?`, and the keyword constructs, not only acceptance.

mod common;

use std::process::Command;

use hac_syntax::ast::*;

fn key(key: &AttrKey) -> Option<String> {
    Some(match &key.kind {
        AttrKeyKind::Ident(name) => name.clone(),
        AttrKeyKind::Str(parts) => match parts.as_slice() {
            [StrPart::Lit(text)] if text.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ') => {
                format!("\"{text}\"")
            }
            _ => return None,
        },
        AttrKeyKind::Dynamic(expr) => format!("\"${{{}}}\"", show(expr)?),
    })
}

fn path(keys: &[AttrKey]) -> Option<String> {
    Some(keys.iter().map(key).collect::<Option<Vec<_>>>()?.join("."))
}

/// Nix 2.8's `Expr::show` for the constructs the generator produces.
fn show(expr: &Expr) -> Option<String> {
    Some(match &expr.kind {
        ExprKind::Int(value) => value.to_string(),
        ExprKind::Var(ident) => ident.name.clone(),
        ExprKind::Unary {
            op: UnaryOp::Neg,
            expr,
        } => format!("(__sub 0 {})", show(expr)?),
        ExprKind::Unary {
            op: UnaryOp::Not,
            expr,
        } => format!("(! {})", show(expr)?),
        ExprKind::Binary { op, lhs, rhs } => {
            let (a, b) = (show(lhs)?, show(rhs)?);
            match op {
                BinOp::Sub => format!("(__sub {a} {b})"),
                BinOp::Mul => format!("(__mul {a} {b})"),
                BinOp::Div => format!("(__div {a} {b})"),
                BinOp::Lt => format!("(__lessThan {a} {b})"),
                BinOp::Gt => format!("(__lessThan {b} {a})"),
                BinOp::Le => format!("(! (__lessThan {b} {a}))"),
                BinOp::Ge => format!("(! (__lessThan {a} {b}))"),
                other => format!("({a} {} {b})", other.symbol()),
            }
        }
        ExprKind::Apply { .. } => {
            let mut args = Vec::new();
            let mut func = expr;
            while let ExprKind::Apply { func: inner, arg } = &func.kind {
                args.push(show(arg)?);
                func = inner;
            }
            args.reverse();
            format!("({} {})", show(func)?, args.join(" "))
        }
        ExprKind::Select {
            expr,
            path: keys,
            default,
        } => match default {
            Some(default) => format!("({}).{} or ({})", show(expr)?, path(keys)?, show(default)?),
            None => format!("({}).{}", show(expr)?, path(keys)?),
        },
        ExprKind::HasAttr { expr, path: keys } => format!("(({}) ? {})", show(expr)?, path(keys)?),
        ExprKind::If { cond, then, else_ } => {
            format!(
                "(if {} then {} else {})",
                show(cond)?,
                show(then)?,
                show(else_)?
            )
        }
        ExprKind::Lambda {
            param: Param::Ident(ident),
            body,
        } => {
            format!("({}: {})", ident.name, show(body)?)
        }
        ExprKind::Let { bindings, body } => {
            let [Binding::Assign {
                path: keys, value, ..
            }] = bindings.as_slice()
            else {
                return None;
            };
            let [AttrKey {
                kind: AttrKeyKind::Ident(name),
                ..
            }] = keys.as_slice()
            else {
                return None;
            };
            format!("(let {name} = {}; in {})", show(value)?, show(body)?)
        }
        ExprKind::With { scope, body } => format!("(with {}; {})", show(scope)?, show(body)?),
        ExprKind::Assert { cond, body } => format!("assert {}; {}", show(cond)?, show(body)?),
        ExprKind::List(items) if items.is_empty() => "[ ]".to_string(),
        ExprKind::List(items) => {
            let items = items.iter().map(|item| Some(format!("({})", show(item)?)));
            format!("[ {} ]", items.collect::<Option<Vec<_>>>()?.join(" "))
        }
        _ => return None,
    })
}

struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "++", "//", "<", "<=", ">", ">=", "==", "!=", "&&", "||", "->",
];

/// An operand: something that can stand next to an operator without parentheses.
fn operand(random: &mut Random, depth: usize) -> String {
    let atom = |random: &mut Random| -> String {
        if random.below(3) == 0 {
            random.below(10).to_string()
        } else {
            random.pick(&["a", "b", "c", "x", "y"]).to_string()
        }
    };
    if depth == 0 {
        return atom(random);
    }
    match random.below(9) {
        0 => format!("({})", expression(random, depth - 1)),
        1 => format!("{} {}", atom(random), atom(random)),
        2 => format!(
            "{}.{}",
            atom(random),
            random.pick(&["a", "b.c", "${x}", "\"q k\""])
        ),
        3 => format!("{}.a or {}", atom(random), operand(random, 0)),
        4 => format!("x.a or y.b or {}", atom(random)),
        5 => format!("{} ? {}", atom(random), random.pick(&["a", "a.b"])),
        6 => format!(
            "{}{}",
            random.pick(&["-", "!", "- ", "! "]),
            operand(random, depth - 1)
        ),
        7 => format!("[ {} ({}) ]", atom(random), expression(random, depth - 1)),
        _ => atom(random),
    }
}

/// An expression: operands and operators, or a keyword construct.
fn expression(random: &mut Random, depth: usize) -> String {
    if depth > 0 {
        match random.below(10) {
            0 => {
                return format!(
                    "if {} then {} else {}",
                    expression(random, depth - 1),
                    expression(random, depth - 1),
                    expression(random, depth - 1)
                )
            }
            1 => return format!("x: {}", expression(random, depth - 1)),
            2 => {
                return format!(
                    "let a = {}; in {}",
                    expression(random, depth - 1),
                    expression(random, depth - 1)
                )
            }
            3 => {
                return format!(
                    "with {}; {}",
                    operand(random, 0),
                    expression(random, depth - 1)
                )
            }
            4 => {
                return format!(
                    "assert {}; {}",
                    operand(random, 0),
                    expression(random, depth - 1)
                )
            }
            _ => {}
        }
    }
    let mut text = operand(random, depth.saturating_sub(1));
    for _ in 0..random.below(4) {
        text.push_str(&format!(
            " {} {}",
            random.pick(OPERATORS),
            operand(random, depth.saturating_sub(1))
        ));
    }
    text
}

fn nix_show(text: &str) -> Option<String> {
    let output = Command::new("nix-instantiate")
        .args(["--parse", "-E", &format!("with {{ }}; {text}\n")])
        .output()
        .unwrap_or_else(|error| {
            panic!("nix-instantiate is needed for this test ({error}): run scripts/install-test-deps.sh")
        });
    if !output.status.success() {
        return None;
    }
    let shown = String::from_utf8_lossy(&output.stdout).trim().to_string();
    Some(
        shown
            .strip_prefix("(with { }; ")?
            .strip_suffix(')')?
            .to_string(),
    )
}

#[test]
fn ast_structure_matches_nix() {
    let rounds = std::env::var("HAC_STRUCTURE_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(150usize);
    let mut random = Random(0xdead_beef_cafe_f00d);
    let mut compared = 0;
    let mut failures = Vec::new();
    for _ in 0..rounds {
        let text = expression(&mut random, 3);
        let Ok(expr) = common::parse(&text) else {
            continue;
        };
        let Some(ours) = show(&expr) else {
            continue;
        };
        match nix_show(&text) {
            Some(theirs) => {
                compared += 1;
                if ours != theirs {
                    failures.push(format!("{text:?}\n   hac {ours}\n   nix {theirs}"));
                }
            }
            None => failures.push(format!("{text:?}: hac parses it, Nix does not")),
        }
    }
    assert!(
        compared >= rounds / 3,
        "only {compared} of {rounds} cases were compared"
    );
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
