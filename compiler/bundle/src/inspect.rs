//! `hac inspect`: lists what a built archive (`.tar.gz` or plain `.tar`) or a folder (one
//! host's tree or a whole output, whose archives are listed too) holds — every entry with its
//! mode and size — and describes every certificate found: PEM `CERTIFICATE` blocks, also
//! inside kubeconfigs' base64 `client-certificate-data` / `certificate-authority-data`.
//! A whole output's `SHA256SUMS` is checked against its files. Private keys are only named,
//! never printed.

use crate::error::BundleError;
use base64::Engine as _;
use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// Only the first bytes of each file are scanned for certificates (a bound on memory for a
/// hostile archive); the listing still shows the full size.
const SCAN_LIMIT: u64 = 8 * 1024 * 1024;
/// Archives inside a folder are opened only up to this size.
const NESTED_ARCHIVE_LIMIT: u64 = 256 * 1024 * 1024;

/// `hac inspect`: a listing of an archive or a folder (files, modes, certificates).
pub fn inspect(path: &Path) -> Result<String, BundleError> {
    let metadata = fs::symlink_metadata(path).map_err(|e| BundleError::io("read", path, e))?;
    let mut out = String::new();
    if metadata.is_dir() {
        let _ = writeln!(out, "folder {}", path.display());
        list_folder(path, "", 1, &mut out)?;
        verify_sums(path, &mut out);
    } else if metadata.is_file() {
        let bytes = read_limited(path, NESTED_ARCHIVE_LIMIT)?;
        if is_gzip(&bytes) || is_tar(&bytes) {
            let _ = writeln!(out, "archive {}", path.display());
            list_archive(&bytes, 1, &mut out).map_err(|reason| BundleError::NotInspectable {
                path: path.to_path_buf(),
                reason,
            })?;
        } else {
            let _ = writeln!(out, "file {}", path.display());
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            list_line(
                &mut out,
                1,
                metadata.permissions().mode(),
                None,
                Some(metadata.len()),
                &name,
                false,
            );
            describe_contents(&bytes, 2, &mut out);
        }
    } else {
        return Err(BundleError::NotInspectable {
            path: path.to_path_buf(),
            reason: "it is neither a file nor a folder".to_string(),
        });
    }
    Ok(out)
}

fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, BundleError> {
    let file = fs::File::open(path).map_err(|e| BundleError::io("open", path, e))?;
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| BundleError::io("read", path, e))?;
    Ok(bytes)
}

pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

pub(crate) fn is_tar(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// `drwxr-xr-x 0755 root/root      1234  path`
fn list_line(
    out: &mut String,
    depth: usize,
    mode: u32,
    owner: Option<&str>,
    size: Option<u64>,
    path: &str,
    is_dir: bool,
) {
    indent(out, depth);
    let mut perms = String::with_capacity(10);
    perms.push(if is_dir { 'd' } else { '-' });
    for (shift, letters) in [(6, b"rwx"), (3, b"rwx"), (0, b"rwx")] {
        for (bit, letter) in letters.iter().enumerate() {
            let set = mode >> (shift + 2 - bit) & 1 == 1;
            perms.push(if set { char::from(*letter) } else { '-' });
        }
    }
    let size = size.map_or_else(|| "-".to_string(), |s| s.to_string());
    let _ = write!(out, "{perms} {:04o}", mode & 0o7777);
    if let Some(owner) = owner {
        let _ = write!(out, " {owner}");
    }
    let _ = writeln!(out, " {size:>9}  {}", hac_core::input::escape_name(path));
}

fn list_folder(
    dir: &Path,
    prefix: &str,
    depth: usize,
    out: &mut String,
) -> Result<(), BundleError> {
    let mut children: Vec<_> = fs::read_dir(dir)
        .map_err(|e| BundleError::io("list", dir, e))?
        .map(|child| child.map_err(|e| BundleError::io("list", dir, e)))
        .collect::<Result<_, _>>()?;
    children.sort_by_key(std::fs::DirEntry::file_name);
    for child in children {
        let path = child.path();
        let name = format!("{prefix}{}", child.file_name().to_string_lossy());
        let metadata =
            fs::symlink_metadata(&path).map_err(|e| BundleError::io("read", &path, e))?;
        let mode = metadata.permissions().mode();
        if metadata.file_type().is_symlink() {
            let target = fs::read_link(&path)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            indent(out, depth);
            let _ = writeln!(
                out,
                "symlink {} -> {}",
                hac_core::input::escape_name(&name),
                hac_core::input::escape_name(&target)
            );
        } else if metadata.is_dir() {
            list_line(out, depth, mode, None, None, &format!("{name}/"), true);
            list_folder(&path, &format!("{name}/"), depth, out)?;
        } else if metadata.is_file() {
            list_line(out, depth, mode, None, Some(metadata.len()), &name, false);
            let limit = if name.ends_with(".tar.gz") || name.ends_with(".tar") {
                NESTED_ARCHIVE_LIMIT
            } else {
                SCAN_LIMIT
            };
            let bytes = read_limited(&path, limit)?;
            if is_gzip(&bytes) || is_tar(&bytes) {
                if let Err(reason) = list_archive(&bytes, depth + 1, out) {
                    indent(out, depth + 1);
                    let _ = writeln!(out, "unreadable archive: {reason}");
                }
            } else {
                describe_contents(&bytes, depth + 1, out);
            }
        } else {
            indent(out, depth);
            let _ = writeln!(out, "special file {}", hac_core::input::escape_name(&name));
        }
    }
    Ok(())
}

/// Lists a `.tar.gz` or `.tar`; the error is a reason for the reader.
fn list_archive(bytes: &[u8], depth: usize, out: &mut String) -> Result<(), String> {
    if is_gzip(bytes) {
        list_tar(GzDecoder::new(bytes), depth, out)
    } else {
        list_tar(bytes, depth, out)
    }
}

fn list_tar(reader: impl Read, depth: usize, out: &mut String) -> Result<(), String> {
    let mut archive = tar::Archive::new(reader);
    let entries = archive
        .entries()
        .map_err(|e| format!("not a readable tar archive: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("corrupt archive entry: {e}"))?;
        let header = entry.header();
        let mode = header.mode().unwrap_or(0);
        let size = header.size().unwrap_or(0);
        let user = header
            .username()
            .ok()
            .flatten()
            .map(str::to_string)
            .or_else(|| header.uid().ok().map(|u| u.to_string()));
        let group = header
            .groupname()
            .ok()
            .flatten()
            .map(str::to_string)
            .or_else(|| header.gid().ok().map(|g| g.to_string()));
        let owner = format!("{}/{}", user.unwrap_or_default(), group.unwrap_or_default());
        let entry_type = header.entry_type();
        let path = entry.path().map_or_else(
            |_| "<unreadable path>".to_string(),
            |p| hac_core::input::escape_name(&p.display().to_string()).into_owned(),
        );
        if entry_type.is_dir() {
            let shown = if path.ends_with('/') {
                path
            } else {
                format!("{path}/")
            };
            list_line(out, depth, mode, Some(&owner), None, &shown, true);
        } else if entry_type.is_file() {
            list_line(out, depth, mode, Some(&owner), Some(size), &path, false);
            let mut contents = Vec::new();
            (&mut entry)
                .take(SCAN_LIMIT)
                .read_to_end(&mut contents)
                .map_err(|e| format!("cannot read {path}: {e}"))?;
            describe_contents(&contents, depth + 1, out);
        } else {
            indent(out, depth);
            let link = entry
                .link_name()
                .ok()
                .flatten()
                .map(|l| {
                    format!(
                        " -> {}",
                        hac_core::input::escape_name(&l.display().to_string())
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(out, "{entry_type:?} {path}{link}");
        }
    }
    Ok(())
}

/// For a whole output folder: checks every line of its `SHA256SUMS` against the files, as
/// `sha256sum -c` would, and says which files are missing or changed.
fn verify_sums(dir: &Path, out: &mut String) {
    let sums_path = dir.join(crate::output::SUMS_FILE);
    let Ok(sums) = fs::read_to_string(&sums_path) else {
        return;
    };
    let mut verified = 0usize;
    let mut problems = Vec::new();
    for line in sums.lines() {
        let Some((hex, name)) = line.split_once("  ") else {
            problems.push(format!("malformed line {line:?}"));
            continue;
        };
        let file = dir.join(name);
        let inside = Path::new(name)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        match fs::read(&file) {
            Ok(bytes) if inside => {
                let digest: String = Sha256::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                if digest == hex {
                    verified += 1;
                } else {
                    problems.push(format!("{name}: changed since the build"));
                }
            }
            Ok(_) => problems.push(format!("{name}: outside the folder")),
            Err(_) => problems.push(format!("{name}: missing")),
        }
    }
    if problems.is_empty() {
        let _ = writeln!(out, "SHA256SUMS: all {verified} files match");
    } else {
        let _ = writeln!(
            out,
            "SHA256SUMS: {verified} files match, {} do not:",
            problems.len()
        );
        for problem in problems {
            indent(out, 1);
            let _ = writeln!(out, "{problem}");
        }
    }
}

/// Kubeconfig keys whose base64 value is a PEM certificate.
const KUBECONFIG_CERT_KEYS: [&str; 2] = ["client-certificate-data", "certificate-authority-data"];
/// Kubeconfig keys whose base64 value is a private key: named, never decoded or shown.
const KUBECONFIG_KEY_KEYS: [&str; 1] = ["client-key-data"];

/// Describes the certificates (and names the private keys) found in a file's contents.
fn describe_contents(contents: &[u8], depth: usize, out: &mut String) {
    let Ok(text) = std::str::from_utf8(contents) else {
        // Lossy text still finds PEM blocks in an otherwise binary file.
        let text = String::from_utf8_lossy(contents);
        describe_pem_blocks(&text, "", depth, out);
        return;
    };
    describe_pem_blocks(text, "", depth, out);
    for line in text.lines() {
        let line = line.trim().trim_start_matches("- ").trim_start();
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim().trim_matches('"');
        if KUBECONFIG_CERT_KEYS.contains(&key) {
            // YAML (`key: value`) or JSON (`"key": "value",`).
            let value = value
                .trim()
                .trim_end_matches(',')
                .trim_matches(|c| c == '"' || c == '\'');
            match base64::engine::general_purpose::STANDARD.decode(value) {
                Ok(decoded) => {
                    let decoded = String::from_utf8_lossy(&decoded);
                    describe_pem_blocks(&decoded, &format!(" ({key})"), depth, out);
                }
                Err(_) => {
                    indent(out, depth);
                    let _ = writeln!(out, "{key}: not valid base64");
                }
            }
        } else if KUBECONFIG_KEY_KEYS.contains(&key) {
            indent(out, depth);
            let _ = writeln!(out, "private key ({key}, not shown)");
        }
    }
}

/// Finds `-----BEGIN X-----` … `-----END X-----` blocks (indented ones too, as in YAML).
fn describe_pem_blocks(text: &str, source: &str, depth: usize, out: &mut String) {
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim();
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
        else {
            continue;
        };
        let label = label.to_string();
        if label.contains("PRIVATE KEY") {
            indent(out, depth);
            let _ = writeln!(out, "private key{source}: PEM {label} block (not shown)");
            for body in lines.by_ref() {
                if body.trim().starts_with("-----END ") {
                    break;
                }
            }
            continue;
        }
        let mut base64_text = String::new();
        let mut complete = false;
        for body in lines.by_ref() {
            let body = body.trim();
            if body.starts_with("-----END ") {
                complete = true;
                break;
            }
            base64_text.push_str(body);
        }
        if label != "CERTIFICATE" {
            indent(out, depth);
            let _ = writeln!(out, "PEM {label} block{source}");
            continue;
        }
        if !complete {
            indent(out, depth);
            let _ = writeln!(
                out,
                "certificate{source}: incomplete PEM block (no END line)"
            );
            continue;
        }
        match base64::engine::general_purpose::STANDARD.decode(base64_text.as_bytes()) {
            Ok(der) => describe_certificate(&der, source, depth, out),
            Err(_) => {
                indent(out, depth);
                let _ = writeln!(out, "certificate{source}: not valid base64");
            }
        }
    }
}

fn describe_certificate(der: &[u8], source: &str, depth: usize, out: &mut String) {
    let certificate = match X509Certificate::from_der(der) {
        Ok((_, certificate)) => certificate,
        Err(error) => {
            indent(out, depth);
            let _ = writeln!(
                out,
                "certificate{source}: not a valid X.509 certificate ({error})"
            );
            return;
        }
    };
    let tbs = &certificate.tbs_certificate;
    indent(out, depth);
    let _ = writeln!(
        out,
        "certificate{source}: subject {}",
        non_empty(tbs.subject.to_string())
    );
    indent(out, depth + 1);
    let _ = writeln!(out, "issuer:    {}", non_empty(tbs.issuer.to_string()));
    let sans = match certificate.subject_alternative_name() {
        Ok(Some(extension)) => extension
            .value
            .general_names
            .iter()
            .map(describe_general_name)
            .collect::<Vec<_>>()
            .join(", "),
        Ok(None) => "(none)".to_string(),
        Err(error) => format!("(unreadable: {error})"),
    };
    indent(out, depth + 1);
    let _ = writeln!(out, "SANs:      {sans}");
    indent(out, depth + 1);
    let _ = writeln!(
        out,
        "validity:  {} to {}",
        format_utc(tbs.validity.not_before.timestamp()),
        format_utc(tbs.validity.not_after.timestamp())
    );
    if let Ok(Some(constraints)) = certificate.basic_constraints() {
        if constraints.value.ca {
            indent(out, depth + 1);
            let _ = writeln!(out, "CA:        yes");
        }
    }
}

pub(crate) fn non_empty(name: String) -> String {
    if name.is_empty() {
        "(empty)".to_string()
    } else {
        name
    }
}

pub(crate) fn describe_general_name(name: &GeneralName<'_>) -> String {
    match name {
        GeneralName::DNSName(dns) => format!("DNS:{dns}"),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => {
                let mut octets = [0u8; 4];
                octets.copy_from_slice(bytes);
                format!("IP:{}", std::net::Ipv4Addr::from(octets))
            }
            16 => {
                let mut octets = [0u8; 16];
                octets.copy_from_slice(bytes);
                format!("IP:{}", std::net::Ipv6Addr::from(octets))
            }
            _ => format!("IP:<{} bytes>", bytes.len()),
        },
        GeneralName::RFC822Name(email) => format!("email:{email}"),
        GeneralName::URI(uri) => format!("URI:{uri}"),
        GeneralName::DirectoryName(dn) => format!("DirName:{dn}"),
        other => format!("{other:?}"),
    }
}

/// `YYYY-MM-DDThh:mm:ssZ` (UTC) for seconds since 1970, without reading any clock or zone.
pub(crate) fn format_utc(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formatting_matches_known_dates() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_735_689_599), "2024-12-31T23:59:59Z");
        assert_eq!(format_utc(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn private_key_blocks_are_named_not_printed() {
        let text = "-----BEGIN EC PRIVATE KEY-----\nSECRETBYTES\n-----END EC PRIVATE KEY-----\nclient-key-data: U0VDUkVU\n";
        let mut out = String::new();
        describe_contents(text.as_bytes(), 0, &mut out);
        assert!(
            !out.contains("SECRETBYTES") && !out.contains("U0VDUkVU"),
            "{out}"
        );
        assert!(
            out.contains("private key: PEM EC PRIVATE KEY block (not shown)"),
            "{out}"
        );
        assert!(
            out.contains("private key (client-key-data, not shown)"),
            "{out}"
        );
    }

    #[test]
    fn garbage_certificates_are_reported_not_fatal() {
        let text = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\ncertificate-authority-data: !!!\n-----BEGIN CERTIFICATE-----\n";
        let mut out = String::new();
        describe_contents(text.as_bytes(), 0, &mut out);
        assert!(out.contains("not a valid X.509 certificate"), "{out}");
        assert!(
            out.contains("certificate-authority-data: not valid base64"),
            "{out}"
        );
        assert!(out.contains("incomplete PEM block"), "{out}");
    }
}
