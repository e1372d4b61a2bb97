//! The pest parser generated from `grammar/hac.pest`, kept private to the parser module.

use pest::iterators::Pairs;
use pest::Parser;
use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "../../grammar/hac.pest"]
pub(super) struct HacGrammar;

/// Runs the grammar's `file` rule over the whole text.
pub(super) fn parse_file(text: &str) -> Result<Pairs<'_, Rule>, Box<pest::error::Error<Rule>>> {
    HacGrammar::parse(Rule::file, text).map_err(Box::new)
}
