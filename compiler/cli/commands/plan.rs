//! `hac plan`: the previous bundle's state, this build's, and the steps between them.

use crate::args::{ClockFlags, DiffFormat, EvalFlags};
use crate::report::{Outcome, Printer};
use std::path::{Path, PathBuf};

pub fn run(
    p: &Printer,
    file: &Path,
    from: &Path,
    secrets: Option<PathBuf>,
    format: DiffFormat,
    clock: &ClockFlags,
    flags: &EvalFlags,
) -> Outcome {
    let previous = match super::build::read_previous_state(p, from) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let compiled = match super::build::compile(p, file, secrets, Some(&previous), clock, flags) {
        Ok(c) => c,
        Err(o) => return o,
    };
    match hac_plan::plan(&previous, &compiled.state) {
        Ok(plan) => {
            let text = match format {
                DiffFormat::Text => plan.to_text(),
                DiffFormat::Json => plan.to_json(),
            };
            crate::report::out(&text);
            Outcome::Success
        }
        Err(diags) => {
            p.emit(&compiled.checked.sources, &diags);
            Outcome::InputError
        }
    }
}
