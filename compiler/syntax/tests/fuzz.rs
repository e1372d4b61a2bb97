//! Property tests: on random bytes and on random mutations of valid programs the parser
//! always answers, Ok or errors that carry a code and a span inside the text; it never
//! panics. Valid programs re-parse to the same AST shape after adding whitespace.

mod common;

use proptest::prelude::*;

const PROGRAMS: &[&str] = &[
    "{ lib, ... }: let n = 3; in rec { a.b = n + 1; inherit n; c = [ 1 \"x${toString n}\" ]; }",
    "let f = { a ? 1, ... }@args: a * 2; in if f { } > 1 then \"yes\" else ''\n  no ${\"x\"}\n''",
    "with builtins; assert true; map (x: x.a or (-1)) [ { a = 1; } { } ] ++ [ (!false) ]",
    "x: y: x // { y = y ? z && x -> y; w = ./a/b.ha; v = <hac/lib>; u = 1.5e3 / .5; }",
    "{ \"q k\" = 1; ${\"d\"} = 2; or = 3; s = ''a''$b''' ''; t = \"\\n\\${x}$${y}\"; } # end",
];

/// Pieces mutations insert: tokens and fragments that stress the grammar.
const FRAGMENTS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "${",
    "\"",
    "''",
    "'",
    "$",
    "\\",
    ";",
    ":",
    ",",
    ".",
    "?",
    "@",
    "=",
    "==",
    "!",
    "-",
    "->",
    "//",
    "++",
    "/*",
    "*/",
    "#",
    "\n",
    " ",
    "or",
    "let",
    "in",
    "if",
    "then",
    "else",
    "with",
    "assert",
    "rec",
    "inherit",
    "x",
    "1",
    "1.5",
    "./p",
    "<hac/lib>",
    "~/",
    "x:x",
    "|>",
    "\u{0}",
    "é",
    "...",
];

fn check_answer(text: &str) {
    match common::parse(text) {
        Ok(_) => {}
        Err(errors) => {
            assert!(!errors.is_empty(), "an error result has no diagnostics");
            for error in errors {
                let code = error.code.as_deref().unwrap_or("");
                assert!(
                    code == "E0001" || code == "E0002",
                    "unexpected code {code:?}"
                );
                let span = error.span.expect("every parse error has a span");
                assert!(span.start <= span.end, "inverted span");
                assert!(
                    span.end as usize <= text.len(),
                    "span past the end of the text"
                );
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, usize),
    Delete(usize, usize),
    Replace(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0..FRAGMENTS.len()).prop_map(|(at, f)| Mutation::Insert(at, f)),
        (any::<usize>(), 1usize..8).prop_map(|(at, n)| Mutation::Delete(at, n)),
        (any::<usize>(), 0..FRAGMENTS.len()).prop_map(|(at, f)| Mutation::Replace(at, f)),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for mutation in mutations {
        let len = chars.len();
        match *mutation {
            Mutation::Insert(at, fragment) => {
                let at = at % (len + 1);
                let piece: Vec<char> = FRAGMENTS[fragment].chars().collect();
                chars.splice(at..at, piece);
            }
            Mutation::Delete(at, n) if len > 0 => {
                let at = at % len;
                let end = (at + n).min(len);
                chars.drain(at..end);
            }
            Mutation::Replace(at, fragment) if len > 0 => {
                let at = at % len;
                let piece: Vec<char> = FRAGMENTS[fragment].chars().collect();
                chars.splice(at..at + 1, piece);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        check_answer(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_token_soup_never_panics(pieces in proptest::collection::vec(0..FRAGMENTS.len(), 0..64)) {
        let text: String = pieces.iter().map(|&index| FRAGMENTS[index]).collect::<Vec<_>>().join(" ");
        check_answer(&text);
        let glued: String = pieces.iter().map(|&index| FRAGMENTS[index]).collect();
        check_answer(&glued);
    }

    #[test]
    fn mutated_programs_never_panic(
        program in 0..PROGRAMS.len(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        check_answer(&apply(PROGRAMS[program], &mutations));
    }
}

#[test]
fn the_seed_programs_parse() {
    for program in PROGRAMS {
        assert!(
            common::parse(program).is_ok(),
            "{program}: {:?}",
            common::sexpr_of(program)
        );
    }
}

#[test]
fn extra_whitespace_does_not_change_the_shape() {
    for program in PROGRAMS {
        let spaced = format!("\n  {program}  \n");
        assert_eq!(common::sexpr_of(program), common::sexpr_of(&spaced));
    }
}
