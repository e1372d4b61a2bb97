//! `hac fmt`: a comment-preserving formatter for `.ha` files, in the spirit of nixfmt and
//! nixpkgs-fmt but simple and predictable.
//!
//! It works on tokens ([`lexer`]), not on the AST, so comments and the author's line breaks
//! survive. The rules:
//! - indentation is 2 spaces per level of nesting of `{ } [ ] ( ) ${ }`, `let … in` and of a
//!   binding's value after `=`; brackets opened on the same line add one level together, and
//!   a line that starts with a closing bracket (or `in`) is indented like the line that opened it;
//! - a set or `let` that spans several lines gets one binding per line, with `{`/`let` and
//!   `}`/`in` on lines of their own; a list that spans several lines gets `[` and `]` on lines of
//!   their own; sets and lists written on one line stay on one line;
//! - single spaces around binary operators and `=`, `a: b`, `{ a }`, `[ a ]`, `(a)`, `a.b`,
//!   `a, b`, `a;`, `args@{ … }`, `{ }` and `[ ]` for empty ones;
//! - the author's line breaks are kept (at most one blank line in a row), except that a `;`
//!   joins the line before it; no trailing whitespace; a final newline;
//! - comments stay where they were: own-line comments on their own line, trailing comments
//!   trailing; strings of both kinds (and everything inside their interpolations) and comments
//!   are copied byte for byte.
//!
//! [`format_source`] refuses input that does not parse, and checks its own result: the
//! formatted text must parse to the same AST (spans aside), or it is an internal error and
//! nothing should be written.

mod lexer;

use crate::ast::{AttrKey, AttrKeyKind, Binding, Expr, ExprKind, Param, StrPart};
use hac_core::{Diagnostic, FileId, Span};
use lexer::{Token, TokenKind, KEYWORDS};

/// Why a file could not be formatted.
#[derive(Debug)]
pub enum FormatError {
    /// The input does not parse: the parser's diagnostics.
    Syntax(Vec<Diagnostic>),
    /// The formatter's output would not mean the same as the input (a bug in the formatter;
    /// the input is left as it is).
    Internal(String),
}

/// Formats one `.ha` file. The result parses to the same AST as `text` (spans aside) and is a
/// fixed point: formatting it again gives it back unchanged.
pub fn format_source(file: FileId, text: &str) -> Result<String, FormatError> {
    let mut original = crate::parse(file, text).map_err(FormatError::Syntax)?;
    let formatted = format_tokens(text);
    let mut reparsed = crate::parse(file, &formatted).map_err(|diagnostics| {
        let message = diagnostics
            .first()
            .map(|d| d.message.clone())
            .unwrap_or_default();
        FormatError::Internal(format!(
            "the formatted text does not parse ({message}); the file was left as it is"
        ))
    })?;
    erase_spans(&mut original);
    erase_spans(&mut reparsed);
    if original != reparsed {
        return Err(FormatError::Internal(
            "the formatted text would mean something else; the file was left as it is".to_string(),
        ));
    }
    Ok(formatted)
}

/// The layout rules alone, on any text, without parsing it first or checking the result
/// (for tests: it must not panic on any input). Use [`format_source`].
#[doc(hidden)]
pub fn format_unchecked(text: &str) -> String {
    format_tokens(text)
}

/// The byte ranges of the top-level tokens of `text` (a string literal with its
/// interpolations is one token; comments are tokens), for tests that re-space real files.
#[doc(hidden)]
pub fn token_ranges(text: &str) -> Vec<(usize, usize)> {
    lexer::tokenize(text)
        .into_iter()
        .map(|token| (token.start, token.end))
        .collect()
}

/// The text of every comment in `text` (those inside string interpolations included), in
/// source order. The formatter keeps this list unchanged.
pub fn comments(text: &str) -> Vec<&str> {
    lexer::comment_ranges(text)
        .into_iter()
        .filter_map(|(start, end)| text.get(start..end))
        .collect()
}

/// Sets every span in `expr` to the empty span at offset 0 of file 0, so that two parses
/// can be compared for meaning with `==`.
pub fn erase_spans(expr: &mut Expr) {
    let mut pending: Vec<&mut Expr> = vec![expr];
    while let Some(expr) = pending.pop() {
        expr.span = no_span();
        match &mut expr.kind {
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Path(_) => {}
            ExprKind::Str(parts) => push_parts(parts, &mut pending),
            ExprKind::Var(ident) => ident.span = no_span(),
            ExprKind::List(items) => pending.extend(items.iter_mut()),
            ExprKind::Attrs { bindings, .. } => push_bindings(bindings, &mut pending),
            ExprKind::Let { bindings, body } => {
                push_bindings(bindings, &mut pending);
                pending.push(body);
            }
            ExprKind::With { scope: a, body: b }
            | ExprKind::Assert { cond: a, body: b }
            | ExprKind::Apply { func: a, arg: b }
            | ExprKind::Binary { lhs: a, rhs: b, .. } => {
                pending.push(a);
                pending.push(b);
            }
            ExprKind::If { cond, then, else_ } => {
                pending.push(cond);
                pending.push(then);
                pending.push(else_);
            }
            ExprKind::Lambda { param, body } => {
                match param {
                    Param::Ident(ident) => ident.span = no_span(),
                    Param::Pattern { formals, at, .. } => {
                        if let Some(at) = at {
                            at.span = no_span();
                        }
                        for formal in formals {
                            formal.name.span = no_span();
                            if let Some(default) = &mut formal.default {
                                pending.push(default);
                            }
                        }
                    }
                }
                pending.push(body);
            }
            ExprKind::Select {
                expr,
                path,
                default,
            } => {
                pending.push(expr);
                push_keys(path, &mut pending);
                if let Some(default) = default {
                    pending.push(default);
                }
            }
            ExprKind::HasAttr { expr, path } => {
                pending.push(expr);
                push_keys(path, &mut pending);
            }
            ExprKind::Unary { expr, .. } => pending.push(expr),
        }
    }
}

fn no_span() -> Span {
    Span::new(FileId(0), 0, 0)
}

fn push_parts<'a>(parts: &'a mut [StrPart], pending: &mut Vec<&'a mut Expr>) {
    for part in parts {
        if let StrPart::Interp(expr) = part {
            pending.push(expr);
        }
    }
}

fn push_keys<'a>(keys: &'a mut [AttrKey], pending: &mut Vec<&'a mut Expr>) {
    for key in keys {
        key.span = no_span();
        match &mut key.kind {
            AttrKeyKind::Ident(_) => {}
            AttrKeyKind::Str(parts) => push_parts(parts, pending),
            AttrKeyKind::Dynamic(expr) => pending.push(expr),
        }
    }
}

fn push_bindings<'a>(bindings: &'a mut [Binding], pending: &mut Vec<&'a mut Expr>) {
    for binding in bindings {
        match binding {
            Binding::Assign { path, value, span } => {
                *span = no_span();
                push_keys(path, pending);
                pending.push(value);
            }
            Binding::Inherit { from, names, span } => {
                *span = no_span();
                if let Some(from) = from {
                    pending.push(from);
                }
                push_keys(names, pending);
            }
        }
    }
}

/// What an open construct is, for indentation and line breaking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpenKind {
    /// `{` of an attribute set (`rec` or not).
    Attrs,
    /// `{` of a function's formal arguments.
    Formals,
    List,
    Paren,
    /// `${` of a dynamic attribute name.
    Interpolation,
    Let,
    /// A binding's `=` up to its `;`.
    Assign,
    /// `inherit` up to its `;`.
    Inherit,
    /// `with e;` and `assert e;` up to the `;`.
    Clause,
    /// `if` up to its `then`.
    If,
    /// `then` up to its `else`.
    Then,
    /// `else` up to the end of the `if` expression (a `;`, `,`, closing bracket, `in`, or the
    /// `then`/`else` of an enclosing `if`).
    Else,
    /// The body of a lambda, `let … in`, `with` or `assert` (and the whole file), from its
    /// first token to the end of the expression: its continuation lines are indented.
    Body,
}

impl OpenKind {
    fn is_bracket(self) -> bool {
        matches!(
            self,
            OpenKind::Attrs
                | OpenKind::Formals
                | OpenKind::List
                | OpenKind::Paren
                | OpenKind::Interpolation
                | OpenKind::Let
        )
    }
}

#[derive(Clone, Copy, Debug)]
struct Open {
    kind: OpenKind,
    /// The indentation of the line it was opened on.
    line_indent: usize,
    /// Whether it spans several lines in the input (brackets and `let` only).
    multiline: bool,
    /// For `if`: whether it stands in the middle of a line (then a `then` that starts a line
    /// is indented one level more than that line).
    hanging: bool,
}

/// Facts about each token, worked out before the output is written.
#[derive(Clone, Copy, Debug, Default)]
struct TokenFacts {
    /// For an opening bracket or `let`: what it opens and whether it spans several lines.
    opens: Option<(OpenKind, bool)>,
    /// For a closing bracket or `in`: what its opener opened and whether that spans lines.
    closes: Option<(OpenKind, bool)>,
}

fn is_punct(text: &str, token: &Token, punct: &str) -> bool {
    token.kind == TokenKind::Punct && &text[token.start..token.end] == punct
}

fn is_comment(token: &Token) -> bool {
    matches!(token.kind, TokenKind::LineComment | TokenKind::BlockComment)
}

/// Pairs brackets and `let`/`in`, and classifies each `{`.
fn token_facts(text: &str, tokens: &[Token]) -> Vec<TokenFacts> {
    let mut facts = vec![TokenFacts::default(); tokens.len()];
    let newline_offsets: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter(|(_, byte)| *byte == b'\n')
        .map(|(offset, _)| offset)
        .collect();
    let line_of = |offset: usize| newline_offsets.partition_point(|&newline| newline < offset);
    let mut stack: Vec<(usize, &str)> = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        let token_text = &text[token.start..token.end];
        let closing_partner = match (token.kind, token_text) {
            (TokenKind::Punct, "{" | "${" | "[" | "(") | (TokenKind::Word, "let") => {
                stack.push((index, token_text));
                None
            }
            (TokenKind::Punct, "}") => Some(["{", "${"].as_slice()),
            (TokenKind::Punct, "]") => Some(["["].as_slice()),
            (TokenKind::Punct, ")") => Some(["("].as_slice()),
            (TokenKind::Word, "in") => Some(["let"].as_slice()),
            _ => None,
        };
        let Some(partners) = closing_partner else {
            continue;
        };
        let Some(position) = stack.iter().rposition(|(_, open)| partners.contains(open)) else {
            continue;
        };
        let (open_index, open_text) = stack[position];
        stack.truncate(position);
        let kind = match open_text {
            "${" => OpenKind::Interpolation,
            "[" => OpenKind::List,
            "(" => OpenKind::Paren,
            "let" => OpenKind::Let,
            _ => {
                let before = tokens[..open_index].iter().rev().find(|t| !is_comment(t));
                let after = tokens[index + 1..].iter().find(|t| !is_comment(t));
                let at_before = before.is_some_and(|t| is_punct(text, t, "@"));
                let lambda_after =
                    after.is_some_and(|t| is_punct(text, t, ":") || is_punct(text, t, "@"));
                if at_before || lambda_after {
                    OpenKind::Formals
                } else {
                    OpenKind::Attrs
                }
            }
        };
        let multiline = line_of(tokens[open_index].start) != line_of(token.end);
        facts[open_index].opens = Some((kind, multiline));
        facts[index].closes = Some((kind, multiline));
    }
    facts
}

/// Whether a token ends an operand (so a `-` after it is binary).
fn ends_operand(text: &str, token: &Token) -> bool {
    let token_text = &text[token.start..token.end];
    match token.kind {
        TokenKind::Word => token_text == "or" || !KEYWORDS.contains(&token_text),
        TokenKind::Number | TokenKind::Path | TokenKind::Str => true,
        TokenKind::Punct => matches!(token_text, ")" | "]" | "}"),
        TokenKind::LineComment | TokenKind::BlockComment => false,
    }
}

/// The output being built, line by line.
struct Output {
    text: String,
    /// The indentation (in levels) of the line being written.
    line_indent: usize,
}

impl Output {
    fn newline(&mut self, blank_line: bool, indent: usize) {
        self.text.push('\n');
        if blank_line {
            self.text.push('\n');
        }
        for _ in 0..indent {
            self.text.push_str("  ");
        }
        self.line_indent = indent;
    }
}

/// Formats tokens without checking that the input parses (see [`format_source`]).
// One pass over the tokens whose state (open brackets, pending breaks) every branch shares.
#[allow(clippy::too_many_lines)]
fn format_tokens(text: &str) -> String {
    let tokens = lexer::tokenize(text);
    let facts = token_facts(text, &tokens);
    let mut out = Output {
        text: String::with_capacity(text.len() + text.len() / 8),
        line_indent: 0,
    };
    let mut stack: Vec<Open> = Vec::new();
    // A line break the rules ask for after the previous token (it waits for trailing comments).
    let mut newline_pending = false;
    // Whether the next token starts the body of a lambda, `let … in`, `with`, `assert` (or
    // the whole file): it then opens a [`OpenKind::Body`].
    let mut body_pending = true;
    // Whether the previous `-` or `!` was a prefix operator.
    let mut previous_was_prefix = false;
    for (index, token) in tokens.iter().enumerate() {
        let token_text = &text[token.start..token.end];
        let word = |w: &str| token.kind == TokenKind::Word && token_text == w;
        let punct = |p: &str| token.kind == TokenKind::Punct && token_text == p;
        let closes = facts[index].closes;
        // ---- what this token ends before it is placed
        if !is_comment(token) {
            let ends_expression = closes.is_some() || punct(";") || punct(",");
            let ends_to = if word("then") {
                Some(OpenKind::If)
            } else if word("else") {
                Some(OpenKind::Then)
            } else {
                None
            };
            while let Some(top) = stack.last() {
                let ends = match ends_to {
                    Some(kind) => {
                        top.kind != kind
                            && !top.kind.is_bracket()
                            && stack.iter().any(|open| open.kind == kind)
                    }
                    None => ends_expression && matches!(top.kind, OpenKind::Else | OpenKind::Body),
                };
                if !ends {
                    break;
                }
                stack.pop();
            }
        }
        // ---- the separator before this token
        let mut starts_line = index == 0;
        if index > 0 {
            let previous = &tokens[index - 1];
            let previous_facts = &facts[index - 1];
            let after_line_comment = previous.kind == TokenKind::LineComment;
            let mut newlines = token.newlines_before;
            let empty_group = previous_facts.opens.is_some() && closes.is_some();
            if (punct(";") || empty_group) && !after_line_comment {
                newlines = 0;
            }
            let forced_before = closes.is_some_and(|(kind, multiline)| {
                multiline && matches!(kind, OpenKind::Attrs | OpenKind::List | OpenKind::Let)
            }) && !empty_group;
            if is_comment(token) && newlines == 0 && !after_line_comment {
                out.text.push(' ');
            } else if newlines > 0 || after_line_comment || newline_pending || forced_before {
                newline_pending = false;
                let indent = line_start_indent(text, token, closes, &stack);
                out.newline(newlines >= 2, indent);
                starts_line = true;
            } else if horizontal_space(
                text,
                index.checked_sub(2).map(|i| &tokens[i]),
                previous,
                previous_facts,
                token,
                closes,
                previous_was_prefix,
            ) {
                out.text.push(' ');
            }
        }
        out.text.push_str(token_text);
        if is_comment(token) {
            continue;
        }
        // ---- what this token opens or closes
        if body_pending {
            body_pending = false;
            stack.push(Open {
                kind: OpenKind::Body,
                line_indent: out.line_indent,
                multiline: false,
                hanging: false,
            });
        }
        previous_was_prefix = false;
        if token_text == "-" || token_text == "!" {
            let operand_before = tokens[..index]
                .iter()
                .rev()
                .find(|t| !is_comment(t))
                .is_some_and(|t| ends_operand(text, t));
            previous_was_prefix = token_text == "!" || !operand_before;
        }
        if let Some((kind, multiline)) = facts[index].opens {
            stack.push(Open {
                kind,
                line_indent: out.line_indent,
                multiline,
                hanging: false,
            });
            let empty = facts
                .get(index + 1)
                .is_some_and(|next| next.closes.is_some());
            if multiline
                && !empty
                && matches!(kind, OpenKind::Attrs | OpenKind::List | OpenKind::Let)
            {
                newline_pending = true;
            }
            continue;
        }
        if closes.is_some() {
            if let Some(position) = stack.iter().rposition(|open| open.kind.is_bracket()) {
                stack.truncate(position);
            }
            if word("in") {
                pop_body(&mut stack);
                body_pending = true;
            }
            continue;
        }
        let pseudo = |kind| Open {
            kind,
            line_indent: out.line_indent,
            multiline: false,
            hanging: false,
        };
        match (token.kind, token_text) {
            (TokenKind::Punct, "=") => stack.push(pseudo(OpenKind::Assign)),
            (TokenKind::Word, "inherit") => stack.push(pseudo(OpenKind::Inherit)),
            (TokenKind::Word, "with" | "assert") => stack.push(pseudo(OpenKind::Clause)),
            // A `then` or `else` that starts a line lines up with its `if` or `then` (one level
            // in from a line where `if` stood after other code); in the middle of a line, it
            // takes the level of the line of its `if` or `then`.
            (TokenKind::Word, "if") => {
                stack.push(Open {
                    kind: OpenKind::If,
                    line_indent: out.line_indent,
                    multiline: false,
                    hanging: !starts_line,
                });
            }
            (TokenKind::Word, "then" | "else") => {
                let ended = if word("then") {
                    OpenKind::If
                } else {
                    OpenKind::Then
                };
                let mut line_indent = out.line_indent;
                if stack.last().is_some_and(|open| open.kind == ended) {
                    if let Some(open) = stack.pop() {
                        if !starts_line {
                            line_indent = open.line_indent;
                        }
                    }
                }
                let kind = if word("then") {
                    OpenKind::Then
                } else {
                    OpenKind::Else
                };
                stack.push(Open {
                    kind,
                    line_indent,
                    multiline: false,
                    hanging: false,
                });
            }
            (TokenKind::Punct, ":") => {
                pop_body(&mut stack);
                body_pending = true;
            }
            (TokenKind::Punct, ";") => {
                let closed = match stack.last() {
                    Some(open) if !open.kind.is_bracket() => stack.pop().map(|open| open.kind),
                    _ => None,
                };
                match closed {
                    Some(OpenKind::Assign | OpenKind::Inherit) => {
                        let parent_breaks = stack.last().is_some_and(|open| {
                            open.multiline && matches!(open.kind, OpenKind::Attrs | OpenKind::Let)
                        });
                        newline_pending |= parent_breaks;
                    }
                    Some(OpenKind::Clause) => {
                        pop_body(&mut stack);
                        body_pending = true;
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if !out.text.is_empty() {
        out.text.push('\n');
    }
    out.text
}

/// Ends the statement whose head (lambda parameter, `let … in`, `with`, `assert`) has just
/// been read: its body starts a new statement at the same level.
fn pop_body(stack: &mut Vec<Open>) {
    if stack.last().is_some_and(|open| open.kind == OpenKind::Body) {
        stack.pop();
    }
}

/// The indentation of a line that starts with `token`.
fn line_start_indent(
    text: &str,
    token: &Token,
    closes: Option<(OpenKind, bool)>,
    stack: &[Open],
) -> usize {
    if closes.is_some() {
        if let Some(open) = stack.iter().rev().find(|open| open.kind.is_bracket()) {
            return open.line_indent;
        }
    }
    let token_text = &text[token.start..token.end];
    let lines_up_with = match (token.kind, token_text) {
        (TokenKind::Punct, ",") => Some(OpenKind::Formals),
        (TokenKind::Word, "then") => Some(OpenKind::If),
        (TokenKind::Word, "else") => Some(OpenKind::Then),
        _ => None,
    };
    match stack.last() {
        Some(open) if Some(open.kind) == lines_up_with => {
            open.line_indent + usize::from(open.hanging)
        }
        Some(open) => open.line_indent + 1,
        None => 0,
    }
}

/// Whether a space separates `previous` and `token` on one line.
fn horizontal_space(
    text: &str,
    before_previous: Option<&Token>,
    previous: &Token,
    previous_facts: &TokenFacts,
    token: &Token,
    closes: Option<(OpenKind, bool)>,
    previous_was_prefix: bool,
) -> bool {
    let previous_text = &text[previous.start..previous.end];
    let token_text = &text[token.start..token.end];
    if is_comment(previous) || is_comment(token) {
        return true;
    }
    let previous_opens = previous_facts.opens.map(|(kind, _)| kind);
    if matches!(
        previous_opens,
        Some(OpenKind::Paren | OpenKind::Interpolation)
    ) {
        return false;
    }
    if matches!(
        closes.map(|(kind, _)| kind),
        Some(OpenKind::Paren | OpenKind::Interpolation)
    ) {
        return false;
    }
    if token.kind == TokenKind::Punct && matches!(token_text, ";" | "," | ":" | "@") {
        return false;
    }
    if previous.kind == TokenKind::Punct && matches!(previous_text, ";" | "," | ":") {
        return true;
    }
    if previous.kind == TokenKind::Punct && previous_text == "@" {
        return false;
    }
    if token.kind == TokenKind::Punct && token_text == "." {
        return match previous.kind {
            TokenKind::Number | TokenKind::Path => token.space_before,
            _ => false,
        };
    }
    if previous.kind == TokenKind::Punct && previous_text == "." {
        // `1 . a` keeps its spaces: `1.` would be a float.
        return before_previous
            .is_some_and(|t| matches!(t.kind, TokenKind::Number | TokenKind::Path))
            && token.space_before;
    }
    if previous_was_prefix {
        return token.space_before;
    }
    true
}
