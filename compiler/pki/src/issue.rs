//! Issues the whole PKI of pki.md for a cluster: the three CAs and the service-account key
//! pair, every leaf certificate and kubeconfig each node needs, placed per node by the
//! least-privilege table of bundle.md. Pure: the same cluster and secrets give the same bytes
//! (keys from HKDF, deterministic signatures, serials from a keyed hash, validity from
//! `epoch`); nothing here reads a clock, a random source or a file.

use crate::ca::{subject_key_id, CaMaterial};
use crate::error::*;
use crate::keys::{hkdf_expand, KeyPair};
use crate::kubeconfig::Kubeconfig;
use crate::secrets::Secrets;
use hac_core::Diagnostic;
use hac_model::archive::{
    archive_files, CaName, FileKind, Kubeconfig as KubeconfigFile, Leaf, PkiFile, MODE_PUBLIC,
    MODE_SECRET as SECRET,
};
use hac_model::{has_super_admin, Artifact, Cluster, IssuedPki, Node};
use hmac::{Hmac, Mac};
use rcgen::string::Ia5String;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyUsagePurpose, PublicKeyData, SanType,
    SerialNumber,
};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::net::IpAddr;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// Mode of certificates.
pub const MODE_CERT: u32 = MODE_PUBLIC;
/// Mode of private keys, `sa.pub` and kubeconfigs.
pub const MODE_SECRET: u32 = SECRET;

/// Issues every certificate, key and kubeconfig, placed per node (every node of the cluster
/// has an entry; a worker's is empty).
pub fn issue(cluster: &Cluster, secrets: &Secrets) -> Result<IssuedPki, Diagnostic> {
    issue_inner(cluster, secrets).map_err(Diagnostic::from)
}

/// What a leaf certificate is for: its extended key usages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Usage {
    Server,
    Client,
    ServerAndClient,
}

/// Everything that distinguishes one leaf certificate.
struct LeafSpec {
    /// Names the key (with the node and `pki.rotation`): same identity, same key.
    identity: String,
    common_name: String,
    organization: Option<String>,
    usage: Usage,
    dns_names: Vec<String>,
    ips: Vec<IpAddr>,
}

/// One leaf to issue for one node: a certificate and key pair, or a kubeconfig embedding
/// them.
#[must_use]
struct Job {
    node_index: usize,
    spec: LeafSpec,
    ca: CaName,
    output: Output,
}

/// What a job writes.
enum Output {
    Leaf(Leaf),
    /// The kubeconfig, its user and the server it names.
    Kubeconfig(KubeconfigFile, &'static str, String),
}

/// A leaf as PEM text.
struct IssuedLeaf {
    cert_pem: String,
    key_pem: Zeroizing<String>,
}

/// The parts of an issuance shared by every certificate.
struct Issuer<'a> {
    cluster: &'a Cluster,
    root_secret: &'a [u8],
    serial_key: Zeroizing<[u8; 32]>,
    not_before: OffsetDateTime,
    ca_not_after: OffsetDateTime,
    /// `pki.leafEpoch`, else `epoch`.
    leaf_not_before: OffsetDateTime,
    leaf_not_after: OffsetDateTime,
}

fn issue_inner(cluster: &Cluster, secrets: &Secrets) -> Result<IssuedPki, PkiError> {
    let iss = Issuer::new(cluster, secrets.root_secret.as_ref())?;
    let (cluster_ca, front_proxy_ca, etcd_ca, sa) = derive_roots(&iss, cluster, secrets)?;
    let sa_key_pem = sa.private_key_pem()?;
    let sa_pub_pem = sa.public_key_pem()?;

    let encryption_config = crate::encryption::encryption_config(cluster, iss.root_secret)?;

    let cas = [&cluster_ca, &front_proxy_ca, &etcd_ca];
    let trust = [CaName::Cluster, CaName::FrontProxy, CaName::Etcd]
        .map(|name| trust_bundle(cas[ca_index(name)], cluster.pki.previous_cas.get(&name)));
    let shared = Shared {
        cas,
        trust: [&trust[0], &trust[1], &trust[2]],
        sa_key_pem: &sa_key_pem,
        sa_pub_pem: &sa_pub_pem,
        encryption_config: encryption_config.as_deref().map(String::as_str),
    };
    // Plan every file of every node (archive.rs's table): shared material now, leaves as
    // jobs. The jobs then run on all cores with one leaf per job, so that slow (RSA) keys
    // spread evenly.
    let mut placed: Vec<BTreeMap<String, Artifact>> = Vec::with_capacity(cluster.nodes.len());
    let mut jobs: Vec<Job> = Vec::new();
    for (node_index, node) in cluster.nodes.iter().enumerate() {
        let mut out: BTreeMap<String, Artifact> = BTreeMap::new();
        for row in archive_files(cluster, node) {
            let FileKind::Pki(file) = row.kind else {
                continue;
            };
            match shared.contents(file)? {
                Some(contents) => {
                    let artifact = Artifact::new(row.path, row.mode, contents.as_bytes().to_vec());
                    out.insert(row.path.to_string(), artifact);
                }
                None => jobs.extend(leaf_job(&iss, node, node_index, file)),
            }
        }
        placed.push(out);
    }
    let results = parallel_map(&jobs, |job| job_files(&iss, &shared, job))?;
    Ok(IssuedPki {
        files: node_files(cluster, placed, &jobs, results)?,
        ca_cert_hash: cluster_ca.cert_hash(),
        ca_cert_pem: trust[0].clone(),
    })
}

/// Each node's files sorted by path: what was placed for it, with the files of its jobs.
fn node_files(
    cluster: &Cluster,
    mut placed: Vec<BTreeMap<String, Artifact>>,
    jobs: &[Job],
    results: Vec<Result<Vec<Artifact>, PkiError>>,
) -> Result<BTreeMap<String, Vec<Artifact>>, PkiError> {
    for (job, result) in jobs.iter().zip(results) {
        let out = placed
            .get_mut(job.node_index)
            .ok_or_else(|| PkiError::internal("a job names no node"))?;
        for artifact in result? {
            out.insert(artifact.path.clone(), artifact);
        }
    }
    let mut files = BTreeMap::new();
    for (node, out) in cluster.nodes.iter().zip(placed) {
        let issued: Vec<(&str, u32)> = out.values().map(|a| (a.path.as_str(), a.mode)).collect();
        let table: Vec<(&str, u32)> = archive_files(cluster, node)
            .into_iter()
            .filter(|row| matches!(row.kind, FileKind::Pki(_)))
            .map(|row| (row.path, row.mode))
            .collect();
        if issued != table {
            return Err(PkiError::internal(format!(
                "the files issued for `{}` differ from the archive table",
                node.name
            )));
        }
        files.insert(node.name.clone(), out.into_values().collect());
    }
    Ok(files)
}

/// The three CAs (cluster, front-proxy, etcd) and the service-account key: derived side by
/// side (RSA key generation dominates the run time), the cluster CA adopted when imported.
fn derive_roots(
    iss: &Issuer<'_>,
    cluster: &Cluster,
    secrets: &Secrets,
) -> Result<(CaMaterial, CaMaterial, CaMaterial, KeyPair), PkiError> {
    enum Root {
        Ca(Box<CaMaterial>),
        ServiceAccount(KeyPair),
        Adopted,
    }
    let sa_identity = format!("cluster={} sa", cluster.name);
    let roots = ["ca", "front-proxy-ca", "etcd-ca", "sa"];
    let derived = parallel_map(&roots, |id| -> Result<Root, PkiError> {
        let ca = |id: &str, cn: &str| iss.derived_ca(id, cn).map(|m| Root::Ca(Box::new(m)));
        match *id {
            "ca" if secrets.imported_ca.is_some() => Ok(Root::Adopted),
            "ca" => ca("ca", "kubernetes"),
            "front-proxy-ca" => ca("front-proxy-ca", "front-proxy-ca"),
            "etcd-ca" => ca("etcd-ca", "etcd-ca"),
            _ => KeyPair::derive(iss.root_secret, cluster.pki.algorithm, &sa_identity)
                .map(Root::ServiceAccount),
        }
    })?;
    let (mut cas, mut sa, mut adopted) = (Vec::new(), None, false);
    for root in derived {
        match root? {
            Root::Ca(m) => cas.push(*m),
            Root::ServiceAccount(k) => sa = Some(k),
            Root::Adopted => adopted = true,
        }
    }
    let missing = || PkiError::internal("a CA or the service-account key is missing");
    let sa = sa.ok_or_else(missing)?;
    let mut cas = cas.into_iter();
    let cluster_ca = match (&secrets.imported_ca, adopted) {
        (Some(imported), true) => imported.material()?,
        _ => cas.next().ok_or_else(missing)?,
    };
    let front_proxy_ca = cas.next().ok_or_else(missing)?;
    let etcd_ca = cas.next().ok_or_else(missing)?;
    Ok((cluster_ca, front_proxy_ca, etcd_ca, sa))
}

/// The material every node that holds it gets the same copy of: the CAs' certificates, the
/// cluster CA's key, the service-account key pair and the encryption configuration.
struct Shared<'a> {
    /// `[cluster CA, front-proxy CA, etcd CA]`.
    cas: [&'a CaMaterial; 3],
    /// What trusts each CA holds, in the same order: its certificate, then, while it rotates
    /// to a new key, the running cluster's (`pki.previous_cas`).
    trust: [&'a str; 3],
    sa_key_pem: &'a str,
    sa_pub_pem: &'a str,
    encryption_config: Option<&'a str>,
}

impl Shared<'_> {
    /// The contents of a shared file; `None` for a leaf or kubeconfig (issued per node).
    fn contents(&self, file: PkiFile) -> Result<Option<&str>, PkiError> {
        Ok(Some(match file {
            PkiFile::CaCert(ca) => self.trust[ca_index(ca)],
            PkiFile::ClusterCaKey => self.ca(CaName::Cluster).key_pem.as_str(),
            PkiFile::ServiceAccountKey => self.sa_key_pem,
            PkiFile::ServiceAccountPub => self.sa_pub_pem,
            PkiFile::EncryptionConfig => self.encryption_config.ok_or_else(|| {
                PkiError::internal("the table places an encryption configuration none was made for")
            })?,
            PkiFile::LeafCert(_) | PkiFile::LeafKey(_) | PkiFile::Kubeconfig(_) => return Ok(None),
        }))
    }

    fn ca(&self, ca: CaName) -> &CaMaterial {
        self.cas[ca_index(ca)]
    }
}

fn ca_index(ca: CaName) -> usize {
    match ca {
        CaName::Cluster => 0,
        CaName::FrontProxy => 1,
        CaName::Etcd => 2,
    }
}

/// The job that issues a leaf (its certificate row; the key row comes with it) or a
/// kubeconfig for `node`.
fn leaf_job(iss: &Issuer<'_>, node: &Node, node_index: usize, file: PkiFile) -> Option<Job> {
    let (spec, ca, output) = match file {
        PkiFile::LeafCert(leaf) => (iss.leaf_spec(node, leaf), leaf.ca(), Output::Leaf(leaf)),
        PkiFile::Kubeconfig(k) => {
            let (user, group, server) = iss.kubeconfig_identity(node, k);
            let spec = iss.client_spec(node, &format!("kubeconfig-{}", k.name()), user, group);
            (spec, CaName::Cluster, Output::Kubeconfig(k, user, server))
        }
        PkiFile::LeafKey(_)
        | PkiFile::CaCert(_)
        | PkiFile::ClusterCaKey
        | PkiFile::ServiceAccountKey
        | PkiFile::ServiceAccountPub
        | PkiFile::EncryptionConfig => return None,
    };
    Some(Job {
        node_index,
        spec,
        ca,
        output,
    })
}

/// A CA's trust bundle: its certificate first (kube-controller-manager signs with the
/// first certificate of `ca.crt` and `ca.key`), then the certificate it replaces while a CA
/// rotates to a new key.
/// The running cluster's certificate is added only when its key differs: a CA renewed under
/// the same key, or unchanged, needs no bundle, and a build after the rotation drops it.
fn trust_bundle(ca: &CaMaterial, previous: Option<&String>) -> String {
    let previous_key = previous.and_then(|pem| {
        let der = crate::keys::pem_body(pem)?;
        let (_, cert) = x509_parser::parse_x509_certificate(&der).ok()?;
        Some(cert.public_key().raw.to_vec())
    });
    match (previous, previous_key) {
        (Some(old), Some(key)) if key != ca.spki_der => {
            format!("{}\n{}\n", ca.cert_pem.trim_end(), old.trim())
        }
        _ => ca.cert_pem.clone(),
    }
}

/// The files of one job: a leaf's certificate and key, or a kubeconfig embedding them.
fn job_files(iss: &Issuer<'_>, shared: &Shared<'_>, job: &Job) -> Result<Vec<Artifact>, PkiError> {
    let cluster = iss.cluster;
    let ca = shared.ca(job.ca);
    let leaf = iss.leaf(&job.spec, ca)?;
    Ok(match &job.output {
        Output::Leaf(name) => vec![
            Artifact::new(name.cert_path(), MODE_CERT, leaf.cert_pem.into_bytes()),
            Artifact::new(
                name.key_path(),
                MODE_SECRET,
                leaf.key_pem.as_bytes().to_vec(),
            ),
        ],
        Output::Kubeconfig(k, user, server) => {
            let text = Kubeconfig {
                cluster_name: &cluster.name,
                server,
                user,
                ca_cert_pem: shared.trust[ca_index(job.ca)],
                client_cert_pem: &leaf.cert_pem,
                client_key_pem: &leaf.key_pem,
            }
            .to_yaml();
            vec![Artifact::new(
                k.path(),
                MODE_SECRET,
                text.as_bytes().to_vec(),
            )]
        }
    })
}

impl<'a> Issuer<'a> {
    fn new(cluster: &'a Cluster, root_secret: &'a [u8]) -> Result<Issuer<'a>, PkiError> {
        let from = |base: i64, days: u32, what: &str| {
            let secs = i64::from(days)
                .checked_mul(86_400)
                .and_then(|d| base.checked_add(d));
            secs.and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
                .ok_or_else(|| {
                    PkiError::internal(format!(
                        "the {what} reaches past the year 9999, which X.509 cannot express"
                    ))
                    .with_hint("lower pki.caValidityDays / pki.certValidityDays or the epoch")
                })
        };
        let at = |days: u32, what: &str| from(cluster.epoch.unix, days, what);
        let leaf_base = cluster.leaf_not_before();
        let mut serial_key = Zeroizing::new([0u8; 32]);
        hkdf_expand(
            root_secret,
            &format!("cluster={} serial-key", cluster.name),
            serial_key.as_mut(),
        )?;
        Ok(Issuer {
            cluster,
            root_secret,
            serial_key,
            not_before: at(0, "epoch")?,
            ca_not_after: at(cluster.pki.ca_validity_days, "CA validity")?,
            leaf_not_before: from(leaf_base, 0, "leaf epoch")?,
            leaf_not_after: from(
                leaf_base,
                cluster.pki.cert_validity_days,
                "certificate validity",
            )?,
        })
    }

    /// `system:masters` up to 1.28, `kubeadm:cluster-admins` from 1.29.
    fn admin_group(&self) -> &'static str {
        if has_super_admin(self.cluster.kubernetes_version) {
            "kubeadm:cluster-admins"
        } else {
            "system:masters"
        }
    }

    fn leaf_identity(&self, node: &Node, what: &str) -> String {
        format!(
            "cluster={} leaf={} node={} rotation={}",
            self.cluster.name, what, node.name, self.cluster.pki.rotation
        )
    }

    fn client_spec(&self, node: &Node, what: &str, cn: &str, org: Option<&str>) -> LeafSpec {
        LeafSpec {
            identity: self.leaf_identity(node, what),
            common_name: cn.to_string(),
            organization: org.map(str::to_string),
            usage: Usage::Client,
            dns_names: Vec::new(),
            ips: Vec::new(),
        }
    }

    /// The certificate `leaf` of `node`: its identity (which names its key), subject, usage
    /// and names (pki.md).
    fn leaf_spec(&self, node: &Node, leaf: Leaf) -> LeafSpec {
        match leaf {
            Leaf::ApiServer => self.apiserver_spec(node),
            Leaf::ApiServerKubeletClient => self.client_spec(
                node,
                "apiserver-kubelet-client",
                "kube-apiserver-kubelet-client",
                Some(self.admin_group()),
            ),
            Leaf::FrontProxyClient => {
                self.client_spec(node, "front-proxy-client", "front-proxy-client", None)
            }
            Leaf::ApiServerEtcdClient => self.client_spec(
                node,
                "apiserver-etcd-client",
                "kube-apiserver-etcd-client",
                None,
            ),
            Leaf::EtcdServer => self.etcd_member_spec(node, "etcd-server"),
            Leaf::EtcdPeer => self.etcd_member_spec(node, "etcd-peer"),
            Leaf::EtcdHealthcheckClient => self.client_spec(
                node,
                "etcd-healthcheck-client",
                "kube-etcd-healthcheck-client",
                None,
            ),
        }
    }

    /// A kubeconfig's user, group and server: the admins' name the endpoint, the
    /// controller-manager's and scheduler's their own node's kube-apiserver.
    fn kubeconfig_identity(
        &self,
        node: &Node,
        kubeconfig: KubeconfigFile,
    ) -> (&'static str, Option<&'static str>, String) {
        let cluster = self.cluster;
        let endpoint = format!("https://{}", cluster.control_plane_endpoint());
        let local = format!(
            "https://{}:{}",
            node.address, cluster.control_plane.api_server_port
        );
        match kubeconfig {
            KubeconfigFile::Admin => ("kubernetes-admin", Some(self.admin_group()), endpoint),
            KubeconfigFile::ControllerManager => ("system:kube-controller-manager", None, local),
            KubeconfigFile::Scheduler => ("system:kube-scheduler", None, local),
            KubeconfigFile::SuperAdmin => {
                ("kubernetes-super-admin", Some("system:masters"), endpoint)
            }
        }
    }

    /// kube-apiserver's serving certificate with this node's SANs (the model's).
    fn apiserver_spec(&self, node: &Node) -> LeafSpec {
        let sans = self.cluster.apiserver_sans(node);
        LeafSpec {
            identity: self.leaf_identity(node, "apiserver"),
            common_name: "kube-apiserver".to_string(),
            organization: None,
            usage: Usage::Server,
            dns_names: sans.dns_names,
            ips: sans.ips,
        }
    }

    /// etcd's server or peer certificate for the member on `node`.
    fn etcd_member_spec(&self, node: &Node, what: &str) -> LeafSpec {
        let sans = node.etcd_member_sans();
        LeafSpec {
            identity: self.leaf_identity(node, what),
            common_name: node.name.clone(),
            organization: None,
            usage: Usage::ServerAndClient,
            dns_names: sans.dns_names,
            ips: sans.ips,
        }
    }

    /// A CA derived from the root secret: same cluster name, algorithm, secret and
    /// `pki.caRotation`, same CA (`pki.rotation` does not touch it).
    fn derived_ca(&self, id: &str, cn: &str) -> Result<CaMaterial, PkiError> {
        let c = self.cluster;
        // `pki.caRotation` names a new key (only when set, so that the first keys stay).
        let identity = match c.pki.ca_rotation {
            0 => format!("cluster={} ca={id}", c.name),
            n => format!("cluster={} ca={id} ca-rotation={n}", c.name),
        };
        let key = KeyPair::derive(self.root_secret, c.pki.algorithm, &identity)?;
        let ski = subject_key_id(key.der_bytes());
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(None, cn)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.key_identifier_method = KeyIdMethod::PreSpecified(ski.clone());
        // client-go's NewSelfSignedCACert, which kubeadm calls, names the CA in a DNS SAN.
        params.subject_alt_names = vec![SanType::DnsName(ia5(cn)?)];
        params.not_before = self.not_before;
        params.not_after = self.ca_not_after;
        let spki_der = key.subject_public_key_info();
        params.serial_number =
            Some(self.serial(&format!("ca={id}"), &format!("{cn}|ca"), &spki_der));
        let cert = params.self_signed(&key).map_err(|e| rcgen_error(&e))?;
        Ok(CaMaterial {
            subject: params.distinguished_name.clone(),
            subject_key_id: ski,
            cert_pem: cert.pem(),
            spki_der,
            key_pem: key.private_key_pem()?,
            key,
        })
    }

    /// Issues one leaf under `ca`.
    fn leaf(&self, spec: &LeafSpec, ca: &CaMaterial) -> Result<IssuedLeaf, PkiError> {
        let key = KeyPair::derive(self.root_secret, self.cluster.pki.algorithm, &spec.identity)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(spec.organization.as_deref(), &spec.common_name)?;
        params.is_ca = IsCa::NoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = match spec.usage {
            Usage::Server => vec![ExtendedKeyUsagePurpose::ServerAuth],
            Usage::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
            Usage::ServerAndClient => {
                vec![
                    ExtendedKeyUsagePurpose::ServerAuth,
                    ExtendedKeyUsagePurpose::ClientAuth,
                ]
            }
        };
        let mut sans = Vec::new();
        for d in &spec.dns_names {
            sans.push(SanType::DnsName(ia5(d)?));
        }
        sans.extend(spec.ips.iter().map(|ip| SanType::IpAddress(*ip)));
        params.subject_alt_names = sans;
        params.use_authority_key_identifier_extension = true;
        params.not_before = self.leaf_not_before;
        params.not_after = self.leaf_not_after;
        let spki_der = key.subject_public_key_info();
        let content = format!(
            "{}|{:?}|{:?}|{:?}|{:?}|issuer-ski={:02x?}",
            spec.common_name,
            spec.organization,
            spec.usage,
            spec.dns_names,
            spec.ips,
            ca.subject_key_id
        );
        // A moved leaf epoch is part of the leaf's serial (only when set, so that builds
        // without it keep their bytes): a renewed leaf never repeats an old serial.
        let content = match self.cluster.pki.leaf_epoch {
            Some(e) => format!("{content}|leaf-epoch={}", e.unix),
            None => content,
        };
        params.serial_number = Some(self.serial(&spec.identity, &content, &spki_der));
        let cert = params
            .signed_by(&key, &ca.issuer())
            .map_err(|e| rcgen_error(&e))?;
        Ok(IssuedLeaf {
            cert_pem: cert.pem(),
            key_pem: key.private_key_pem()?,
        })
    }

    /// A positive 16-byte serial: HMAC-SHA256 (keyed from the root secret) of the
    /// certificate's identity, content, validity and public key, so that two different
    /// certificates never share one and the same certificate always gets the same.
    fn serial(&self, identity: &str, content: &str, spki_der: &[u8]) -> SerialNumber {
        // HMAC accepts keys of any length; the `else` is never taken.
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(self.serial_key.as_ref()) else {
            return SerialNumber::from_slice(&[0x40; 16]);
        };
        for part in [identity.as_bytes(), content.as_bytes(), spki_der] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.update(&self.not_before.unix_timestamp().to_be_bytes());
        mac.update(&self.cluster.pki.ca_validity_days.to_be_bytes());
        mac.update(&self.cluster.pki.cert_validity_days.to_be_bytes());
        let digest = mac.finalize().into_bytes();
        let mut serial = [0u8; 16];
        serial.copy_from_slice(&digest[..16]);
        // Positive, and exactly 16 bytes in DER (no leading zero byte to strip).
        serial[0] = (serial[0] & 0x7f) | 0x40;
        SerialNumber::from_slice(&serial)
    }
}

/// The issuer name a leaf signed by `ca` carries (DER), to check an adopted CA's subject.
pub(crate) fn probe_issuer_name(ca: &CaMaterial) -> Result<Vec<u8>, PkiError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(None, "hac-probe")?;
    params.serial_number = Some(SerialNumber::from_slice(&[1]));
    params.not_before = OffsetDateTime::UNIX_EPOCH;
    params.not_after = OffsetDateTime::UNIX_EPOCH;
    let cert = params
        .signed_by(&ca.key, &ca.issuer())
        .map_err(|e| rcgen_error(&e))?;
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.der())
        .map_err(|_| PkiError::internal("cannot read back a probe certificate"))?;
    Ok(parsed.issuer().as_raw().to_vec())
}

/// A subject as Go writes it: O before CN, PrintableString where the text allows it.
fn dn(org: Option<&str>, cn: &str) -> Result<DistinguishedName, PkiError> {
    let value = |s: &str| match rcgen::string::PrintableString::try_from(s) {
        Ok(p) => DnValue::PrintableString(p),
        Err(_) => DnValue::Utf8String(s.to_string()),
    };
    let mut d = DistinguishedName::new();
    if let Some(o) = org {
        d.push(DnType::OrganizationName, value(o));
    }
    d.push(DnType::CommonName, value(cn));
    Ok(d)
}

fn ia5(s: &str) -> Result<Ia5String, PkiError> {
    Ia5String::try_from(s).map_err(|_| {
        PkiError::internal(format!(
            "`{s}` cannot be a DNS name in a certificate (not ASCII)"
        ))
    })
}

fn rcgen_error(e: &rcgen::Error) -> PkiError {
    PkiError::internal(format!("cannot build a certificate: {e}"))
}

/// `f` over `items` on up to `available_parallelism` threads, results in input order. The
/// output does not depend on scheduling: each result is a pure function of its item.
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Result<Vec<R>, PkiError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, 16);
    if threads == 1 || items.len() < 2 {
        return Ok(items.iter().map(&f).collect());
    }
    let f = &f;
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    let chunks: Result<Vec<Vec<(usize, R)>>, PkiError> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.min(items.len()))
            .map(|t| {
                scope.spawn(move || {
                    items
                        .iter()
                        .enumerate()
                        .skip(t)
                        .step_by(threads)
                        .map(|(i, item)| (i, f(item)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| PkiError::internal("a PKI worker thread failed"))
            })
            .collect()
    });
    for (i, r) in chunks?.into_iter().flatten() {
        slots[i] = Some(r);
    }
    slots
        .into_iter()
        .map(|r| r.ok_or_else(|| PkiError::internal("a PKI result is missing")))
        .collect()
}
