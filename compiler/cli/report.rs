//! Printing diagnostics to stderr in the chosen format, and the exit-code outcome.

use crate::args::{Color, Common, MessageFormat};
use hac_core::{Diagnostic, Severity, SourceMap};
use std::io::{IsTerminal, Write};

/// How a command ended, mapped to the exit codes of cli.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0
    Success,
    /// 1: the input is wrong (diagnostics printed)
    InputError,
    /// 1: `hac diff` found differences (as diff(1) says it)
    Different,
    /// 2: the command line is wrong
    UsageError,
    /// 3: an I/O or environment failure (nothing half-written)
    IoError,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::InputError | Outcome::Different => 1,
            Outcome::UsageError => 2,
            Outcome::IoError => 3,
        }
    }
}

pub struct Printer {
    pub format: MessageFormat,
    pub color: bool,
    pub deny_warnings: bool,
    pub quiet: bool,
}

impl Printer {
    pub fn new(common: &Common) -> Printer {
        let color = match common.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        Printer {
            format: common.message_format,
            color,
            deny_warnings: common.deny_warnings,
            quiet: common.quiet,
        }
    }

    /// Prints the diagnostics (warnings promoted under `--deny-warnings`) and says whether
    /// any of them is an error.
    pub fn emit(&self, sources: &SourceMap, diags: &[Diagnostic]) -> bool {
        let mut any_error = false;
        let stderr = std::io::stderr();
        let mut err = stderr.lock();
        for d in diags {
            let mut d = d.clone();
            if self.deny_warnings && d.severity == Severity::Warning {
                d.severity = Severity::Error;
                d.notes
                    .push("warnings are errors (--deny-warnings)".to_string());
            }
            any_error |= d.is_error();
            let text = match self.format {
                MessageFormat::Human => {
                    // Text from the input reaches a terminal: no control characters.
                    let d = escape_diagnostic(d);
                    let clean = blanked(sources);
                    d.render(clean.as_ref().unwrap_or(sources), self.color)
                }
                MessageFormat::Json => format!("{}\n", d.to_json(sources)),
            };
            let _ = err.write_all(text.as_bytes());
        }
        any_error
    }

    /// A one-off error without a source location (I/O, environment).
    pub fn error(&self, code: Option<&str>, message: &str, hint: Option<&str>) {
        let mut d = Diagnostic::error(message);
        d.code = code.map(str::to_string);
        if let Some(h) = hint {
            d.hints.push(h.to_string());
        }
        self.emit(&SourceMap::new(), &[d]);
    }

    /// Progress and results for humans (stdout), unless `-q`.
    pub fn say(&self, line: &str) {
        if !self.quiet {
            out(&format!("{line}\n"));
        }
    }
}

/// Writes `text` to stdout and flushes it. Output is the last thing a command does, so a
/// failure ends the process here: a closed pipe (`hac eval … | head -c1`) quietly, a full
/// device or another I/O error with a message; both exit 3, never a panic.
pub fn out(text: &str) {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    let result = lock.write_all(text.as_bytes()).and_then(|_| lock.flush());
    if let Err(e) = result {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot write to standard output: {e}"
            );
        }
        std::process::exit(i32::from(Outcome::IoError.code()));
    }
}

/// The diagnostic with control characters in its texts escaped (JSON output escapes them
/// by itself).
fn escape_diagnostic(mut d: Diagnostic) -> Diagnostic {
    use hac_core::input::escape_controls;
    let esc = |s: &mut String| {
        if let std::borrow::Cow::Owned(e) = escape_controls(s) {
            *s = e;
        }
    };
    esc(&mut d.message);
    if let Some(l) = d.span_label.as_mut() {
        esc(l);
    }
    d.labels.iter_mut().for_each(|l| esc(&mut l.message));
    d.trace.iter_mut().for_each(|t| esc(&mut t.message));
    d.hints.iter_mut().for_each(esc);
    d.notes.iter_mut().for_each(esc);
    d
}

/// The sources with control characters blanked (same byte offsets), for snippets.
fn blanked(sources: &SourceMap) -> Option<SourceMap> {
    use hac_core::input::blank_controls;
    let dirty = sources.files().any(|(_, f)| {
        matches!(blank_controls(&f.text), std::borrow::Cow::Owned(_))
            || matches!(
                hac_core::input::escape_controls(&f.name),
                std::borrow::Cow::Owned(_)
            )
    });
    if !dirty {
        return None;
    }
    let mut clean = SourceMap::new();
    for (_, f) in sources.files() {
        clean.add(
            hac_core::input::escape_controls(&f.name).into_owned(),
            blank_controls(&f.text).into_owned(),
        );
    }
    Some(clean)
}
