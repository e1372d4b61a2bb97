//! A light scan of the source that finds what is left open at the end of the file (a string,
//! a comment, a bracket), so a syntax error at the end can point at the opening token.

/// Something opened and never closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Opener {
    Paren,
    Bracket,
    Brace,
    Interpolation,
    String,
    IndentedString,
    Comment,
}

impl Opener {
    pub(super) fn describe(self) -> &'static str {
        match self {
            Opener::Paren => "`(`",
            Opener::Bracket => "`[`",
            Opener::Brace => "`{`",
            Opener::Interpolation => "`${`",
            Opener::String => "string",
            Opener::IndentedString => "indented string `''`",
            Opener::Comment => "comment `/*`",
        }
    }

    pub(super) fn closer(self) -> &'static str {
        match self {
            Opener::Paren => "`)`",
            Opener::Bracket => "`]`",
            Opener::Brace | Opener::Interpolation => "`}`",
            Opener::String => "`\"`",
            Opener::IndentedString => "`''`",
            Opener::Comment => "`*/`",
        }
    }
}

/// The first construct left unbalanced, with the byte offset of its opening: the bracket
/// open when a different closing bracket appears, else the innermost one still open at the
/// end of `text`.
pub(super) fn first_unbalanced(text: &str) -> Option<(Opener, usize)> {
    match walk(text, &mut |_, _| false) {
        Walk::Unbalanced(opener, at) => Some((opener, at)),
        Walk::Balanced | Walk::Stopped(_) => None,
    }
}

/// The offset of a run of code without spaces (`1+1+1+…`) holding more than `limit` `+`
/// signs. Such a run is a chain of more than `limit / 2` operators, and it is the one input
/// that makes Nix's path rule rescan text from every operand, so it is caught up front.
pub(super) fn long_plus_run(text: &str, limit: usize) -> Option<usize> {
    let mut pluses = 0usize;
    let mut on_code = |_at: usize, byte: Option<u8>| {
        match byte {
            Some(b'+') => pluses += 1,
            Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-') => {}
            _ => pluses = 0,
        }
        pluses > limit
    };
    match walk(text, &mut on_code) {
        Walk::Stopped(at) => Some(at),
        _ => None,
    }
}

/// How a [`walk`] ended.
enum Walk {
    Balanced,
    Unbalanced(Opener, usize),
    /// The callback asked to stop at this offset.
    Stopped(usize),
}

/// Walks the text as Nix's lexer would see strings, comments and brackets, calling
/// `on_code(offset, Some(byte))` for each byte of code outside strings and comments and
/// `on_code(offset, None)` where code is interrupted; the walk stops when it returns true.
// One lexer loop whose position and opener stack every branch moves: its cases read best together.
#[allow(clippy::too_many_lines)]
fn walk(text: &str, on_code: &mut dyn FnMut(usize, Option<u8>) -> bool) -> Walk {
    let bytes = text.as_bytes();
    let mut stack: Vec<(Opener, usize)> = Vec::new();
    let mut i = 0usize;
    while i < bytes.len() {
        let top = stack.last().map(|(opener, _)| *opener);
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        if matches!(
            top,
            Some(Opener::String | Opener::IndentedString | Opener::Comment)
        ) && on_code(i, None)
        {
            return Walk::Stopped(i);
        }
        match top {
            Some(Opener::String) => match c {
                b'\\' => i += 2,
                b'"' => {
                    stack.pop();
                    i += 1;
                }
                b'$' if next == Some(b'{') => {
                    stack.push((Opener::Interpolation, i));
                    i += 2;
                }
                b'$' => i += 2.min(bytes.len() - i).max(1),
                _ => i += 1,
            },
            Some(Opener::IndentedString) => {
                if bytes[i..].starts_with(b"'''") || bytes[i..].starts_with(b"''$") {
                    i += 3;
                } else if bytes[i..].starts_with(b"''\\") {
                    i += 4;
                } else if bytes[i..].starts_with(b"''") {
                    stack.pop();
                    i += 2;
                } else if bytes[i..].starts_with(b"${") {
                    stack.push((Opener::Interpolation, i));
                    i += 2;
                } else if c == b'$' {
                    i += 2.min(bytes.len() - i).max(1);
                } else {
                    i += 1;
                }
            }
            Some(Opener::Comment) => {
                if bytes[i..].starts_with(b"*/") {
                    stack.pop();
                    i += 2;
                } else {
                    i += 1;
                }
            }
            _ => {
                if on_code(i, Some(c)) {
                    return Walk::Stopped(i);
                }
                match c {
                    b'#' => {
                        while i < bytes.len() && bytes[i] != b'\n' {
                            i += 1;
                        }
                        continue;
                    }
                    b'/' if next == Some(b'*') => {
                        stack.push((Opener::Comment, i));
                        i += 2;
                        continue;
                    }
                    b'"' => stack.push((Opener::String, i)),
                    b'\'' if next == Some(b'\'') => {
                        stack.push((Opener::IndentedString, i));
                        i += 2;
                        continue;
                    }
                    b'$' if next == Some(b'{') => {
                        stack.push((Opener::Interpolation, i));
                        i += 2;
                        continue;
                    }
                    b'(' => stack.push((Opener::Paren, i)),
                    b'[' => stack.push((Opener::Bracket, i)),
                    b'{' => stack.push((Opener::Brace, i)),
                    b')' | b']' | b'}' => {
                        if let Some(&(opener, at)) = stack.last() {
                            let matches = match c {
                                b')' => opener == Opener::Paren,
                                b']' => opener == Opener::Bracket,
                                _ => matches!(opener, Opener::Brace | Opener::Interpolation),
                            };
                            if !matches {
                                return Walk::Unbalanced(opener, at);
                            }
                            stack.pop();
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
    }
    match stack.last() {
        Some(&(opener, at)) => Walk::Unbalanced(opener, at),
        None => Walk::Balanced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_innermost_unclosed_construct() {
        assert_eq!(
            first_unbalanced("{ a = [ 1 2 ; }"),
            Some((Opener::Bracket, 6))
        );
        assert_eq!(
            first_unbalanced("{ a = \"x ${y}"),
            Some((Opener::String, 6))
        );
        assert_eq!(first_unbalanced("1 /* x"), Some((Opener::Comment, 2)));
        assert_eq!(
            first_unbalanced("''a ''$ b"),
            Some((Opener::IndentedString, 0))
        );
        assert_eq!(first_unbalanced("{ a = \"}\"; } # {"), None);
    }

    #[test]
    fn long_plus_runs_are_found_only_in_code() {
        assert_eq!(long_plus_run("x = 1+1+1+1;", 2), Some(9));
        assert_eq!(long_plus_run("1+1 +1+1", 2), None);
        assert_eq!(long_plus_run("\"1+1+1+1\"", 2), None);
        assert_eq!(long_plus_run("# 1+1+1+1", 2), None);
        assert_eq!(long_plus_run("\"${1+1+1+1}\"", 2), Some(8));
    }
}
