//! String literal decoding as Nix's lexer and parser do it: escapes of `"…"` strings, the
//! escapes of indented strings, and Nix's indentation stripping for `'' … ''`.

use crate::ast::{Expr, StrPart};

/// Decodes the text of a `"…"` string between interpolations: `\n \r \t`, any other `\c` is
/// `c`, and a raw CR or CR LF becomes LF (as Nix's `unescapeStr`).
pub(super) fn unescape_double_quoted(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            '\r' => {
                out.push('\n');
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Decodes the character after `''\` in an indented string.
pub(super) fn unescape_indented_char(c: char) -> String {
    match c {
        'n' => "\n".to_string(),
        'r' => "\r".to_string(),
        't' => "\t".to_string(),
        other => other.to_string(),
    }
}

/// One piece of an indented string as Nix's lexer delivers it.
pub(super) enum IndPiece {
    /// Literal text; `counts_for_indentation` is false for escapes (`''$`, `'''`, `''\n`,
    /// a lone `$` or `'`), which Nix treats as content, never as indentation.
    Text {
        text: String,
        counts_for_indentation: bool,
    },
    Interp(Expr),
}

/// Nix's `stripIndentation`: removes the smallest indentation of the non-empty lines, and
/// drops a last line made only of spaces.
pub(super) fn strip_indentation(pieces: Vec<IndPiece>) -> Vec<StrPart> {
    if pieces.is_empty() {
        return Vec::new();
    }
    // Minimum indentation.
    let mut at_start_of_line = true;
    let mut min_indent = usize::MAX;
    let mut cur_indent = 0usize;
    for piece in &pieces {
        match piece {
            IndPiece::Text {
                text,
                counts_for_indentation: true,
            } => {
                for c in text.chars() {
                    if at_start_of_line {
                        if c == ' ' {
                            cur_indent += 1;
                        } else if c == '\n' {
                            cur_indent = 0;
                        } else {
                            at_start_of_line = false;
                            min_indent = min_indent.min(cur_indent);
                        }
                    } else if c == '\n' {
                        at_start_of_line = true;
                        cur_indent = 0;
                    }
                }
            }
            _ => {
                if at_start_of_line {
                    at_start_of_line = false;
                    min_indent = min_indent.min(cur_indent);
                }
            }
        }
    }
    if min_indent == usize::MAX {
        min_indent = 1_000_000;
    }

    // Strip it from every line.
    let mut parts: Vec<StrPart> = Vec::new();
    at_start_of_line = true;
    let mut cur_dropped = 0usize;
    let count = pieces.len();
    for (index, piece) in pieces.into_iter().enumerate() {
        match piece {
            IndPiece::Interp(expr) => {
                at_start_of_line = false;
                cur_dropped = 0;
                parts.push(StrPart::Interp(expr));
            }
            IndPiece::Text { text, .. } => {
                let mut kept = String::with_capacity(text.len());
                for c in text.chars() {
                    if at_start_of_line {
                        if c == ' ' {
                            if cur_dropped >= min_indent {
                                kept.push(c);
                            }
                            cur_dropped += 1;
                        } else if c == '\n' {
                            cur_dropped = 0;
                            kept.push(c);
                        } else {
                            at_start_of_line = false;
                            cur_dropped = 0;
                            kept.push(c);
                        }
                    } else {
                        kept.push(c);
                        if c == '\n' {
                            at_start_of_line = true;
                        }
                    }
                }
                // The last piece: drop a final line made only of spaces.
                if index + 1 == count {
                    if let Some(newline) = kept.rfind('\n') {
                        if kept[newline + 1..].chars().all(|c| c == ' ') {
                            kept.truncate(newline + 1);
                        }
                    }
                }
                push_lit(&mut parts, kept);
            }
        }
    }
    parts
}

/// Appends literal text, merging it with a literal just before it; empty text is dropped.
pub(super) fn push_lit(parts: &mut Vec<StrPart>, text: String) {
    if text.is_empty() {
        return;
    }
    if let Some(StrPart::Lit(previous)) = parts.last_mut() {
        previous.push_str(&text);
    } else {
        parts.push(StrPart::Lit(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_quoted_escapes_follow_nix() {
        assert_eq!(
            unescape_double_quoted(r#"a\nb\tc\rd\\e\"f\$g\qh"#),
            "a\nb\tc\rd\\e\"f$gqh"
        );
        assert_eq!(unescape_double_quoted("a\r\nb\rc"), "a\nb\nc");
    }

    #[test]
    fn indentation_is_the_minimum_over_non_empty_lines() {
        let pieces = vec![IndPiece::Text {
            text: "  a\n    b\n\n  c\n  ".to_string(),
            counts_for_indentation: true,
        }];
        assert_eq!(
            strip_indentation(pieces),
            vec![StrPart::Lit("a\n  b\n\nc\n".to_string())]
        );
    }
}
