//! Source text → [`crate::ast::Expr`]: runs the pest grammar (`grammar/hac.pest`) on a thread
//! with a large stack, turns the pairs into the spanned AST at once (pest types never leave
//! this module), and turns pest's failures into diagnostics with friendly wording.
//!
//! Robustness: the grammar recurses only at brackets and keyword pairs, pest's own stack
//! guard stops runaway recursion, and the AST construction enforces [`MAX_DEPTH`], so no
//! input can overflow the stack, here or when the AST is later dropped or walked.

mod convert;
mod errors;
mod grammar;
mod scan;
mod strings;

use crate::ast::Expr;
use hac_core::{Diagnostic, FileId, Span};

/// How deeply expressions may nest (brackets, operator chains, applications, lambdas,
/// `let`/`with`/`assert`/`if` bodies together). Deeper input is a syntax error.
pub const MAX_DEPTH: usize = 1000;

/// Stacks to try for the parsing thread, largest first (only the pages actually touched are
/// committed; a smaller one is tried if the system refuses to reserve a large one). Pest's
/// own stack guard and [`MAX_DEPTH`] keep parsing within any of them.
const PARSER_STACK_BYTES: [usize; 2] = [64 << 20, 16 << 20];

/// Parses one file. Errors are diagnostics with code `E0001` (syntax) or `E0002`
/// (a Nix feature that is not part of `.ha`).
pub fn parse(file: FileId, text: &str) -> Result<Expr, Vec<Diagnostic>> {
    let mut last_error = None;
    for stack_bytes in PARSER_STACK_BYTES {
        let outcome = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("hac-parser".to_string())
                .stack_size(stack_bytes)
                .spawn_scoped(scope, || parse_here(file, text))
                .map(std::thread::ScopedJoinHandle::join)
        });
        match outcome {
            Ok(Ok(result)) => return result,
            Ok(Err(_)) => {
                return Err(vec![internal_error(
                    file,
                    "the parser stopped unexpectedly",
                )])
            }
            Err(error) => last_error = Some(error),
        }
    }
    let reason = last_error
        .map(|error| error.to_string())
        .unwrap_or_default();
    Err(vec![internal_error(
        file,
        &format!("could not start the parser thread: {reason}"),
    )])
}

fn internal_error(file: FileId, message: &str) -> Diagnostic {
    Diagnostic::error(format!("internal parser error: {message}"))
        .with_code(hac_core::LanguageCode::Syntax)
        .with_span(Span::new(file, 0, 0))
        .with_note("this is a bug in hac; please report it with the input that caused it")
}

/// Parses on the current thread (which must have a large enough stack).
fn parse_here(file: FileId, text: &str) -> Result<Expr, Vec<Diagnostic>> {
    // More than 2 × MAX_DEPTH `+` in one run of code is more than MAX_DEPTH operators:
    // reject it before pest rescans the run from every operand (see scan::long_plus_run).
    if let Some(at) = scan::long_plus_run(text, 2 * MAX_DEPTH) {
        return Err(vec![Diagnostic::error(format!(
            "expression nested too deeply (limit {MAX_DEPTH})"
        ))
        .with_code(hac_core::LanguageCode::Syntax)
        .with_span(Span::new(file, at, at + 1))
        .with_span_label("too many operators in one expression")
        .with_hint(
            "split the expression with `let` bindings or into several files",
        )]);
    }
    let pairs = match grammar::parse_file(text) {
        Ok(pairs) => pairs,
        Err(error) => return Err(vec![errors::from_pest(file, text, &error)]),
    };
    convert::Converter::new(file)
        .file(pairs)
        .map_err(|diagnostic| vec![*diagnostic])
}
