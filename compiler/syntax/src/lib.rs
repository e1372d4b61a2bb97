//! The `.ha` syntax: the pest grammar (`grammar/hac.pest`), the spanned AST, and the parser
//! that turns source text into that AST or into diagnostics. The parser never panics and
//! never overflows the stack, whatever the input.

pub mod ast;
pub mod format;
mod parser;

pub use parser::parse;
