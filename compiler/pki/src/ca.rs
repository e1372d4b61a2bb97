//! Certificate authorities as issuers: a CA is its key pair, its subject, its subject key
//! identifier and its certificate. Derived CAs are built here from the root secret; an adopted
//! (imported) cluster CA is checked here: PEM, a CA, its key matching its certificate, and a
//! subject that re-encodes byte for byte (Go compares issuer and subject bytes).

use crate::error::*;
use crate::keys::{pem_label, KeyPair};
use rcgen::string::{BmpString, UniversalString};
use rcgen::{CertificateParams, DistinguishedName, DnType, DnValue, Issuer, KeyIdMethod};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// A CA ready to sign: everything rcgen's `Issuer` needs, and what the bundle places.
pub(crate) struct CaMaterial {
    pub key: KeyPair,
    pub subject: DistinguishedName,
    pub subject_key_id: Vec<u8>,
    pub cert_pem: String,
    /// The certificate's DER SubjectPublicKeyInfo (kubeadm's `caCertHashes` hashes it).
    pub spki_der: Vec<u8>,
    /// The private key as it is placed on control planes (PEM).
    pub key_pem: Zeroizing<String>,
}

impl CaMaterial {
    /// An rcgen issuer borrowing this CA.
    pub(crate) fn issuer(&self) -> Issuer<'static, &KeyPair> {
        let mut params = CertificateParams::default();
        params.distinguished_name = self.subject.clone();
        params.key_identifier_method = KeyIdMethod::PreSpecified(self.subject_key_id.clone());
        Issuer::new(params, &self.key)
    }

    /// `sha256:<hex>` of the DER SubjectPublicKeyInfo, as kubeadm's `--discovery-token-ca-cert-hash`.
    pub(crate) fn cert_hash(&self) -> String {
        let digest = Sha256::digest(&self.spki_der);
        let mut s = String::from("sha256:");
        for b in digest {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }
}

/// The subject key identifier of a public key: RFC 7093 method 1, the leftmost 160 bits of the
/// SHA-256 of the subjectPublicKey bits.
pub(crate) fn subject_key_id(public_key_bits: &[u8]) -> Vec<u8> {
    Sha256::digest(public_key_bits)[..20].to_vec()
}

/// An adopted cluster CA from the secrets file, already checked.
pub(crate) struct ImportedCa {
    /// The CA certificate, normalized PEM (first certificate block only).
    pub cert_pem: String,
    /// The CA key PEM as given (trimmed), zeroized on drop.
    pub key_pem: Zeroizing<String>,
}

impl ImportedCa {
    /// Checks an adopted CA; errors say what is wrong without quoting the key.
    pub(crate) fn new(cert_pem: &str, key_pem: &str) -> Result<ImportedCa, PkiError> {
        let ca = ImportedCa {
            cert_pem: first_certificate_pem(cert_pem)?,
            key_pem: Zeroizing::new(format!("{}\n", key_pem.trim())),
        };
        ca.material()?;
        Ok(ca)
    }

    /// Parses and checks the CA and builds its issuing material.
    pub(crate) fn material(&self) -> Result<CaMaterial, PkiError> {
        let bad = |m: &str| PkiError::new(PkiCode::Ca, format!("the adopted cluster CA {m}"));
        let key = KeyPair::from_pem(&self.key_pem).map_err(|m| {
            PkiError::new(
                PkiCode::Ca,
                format!("the adopted cluster CA's key is unusable: {m}"),
            )
        })?;
        let der = crate::keys::pem_body(&self.cert_pem)
            .ok_or_else(|| bad("certificate is not valid PEM"))?;
        let (rest, cert) = x509_parser::parse_x509_certificate(&der)
            .map_err(|_| bad("certificate is not a valid X.509 certificate"))?;
        if !rest.is_empty() {
            return Err(bad("certificate has trailing bytes after its DER"));
        }
        let is_ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
        if !is_ca {
            return Err(bad("certificate is not a CA (its basicConstraints lack CA:TRUE)")
                .with_hint("pass the cluster CA (kubeadm's /etc/kubernetes/pki/ca.crt), not a leaf certificate"));
        }
        match cert.key_usage() {
            Ok(Some(ku)) if !ku.value.key_cert_sign() => {
                return Err(bad(
                    "certificate may not sign certificates (its keyUsage lacks keyCertSign)",
                ))
            }
            Err(_) => return Err(bad("certificate has a malformed keyUsage extension")),
            _ => {}
        }
        let spki = cert.public_key();
        if !key.matches_public_key(&spki.subject_public_key.data) {
            return Err(PkiError::new(
                PkiCode::Ca,
                "the adopted cluster CA's key does not match its certificate",
            )
            .with_hint("pass the ca.key that belongs to this ca.crt"));
        }
        let subject_key_id = cert
            .iter_extensions()
            .find_map(|ext| match ext.parsed_extension() {
                x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(id) => {
                    Some(id.0.to_vec())
                }
                _ => None,
            })
            .ok_or_else(|| bad("certificate has no subject key identifier"))?;
        let subject = distinguished_name(cert.subject())
            .ok_or_else(|| bad("certificate's subject uses a form hac cannot reproduce exactly (several values in one RDN, a repeated attribute, or an unusual string type)"))?;
        let material = CaMaterial {
            key,
            subject,
            subject_key_id,
            cert_pem: self.cert_pem.clone(),
            spki_der: spki.raw.to_vec(),
            key_pem: self.key_pem.clone(),
        };
        // Leaves name their issuer by the CA's subject; Go matches it byte for byte.
        let probe = crate::issue::probe_issuer_name(&material)?;
        if probe != cert.subject().as_raw() {
            return Err(bad("certificate's subject does not re-encode identically (a repeated attribute or an unusual encoding)"));
        }
        Ok(material)
    }
}

/// The first `CERTIFICATE` PEM block of `text`, normalized (LF line ends, trailing newline).
fn first_certificate_pem(text: &str) -> Result<String, PkiError> {
    let bad = |m: &str| {
        PkiError::new(
            PkiCode::Ca,
            format!("the adopted cluster CA certificate {m}"),
        )
    };
    match pem_label(text) {
        Some(l) if l == "CERTIFICATE" => {}
        Some(_) => {
            return Err(bad(
                "is not a PEM `CERTIFICATE` (wrong block type; is it the key?)",
            ))
        }
        None => return Err(bad("is not PEM (no `-----BEGIN CERTIFICATE-----` line)")),
    }
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines().map(str::trim) {
        if line == "-----BEGIN CERTIFICATE-----" {
            inside = true;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
            if line == "-----END CERTIFICATE-----" {
                return Ok(out);
            }
        }
    }
    Err(bad("is truncated (no `-----END CERTIFICATE-----` line)"))
}

/// The subject of a certificate as rcgen writes it, keeping each value's string type.
/// `None` for forms rcgen cannot write (multi-valued RDNs, a repeated attribute type).
fn distinguished_name(name: &x509_parser::x509::X509Name<'_>) -> Option<DistinguishedName> {
    use x509_parser::der_parser::asn1_rs::Tag;
    let mut dn = DistinguishedName::new();
    let mut seen: Vec<DnType> = Vec::new();
    for rdn in name.iter() {
        let mut attrs = rdn.iter();
        let attr = attrs.next()?;
        if attrs.next().is_some() {
            return None;
        }
        let oid: Vec<u64> = attr.attr_type().iter()?.collect();
        let ty = DnType::from_oid(&oid);
        if seen.contains(&ty) {
            return None;
        }
        seen.push(ty.clone());
        let data = attr.attr_value().data;
        let text = || std::str::from_utf8(data).ok();
        let value = match attr.attr_value().header.tag() {
            Tag::PrintableString => DnValue::PrintableString(text()?.try_into().ok()?),
            Tag::Utf8String => DnValue::Utf8String(text()?.to_string()),
            Tag::Ia5String => DnValue::Ia5String(text()?.try_into().ok()?),
            Tag::T61String => DnValue::TeletexString(text()?.try_into().ok()?),
            Tag::BmpString => DnValue::BmpString(BmpString::from_utf16be(data.to_vec()).ok()?),
            Tag::UniversalString => {
                DnValue::UniversalString(UniversalString::from_utf32be(data.to_vec()).ok()?)
            }
            _ => return None,
        };
        dn.push(ty, value);
    }
    Some(dn)
}
