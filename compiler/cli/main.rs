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

/// Stack of the thread that runs the command (address space only; pages are used on demand).
const CLI_STACK_BYTES: usize = 256 << 20;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // The command runs on a thread with a big stack: the values it prints or checks may nest
    // up to the evaluator's limit (10,000 levels), and every consumer recurses over them.
    let worker = std::thread::Builder::new()
        .name("hac".to_string())
        .stack_size(CLI_STACK_BYTES)
        .spawn(move || commands::run(cli).code());
    let code = match worker {
        Ok(handle) => handle.join().unwrap_or(101),
        Err(e) => {
            eprintln!("error: cannot start the main thread: {e}");
            3
        }
    };
    ExitCode::from(code)
}
