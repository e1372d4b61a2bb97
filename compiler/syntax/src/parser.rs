//! Source text → [`crate::ast::Expr`]. (To be written: pest grammar + Pratt parser.)

use crate::ast::Expr;
use hac_core::{Diagnostic, FileId};

/// Parses one file. Errors are diagnostics with code `E0001` (syntax) or `E0002`
/// (a Nix feature that is not part of `.ha`).
pub fn parse(file: FileId, text: &str) -> Result<Expr, Vec<Diagnostic>> {
    let _ = (file, text);
    Err(vec![Diagnostic::error("parser not yet written").with_code("E0001")])
}
