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
        Outcome::InputError | Outcome::Different => 1,
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
    // Only a regular UTF-8 file that is not a secrets file (never quoted in a message).
    let text = match hac_core::input::read_source(file) {
        Ok(text) => text,
        Err(e) => {
            let io = e.is_io();
            let mut d = e.diagnostic(&format!("cannot read {}", file.display()));
            if io {
                d.code = None;
                d.hints.push("give the path of a .ha file".to_string());
            }
            p.emit(&SourceMap::new(), &[d]);
            return if io {
                Outcome::IoError
            } else {
                Outcome::InputError
            };
        }
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
        crate::report::out(&format!("{}\n", file.display()));
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
                &format!(
                    "cannot write {}: {e} (the file was left as it was)",
                    file.display()
                ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::MessageFormat;
    use std::os::unix::fs::PermissionsExt;

    fn printer() -> Printer {
        Printer {
            format: MessageFormat::Human,
            color: false,
            deny_warnings: false,
            quiet: true,
        }
    }

    fn write(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, text).expect("write fixture");
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
        path
    }

    #[test]
    fn formats_in_place_keeping_the_mode_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "c.ha", "{a=1;}", 0o640);
        assert_eq!(
            run(&printer(), std::slice::from_ref(&path), false),
            Outcome::Success
        );
        assert_eq!(fs::read_to_string(&path).expect("read"), "{ a = 1; }\n");
        let mode = fs::metadata(&path).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("c.ha")]);
        // Already formatted: success, unchanged.
        assert_eq!(
            run(&printer(), std::slice::from_ref(&path), true),
            Outcome::Success
        );
    }

    #[test]
    fn check_reports_an_unformatted_file_and_writes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "c.ha", "{a=1;}", 0o644);
        assert_eq!(
            run(&printer(), std::slice::from_ref(&path), true),
            Outcome::InputError
        );
        assert_eq!(fs::read_to_string(&path).expect("read"), "{a=1;}");
    }

    #[test]
    fn an_unparsable_file_is_an_input_error_and_left_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bad = write(dir.path(), "bad.ha", "{ a = ; }", 0o644);
        let good = write(dir.path(), "good.ha", "[1   2]", 0o644);
        let outcome = run(&printer(), &[bad.clone(), good.clone()], false);
        assert_eq!(outcome, Outcome::InputError);
        assert_eq!(fs::read_to_string(&bad).expect("read"), "{ a = ; }");
        // The other files are still formatted.
        assert_eq!(fs::read_to_string(&good).expect("read"), "[ 1 2 ]\n");
    }

    #[test]
    fn the_out_examples_pass_fmt_check() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("out-examples");
        let mut files = Vec::new();
        for example in fs::read_dir(&root)
            .expect("out-examples/")
            .filter_map(Result::ok)
        {
            let name = example.file_name().to_string_lossy().into_owned();
            let file = example.path().join(format!("{name}.ha"));
            if file.is_file() {
                files.push(file);
            }
        }
        assert!(files.len() >= 6, "found only {files:?}");
        assert_eq!(
            run(&printer(), &files, true),
            Outcome::Success,
            "run `hac fmt out-examples/*/*.ha`"
        );
    }

    #[test]
    fn a_missing_file_is_an_io_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing.ha");
        assert_eq!(run(&printer(), &[missing], false), Outcome::IoError);
    }

    #[test]
    fn a_symlink_keeps_pointing_at_the_formatted_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = write(dir.path(), "real.ha", "{a=1;}", 0o644);
        let link = dir.path().join("link.ha");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert_eq!(
            run(&printer(), std::slice::from_ref(&link), false),
            Outcome::Success
        );
        assert!(fs::symlink_metadata(&link)
            .expect("lstat")
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&target).expect("read"), "{ a = 1; }\n");
    }
}
