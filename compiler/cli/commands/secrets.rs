//! The secrets file on disk: locating it beside the cluster file, refusing one that others
//! can read, creating it with mode 0600 and never overwriting it. Its content belongs to
//! `hac_pki::Secrets`; this module only moves bytes.

use crate::report::{Outcome, Printer};
use hac_pki::Secrets;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// `cluster.ha` → `cluster.secrets`; a path already ending in `.secrets` is kept.
pub fn secrets_path_for(file: &Path) -> PathBuf {
    if file.extension().is_some_and(|e| e == "secrets") {
        file.to_path_buf()
    } else {
        file.with_extension("secrets")
    }
}

/// Reads and parses the secrets file; refuses one readable by group or others.
pub fn load(p: &Printer, path: &Path) -> Result<Secrets, Outcome> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            p.error(
                Some("E0601"),
                &format!("no secrets file at {}", path.display()),
                Some(&format!("create one with `hac secrets init {}` (and keep it out of git), or pass --secrets FILE", path.with_extension("ha").display())),
            );
            return Err(Outcome::IoError);
        }
        Err(e) => {
            p.error(None, &format!("cannot read {}: {e}", path.display()), None);
            return Err(Outcome::IoError);
        }
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        p.error(
            Some("E0602"),
            &format!(
                "the secrets file {} is readable by others (mode {mode:04o})",
                path.display()
            ),
            Some(&format!(
                "run `chmod 600 {}`; hac refuses secrets that other users can read, as ssh does",
                path.display()
            )),
        );
        return Err(Outcome::IoError);
    }
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            p.error(None, &format!("cannot read {}: {e}", path.display()), None);
            return Err(Outcome::IoError);
        }
    };
    Secrets::parse(&text).map_err(|mut d| {
        d.notes
            .push(format!("in the secrets file {}", path.display()));
        p.emit(&hac_core::SourceMap::new(), &[d]);
        Outcome::InputError
    })
}

/// Creates `path` with mode 0600; fails if it exists.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// `hac secrets init FILE`
pub fn init(p: &Printer, file: &Path) -> Outcome {
    let path = secrets_path_for(file);
    if path.exists() {
        p.error(
            None,
            &format!("{} already exists; hac never overwrites a secrets file", path.display()),
            Some("a new root secret would change every key and certificate; remove the file yourself if that is what you want"),
        );
        return Outcome::IoError;
    }
    let text = match Secrets::generate() {
        Ok(t) => t,
        Err(d) => {
            p.emit(&hac_core::SourceMap::new(), &[d]);
            return Outcome::IoError;
        }
    };
    if let Err(e) = write_new(&path, &text) {
        p.error(
            None,
            &format!("cannot create {}: {e}", path.display()),
            None,
        );
        return Outcome::IoError;
    }
    p.say(&format!("wrote {} (mode 0600). Keep it out of git: encrypt it with sops or age, or keep it in a vault.", path.display()));
    Outcome::Success
}

/// `hac secrets import-ca FILE --cert C --key K`
pub fn import_ca(p: &Printer, file: &Path, cert: &Path, key: &Path) -> Outcome {
    let path = secrets_path_for(file);
    if load(p, &path).is_err() {
        return Outcome::IoError;
    }
    let read = |f: &Path| {
        fs::read_to_string(f).map_err(|e| {
            p.error(None, &format!("cannot read {}: {e}", f.display()), None);
            Outcome::IoError
        })
    };
    let (text, cert_pem, key_pem) = match (read(&path), read(cert), read(key)) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        _ => return Outcome::IoError,
    };
    let new_text = match Secrets::import_ca(&text, &cert_pem, &key_pem) {
        Ok(t) => t,
        Err(d) => {
            p.emit(&hac_core::SourceMap::new(), &[d]);
            return Outcome::InputError;
        }
    };
    // Replace atomically: write a 0600 sibling, then rename over the old file.
    let tmp = path.with_extension("secrets.tmp");
    let _ = fs::remove_file(&tmp);
    if let Err(e) = write_new(&tmp, &new_text).and_then(|_| fs::rename(&tmp, &path)) {
        let _ = fs::remove_file(&tmp);
        p.error(
            None,
            &format!("cannot update {}: {e}", path.display()),
            None,
        );
        return Outcome::IoError;
    }
    p.say(&format!(
        "adopted the CA of {} into {}",
        cert.display(),
        path.display()
    ));
    Outcome::Success
}
