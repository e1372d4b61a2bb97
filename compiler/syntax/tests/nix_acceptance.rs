//! `.ha` is a strict subset of Nix: every text hac accepts, Nix's parser must accept too.
//! Random mutations of valid programs (deterministic, so failures reproduce) are parsed by
//! hac and by `nix-instantiate --parse`; any text hac accepts and Nix rejects fails the test.

mod common;

use std::process::Command;

const SEEDS: &[&str] = &[
    "{ lib, ... }: let n = 3; in rec { a.b = n + 1; inherit n; c = [ 1 \"x${toString n}\" ]; }",
    "let f = { a ? 1, ... }@args: a * 2; in if f { } > 1 then \"yes\" else ''\n  no ${\"x\"}\n''",
    "with builtins; assert true; map (x: x.a or (-1)) [ { a = 1; } { } ] ++ [ (!false) ]",
    "x: y: x // { y = y ? z && x -> y; w = ./a/b.ha; u = 1.5e3 / .5; }",
    "{ \"q k\" = 1; ${\"d\"} = 2; or = 3; s = ''a''$b''' ''; t = \"\\n\\${x}$${y}\"; }",
    "a: b: -a - -b * f -1 < 3 == !(x.y.z or false) || a ? \"b\" && [ ] != { }",
];

const FRAGMENTS: &[&str] = &[
    "(", ")", "[", "]", "{", "}", "${", "\"", "''", "'", "$", "\\", ";", ":", ",", ".", "?", "@",
    "=", "==", "!", "-", "->", "//", "++", "/", "*", "+", "<", ">", "#", "\n", " ", "or", "let",
    "in", "if", "then", "else", "with", "assert", "rec", "inherit", "x", "1", "1.5", ".5", "a/b",
    "./p", "...", "e", "0",
];

struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn mutate(random: &mut Random, seed: &str) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for _ in 0..=random.below(2) {
        let at = random.below(chars.len() + 1);
        match random.below(3) {
            0 => {
                let piece: Vec<char> = FRAGMENTS[random.below(FRAGMENTS.len())].chars().collect();
                chars.splice(at..at, piece);
            }
            1 if at < chars.len() => {
                let end = (at + 1 + random.below(4)).min(chars.len());
                chars.drain(at..end);
            }
            _ if at < chars.len() => {
                let piece: Vec<char> = FRAGMENTS[random.below(FRAGMENTS.len())].chars().collect();
                chars.splice(at..at + 1, piece);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// Whether Nix's parser accepts `text`. Nix resolves variables while parsing, so the text is
/// put under `with { };`, which leaves every free variable to be looked up later.
fn nix_accepts(text: &str) -> bool {
    Command::new("nix-instantiate")
        .args(["--parse", "-E", &format!("with {{ }}; {text}\n")])
        .output()
        .unwrap_or_else(|error| {
            panic!("nix-instantiate is needed for this test ({error}): run scripts/install-test-deps.sh")
        })
        .status
        .success()
}

#[test]
fn whatever_hac_accepts_nix_accepts() {
    let mut random = Random(0x2545_f491_4f6c_dd1d);
    let mut accepted = 0;
    let mut failures = Vec::new();
    for seed in SEEDS {
        assert!(common::parse(seed).is_ok(), "seed should parse: {seed}");
        assert!(nix_accepts(seed), "nix should parse the seed: {seed}");
    }
    // HAC_ACCEPTANCE_ROUNDS widens the search when hunting for differences by hand.
    let rounds = std::env::var("HAC_ACCEPTANCE_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(240usize);
    for round in 0..rounds {
        let text = mutate(&mut random, SEEDS[round % SEEDS.len()]);
        if common::parse(&text).is_ok() {
            accepted += 1;
            if !nix_accepts(&text) {
                failures.push(format!("{text:?} => {}", common::sexpr_of(&text)));
            }
        }
    }
    assert!(
        accepted >= 20,
        "too few mutations parse ({accepted}): the test checks little"
    );
    assert!(
        failures.is_empty(),
        "hac accepts, Nix rejects:\n{}",
        failures.join("\n")
    );
}
