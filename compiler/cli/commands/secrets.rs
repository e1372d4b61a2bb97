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
                Some(hac_pki::PkiCode::NoSecretsFile.code()),
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
            Some(hac_pki::PkiCode::SecretsReadableByOthers.code()),
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
    if !meta.is_file() {
        p.error(
            Some(hac_pki::PkiCode::NoSecretsFile.code()),
            &format!("the secrets file {} is not a regular file", path.display()),
            Some("pass the secrets file itself with --secrets FILE"),
        );
        return Err(Outcome::IoError);
    }
    let bytes = match hac_core::input::read_regular(path, 1 << 20) {
        Ok(b) => b,
        Err(e) => {
            p.error(
                Some(hac_pki::PkiCode::NoSecretsFile.code()),
                &format!("cannot read {}: {}", path.display(), e.reason()),
                None,
            );
            return Err(Outcome::IoError);
        }
    };
    let Ok(text) = String::from_utf8(bytes) else {
        p.error(
            Some(hac_pki::PkiCode::Syntax.code()),
            &format!("the secrets file {} is not UTF-8 text", path.display()),
            Some("it may be encrypted or corrupt; decrypt it (sops, age) or restore it from where you keep it"),
        );
        return Err(Outcome::InputError);
    };
    Secrets::parse(&text).map_err(|mut d| {
        d.notes
            .push(format!("in the secrets file {}", path.display()));
        p.emit(&hac_core::SourceMap::new(), &[d]);
        Outcome::InputError
    })
}

/// Writes `text` to a new 0600 temporary file beside `path`, syncs it, and moves it to `path`
/// only if nothing is there (a hard link, which never replaces), then syncs the folder. On any
/// failure (a full disk) nothing is left behind: neither `path` nor the temporary file.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = temporary_sibling(path);
    let _ = fs::remove_file(&tmp);
    let written = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::hard_link(&tmp, path)
    })();
    let _ = fs::remove_file(&tmp);
    written?;
    sync_parent(path);
    Ok(())
}

/// Replaces `path` (the file a symbolic link points to, the link itself kept) atomically
/// with a 0600 file holding `text`.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let target = fs::canonicalize(path)?;
    let tmp = temporary_sibling(&target);
    let _ = fs::remove_file(&tmp);
    let written = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, &target)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    sync_parent(&target);
    Ok(())
}

/// `.<name>.hac-tmp-<pid>` beside `path`.
fn temporary_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.hac-tmp-{}", std::process::id()))
}

fn sync_parent(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(dir) = fs::File::open(parent) {
        let _ = dir.sync_all();
    }
}

/// The `name` of the cluster in `file`, when it evaluates to a set with a string `name`.
fn cluster_name(file: &Path) -> Option<String> {
    // `hac secrets init cluster.secrets` names the file itself: read `cluster.ha` beside it.
    let ha = if file.extension().is_some_and(|e| e == "secrets") {
        file.with_extension("ha")
    } else {
        file.to_path_buf()
    };
    if !ha.is_file() {
        return None;
    }
    let ev = hac_eval::evaluate(&ha, &hac_eval::EvalOptions::default());
    match ev.result.ok()?.value {
        hac_core::Data::Attrs(attrs) => match &attrs.get("name")?.value {
            hac_core::Data::String(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// `hac secrets init FILE`
pub fn init(p: &Printer, file: &Path) -> Outcome {
    let path = secrets_path_for(file);
    if fs::symlink_metadata(&path).is_ok() {
        p.error(
            None,
            &format!("{} already exists; hac never overwrites a secrets file", path.display()),
            Some("a new root secret would change every key and certificate; remove the file yourself if that is what you want"),
        );
        return Outcome::IoError;
    }
    // Recorded so that the file is never used for another cluster by mistake (E0611).
    let cluster = cluster_name(file);
    let text = match Secrets::generate_for(cluster.as_deref()) {
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
            Some("nothing was written"),
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
    let (Ok(text), Ok(cert_pem), Ok(key_pem)) = (read(&path), read(cert), read(key)) else {
        return Outcome::IoError;
    };
    let new_text = match Secrets::import_ca(&text, &cert_pem, &key_pem) {
        Ok(t) => t,
        Err(d) => {
            p.emit(&hac_core::SourceMap::new(), &[d]);
            return Outcome::InputError;
        }
    };
    // Replace atomically: write a 0600 sibling of the real file (through a symbolic link),
    // then rename it over the old one.
    if let Err(e) = replace(&path, &new_text) {
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
