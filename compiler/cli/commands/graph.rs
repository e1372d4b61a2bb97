//! `hac graph`: check the cluster, then print its topology picture (SVG) on stdout or write it
//! to `-o FILE`. It needs no secrets file: the picture shows no secret. The file is written
//! atomically (a sibling temporary file, then a rename), mode 0644, and never over the
//! cluster file, a `.ha` or `.secrets` file, or anything that is not a regular file.

use crate::args::EvalFlags;
use crate::report::{Outcome, Printer};
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

pub fn run(p: &Printer, file: &Path, output: Option<&Path>, flags: &EvalFlags) -> Outcome {
    let checked = match super::pipeline::load_and_check(p, file, flags) {
        Ok(c) => c,
        Err(o) => return o,
    };
    let svg = hac_check::topology_svg(&checked.cluster);
    let Some(out) = output else {
        crate::report::out(&svg);
        return Outcome::Success;
    };
    if let Some(reason) = refusal(file, out) {
        p.error(
            None,
            &format!("cannot write the picture to {}: {reason}", out.display()),
            Some("choose another file with -o, e.g. -o topology.svg; nothing was written"),
        );
        return Outcome::IoError;
    }
    match write_atomically(out, &svg) {
        Ok(()) => {
            p.say(&format!("wrote {}", out.display()));
            Outcome::Success
        }
        Err(e) => {
            p.error(
                None,
                &format!("cannot write the picture to {}: {e}", out.display()),
                Some("nothing was changed: a file already there is intact"),
            );
            Outcome::IoError
        }
    }
}

/// Why `out` must not be written, if it must not.
pub(super) fn refusal(input: &Path, out: &Path) -> Option<String> {
    if hac_core::input::is_secrets_name(out) {
        return Some("it is named like a secrets file".to_string());
    }
    if out.extension().is_some_and(|e| e == "ha") {
        return Some("it is named like a .ha cluster file".to_string());
    }
    let meta = fs::symlink_metadata(out).ok()?;
    if !meta.file_type().is_file() {
        return Some("it exists and is not a regular file".to_string());
    }
    let same = match (fs::canonicalize(input), fs::canonicalize(out)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    same.then(|| "it is the cluster file itself".to_string())
}

pub(super) fn write_atomically(out: &Path, text: &str) -> std::io::Result<()> {
    let directory = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = out.file_name().map_or_else(
        || "topology.svg".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let temporary = directory.join(format!(".{name}.hac-graph-{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::set_permissions(&temporary, fs::Permissions::from_mode(0o644))?;
        fs::rename(&temporary, out)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}
