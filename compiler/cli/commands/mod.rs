//! One function per command; each returns an [`Outcome`].

mod build;
mod cni;
use hac::codes;
mod eval;
mod fmt;
mod graph;
mod pipeline;
mod plan;
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
        } => eval::run(&p, &file, json, yaml, attr.as_deref(), &eval),
        Command::Check { file, clock, eval } => pipeline::check(&p, &file, &clock, &eval),
        Command::Build {
            file,
            output,
            secrets,
            format,
            from,
            failed,
            clock,
            eval,
        } => build::run(
            &p,
            &file,
            output,
            secrets,
            format,
            from.as_deref(),
            &failed,
            &clock,
            &eval,
        ),
        Command::Plan {
            file,
            from,
            failed,
            secrets,
            format,
            play,
            clock,
            eval,
        } => plan::run(
            &p,
            &file,
            &from,
            &failed,
            secrets,
            format,
            play.as_deref(),
            &clock,
            &eval,
        ),
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
        Command::Diff { old, new, format } => diff(&p, &old, &new, format),
    }
}

/// `hac diff`: 0 same, 1 different (like diff(1)), 2 not a bundle, 3 I/O.
fn diff(
    p: &Printer,
    old: &std::path::Path,
    new: &std::path::Path,
    format: crate::args::DiffFormat,
) -> Outcome {
    match hac_bundle::diff(old, new) {
        Ok(diff) => {
            match format {
                crate::args::DiffFormat::Text => crate::report::out(&diff.to_text()),
                crate::args::DiffFormat::Json => {
                    crate::report::out(&format!("{}\n", diff_json(&diff)));
                }
            }
            if diff.is_empty() {
                Outcome::Success
            } else {
                Outcome::Different
            }
        }
        Err(e) => {
            let usage = matches!(e, hac_bundle::BundleError::NotABundle { .. })
                || matches!(&e, hac_bundle::BundleError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound);
            p.error(
                None,
                &format!("cannot compare the bundles: {e}"),
                Some("give two output folders of `hac build` (archives or `--format tree`)"),
            );
            if usage {
                Outcome::UsageError
            } else {
                Outcome::IoError
            }
        }
    }
}

fn explain(p: &Printer, code: &str) -> Outcome {
    let code = code.trim().to_ascii_uppercase();
    match codes::explanation(&code) {
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
    for code in codes::registry() {
        let title = hac_check::reference::code_title(code, hac_render::codes::EXPLANATIONS)
            .unwrap_or_default();
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

/// `hac diff --format json`: the same facts as the words (never more: no contents or digests
/// of private files), as one JSON object.
fn diff_json(diff: &hac_bundle::BundleDiff) -> serde_json::Value {
    use hac_bundle::diff::{ChangeKind, FileDiff, HostDiff};
    use serde_json::json;
    let file = |f: &FileDiff| {
        let kind = match f.kind {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        };
        json!({ "path": f.path, "change": kind, "summary": f.summary, "details": f.details })
    };
    let hosts: Vec<serde_json::Value> = diff
        .hosts
        .iter()
        .map(|h| match h {
            HostDiff::Added { name, files } => {
                json!({ "host": name, "change": "added", "files": files })
            }
            HostDiff::Removed { name, files } => {
                json!({ "host": name, "change": "removed", "files": files })
            }
            HostDiff::Changed { name, changes } => json!({
                "host": name,
                "change": "changed",
                "changes": changes.iter().map(file).collect::<Vec<_>>(),
            }),
        })
        .collect();
    json!({
        "identical": diff.is_empty(),
        "hosts": hosts,
        "unchangedHosts": diff.unchanged_hosts,
        "files": diff.files.iter().map(file).collect::<Vec<_>>(),
        "sha256sumsCompared": !diff.sums_skipped,
    })
}
