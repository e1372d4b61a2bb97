//! `hac fmt`: format `.ha` files in place (hac_syntax::format), or with `--check` list the
//! files that are not formatted and write nothing. Files are replaced atomically (a sibling
//! temporary file with the original's permissions, then a rename), so a file is either
//! untouched or fully formatted; a file that does not parse is reported and left untouched.

use crate::report::{Outcome, Printer};
use hac_core::SourceMap;
use hac_syntax::format::{format_source, FormatError};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Exit codes: 0 all formatted (or already so), 1 a file does not parse or `--check` found
/// files to change, 3 a file could not be read or written. Every file is tried.
pub fn run(p: &Printer, files: &[PathBuf], check: bool) -> Outcome {
    let mut outcome = Outcome::Success;
    for file in files {
        let result = format_one(p, file, check);
        outcome = worse(outcome, result);
    }
    outcome
}

fn worse(a: Outcome, b: Outcome) -> Outcome {
    let rank = |o: Outcome| match o {
        Outcome::Success => 0,
        Outcome::InputError => 1,
        Outcome::UsageError => 2,
        Outcome::IoError => 3,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

fn format_one(p: &Printer, file: &Path, check: bool) -> Outcome {
    let bytes = match fs::read(file) {
        Ok(bytes) => bytes,
        Err(e) => {
            p.error(
                None,
                &format!("cannot read {}: {e}", file.display()),
                Some("give the path of a .ha file"),
            );
            return Outcome::IoError;
        }
    };
    let Ok(text) = String::from_utf8(bytes) else {
        p.error(
            Some("E0001"),
            &format!("{} is not UTF-8 text", file.display()),
            Some(".ha files are UTF-8"),
        );
        return Outcome::InputError;
    };
    let mut sources = SourceMap::new();
    let file_id = sources.add(file.display().to_string(), text.as_str());
    let formatted = match format_source(file_id, &text) {
        Ok(formatted) => formatted,
        Err(FormatError::Syntax(diagnostics)) => {
            p.emit(&sources, &diagnostics);
            return Outcome::InputError;
        }
        Err(FormatError::Internal(message)) => {
            p.error(
                None,
                &format!("cannot format {}: {message}", file.display()),
                Some("this is a bug in hac fmt; please report it with the file"),
            );
            return Outcome::InputError;
        }
    };
    if formatted == text {
        return Outcome::Success;
    }
    if check {
        println!("{}", file.display());
        return Outcome::InputError;
    }
    match replace_atomically(file, &formatted) {
        Ok(()) => {
            p.say(&format!("formatted {}", file.display()));
            Outcome::Success
        }
        Err(e) => {
            p.error(
                None,
                &format!("cannot write {}: {e} (the file was left as it was)", file.display()),
                None,
            );
            Outcome::IoError
        }
    }
}

/// Writes `text` to a temporary sibling of `file` with `file`'s permissions, then renames
/// it over `file` (through a symlink, the link's target is replaced).
fn replace_atomically(file: &Path, text: &str) -> std::io::Result<()> {
    let target = fs::canonicalize(file)?;
    let permissions = fs::metadata(&target)?.permissions();
    let directory = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = directory.join(format!(".{name}.hac-fmt-{}.tmp", std::process::id()));
    let written = (|| {
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        out.write_all(text.as_bytes())?;
        out.sync_all()?;
        fs::set_permissions(&temporary, permissions)?;
        fs::rename(&temporary, &target)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}
