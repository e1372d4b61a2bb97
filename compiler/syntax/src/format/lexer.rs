//! A small lossless tokenizer for the formatter. It splits `.ha` source into the tokens Nix's
//! lexer would see (taking the longest match, as `grammar/hac.pest` does) and keeps comments
//! as tokens. A string literal of either kind, with every interpolation inside it, is one
//! token: the formatter copies strings byte for byte. Whitespace is not a token; each token
//! records how many newlines came before it. The scanner never recurses (nested strings and
//! interpolations use an explicit stack), so no input can overflow the stack.

/// What a token is, as far as the formatter cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// `# …` up to (not including) the end of the line.
    LineComment,
    /// `/* … */`
    BlockComment,
    /// `"…"` or `'' … ''`, interpolations included.
    Str,
    /// Identifiers and keywords.
    Word,
    Number,
    /// `./a`, `a/b`, `/abs`, `<hac/x>`, `~/x`.
    Path,
    /// Operators and punctuation (and any character no other kind takes).
    Punct,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
    /// Newlines in the whitespace between the previous token and this one.
    pub newlines_before: usize,
    /// Whether any whitespace at all separates this token from the previous one.
    pub space_before: bool,
}

/// The keywords of the language (`or` is also an attribute name).
pub(crate) const KEYWORDS: [&str; 10] = [
    "if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or",
];

/// The longest first path component pest's grammar reads (`path_first`).
const PATH_FIRST_MAX: usize = 256;

/// Multi-character punctuation, longest first where prefixes overlap.
const PUNCTUATION: [&str; 13] = [
    "...", "${", "->", "||", "&&", "==", "!=", "<=", ">=", "//", "++", "|>", "<|",
];

/// The top-level tokens of `text`.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let mut nested_comments = Vec::new();
    tokenize_with_nested(text, &mut nested_comments)
}

/// Every comment of `text`, those inside string interpolations included, in source order.
pub(crate) fn comment_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut nested = Vec::new();
    let mut ranges: Vec<(usize, usize)> = tokenize_with_nested(text, &mut nested)
        .into_iter()
        .filter(|token| matches!(token.kind, TokenKind::LineComment | TokenKind::BlockComment))
        .map(|token| (token.start, token.end))
        .collect();
    ranges.extend(nested);
    ranges.sort_unstable();
    ranges
}

fn tokenize_with_nested(text: &str, nested_comments: &mut Vec<(usize, usize)>) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    loop {
        let mut newlines = 0;
        let whitespace_start = at;
        while at < bytes.len() && is_whitespace(bytes[at]) {
            if bytes[at] == b'\n' {
                newlines += 1;
            }
            at += 1;
        }
        if at >= bytes.len() {
            return tokens;
        }
        let (kind, end) = match scan_code_token(text, at) {
            CodeToken::Other(kind, end) => (kind, end),
            CodeToken::StringStart(quote) => (
                TokenKind::Str,
                scan_string(text, at, quote, nested_comments),
            ),
        };
        tokens.push(Token {
            kind,
            start: at,
            end,
            newlines_before: newlines,
            space_before: at > whitespace_start,
        });
        at = end.max(at + 1).min(bytes.len());
    }
}

fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_path_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-' | b'+')
}

fn is_ident_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_'
}

fn is_ident_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'\'' | b'-')
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    Double,
    Indented,
}

enum CodeToken {
    Other(TokenKind, usize),
    StringStart(Quote),
}

/// The token of code starting at `at` (not whitespace): its kind and end, or the start of a
/// string, which the caller scans.
fn scan_code_token(text: &str, at: usize) -> CodeToken {
    let bytes = text.as_bytes();
    let byte_at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let first = byte_at(at);
    if first == b'#' {
        let mut end = text[at..]
            .find('\n')
            .map_or(text.len(), |offset| at + offset);
        // A CR before the LF is part of the line ending, not of the comment.
        if end > at + 1 && byte_at(end - 1) == b'\r' {
            end -= 1;
        }
        return CodeToken::Other(TokenKind::LineComment, end);
    }
    if first == b'/' && byte_at(at + 1) == b'*' {
        let end = text[at + 2..]
            .find("*/")
            .map_or(text.len(), |offset| at + 2 + offset + 2);
        return CodeToken::Other(TokenKind::BlockComment, end);
    }
    if first == b'"' {
        return CodeToken::StringStart(Quote::Double);
    }
    if first == b'\'' && byte_at(at + 1) == b'\'' {
        return CodeToken::StringStart(Quote::Indented);
    }
    if let Some(end) = scan_path(bytes, at) {
        return CodeToken::Other(TokenKind::Path, end);
    }
    if first == b'~' && byte_at(at + 1) == b'/' && is_path_char(byte_at(at + 2)) {
        let mut end = at + 1;
        while byte_at(end) == b'/' && is_path_char(byte_at(end + 1)) {
            end += 1;
            while is_path_char(byte_at(end)) {
                end += 1;
            }
        }
        if byte_at(end) == b'/' {
            end += 1;
        }
        return CodeToken::Other(TokenKind::Path, end);
    }
    if first == b'<' {
        if let Some(end) = scan_search_path(bytes, at) {
            return CodeToken::Other(TokenKind::Path, end);
        }
    }
    if first.is_ascii_digit() || (first == b'.' && byte_at(at + 1).is_ascii_digit()) {
        return CodeToken::Other(TokenKind::Number, scan_number(bytes, at));
    }
    if is_ident_start(first) {
        let mut end = at + 1;
        while is_ident_char(byte_at(end)) {
            end += 1;
        }
        return CodeToken::Other(TokenKind::Word, end);
    }
    for punctuation in PUNCTUATION {
        if text[at..].starts_with(punctuation) {
            return CodeToken::Other(TokenKind::Punct, at + punctuation.len());
        }
    }
    let width = text[at..].chars().next().map_or(1, char::len_utf8);
    CodeToken::Other(TokenKind::Punct, at + width)
}

/// `path_text` of the grammar: up to 256 path characters, then `/` and a path character
/// (or `/${`), then more `/…` components and an optional trailing `/`.
fn scan_path(bytes: &[u8], at: usize) -> Option<usize> {
    let byte_at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let mut end = at;
    while end - at < PATH_FIRST_MAX && is_path_char(byte_at(end)) {
        end += 1;
    }
    if byte_at(end) != b'/' {
        return None;
    }
    if !is_path_char(byte_at(end + 1)) {
        return (byte_at(end + 1) == b'$' && byte_at(end + 2) == b'{').then_some(end + 1);
    }
    while byte_at(end) == b'/' && is_path_char(byte_at(end + 1)) {
        end += 1;
        while is_path_char(byte_at(end)) {
            end += 1;
        }
    }
    if byte_at(end) == b'/' {
        end += 1;
    }
    Some(end)
}

/// `<name/name>`
fn scan_search_path(bytes: &[u8], at: usize) -> Option<usize> {
    let byte_at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let mut end = at + 1;
    if !is_path_char(byte_at(end)) {
        return None;
    }
    while is_path_char(byte_at(end)) {
        end += 1;
    }
    while byte_at(end) == b'/' && is_path_char(byte_at(end + 1)) {
        end += 1;
        while is_path_char(byte_at(end)) {
            end += 1;
        }
    }
    (byte_at(end) == b'>').then_some(end + 1)
}

/// `bad_exponent`, `float` and `int` of the grammar, tried in that order.
fn scan_number(bytes: &[u8], at: usize) -> usize {
    let byte_at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let digits_from = |mut i: usize| {
        while byte_at(i).is_ascii_digit() {
            i += 1;
        }
        i
    };
    let exponent_from = |i: usize| -> Option<usize> {
        if !matches!(byte_at(i), b'e' | b'E') {
            return None;
        }
        let mut j = i + 1;
        if matches!(byte_at(j), b'+' | b'-') {
            j += 1;
        }
        byte_at(j).is_ascii_digit().then(|| digits_from(j))
    };
    let int_end = digits_from(at);
    if int_end > at {
        if let Some(end) = exponent_from(int_end) {
            if !is_ident_char(byte_at(end)) {
                return end;
            }
        }
    }
    let first = byte_at(at);
    if first.is_ascii_digit() && first != b'0' && byte_at(int_end) == b'.' {
        let fraction_end = digits_from(int_end + 1);
        return exponent_from(fraction_end).unwrap_or(fraction_end);
    }
    let dot = if first == b'0' && byte_at(at + 1) == b'.' {
        at + 1
    } else {
        at
    };
    if byte_at(dot) == b'.' && byte_at(dot + 1).is_ascii_digit() {
        let fraction_end = digits_from(dot + 1);
        return exponent_from(fraction_end).unwrap_or(fraction_end);
    }
    int_end.max(at + 1)
}

#[derive(Clone, Copy)]
enum Mode {
    Double,
    Indented,
    /// Code inside `${ … }`, with the number of `{` opened inside it and not yet closed.
    Interpolation(usize),
}

/// The end of the string literal that starts at `at`, interpolations (and the strings and
/// comments inside them) included. Comments inside interpolations go to `nested_comments`.
fn scan_string(
    text: &str,
    at: usize,
    quote: Quote,
    nested_comments: &mut Vec<(usize, usize)>,
) -> usize {
    let bytes = text.as_bytes();
    let byte_at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let (mut stack, mut i) = match quote {
        Quote::Double => (vec![Mode::Double], at + 1),
        Quote::Indented => (vec![Mode::Indented], at + 2),
    };
    while let Some(mode) = stack.last_mut() {
        if i >= bytes.len() {
            return bytes.len();
        }
        match mode {
            Mode::Double => match byte_at(i) {
                b'"' => {
                    stack.pop();
                    i += 1;
                }
                b'\\' => i += 2,
                b'$' => match byte_at(i + 1) {
                    b'{' => {
                        stack.push(Mode::Interpolation(0));
                        i += 2;
                    }
                    b'\\' => i += 3,
                    b'"' => i += 1,
                    _ => i += 2,
                },
                _ => i += 1,
            },
            Mode::Indented => match byte_at(i) {
                b'\'' if byte_at(i + 1) == b'\'' => match byte_at(i + 2) {
                    b'\'' | b'$' => i += 3,
                    b'\\' => i += 4,
                    _ => {
                        stack.pop();
                        i += 2;
                    }
                },
                b'$' => match byte_at(i + 1) {
                    b'{' => {
                        stack.push(Mode::Interpolation(0));
                        i += 2;
                    }
                    b'\'' => i += 1,
                    _ => i += 2,
                },
                _ => i += 1,
            },
            Mode::Interpolation(depth) => {
                if is_whitespace(byte_at(i)) {
                    i += 1;
                    continue;
                }
                match scan_code_token(text, i) {
                    CodeToken::StringStart(Quote::Double) => {
                        stack.push(Mode::Double);
                        i += 1;
                    }
                    CodeToken::StringStart(Quote::Indented) => {
                        stack.push(Mode::Indented);
                        i += 2;
                    }
                    CodeToken::Other(kind, end) => {
                        let token = &text[i..end.min(text.len())];
                        if matches!(kind, TokenKind::LineComment | TokenKind::BlockComment) {
                            nested_comments.push((i, end));
                        } else if token == "{" || token == "${" {
                            *depth += 1;
                        } else if token == "}" {
                            if *depth == 0 {
                                stack.pop();
                            } else {
                                *depth -= 1;
                            }
                        }
                        i = end.max(i + 1);
                    }
                }
            }
        }
    }
    i.min(bytes.len())
}
