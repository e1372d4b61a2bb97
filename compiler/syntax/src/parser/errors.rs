//! Pest failures → E0001 diagnostics in words: what was expected (friendly names for the
//! grammar's rules), what was found, and hints for the usual slips (a missing `;`, `:` for
//! `=`, an unclosed string, comment or bracket, pointing at where it was opened).

use pest::error::{ErrorVariant, InputLocation};

use super::grammar::Rule;
use super::scan::{self, Opener};
use super::MAX_DEPTH;
use hac_core::{Diagnostic, FileId, Span};

/// What a rule is called in an error message, or `None` to leave it out.
fn friendly(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        expr | op_expr | app | select | paren | list | attrs | rec_attrs | var | int | float
        | string | ind_string | path | search_path => "an expression",
        lambda_head | let_head | with_head | assert_head | if_head => "an expression",
        ident | ident_param | at_formals | formals_param | formals | formal => "an identifier",
        attrpath | attr_name | dyn_attr | assign | inherit => "an attribute name",
        op_impl | op_or | op_and | op_eq | op_ne | op_le | op_ge | op_lt | op_gt | op_update
        | op_concat | op_add | op_sub | op_mul | op_div => "an operator",
        has_attr | question => "`?`",
        semi => "`;`",
        colon => "`:`",
        comma => "`,`",
        at => "`@`",
        dot => "`.`",
        assign_eq => "`=`",
        lbrace => "`{`",
        rbrace => "`}`",
        lbracket => "`[`",
        rbracket => "`]`",
        lparen => "`(`",
        rparen => "`)`",
        dollar_curly => "`${`",
        ellipsis => "`...`",
        in_kw => "`in`",
        then_kw => "`then`",
        else_kw => "`else`",
        or_kw | or_default => "`or`",
        dquote_end => "`\"` (end of string)",
        ind_close => "`''` (end of string)",
        str_text | str_interp | ind_text | ind_interp => return None,
        EOI => "end of file",
        _ => return None,
    })
}

/// Describes the text at `offset` for "found …".
fn found_at(text: &str, offset: usize) -> (String, usize) {
    let rest = text.get(offset..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return ("end of file".to_string(), 0);
    };
    let word_len = rest
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '\'' || c == '-'))
        .map_or(rest.len(), |(index, _)| index);
    if (first.is_ascii_alphabetic() || first == '_') && word_len > 0 {
        let word = &rest[..word_len];
        let shown: String = word.chars().take(40).collect();
        return (format!("`{shown}`"), word_len);
    }
    for operator in [
        "->", "||", "&&", "==", "!=", "<=", ">=", "//", "++", "${", "''", "...", "|>", "<|",
    ] {
        if rest.starts_with(operator) {
            return (format!("`{operator}`"), operator.len());
        }
    }
    if first == '\n' {
        return ("end of line".to_string(), 1);
    }
    if first.is_control() {
        return (
            format!("character U+{:04X}", first as u32),
            first.len_utf8(),
        );
    }
    (format!("`{first}`"), first.len_utf8())
}

fn join_alternatives(names: &[&str]) -> String {
    match names {
        [] => "something else".to_string(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {}", rest.join(", "), last),
    }
}

/// What the parser expected, named for people: without duplicates, without the
/// continuations of an operand when a closing token would also do, punctuation and
/// keywords first.
fn expected_names(positives: &[Rule]) -> Vec<&'static str> {
    let mut expected: Vec<&'static str> = Vec::new();
    for rule in positives {
        if let Some(name) = friendly(*rule) {
            if !expected.contains(&name) {
                expected.push(name);
            }
        }
    }
    // After a complete operand almost anything may continue it (`.a`, `? a`, an operator,
    // another argument); when a closing token is also possible, that is the useful news.
    const CONTINUATIONS: [&str; 7] = [
        "`?`",
        "`.`",
        "`:`",
        "`@`",
        "`or`",
        "an operator",
        "an expression",
    ];
    const CLOSERS: [&str; 12] = [
        "`;`",
        "`)`",
        "`]`",
        "`}`",
        "`then`",
        "`else`",
        "`in`",
        "`=`",
        "`,`",
        "`\"` (end of string)",
        "`''` (end of string)",
        "end of file",
    ];
    if expected.iter().any(|name| CLOSERS.contains(name)) {
        expected.retain(|name| !CONTINUATIONS.contains(name));
    }
    // Lead with the punctuation and keywords: they are the more useful suggestion.
    expected.sort_by_key(|name| !name.starts_with('`'));
    expected
}

pub(super) fn from_pest(file: FileId, text: &str, error: &pest::error::Error<Rule>) -> Diagnostic {
    let offset = match error.location {
        InputLocation::Pos(position) => position,
        InputLocation::Span((start, _)) => start,
    };
    let positives: Vec<Rule> = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        ErrorVariant::CustomError { message } => {
            if message.contains("stack limit") {
                return Diagnostic::error(format!(
                    "expression nested too deeply (limit {MAX_DEPTH})"
                ))
                .with_code(hac_core::LanguageCode::Syntax)
                .with_span(Span::new(file, offset, offset))
                .with_hint("split the expression with `let` bindings or into several files");
            }
            return Diagnostic::error(format!("syntax error: {message}"))
                .with_code(hac_core::LanguageCode::Syntax)
                .with_span(Span::new(file, offset, offset));
        }
    };

    let expected = expected_names(&positives);

    let (found, found_len) = found_at(text, offset);
    let at_end = offset >= text.len();
    let span = Span::new(file, offset, offset + found_len);

    // A string or comment left open swallows the rest of the file: say that instead.
    if let Some((opener, opened_at)) = scan::first_unbalanced(text) {
        if matches!(
            opener,
            Opener::String | Opener::IndentedString | Opener::Comment
        ) {
            return Diagnostic::error(format!("unterminated {}", opener.describe()))
                .with_code(hac_core::LanguageCode::Syntax)
                .with_span(Span::new(file, opened_at, opened_at + 1))
                .with_span_label("opened here")
                .with_label(Span::new(file, text.len(), text.len()), "file ends here")
                .with_hint(format!("close it with {}", opener.closer()));
        }
    }

    let message = format!(
        "syntax error: expected {}, found {found}",
        join_alternatives(&expected)
    );
    let mut diagnostic = Diagnostic::error(message)
        .with_code(hac_core::LanguageCode::Syntax)
        .with_span(span)
        .with_span_label(format!("expected {}", join_alternatives(&expected)));

    let expects = |name: &str| expected.contains(&name);
    let found_text = text.get(offset..).unwrap_or("");
    if expects("`;`") && !at_end && !found_text.starts_with(':') {
        diagnostic = diagnostic.with_hint("is a `;` missing at the end of the previous binding?");
    }
    if expects("`]`") && (found_text.starts_with('-') || found_text.starts_with('!')) {
        diagnostic = diagnostic.with_hint(
            "list elements are separated by spaces: put a negation in parentheses, e.g. `[ (-1) ]`",
        );
    }
    if expects("`=`") && at_end && has_let_without_in(text) {
        diagnostic = diagnostic.with_hint("a `let` needs `in` before its body: `let a = 1; in a`");
    }
    if expects("`=`") && found_text.starts_with(':') {
        diagnostic =
            diagnostic.with_hint("attributes are bound with `=`, not `:`: write `name = value;`");
    }
    if found_text.starts_with('=') && !found_text.starts_with("==") && !expects("`=`") {
        diagnostic = diagnostic.with_hint(
            "a binding `name = value;` belongs inside `{ … }` or after `let`; to compare, use `==`",
        );
    }
    if let Some((opener, opened_at)) = scan::first_unbalanced(text) {
        if at_end || matches!(opener, Opener::Paren | Opener::Bracket | Opener::Brace) {
            let opened = Span::new(file, opened_at, opened_at + 1);
            if at_end || opened_at < offset {
                diagnostic = diagnostic
                    .with_label(opened, format!("this {} is not closed", opener.describe()))
                    .with_hint(format!("close it with {}", opener.closer()));
            }
        }
    }
    diagnostic
}

/// Whether the text has more `let` words than `in` words (a rough sign of a missing `in`).
fn has_let_without_in(text: &str) -> bool {
    let words =
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '\'' || c == '-'));
    let (mut lets, mut ins) = (0usize, 0usize);
    for word in words {
        match word {
            "let" => lets += 1,
            "in" => ins += 1,
            _ => {}
        }
    }
    lets > ins
}
