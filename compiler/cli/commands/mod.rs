//! One function per command; each returns an [`Outcome`].

mod build;
mod eval;
mod fmt;
mod graph;
mod pipeline;
mod secrets;

use crate::args::{Cli, Command, SecretsCommand};
use crate::report::{Outcome, Printer};

pub fn run(cli: Cli) -> Outcome {
    let p = Printer::new(&cli.common);
    match cli.command {
        Command::Eval {
            file,
            json,
            yaml,
            attr,
            eval,
        } => eval::run(&p, &file, json, yaml, attr, &eval),
        Command::Check { file, eval } => pipeline::check(&p, &file, &eval),
        Command::Build {
            file,
            output,
            secrets,
            format,
            eval,
        } => build::run(&p, &file, output, secrets, format, &eval),
        Command::Graph { file, output, eval } => graph::run(&p, &file, output.as_deref(), &eval),
        Command::Secrets(SecretsCommand::Init { file }) => secrets::init(&p, &file),
        Command::Secrets(SecretsCommand::ImportCa { file, cert, key }) => {
            secrets::import_ca(&p, &file, &cert, &key)
        }
        Command::Explain { list: true, .. } => explain_list(),
        Command::Explain {
            code: Some(code), ..
        } => explain(&p, &code),
        Command::Explain { code: None, .. } => {
            // clap requires a code or --list; kept total rather than trusted.
            p.error(
                None,
                "give a diagnostic code or --list",
                Some("e.g. `hac explain E0201`, or `hac explain --list` for every code"),
            );
            Outcome::UsageError
        }
        Command::Reference => reference(),
        Command::Inspect { path } => inspect(&p, &path),
        Command::Fmt { files, check } => fmt::run(&p, &files, check),
    }
}

fn explain(p: &Printer, code: &str) -> Outcome {
    let code = code.trim().to_ascii_uppercase();
    match hac_check::explain(&code).or_else(|| hac_render::codes::explain(&code)) {
        Some(text) => {
            crate::report::out(&format!("{}\n", text.trim_end()));
            Outcome::Success
        }
        None => {
            p.error(None, &format!("no diagnostic has the code `{code}`"), Some("codes look like E0201 or W0203; they are printed in brackets after `error` or `warning`"));
            Outcome::UsageError
        }
    }
}

/// `hac explain --list`: every code with its title, one a line, sorted.
fn explain_list() -> Outcome {
    let mut text = String::new();
    for (code, title) in hac_check::reference::code_titles(hac_render::codes::EXPLANATIONS) {
        text.push_str(&format!("{code} {title}\n"));
    }
    crate::report::out(&text);
    Outcome::Success
}

/// `hac reference`: docs/reference.md on stdout.
fn reference() -> Outcome {
    crate::report::out(&hac_check::reference::markdown(
        hac_eval::STDLIB,
        hac_render::codes::EXPLANATIONS,
    ));
    Outcome::Success
}

fn inspect(p: &Printer, path: &std::path::Path) -> Outcome {
    match hac_bundle::inspect(path) {
        Ok(text) => {
            crate::report::out(&text);
            Outcome::Success
        }
        Err(e) => {
            p.error(
                None,
                &format!("cannot inspect {}: {e}", path.display()),
                None,
            );
            Outcome::IoError
        }
    }
}
