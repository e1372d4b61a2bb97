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
    let bytes = text.as_bytes();
    let mut stack: Vec<(Opener, usize)> = Vec::new();
    let mut i = 0usize;
    while i < bytes.len() {
        let top = stack.last().map(|(opener, _)| *opener);
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
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
                                return Some((opener, at));
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
    stack.last().copied()
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
}
