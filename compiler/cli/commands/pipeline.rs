//! The front half of the pipeline shared by `check` and `build`: evaluate → model → check.

use crate::args::{ClockFlags, EvalFlags};
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
        max_steps: flags.max_eval_steps,
        max_memory_bytes: flags.max_memory.map(|mib| mib.saturating_mul(1 << 20)),
    }
}

/// Refuses, before evaluation, a FILE that is missing (exit 3), not a regular file (a folder,
/// a FIFO, a device: exit 3, saying what it is) or a secrets file (E0610, exit 1; its
/// contents are never read into a diagnostic).
pub fn check_input(p: &Printer, file: &Path, hint: &str) -> Result<(), Outcome> {
    if hac_core::input::is_secrets_name(file) {
        let d = hac_core::input::InputError::Secrets
            .diagnostic(&format!("cannot read {}", file.display()));
        p.emit(&SourceMap::new(), &[d]);
        return Err(Outcome::InputError);
    }
    let reason = match hac_core::input::not_regular(file) {
        Some(what) => format!("it is {what}, not a regular file"),
        None if !file.is_file() => "no such file".to_string(),
        None => return Ok(()),
    };
    p.error(
        Some(hac_core::LanguageCode::ImportFailed.code()),
        &format!("cannot read {}: {reason}", file.display()),
        Some(hint),
    );
    Err(Outcome::IoError)
}

/// A cluster that passed every rule (its warnings already printed).
pub struct Checked {
    pub cluster: Cluster,
    pub sources: SourceMap,
}

/// Evaluates, converts and checks `file`. Prints every diagnostic; returns the cluster
/// only when no error remains (warnings count as errors under --deny-warnings).
pub fn load_and_check(p: &Printer, file: &Path, flags: &EvalFlags) -> Result<Checked, Outcome> {
    check_input(p, file, "give the path of a .ha cluster file")?;
    let ev = hac_eval::evaluate(file, &eval_options(flags, None));
    let data = match ev.result {
        Ok(d) => d,
        Err(d) => {
            p.emit(&ev.sources, &[d]);
            return Err(Outcome::InputError);
        }
    };
    let mut cluster = match hac_check::build_model(&data) {
        Ok(c) => c,
        Err(diags) => {
            p.emit(&ev.sources, &diags);
            return Err(Outcome::InputError);
        }
    };
    let sandbox = hac_eval::sandbox_for(file, &flags.allow_paths);
    if let Err(d) = super::cni::load(&mut cluster, &sandbox) {
        p.emit(&ev.sources, &[*d]);
        return Err(Outcome::InputError);
    }
    let diags = hac_check::check(&cluster);
    if p.emit(&ev.sources, &diags) {
        return Err(Outcome::InputError);
    }
    Ok(Checked {
        cluster,
        sources: ev.sources,
    })
}

/// The environment variable that replaces the clock, for tests only (RFC 3339, e.g.
/// `HAC_NOW=2026-07-01T00:00:00Z`): the tests' pass or fail must not depend on the day
/// they run.
pub const NOW_VARIABLE: &str = "HAC_NOW";

/// The one read of the clock (seconds since 1970), in the CLI only: render never sees it.
pub fn now(p: &Printer) -> Result<i64, Outcome> {
    if let Some(v) = std::env::var_os(NOW_VARIABLE) {
        let text = v.to_string_lossy();
        return hac_check::convert::parse_rfc3339(&text).ok_or_else(|| {
            p.error(
                None,
                &format!("{NOW_VARIABLE}={text} is not an RFC 3339 time"),
                Some("it is for tests only; unset it, or write e.g. 2026-07-01T00:00:00Z"),
            );
            Outcome::UsageError
        });
    }
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64))
}

/// Certificate expiry at the clock's `now`: W0502 within `pki.expiryWarningDays`, E0504 once
/// expired (W0501 with `--allow-expired`), W0501 not yet valid. Err when it stops the command.
pub fn check_expiry(
    p: &Printer,
    sources: &SourceMap,
    cluster: &Cluster,
    windows: &[hac_check::CertWindow],
    clock: &ClockFlags,
) -> Result<(), Outcome> {
    let now = now(p)?;
    if let Some(d) = hac_check::check_expiry(cluster, windows, now, clock.allow_expired) {
        if p.emit(sources, &[d]) {
            return Err(Outcome::InputError);
        }
    }
    Ok(())
}

/// `hac check`: diagnostics on stderr, the availability report on stdout.
pub fn check(p: &Printer, file: &Path, clock: &ClockFlags, flags: &EvalFlags) -> Outcome {
    match load_and_check(p, file, flags) {
        Ok(checked) => {
            let windows = hac_check::model_cert_windows(&checked.cluster);
            if let Err(o) = check_expiry(p, &checked.sources, &checked.cluster, &windows, clock) {
                return o;
            }
            p.say(hac_check::report(&checked.cluster).trim_end());
            Outcome::Success
        }
        Err(o) => o,
    }
}
