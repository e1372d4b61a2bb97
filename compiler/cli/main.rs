//! `hac`: the command line. A thin layer: it parses arguments, calls the stage crates in
//! pipeline order (parse → evaluate → model → check → pki → render → bundle), prints
//! diagnostics and results, and maps outcomes to the exit codes of cli.md.

mod args;
mod commands;
mod report;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc: faster than the system allocator for the evaluator's many small allocations.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let outcome = commands::run(cli);
    ExitCode::from(outcome.code())
}
