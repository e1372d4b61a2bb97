//! Property tests of the formatter: on generated programs (with comments and odd whitespace
//! everywhere) the output means the same as the input (same AST, spans aside), is a fixed
//! point, keeps every comment and has no trailing blanks; on arbitrary input nothing panics,
//! and unparsable input is refused.

use hac_core::FileId;
use hac_syntax::format::{comments, erase_spans, format_source, format_unchecked, FormatError};
use proptest::prelude::*;

/// Separators placed between generated tokens: each has some whitespace, so tokens never glue.
const SEPARATORS: [&str; 10] = [
    " ",
    " ",
    "  ",
    "\n",
    "\n\n\n",
    "\t",
    " # a line comment\n",
    " /* a block comment */ ",
    "\n  /* several\n   lines */\n",
    "\n# own-line comment\n\n",
];

/// A generated expression as tokens (a string literal is one token).
type Tokens = Vec<String>;

fn tokens(parts: &[&str]) -> Tokens {
    parts.iter().map(std::string::ToString::to_string).collect()
}

fn joined(pieces: Vec<Tokens>) -> Tokens {
    pieces.into_iter().flatten().collect()
}

fn parenthesized(inner: Tokens) -> Tokens {
    joined(vec![tokens(&["("]), inner, tokens(&[")"])])
}

fn atom() -> impl Strategy<Value = Tokens> {
    prop_oneof![
        (0u32..1000).prop_map(|n| vec![n.to_string()]),
        Just(tokens(&["1.5"])),
        Just(tokens(&["2.5e3"])),
        Just(tokens(&["x"])),
        Just(tokens(&["a-b"])),
        Just(tokens(&["x'"])),
        Just(tokens(&["true"])),
        Just(tokens(&["null"])),
        Just(tokens(&["\"plain\""])),
        Just(tokens(&["\"a ${ x /* in */ + 1 } \\\" $${x} b\""])),
        Just(tokens(&[
            "''\n    indented ${x}\n      ''${kept} '''\n  ''"
        ])),
        Just(tokens(&["./lib/x.ha"])),
        Just(tokens(&["<hac/lib>"])),
    ]
}

fn expression() -> impl Strategy<Value = Tokens> {
    atom().prop_recursive(4, 48, 4, |inner| {
        let operand = inner.clone().prop_map(parenthesized);
        prop_oneof![
            proptest::collection::vec(operand.clone(), 0..4).prop_map(|items| joined(vec![
                tokens(&["["]),
                joined(items),
                tokens(&["]"])
            ])),
            (inner.clone(), inner.clone(), any::<bool>()).prop_map(|(a, b, rec)| {
                joined(vec![
                    tokens(if rec { &["rec", "{"] } else { &["{"] }),
                    tokens(&["a", "=", "1", ";"]),
                    tokens(&["b", ".", "c", "="]),
                    a,
                    tokens(&[";", "inherit", "x", ";", "inherit", "(", "y", ")", "z", ";"]),
                    tokens(&["\"q k\"", "=", "2", ";", "${", "x", "}", "="]),
                    b,
                    tokens(&[";", "}"]),
                ])
            }),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| joined(vec![
                tokens(&["let", "a", "="]),
                a,
                tokens(&[";", "in"]),
                b
            ])),
            inner
                .clone()
                .prop_map(|body| joined(vec![tokens(&["x", ":"]), body])),
            inner.clone().prop_map(|body| joined(vec![
                tokens(&["{", "a", ",", "b", "?", "1", ",", "...", "}", "@", "args", ":"]),
                body
            ])),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, t, e)| joined(vec![
                tokens(&["if"]),
                c,
                tokens(&["then"]),
                t,
                tokens(&["else"]),
                e
            ])),
            (inner.clone(), inner.clone()).prop_map(|(s, b)| joined(vec![
                tokens(&["with"]),
                s,
                tokens(&[";"]),
                b
            ])),
            (inner.clone(), inner.clone()).prop_map(|(c, b)| joined(vec![
                tokens(&["assert"]),
                c,
                tokens(&[";"]),
                b
            ])),
            (
                operand.clone(),
                operand.clone(),
                prop::sample::select(vec![
                    "+", "-", "*", "/", "++", "//", "==", "!=", "<", "<=", "&&", "||", "->",
                ])
            )
                .prop_map(|(a, b, op)| joined(vec![a, vec![op.to_string()], b])),
            (operand.clone(), any::<bool>()).prop_map(|(a, neg)| joined(vec![
                vec![if neg { "-" } else { "!" }.to_string()],
                a
            ])),
            (operand.clone(), operand.clone()).prop_map(|(a, d)| joined(vec![
                a,
                tokens(&[".", "a", ".", "\"b\"", "or"]),
                d
            ])),
            operand
                .clone()
                .prop_map(|a| joined(vec![a, tokens(&["?", "a", ".", "b"])])),
            (operand.clone(), operand).prop_map(|(f, a)| joined(vec![f, a])),
        ]
    })
}

/// A generated program: tokens joined by separators picked from [`SEPARATORS`].
fn program() -> impl Strategy<Value = String> {
    (
        expression(),
        proptest::collection::vec(0..SEPARATORS.len(), 1..64),
    )
        .prop_map(|(tokens, picks)| {
            let mut text = String::new();
            for (index, token) in tokens.iter().enumerate() {
                if index > 0 {
                    text.push_str(SEPARATORS[picks[index % picks.len()]]);
                }
                text.push_str(token);
            }
            text
        })
}

fn sorted_comments(text: &str) -> Vec<String> {
    let mut list: Vec<String> = comments(text).into_iter().map(str::to_string).collect();
    list.sort();
    list
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn generated_programs_keep_meaning_and_comments_and_format_idempotently(text in program()) {
        let mut original = hac_syntax::parse(FileId(0), &text)
            .map_err(|d| TestCaseError::fail(format!("generator bug, does not parse: {}\n{text}", d[0].message)))?;
        let formatted = match format_source(FileId(0), &text) {
            Ok(formatted) => formatted,
            Err(error) => return Err(TestCaseError::fail(format!("{error:?}\n--- input\n{text}"))),
        };
        let mut reparsed = hac_syntax::parse(FileId(0), &formatted).expect("checked by format_source");
        erase_spans(&mut original);
        erase_spans(&mut reparsed);
        prop_assert_eq!(&original, &reparsed);
        let again = format_source(FileId(0), &formatted).expect("formatted text formats");
        prop_assert_eq!(&again, &formatted, "not idempotent; input:\n{}", text);
        prop_assert_eq!(sorted_comments(&text), sorted_comments(&formatted));
        prop_assert!(formatted.ends_with('\n') && !formatted.ends_with("\n\n"));
        for line in formatted.lines() {
            let in_string = text.lines().any(|source| source.ends_with(line.trim_start()));
            prop_assert!(in_string || !line.ends_with(' '), "trailing blank in {:?}", line);
        }
        prop_assert!(!formatted.contains("\n\n\n") || text.contains("''"));
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = format_unchecked(&text);
        check_any_input(&text)?;
    }

    #[test]
    fn random_token_soup_never_panics(picks in proptest::collection::vec(0..SOUP.len(), 0..48)) {
        let text: String = picks.iter().map(|&i| SOUP[i]).collect();
        let _ = format_unchecked(&text);
        check_any_input(&text)?;
    }
}

/// Fragments glued together without separators: half-open strings, comments, paths, numbers.
const SOUP: [&str; 32] = [
    "{", "}", "[", "]", "(", ")", "${", "\"", "''", "'", "#", "/*", "*/", "\n", " ", "a", "-", "/",
    ".", "1", "e", "+", "=", ";", ":", "@", "\\", "$", "<", ">", "in", "let ",
];

/// Whatever `format_source` says about arbitrary input, it is consistent: either a parse error
/// (and then the input really does not parse) or a text that parses to the same AST.
fn check_any_input(text: &str) -> Result<(), TestCaseError> {
    match format_source(FileId(0), text) {
        Ok(formatted) => {
            let again = format_source(FileId(0), &formatted).expect("formatted text formats");
            prop_assert_eq!(again, formatted);
        }
        Err(FormatError::Syntax(_)) => prop_assert!(hac_syntax::parse(FileId(0), text).is_err()),
        Err(FormatError::Internal(message)) => {
            return Err(TestCaseError::fail(format!(
                "{message}\n--- input\n{text:?}"
            )))
        }
    }
    Ok(())
}
