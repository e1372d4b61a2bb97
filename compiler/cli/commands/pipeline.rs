//! The front half of the pipeline shared by `check` and `build`: evaluate → model → check.

use crate::args::EvalFlags;
use crate::report::{Outcome, Printer};
use hac_core::SourceMap;
use hac_eval::EvalOptions;
use hac_model::Cluster;
use std::path::Path;

pub fn eval_options(flags: &EvalFlags, attr: Option<&str>) -> EvalOptions {
    EvalOptions {
        allow_paths: flags.allow_paths.clone(),
        attr_path: attr
            .filter(|a| !a.is_empty())
            .map(|a| a.split('.').map(str::to_string).collect())
            .unwrap_or_default(),
    }
}

/// A cluster that passed every rule (its warnings already printed).
pub struct Checked {
    pub cluster: Cluster,
    pub sources: SourceMap,
}

/// Evaluates, converts and checks `file`. Prints every diagnostic; returns the cluster
/// only when no error remains (warnings count as errors under --deny-warnings).
pub fn load_and_check(p: &Printer, file: &Path, flags: &EvalFlags) -> Result<Checked, Outcome> {
    if !file.is_file() {
        p.error(
            None,
            &format!("cannot read {}: no such file", file.display()),
            Some("give the path of a .ha cluster file"),
        );
        return Err(Outcome::IoError);
    }
    let ev = hac_eval::evaluate(file, &eval_options(flags, None));
    let data = match ev.result {
        Ok(d) => d,
        Err(d) => {
            p.emit(&ev.sources, &[d]);
            return Err(Outcome::InputError);
        }
    };
    let cluster = match hac_check::build_model(&data) {
        Ok(c) => c,
        Err(diags) => {
            p.emit(&ev.sources, &diags);
            return Err(Outcome::InputError);
        }
    };
    let diags = hac_check::check(&cluster);
    if p.emit(&ev.sources, &diags) {
        return Err(Outcome::InputError);
    }
    Ok(Checked {
        cluster,
        sources: ev.sources,
    })
}

/// `hac check`: diagnostics on stderr, the availability report on stdout.
pub fn check(p: &Printer, file: &Path, flags: &EvalFlags) -> Outcome {
    match load_and_check(p, file, flags) {
        Ok(checked) => {
            p.say(hac_check::report(&checked.cluster).trim_end());
            Outcome::Success
        }
        Err(o) => o,
    }
}
