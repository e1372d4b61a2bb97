//! How hac prepares a blank host (`hosts`, overridable per node): the operating system
//! family, where the Kubernetes packages come from, the opt-in firewall and the SSH port it
//! always keeps open.

use crate::cluster::Version;

/// The pkgs.k8s.io signing key (ASCII-armored), pinned in every bundle that installs from
/// the upstream repository. Fingerprint [`KUBERNETES_KEY_FINGERPRINT`]; upstream extends its
/// expiry from time to time (this copy: 2026-12-29), keeping the fingerprint: paste the
/// renewed `Release.key` into `hosts.repositoryKey` when it expires.
pub const KUBERNETES_RELEASE_KEY: &str = include_str!("kubernetes-release-key.asc");
pub const KUBERNETES_KEY_FINGERPRINT: &str = "DE15B14486CD377B9E876E1A234654DA9A296436";
/// The first Kubernetes minor release pkgs.k8s.io publishes.
pub const UPSTREAM_PACKAGES_MIN: (u32, u32) = (1, 24);
/// `hosts.sshPort`.
pub const DEFAULT_SSH_PORT: u16 = 22;

crate::spelled_enum! {
    /// `hosts.os`: the operating-system family (its package manager).
    pub enum HostOs ("host OS family") default Debian {
        /// Debian and Ubuntu: apt, dpkg.
        Debian = "debian",
    }
}

crate::spelled_enum! {
    /// `hosts.packages`: where kubelet, kubeadm and kubectl come from.
    pub enum PackageSource ("package source") default Upstream {
        /// pkgs.k8s.io, the repository of the cluster's minor release, its key pinned.
        Upstream = "upstream",
        /// An apt repository laid out as pkgs.k8s.io's (`hosts.mirror`).
        Mirror = "mirror",
        /// Nothing is installed: the image carries every package; versions are verified.
        Preinstalled = "preinstalled",
    }
}

/// The host-preparation settings of one node (the cluster's `hosts`, with the node's
/// `nodes.<name>.hosts` applied on top).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hosts {
    pub os: HostOs,
    pub packages: PackageSource,
    /// With `packages = "mirror"`: the URL of the flat apt repository (`deb URL /`).
    pub mirror: Option<String>,
    /// The ASCII-armored key that signs the repository; `None`: the pinned pkgs.k8s.io key.
    pub repository_key: Option<String>,
    /// Install hac's nftables ruleset.
    pub firewall: bool,
    /// The SSH port the firewall always accepts.
    pub ssh_port: u16,
}

impl Default for Hosts {
    fn default() -> Hosts {
        Hosts {
            os: HostOs::DEFAULT,
            packages: PackageSource::Upstream,
            mirror: None,
            repository_key: None,
            firewall: false,
            ssh_port: DEFAULT_SSH_PORT,
        }
    }
}

impl Hosts {
    /// The apt repository the Kubernetes packages come from (`None` when preinstalled).
    pub fn repository_url(&self, k8s: Version) -> Option<String> {
        match self.packages {
            PackageSource::Upstream => Some(format!(
                "https://pkgs.k8s.io/core:/stable:/v{}.{}/deb/",
                k8s.major, k8s.minor
            )),
            PackageSource::Mirror => self.mirror.clone(),
            PackageSource::Preinstalled => None,
        }
    }
    /// The repository's signing key (armored), when packages are installed.
    pub fn signing_key(&self) -> Option<&str> {
        match self.packages {
            PackageSource::Preinstalled => None,
            PackageSource::Upstream | PackageSource::Mirror => Some(
                self.repository_key
                    .as_deref()
                    .unwrap_or(KUBERNETES_RELEASE_KEY),
            ),
        }
    }
}

/// The pause (sandbox) image tag kubeadm of a Kubernetes minor release expects
/// (kubeadm's `PauseVersion`).
pub fn pause_version(k8s: Version) -> &'static str {
    match k8s.minor_release() {
        (1, m) if m <= 22 => "3.5",
        (1, 23) => "3.6",
        (1, 24) => "3.7",
        (1, 25) => "3.8",
        (1, m) if m <= 30 => "3.9",
        (1, m) if m <= 33 => "3.10",
        _ => "3.10.1",
    }
}

/// kubeadm's default image repository of a Kubernetes release (`registry.k8s.io` since
/// 1.25; earlier releases default to `k8s.gcr.io`, which redirects there).
pub fn default_image_repository(k8s: Version) -> &'static str {
    if k8s.minor_release() >= (1, 25) {
        "registry.k8s.io"
    } else {
        "k8s.gcr.io"
    }
}
