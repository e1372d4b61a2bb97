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
            if e.use_stderr() && wants_json_messages() {
                // One JSON line like every other diagnostic, not clap's text.
                let text = e.to_string();
                let mut lines = text.lines().filter(|l| !l.trim().is_empty());
                let first = lines.next().unwrap_or("invalid command line");
                let mut d = hac_core::Diagnostic::error(
                    first.strip_prefix("error: ").unwrap_or(first).trim(),
                );
                d.notes = lines.map(|l| l.trim().to_string()).collect();
                eprintln!("{}", d.to_json(&hac_core::SourceMap::new()));
            } else {
                let _ = e.print();
            }
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

/// Whether the raw arguments ask for `--message-format json` (read when clap cannot parse
/// the rest of the command line).
fn wants_json_messages() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    args.iter().enumerate().any(|(i, a)| {
        a == "--message-format=json"
            || (a == "--message-format" && args.get(i + 1).is_some_and(|v| v == "json"))
    })
}
