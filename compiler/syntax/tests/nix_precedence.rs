//! Operator precedence and associativity checked against real Nix: random operator
//! sequences over integers and booleans (type-correct whatever the grouping) are parsed by
//! hac, evaluated by a tiny evaluator over the AST below, and compared with
//! `nix-instantiate --eval --strict --json` on the same text.

mod common;

use std::process::Command;

use hac_syntax::ast::{BinOp, Expr, ExprKind, UnaryOp};

#[derive(Debug, PartialEq)]
enum Value {
    Int(i64),
    Bool(bool),
}

fn eval(expr: &Expr) -> Option<Value> {
    Some(match &expr.kind {
        ExprKind::Int(value) => Value::Int(*value),
        ExprKind::Var(ident) if ident.name == "true" => Value::Bool(true),
        ExprKind::Var(ident) if ident.name == "false" => Value::Bool(false),
        ExprKind::Unary {
            op: UnaryOp::Neg,
            expr,
        } => match eval(expr)? {
            Value::Int(value) => Value::Int(value.checked_neg()?),
            Value::Bool(_) => return None,
        },
        ExprKind::Unary {
            op: UnaryOp::Not,
            expr,
        } => match eval(expr)? {
            Value::Bool(value) => Value::Bool(!value),
            Value::Int(_) => return None,
        },
        ExprKind::Binary { op, lhs, rhs } => {
            let (lhs, rhs) = (eval(lhs)?, eval(rhs)?);
            match (op, lhs, rhs) {
                (BinOp::Add, Value::Int(a), Value::Int(b)) => Value::Int(a.checked_add(b)?),
                (BinOp::Sub, Value::Int(a), Value::Int(b)) => Value::Int(a.checked_sub(b)?),
                (BinOp::Mul, Value::Int(a), Value::Int(b)) => Value::Int(a.checked_mul(b)?),
                (BinOp::Lt, Value::Int(a), Value::Int(b)) => Value::Bool(a < b),
                (BinOp::Le, Value::Int(a), Value::Int(b)) => Value::Bool(a <= b),
                (BinOp::Gt, Value::Int(a), Value::Int(b)) => Value::Bool(a > b),
                (BinOp::Ge, Value::Int(a), Value::Int(b)) => Value::Bool(a >= b),
                (BinOp::Eq, a, b) => Value::Bool(a == b),
                (BinOp::Ne, a, b) => Value::Bool(a != b),
                (BinOp::And, Value::Bool(a), Value::Bool(b)) => Value::Bool(a && b),
                (BinOp::Or, Value::Bool(a), Value::Bool(b)) => Value::Bool(a || b),
                (BinOp::Impl, Value::Bool(a), Value::Bool(b)) => Value::Bool(!a || b),
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// A small deterministic generator (xorshift), so failures are reproducible.
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// `-`* int (op `-`* int)*, with `+ - *`: type-correct however it groups.
fn int_sequence(random: &mut Random) -> String {
    let mut text = String::new();
    for index in 0..=random.below(5) {
        if index > 0 {
            text.push_str(["+", "-", "*", " -", "- "][random.below(5)]);
        }
        for _ in 0..random.below(3) {
            text.push('-');
            if random.below(2) == 0 {
                text.push(' ');
            }
        }
        text.push_str(&format!("{}", random.below(10)));
        if random.below(2) == 0 {
            text.push(' ');
        }
    }
    text
}

/// Booleans joined by `&& || -> == !=`, each operand `!`-prefixed `true`/`false` or an
/// integer comparison in parentheses.
fn bool_sequence(random: &mut Random) -> String {
    let mut text = String::new();
    let mut last_equality = false;
    for index in 0..=random.below(5) {
        if index > 0 {
            let mut op = ["&&", "||", "->", "==", "!="][random.below(5)];
            // `a == b == c` is a syntax error in both; keep the sequences valid.
            if last_equality && (op == "==" || op == "!=") {
                op = "&&";
            }
            last_equality = op == "==" || op == "!=";
            text.push_str(&format!(" {op} "));
        }
        for _ in 0..random.below(3) {
            text.push('!');
        }
        if random.below(3) == 0 {
            let cmp = ["<", "<=", ">", ">="][random.below(4)];
            text.push_str(&format!(
                "({} {cmp} {})",
                int_sequence(random),
                int_sequence(random)
            ));
        } else {
            text.push_str(["true", "false"][random.below(2)]);
        }
    }
    text
}

#[test]
fn operator_grouping_matches_nix() {
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let mut cases = Vec::new();
    for round in 0..300 {
        let text = if round % 2 == 0 {
            int_sequence(&mut random)
        } else {
            bool_sequence(&mut random)
        };
        let expr = common::parse(&text)
            .unwrap_or_else(|errors| panic!("{text:?} should parse: {}", errors[0].message));
        let value = eval(&expr).unwrap_or_else(|| panic!("{text:?} did not evaluate"));
        cases.push((text, value));
    }
    for operator in ["+", "-", "*", "&&", "||", "->", "==", "!=", "!", "<", ">="] {
        assert!(
            cases.iter().any(|(text, _)| text.contains(operator)),
            "the generator never produced `{operator}`"
        );
    }
    let list = format!(
        "[\n{}\n]",
        cases
            .iter()
            .map(|(text, _)| format!("({text})"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let output = Command::new("nix-instantiate")
        .args(["--eval", "--strict", "--json", "-E", &list])
        .output()
        .unwrap_or_else(|error| {
            panic!("nix-instantiate is needed for this test ({error}): run scripts/install-test-deps.sh")
        });
    assert!(
        output.status.success(),
        "nix-instantiate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let nix: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("nix prints a JSON list");
    let mut failures = Vec::new();
    for ((text, ours), theirs) in cases.iter().zip(&nix) {
        let ours_json = match ours {
            Value::Int(value) => serde_json::json!(value),
            Value::Bool(value) => serde_json::json!(value),
        };
        if &ours_json != theirs {
            failures.push(format!(
                "{text:?}: hac {ours_json} nix {theirs} ({})",
                common::sexpr_of(text)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
