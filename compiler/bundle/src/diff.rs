//! `hac diff`: what changed between two bundles, per host and in words — files added, removed
//! or changed (mode too), certificates re-issued and why (subject, SANs, validity, issuer,
//! key, serial), the changed lines of readable text files, and which files `SHA256SUMS` says
//! changed. [`compare`] is a pure function of two [`BundleContents`] (read by
//! [`crate::read`]), [`BundleDiff::to_text`] its words.
//!
//! Never shown: the contents, changed lines or digests of a file only its owner may read
//! (private keys, kubeconfigs, `keepalived.conf`, the cloud-init user-data): of those, only
//! "contents changed". `SHA256SUMS` is summarised by file name, since it holds such digests.

use crate::inspect::{describe_general_name, format_utc, non_empty};
use crate::output::SUMS_FILE;
use crate::read::{BundleContents, Entry};
use base64::Engine as _;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use x509_parser::prelude::{FromDer, ParsedExtension, X509Certificate};

/// At most this many added (and removed) lines are shown per text file.
const SHOWN_LINES: usize = 10;
/// A shown line is cut after this many characters.
const SHOWN_WIDTH: usize = 160;

/// Everything that differs between two bundles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BundleDiff {
    /// Hosts added, removed or with changed files, by name.
    pub hosts: Vec<HostDiff>,
    /// Hosts whose files are all byte-identical (modes too).
    pub unchanged_hosts: Vec<String>,
    /// The bundle-level files (`cloud-init/`, `ansible/`, `report.txt`, `SHA256SUMS`) that
    /// differ.
    pub files: Vec<FileDiff>,
    /// How many bundle-level files were compared (both sides together, once each).
    pub files_compared: usize,
    /// `SHA256SUMS` was not compared: one bundle holds a host as an archive, the other as a
    /// folder, so their sums list different files (the files themselves are compared).
    pub sums_skipped: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostDiff {
    Added {
        name: String,
        files: usize,
    },
    Removed {
        name: String,
        files: usize,
    },
    Changed {
        name: String,
        changes: Vec<FileDiff>,
    },
}

/// One file that differs: what happened to it, in words, and detail lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDiff {
    pub path: String,
    pub kind: ChangeKind,
    /// e.g. `certificate re-issued: SANs changed` or `2 lines added, 1 removed`.
    pub summary: String,
    pub details: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl BundleDiff {
    /// No host and no bundle-level file differs.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.files.is_empty()
    }

    /// The diff in words, one host after another, then the bundle-level files and a summary.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if self.sums_skipped {
            let _ = writeln!(
                out,
                "(one bundle holds archives, the other folders: their files are compared, not their SHA256SUMS)"
            );
        }
        if self.is_empty() {
            let _ = writeln!(
                out,
                "no changes ({} hosts and {} bundle files compared)",
                self.unchanged_hosts.len(),
                self.files_compared
            );
            return out;
        }
        let (mut added, mut removed, mut changed) = (0, 0, 0);
        for host in &self.hosts {
            match host {
                HostDiff::Added { name, files: n } => {
                    added += 1;
                    let _ = writeln!(out, "host {}: added ({})", esc(name), files(*n));
                }
                HostDiff::Removed { name, files: n } => {
                    removed += 1;
                    let _ = writeln!(out, "host {}: removed ({})", esc(name), files(*n));
                }
                HostDiff::Changed { name, changes } => {
                    changed += 1;
                    let _ = writeln!(out, "host {}: {}", esc(name), counts(changes));
                    write_changes(&mut out, changes);
                }
            }
        }
        if !self.unchanged_hosts.is_empty() {
            let names: Vec<String> = self.unchanged_hosts.iter().map(|n| esc(n)).collect();
            let _ = writeln!(
                out,
                "hosts unchanged ({}): {}",
                names.len(),
                names.join(", ")
            );
        }
        if !self.files.is_empty() {
            let _ = writeln!(out, "bundle files: {}", counts(&self.files));
            write_changes(&mut out, &self.files);
        }
        let _ = writeln!(
            out,
            "summary: hosts {added} added, {removed} removed, {changed} changed, {} unchanged; bundle files {}",
            self.unchanged_hosts.len(),
            counts(&self.files)
        );
        out
    }
}

/// `2 changed, 1 added, 0 removed`.
fn counts(changes: &[FileDiff]) -> String {
    let n = |kind| changes.iter().filter(|c| c.kind == kind).count();
    format!(
        "{} changed, {} added, {} removed",
        n(ChangeKind::Changed),
        n(ChangeKind::Added),
        n(ChangeKind::Removed)
    )
}

fn write_changes(out: &mut String, changes: &[FileDiff]) {
    for change in changes {
        let _ = writeln!(out, "  {}: {}", esc(&change.path), change.summary);
        for detail in &change.details {
            let _ = writeln!(out, "      {detail}");
        }
    }
}

/// Text from the bundles reaches a terminal: control characters escaped.
fn esc(text: &str) -> String {
    hac_core::input::escape_controls(text).into_owned()
}

/// What changed from `old` to `new`.
pub fn compare(old: &BundleContents, new: &BundleContents) -> BundleDiff {
    let mut diff = BundleDiff::default();
    let names: BTreeSet<&String> = old.hosts.keys().chain(new.hosts.keys()).collect();
    for name in names {
        match (old.hosts.get(name), new.hosts.get(name)) {
            (None, Some(files)) => diff.hosts.push(HostDiff::Added {
                name: name.clone(),
                files: files.len(),
            }),
            (Some(files), None) => diff.hosts.push(HostDiff::Removed {
                name: name.clone(),
                files: files.len(),
            }),
            (Some(a), Some(b)) => {
                let changes = compare_files(a, b);
                if changes.is_empty() {
                    diff.unchanged_hosts.push(name.clone());
                } else {
                    diff.hosts.push(HostDiff::Changed {
                        name: name.clone(),
                        changes,
                    });
                }
            }
            (None, None) => {}
        }
    }
    diff.sums_skipped = old
        .hosts
        .keys()
        .filter(|h| new.hosts.contains_key(*h))
        .any(|h| old.archived.contains(h) != new.archived.contains(h));
    let (mut old_files, mut new_files) = (old.files.clone(), new.files.clone());
    if diff.sums_skipped {
        old_files.remove(SUMS_FILE);
        new_files.remove(SUMS_FILE);
    }
    diff.files = compare_files(&old_files, &new_files);
    diff.files_compared = old_files
        .keys()
        .chain(new_files.keys())
        .collect::<BTreeSet<_>>()
        .len();
    diff
}

fn compare_files(old: &BTreeMap<String, Entry>, new: &BTreeMap<String, Entry>) -> Vec<FileDiff> {
    let paths: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut out = Vec::new();
    for path in paths {
        let diff = match (old.get(path), new.get(path)) {
            (None, Some(b)) => FileDiff {
                path: path.clone(),
                kind: ChangeKind::Added,
                summary: format!("added (mode {:04o})", b.mode),
                details: Vec::new(),
            },
            (Some(a), None) => FileDiff {
                path: path.clone(),
                kind: ChangeKind::Removed,
                summary: format!("removed (was mode {:04o})", a.mode),
                details: Vec::new(),
            },
            (Some(a), Some(b)) if a != b => describe_change(path, a, b),
            _ => continue,
        };
        out.push(diff);
    }
    out
}

/// The words for a file present on both sides whose mode or bytes differ.
fn describe_change(path: &str, old: &Entry, new: &Entry) -> FileDiff {
    let mut parts = Vec::new();
    let mut details = Vec::new();
    if old.mode != new.mode {
        parts.push(format!("mode {:04o} → {:04o}", old.mode, new.mode));
    }
    if old.contents != new.contents {
        if old.is_private() || new.is_private() {
            parts.push("contents changed (readable only by its owner: not shown)".to_string());
        } else if path == SUMS_FILE || path.ends_with("/SHA256SUMS") {
            parts.push(sums_change(&old.contents, &new.contents, &mut details));
        } else if path.ends_with(".svg") {
            // The topology picture follows report.txt, whose lines say what changed; its SVG
            // lines (coordinates) would only bury that.
            parts.push(
                "redrawn (open both pictures to compare; report.txt says what changed)".to_string(),
            );
        } else if let (Some(a), Some(b)) = (
            (path == MANIFEST)
                .then(|| manifest_files(&old.contents))
                .flatten(),
            (path == MANIFEST)
                .then(|| manifest_files(&new.contents))
                .flatten(),
        ) {
            parts.push(listing_change("mode or sha256", &a, &b, &mut details));
        } else if let (Some(a), Some(b)) = (
            first_certificate(&old.contents),
            first_certificate(&new.contents),
        ) {
            parts.push(certificate_change(&a, &b, &mut details));
        } else if let (Ok(a), Ok(b)) = (
            std::str::from_utf8(&old.contents),
            std::str::from_utf8(&new.contents),
        ) {
            parts.push(text_change(a, b, &mut details));
        } else {
            parts.push(format!(
                "binary contents changed ({} → {} bytes)",
                old.contents.len(),
                new.contents.len()
            ));
        }
    }
    FileDiff {
        path: path.to_string(),
        kind: ChangeKind::Changed,
        summary: parts.join("; "),
        details,
    }
}

/// The path of every host's manifest.
const MANIFEST: &str = "etc/hac/manifest.json";

/// Which files `SHA256SUMS` lists with another digest, or newly, or no longer — by name only:
/// it holds digests of private files (archives, user-data, keys in a tree).
fn sums_change(old: &[u8], new: &[u8], details: &mut Vec<String>) -> String {
    let parse = |bytes: &[u8]| -> BTreeMap<String, String> {
        String::from_utf8_lossy(bytes)
            .lines()
            .filter_map(|line| line.split_once("  "))
            .map(|(digest, name)| (name.to_string(), digest.to_string()))
            .collect()
    };
    listing_change("digest (not shown)", &parse(old), &parse(new), details)
}

/// The files a manifest.json lists, each with its mode and sha256 line (pretty-printed JSON as
/// hac writes it: `"path"`, then `"mode"` and `"sha256"` lines); `None` if it lists none.
fn manifest_files(bytes: &[u8]) -> Option<BTreeMap<String, String>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        let value = |key: &str| {
            line.strip_prefix(key)
                .map(|v| v.trim_end_matches(',').trim_matches('"').to_string())
        };
        if let Some(path) = value("\"path\": ") {
            files.insert(path.clone(), String::new());
            current = Some(path);
        } else if let (Some(path), Some(v)) = (
            current.as_ref(),
            value("\"mode\": ").or_else(|| value("\"sha256\": ")),
        ) {
            files.entry(path.clone()).or_default().push_str(&v);
        }
    }
    (!files.is_empty()).then_some(files)
}

/// A listing of files (name → what it says of each): which names it says something else of,
/// which are new and which are gone — names only, never what it says.
fn listing_change(
    what: &str,
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
    details: &mut Vec<String>,
) -> String {
    let changed: Vec<&String> = a
        .iter()
        .filter(|(name, digest)| b.get(*name).is_some_and(|d| d != *digest))
        .map(|(name, _)| name)
        .collect();
    let added: Vec<&String> = b.keys().filter(|n| !a.contains_key(*n)).collect();
    let removed: Vec<&String> = a.keys().filter(|n| !b.contains_key(*n)).collect();
    let mut list = |label: &str, names: Vec<&String>| {
        // A whole host's folder, new or gone, is one entry.
        let mut grouped: Vec<String> = Vec::new();
        let mut hosts: BTreeMap<String, usize> = BTreeMap::new();
        for name in &names {
            match name.strip_prefix("hosts/").and_then(|r| r.split_once('/')) {
                Some((host, _)) if label != "changed" => {
                    *hosts.entry(format!("hosts/{host}/")).or_default() += 1;
                }
                _ => grouped.push(esc(name)),
            }
        }
        grouped.extend(
            hosts
                .iter()
                .map(|(h, n)| format!("{} ({})", esc(h), files(*n))),
        );
        if !grouped.is_empty() {
            let more = grouped.len().saturating_sub(SHOWN_LINES * 3);
            grouped.truncate(SHOWN_LINES * 3);
            let tail = if more > 0 {
                format!(", … and {more} more")
            } else {
                String::new()
            };
            details.push(format!("{label}: {}{tail}", grouped.join(", ")));
        }
    };
    let summary = format!(
        "{} listed with another {what}, {} newly, {} no longer",
        files(changed.len()),
        added.len(),
        removed.len()
    );
    list("changed", changed);
    list("new", added);
    list("gone", removed);
    summary
}

/// `N lines added, M removed` (lines counted as a multiset: moved lines are not changes), and
/// the first of those lines.
fn text_change(old: &str, new: &str, details: &mut Vec<String>) -> String {
    let only_in = |a: &str, b: &str| -> Vec<String> {
        let mut available: HashMap<&str, usize> = HashMap::new();
        for line in b.lines() {
            *available.entry(line).or_default() += 1;
        }
        let mut out = Vec::new();
        for line in a.lines() {
            match available.get_mut(line) {
                Some(n) if *n > 0 => *n -= 1,
                _ => out.push(line.to_string()),
            }
        }
        out
    };
    let removed = only_in(old, new);
    let added = only_in(new, old);
    if added.is_empty() && removed.is_empty() {
        return "lines reordered or line endings changed".to_string();
    }
    for (sign, lines) in [("-", &removed), ("+", &added)] {
        for line in lines.iter().take(SHOWN_LINES) {
            let mut shown: String = line.chars().take(SHOWN_WIDTH).collect();
            if shown.len() < line.len() {
                shown.push('…');
            }
            details.push(format!("{sign} {}", esc(&shown)));
        }
        if lines.len() > SHOWN_LINES {
            details.push(format!("{sign} … and {} more", lines.len() - SHOWN_LINES));
        }
    }
    let plural = |n: usize| if n == 1 { "line" } else { "lines" };
    format!(
        "{} {} added, {} {} removed",
        added.len(),
        plural(added.len()),
        removed.len(),
        plural(removed.len())
    )
}

/// The facts of a certificate that explain a re-issue.
struct CertFacts {
    subject: String,
    issuer: String,
    sans: BTreeSet<String>,
    not_before: i64,
    not_after: i64,
    serial: String,
    public_key: Vec<u8>,
    authority_key_id: Option<Vec<u8>>,
    is_ca: bool,
}

/// The first PEM `CERTIFICATE` block of `contents`, parsed; `None` if there is none or it is
/// not a valid certificate (the file is then compared as text).
fn first_certificate(contents: &[u8]) -> Option<CertFacts> {
    let text = std::str::from_utf8(contents).ok()?;
    let mut body = String::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line == "-----BEGIN CERTIFICATE-----" {
            inside = true;
        } else if line == "-----END CERTIFICATE-----" && inside {
            break;
        } else if inside {
            body.push_str(line);
        }
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    let (_, cert) = X509Certificate::from_der(&der).ok()?;
    let sans = match cert.subject_alternative_name() {
        Ok(Some(ext)) => ext
            .value
            .general_names
            .iter()
            .map(describe_general_name)
            .collect(),
        _ => BTreeSet::new(),
    };
    let authority_key_id = cert
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                aki.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            _ => None,
        });
    Some(CertFacts {
        subject: non_empty(cert.subject().to_string()),
        issuer: non_empty(cert.issuer().to_string()),
        sans,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        serial: cert.tbs_certificate.raw_serial_as_string(),
        public_key: cert.public_key().raw.to_vec(),
        authority_key_id,
        is_ca: cert
            .basic_constraints()
            .ok()
            .flatten()
            .is_some_and(|c| c.value.ca),
    })
}

/// `certificate re-issued: <why>` and a detail line per fact that moved.
fn certificate_change(old: &CertFacts, new: &CertFacts, details: &mut Vec<String>) -> String {
    let mut why = Vec::new();
    if old.subject != new.subject {
        why.push("subject changed");
        details.push(format!(
            "subject: {} → {}",
            esc(&old.subject),
            esc(&new.subject)
        ));
    }
    let added: Vec<&String> = new.sans.difference(&old.sans).collect();
    let removed: Vec<&String> = old.sans.difference(&new.sans).collect();
    if !added.is_empty() || !removed.is_empty() {
        why.push("SANs changed");
        let join = |names: &[&String]| names.iter().map(|n| esc(n)).collect::<Vec<_>>().join(", ");
        if !added.is_empty() {
            details.push(format!("SANs added: {}", join(&added)));
        }
        if !removed.is_empty() {
            details.push(format!("SANs removed: {}", join(&removed)));
        }
    }
    if (old.not_before, old.not_after) != (new.not_before, new.not_after) {
        why.push("validity moved");
        details.push(format!(
            "validity: {} to {} → {} to {}",
            format_utc(old.not_before),
            format_utc(old.not_after),
            format_utc(new.not_before),
            format_utc(new.not_after)
        ));
    }
    if old.issuer != new.issuer {
        why.push("issuer changed");
        details.push(format!(
            "issuer: {} → {}",
            esc(&old.issuer),
            esc(&new.issuer)
        ));
    } else if old.authority_key_id != new.authority_key_id {
        why.push("issuing CA re-keyed");
        details.push(
            "issuer: same name, another CA key (authority key identifier changed)".to_string(),
        );
    }
    if old.public_key != new.public_key {
        why.push("key changed");
        details.push("public key changed (so did the private key beside it)".to_string());
    }
    if old.is_ca != new.is_ca {
        why.push("CA flag changed");
        details.push(format!("CA: {} → {}", yes_no(old.is_ca), yes_no(new.is_ca)));
    }
    if old.serial != new.serial {
        details.push(format!("serial: {} → {}", old.serial, new.serial));
    }
    if why.is_empty() {
        why.push("re-signed with the same subject, SANs, validity, issuer and key");
    }
    format!("certificate re-issued: {}", why.join(", "))
}

/// `1 file`, `2 files`.
fn files(n: usize) -> String {
    format!("{n} {}", if n == 1 { "file" } else { "files" })
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(mode: u32, text: &str) -> Entry {
        Entry {
            mode,
            contents: text.as_bytes().to_vec(),
        }
    }

    fn bundle(host_files: &[(&str, u32, &str)], files: &[(&str, u32, &str)]) -> BundleContents {
        let mut b = BundleContents::default();
        let host = b.hosts.entry("h".to_string()).or_default();
        for (p, m, t) in host_files {
            host.insert(p.to_string(), entry(*m, t));
        }
        for (p, m, t) in files {
            b.files.insert(p.to_string(), entry(*m, t));
        }
        b
    }

    #[test]
    fn identical_bundles_have_no_changes() {
        let a = bundle(&[("x", 0o644, "1\n")], &[("report.txt", 0o644, "r\n")]);
        let d = compare(&a, &a.clone());
        assert!(d.is_empty());
        assert_eq!(
            d.to_text(),
            "no changes (1 hosts and 1 bundle files compared)\n"
        );
    }

    #[test]
    fn private_files_say_only_changed_and_sums_only_names() {
        let a = bundle(
            &[
                ("k.key", 0o600, "SECRET-OLD\n"),
                ("c.conf", 0o644, "a\nb\n"),
            ],
            &[("SHA256SUMS", 0o644, "aaaa  hosts/h.tar.gz\ncccc  x\n")],
        );
        let b = bundle(
            &[
                ("k.key", 0o600, "SECRET-NEW\n"),
                ("c.conf", 0o640, "a\nc\n"),
            ],
            &[("SHA256SUMS", 0o644, "bbbb  hosts/h.tar.gz\ncccc  x\n")],
        );
        let text = compare(&a, &b).to_text();
        assert!(
            !text.contains("SECRET") && !text.contains("aaaa") && !text.contains("bbbb"),
            "{text}"
        );
        assert!(
            text.contains("k.key: contents changed (readable only by its owner: not shown)"),
            "{text}"
        );
        assert!(
            text.contains("c.conf: mode 0644 → 0640; 1 line added, 1 line removed"),
            "{text}"
        );
        assert!(text.contains("- b") && text.contains("+ c"), "{text}");
        assert!(text.contains("changed: hosts/h.tar.gz"), "{text}");
    }
}
