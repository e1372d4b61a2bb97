//! Data → model for `hosts` and `nodes.<name>.hosts`: how a blank host is prepared. A
//! node's set overrides the cluster's attribute by attribute; the result is checked as a
//! whole (a mirror URL where packages come from a mirror, …).

use super::walk::{join, present, Set};
use super::{Attrs, Converter};
use crate::codes::CheckCode;
use hac_core::{Data, DataNode};
use hac_model::schema::Section;
use hac_model::{Hosts, PackageSource, Version, UPSTREAM_PACKAGES_MIN};

/// A URL apt can read and a sources line can hold: `http`, `https` or `file`, no blanks,
/// quotes, brackets or control characters.
fn mirror_problem(url: &str) -> Option<&'static str> {
    let rest = ["https://", "http://", "file://"]
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme));
    let Some(rest) = rest else {
        return Some("it is not an http://, https:// or file:// URL");
    };
    if rest.is_empty() || rest == "/" {
        return Some("it names no host or folder");
    }
    if url.chars().any(|c| {
        c.is_whitespace()
            || c.is_control()
            || matches!(c, '"' | '\'' | '[' | ']' | '\\' | '`' | '$')
    }) {
        return Some("it holds blanks, quotes, brackets, `\\`, `` ` `` or `$`");
    }
    None
}

/// Why `key` is not one ASCII-armored OpenPGP public key block.
fn key_problem(key: &str) -> Option<&'static str> {
    let trimmed = key.trim();
    if !trimmed.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----")
        || !trimmed.ends_with("-----END PGP PUBLIC KEY BLOCK-----")
    {
        return Some("it is not an ASCII-armored public key block (-----BEGIN PGP PUBLIC KEY BLOCK----- … -----END PGP PUBLIC KEY BLOCK-----)");
    }
    if !key.is_ascii()
        || key
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Some("it holds characters other than printable ASCII");
    }
    None
}

impl Converter {
    /// The `hosts` set of `root`, the cluster (`base` empty) or a node (`base` its path),
    /// applied on top of `inherited`; `version` is the cluster's Kubernetes release.
    pub(super) fn hosts(
        &mut self,
        root: &Set,
        inherited: &Hosts,
        version: Option<Version>,
    ) -> Option<Hosts> {
        let h = &self.optional_set(root, "hosts", Section::Hosts)?;
        let at = &h.path;
        let mut out = inherited.clone();
        let mut ok = true;
        if let Some(n) = present(h, "os") {
            if matches!(&n.value, Data::String(s) if s == "rhel") {
                self.error(
                    CheckCode::InvalidEnum,
                    format!("`{at}.os` is \"rhel\": RHEL-family hosts (dnf) are not supported yet"),
                    n.best_span(),
                )
                .hints
                .push("hac prepares Debian and Ubuntu hosts (\"debian\"); on other systems install the packages yourself and set `packages = \"preinstalled\"` with `os = \"debian\"` only where apt exists".to_string());
                ok = false;
            } else {
                match self.spelled(n, &join(at, "os")) {
                    Some(os) => out.os = os,
                    None => ok = false,
                }
            }
        }
        let too_old = version.is_some_and(|v| v.minor_release() < UPSTREAM_PACKAGES_MIN);
        if root.path.is_empty() && too_old {
            // pkgs.k8s.io starts at 1.24: older clusters default to preinstalled packages.
            out.packages = PackageSource::Preinstalled;
        }
        match self.opt_choice(h, "packages") {
            Some(Some(p)) => out.packages = p,
            Some(None) => {}
            None => ok = false,
        }
        match self.opt_string(h, "mirror", "a URL (a string)") {
            Some(Some(url)) => {
                if let Some(problem) = mirror_problem(&url) {
                    let span = present(h, "mirror").and_then(DataNode::best_span);
                    self.error(
                        CheckCode::InvalidValue,
                        format!("`{at}.mirror` {url:?} is not a repository URL: {problem}"),
                        span,
                    )
                    .hints
                    .push("write the URL of the flat apt repository (the folder holding `Release`), e.g. \"https://apt.internal/kubernetes/core:/stable:/v1.30/deb/\" or \"file:///srv/k8s-repo/\"".to_string());
                    ok = false;
                } else {
                    out.mirror = Some(url);
                }
            }
            Some(None) => {}
            None => ok = false,
        }
        match self.opt_string(h, "repositoryKey", "an ASCII-armored public key (a string)") {
            Some(Some(key)) => {
                if let Some(problem) = key_problem(&key) {
                    let span = present(h, "repositoryKey").and_then(DataNode::best_span);
                    self.error(
                        CheckCode::InvalidValue,
                        format!("`{at}.repositoryKey` is not a public key: {problem}"),
                        span,
                    )
                    .hints
                    .push("paste the output of `gpg --armor --export KEYID` (or the repository's Release.key) in an indented string '' … ''".to_string());
                    ok = false;
                } else {
                    let mut key = key;
                    if !key.ends_with('\n') {
                        key.push('\n');
                    }
                    out.repository_key = Some(key);
                }
            }
            Some(None) => {}
            None => ok = false,
        }
        if let Some(firewall) = self.opt_flag(h, "firewall") {
            out.firewall = firewall;
        }
        match self.opt_number(h, "sshPort") {
            Some(Some(p)) => out.ssh_port = p,
            Some(None) => {}
            None => ok = false,
        }
        if !ok {
            return None;
        }
        self.check_package_combination(root, h, at, &out, version.filter(|_| too_old))?;
        Some(out)
    }

    /// Checks that `packages`, `mirror` and `repositoryKey` (after inheritance, in `out`)
    /// make sense together; `too_old_version` is the cluster's release when pkgs.k8s.io has
    /// no packages of it.
    fn check_package_combination(
        &mut self,
        root: &Attrs,
        h: &Attrs,
        at: &str,
        out: &Hosts,
        too_old_version: Option<Version>,
    ) -> Option<()> {
        // The combination, where this set (or the cluster's) decided it.
        let span = present(root, "hosts").and_then(DataNode::best_span);
        match out.packages {
            PackageSource::Mirror if out.mirror.is_none() => {
                self.error(
                    CheckCode::InvalidValue,
                    format!("`{at}.packages` is \"mirror\" but no `mirror` URL is set"),
                    present(h, "packages").and_then(DataNode::best_span).or(span),
                )
                .hints
                .push("add `mirror = \"https://…\";` (the flat apt repository of your mirror), or use packages = \"upstream\"".to_string());
                return None;
            }
            PackageSource::Upstream | PackageSource::Preinstalled
                if present(h, "mirror").is_some() =>
            {
                self.error(
                    CheckCode::InvalidValue,
                    format!(
                        "`{at}.mirror` is set but `packages` is \"{}\", so it would be ignored",
                        out.packages.as_str()
                    ),
                    present(h, "mirror").and_then(DataNode::best_span),
                )
                .hints
                .push("add `packages = \"mirror\";` or remove `mirror`".to_string());
                return None;
            }
            PackageSource::Preinstalled if present(h, "repositoryKey").is_some() => {
                self.error(
                    CheckCode::InvalidValue,
                    format!("`{at}.repositoryKey` is set but `packages` is \"preinstalled\", so nothing would use it"),
                    present(h, "repositoryKey").and_then(DataNode::best_span),
                )
                .hints
                .push("remove `repositoryKey`, or install packages (\"upstream\" or \"mirror\")".to_string());
                return None;
            }
            PackageSource::Upstream if present(h, "packages").is_some() => {
                if let Some(v) = too_old_version {
                    self.error(
                        CheckCode::InvalidValue,
                        format!(
                            "`{at}.packages` is \"upstream\" but pkgs.k8s.io publishes no packages of Kubernetes {v} (only 1.{} and later)",
                            UPSTREAM_PACKAGES_MIN.1
                        ),
                        present(h, "packages").and_then(DataNode::best_span).or(span),
                    )
                    .hints
                    .push("use packages = \"mirror\" with a repository that has them, or \"preinstalled\"".to_string());
                    return None;
                }
            }
            PackageSource::Upstream | PackageSource::Mirror | PackageSource::Preinstalled => {}
        }
        Some(())
    }
}
