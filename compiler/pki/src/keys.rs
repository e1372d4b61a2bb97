//! Private keys: derived deterministically from the root secret (HKDF-SHA256 over the key's
//! identity), or loaded from an adopted CA's PEM; their PEM encodings; and the deterministic
//! signer that rcgen calls to sign certificates (RFC 6979 ECDSA, RSA PKCS#1 v1.5).

use crate::error::PkiError;
use hac_model::KeyAlgorithm;
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::elliptic_curve::PrimeField;
// p256/p384 0.14 use pkcs8 0.11 and signature 3, rsa 0.9 the older pkcs8 0.10 and
// signature 2: both trait sets are in scope, each picked by the key type.
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::{DecodePrivateKey as _, EncodePublicKey as _};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rcgen::{PublicKeyData, SignatureAlgorithm, SigningKey};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Salt of every HKDF extraction: names this derivation scheme, so that a future scheme
/// cannot collide with it.
const HKDF_SALT: &[u8] = b"hac-pki/v1";

/// The secret half of a key pair, of one of the algorithms kubeadm accepts.
pub(crate) enum PrivateKey {
    /// The secret scalar and its public point (computed once).
    P256(p256::NonZeroScalar, p256::AffinePoint),
    P384(p384::ecdsa::SigningKey),
    Rsa(Box<rsa::RsaPrivateKey>),
}

/// A key pair ready for rcgen: the private key, its public key as X.509 wants it
/// (uncompressed EC point, or PKCS#1 RSAPublicKey), and the signature algorithm it signs with.
pub(crate) struct KeyPair {
    key: PrivateKey,
    public_key_bits: Vec<u8>,
    signature_algorithm: &'static SignatureAlgorithm,
}

/// Fills `out` with HKDF-SHA256(root secret, info).
pub(crate) fn hkdf_expand(root_secret: &[u8], info: &str, out: &mut [u8]) -> Result<(), PkiError> {
    Hkdf::<Sha256>::new(Some(HKDF_SALT), root_secret)
        .expand(info.as_bytes(), out)
        .map_err(|_| PkiError::internal("key derivation output too long"))
}

impl KeyPair {
    /// The key pair of `identity` (e.g. `cluster=prod ca`, or `… leaf apiserver node=master-0
    /// rotation=0`), derived from the root secret. The same inputs give the same key, always.
    pub(crate) fn derive(
        root_secret: &[u8],
        algorithm: KeyAlgorithm,
        identity: &str,
    ) -> Result<KeyPair, PkiError> {
        let info = format!("key {} {}", algorithm.as_str(), identity);
        let key = match algorithm {
            KeyAlgorithm::EcdsaP256 => {
                let d = derive_ec(root_secret, &info, |b: &[u8; 32]| {
                    Option::from(p256::NonZeroScalar::from_repr((*b).into()))
                })?;
                PrivateKey::P256(d, p256_public_key(&d))
            }
            KeyAlgorithm::EcdsaP384 => {
                PrivateKey::P384(derive_ec(root_secret, &info, |b: &[u8; 48]| {
                    p384::ecdsa::SigningKey::from_slice(b).ok()
                })?)
            }
            KeyAlgorithm::Rsa2048 => {
                PrivateKey::Rsa(Box::new(derive_rsa(root_secret, &info, 2048)?))
            }
            KeyAlgorithm::Rsa3072 => {
                PrivateKey::Rsa(Box::new(derive_rsa(root_secret, &info, 3072)?))
            }
            KeyAlgorithm::Rsa4096 => {
                PrivateKey::Rsa(Box::new(derive_rsa(root_secret, &info, 4096)?))
            }
        };
        KeyPair::from_private(key)
    }

    /// Wraps a private key, computing its public half.
    pub(crate) fn from_private(key: PrivateKey) -> Result<KeyPair, PkiError> {
        let (public_key_bits, signature_algorithm) = match &key {
            PrivateKey::P256(_, public) => (
                public.to_sec1_point(false).as_bytes().to_vec(),
                &rcgen::PKCS_ECDSA_P256_SHA256,
            ),
            PrivateKey::P384(k) => (
                k.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
                &rcgen::PKCS_ECDSA_P384_SHA384,
            ),
            PrivateKey::Rsa(k) => (
                k.to_public_key()
                    .to_pkcs1_der()
                    .map_err(|_| PkiError::internal("cannot encode an RSA public key"))?
                    .as_bytes()
                    .to_vec(),
                &rcgen::PKCS_RSA_SHA256,
            ),
        };
        Ok(KeyPair {
            key,
            public_key_bits,
            signature_algorithm,
        })
    }

    /// Loads a PEM private key as kubeadm and openssl write them: PKCS#8 (`PRIVATE KEY`),
    /// SEC1 (`EC PRIVATE KEY`, P-256 or P-384) or PKCS#1 (`RSA PRIVATE KEY`). The error never
    /// quotes the key.
    pub(crate) fn from_pem(pem_text: &str) -> Result<KeyPair, String> {
        let label =
            pem_label(pem_text).ok_or("the key is not PEM (no `-----BEGIN …-----` line)")?;
        let key = match label.as_str() {
            "PRIVATE KEY" => {
                if let Ok(k) = p256::SecretKey::from_pkcs8_pem(pem_text) {
                    PrivateKey::P256(k.to_nonzero_scalar(), *k.public_key().as_affine())
                } else if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_pem(pem_text) {
                    PrivateKey::P384(k)
                } else if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_pem(pem_text) {
                    PrivateKey::Rsa(Box::new(k))
                } else {
                    return Err("the PKCS#8 key is corrupt or of an unsupported type (supported: ECDSA P-256, P-384, RSA)".into());
                }
            }
            "EC PRIVATE KEY" => {
                let der = pem_body(pem_text).ok_or("the EC key's PEM body is corrupt")?;
                if let Ok(k) = p256::SecretKey::from_sec1_der(&der) {
                    PrivateKey::P256(k.to_nonzero_scalar(), *k.public_key().as_affine())
                } else if let Ok(k) = p384::SecretKey::from_sec1_der(&der) {
                    PrivateKey::P384(k.into())
                } else {
                    return Err("the EC key is corrupt or not on P-256 or P-384".into());
                }
            }
            "RSA PRIVATE KEY" => match rsa::RsaPrivateKey::from_pkcs1_pem(pem_text) {
                Ok(k) => PrivateKey::Rsa(Box::new(k)),
                Err(_) => return Err("the RSA key is corrupt".into()),
            },
            "ENCRYPTED PRIVATE KEY" => {
                return Err("the key is encrypted with a passphrase; decrypt it first (openssl pkey -in KEY -out PLAIN.key)".into())
            }
            _ => return Err("the PEM block is not a private key (expected PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)".into()),
        };
        if let PrivateKey::Rsa(k) = &key {
            if k.validate().is_err() {
                return Err("the RSA key is inconsistent".into());
            }
        }
        KeyPair::from_private(key).map_err(|e| e.message)
    }

    /// The private key as PEM (PKCS#8), zeroized on drop.
    pub(crate) fn private_key_pem(&self) -> Result<Zeroizing<String>, PkiError> {
        let (scalar, curve_oid): (Zeroizing<Vec<u8>>, &[u8]) = match &self.key {
            PrivateKey::P256(d, _) => (Zeroizing::new(d.to_repr().to_vec()), OID_P256),
            PrivateKey::P384(k) => (Zeroizing::new(k.to_bytes().to_vec()), OID_P384),
            PrivateKey::Rsa(k) => {
                return k
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(|_| PkiError::internal("cannot encode a private key"));
            }
        };
        // EC keys: PKCS#8 wrapping a SEC1 ECPrivateKey with its public key, written here from
        // the point already known (the ecdsa crate would recompute it: a scalar multiplication).
        let ec_private_key = Zeroizing::new(der_tlv(
            0x30,
            &[
                der_tlv(0x02, &[1]),
                Zeroizing::new(der_tlv(0x04, &scalar)).to_vec(),
                der_tlv(
                    0xa1,
                    &der_tlv(0x03, &[&[0u8][..], &self.public_key_bits].concat()),
                ),
            ]
            .concat(),
        ));
        let algorithm = der_tlv(
            0x30,
            &[der_tlv(0x06, OID_EC_PUBLIC_KEY), der_tlv(0x06, curve_oid)].concat(),
        );
        let info = Zeroizing::new(der_tlv(
            0x30,
            &Zeroizing::new(
                [
                    der_tlv(0x02, &[0]),
                    algorithm,
                    Zeroizing::new(der_tlv(0x04, &ec_private_key)).to_vec(),
                ]
                .concat(),
            ),
        ));
        Ok(pem_encode("PRIVATE KEY", &info))
    }

    /// The public key as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo), as kubeadm writes sa.pub.
    pub(crate) fn public_key_pem(&self) -> Result<String, PkiError> {
        let encoded = match &self.key {
            PrivateKey::P256(_, public) => p256::PublicKey::from_affine(*public)
                .map_err(|_| PkiError::internal("invalid P-256 public key"))?
                .to_public_key_pem(LineEnding::LF)
                .ok(),
            PrivateKey::P384(k) => k.verifying_key().to_public_key_pem(LineEnding::LF).ok(),
            PrivateKey::Rsa(k) => k.to_public_key().to_public_key_pem(LineEnding::LF).ok(),
        };
        encoded.ok_or_else(|| PkiError::internal("cannot encode a public key"))
    }

    /// Whether `spki` (the raw SubjectPublicKeyInfo bit string of a certificate, and its
    /// algorithm OID) is this key's public key.
    pub(crate) fn matches_public_key(&self, spki_bits: &[u8]) -> bool {
        match &self.key {
            PrivateKey::P256(_, public) => {
                p256::PublicKey::from_sec1_bytes(spki_bits).is_ok_and(|p| p.as_affine() == public)
            }
            PrivateKey::P384(k) => p384::PublicKey::from_sec1_bytes(spki_bits)
                .is_ok_and(|p| p == p384::PublicKey::from(k.verifying_key())),
            PrivateKey::Rsa(k) => {
                use rsa::pkcs1::DecodeRsaPublicKey;
                rsa::RsaPublicKey::from_pkcs1_der(spki_bits).is_ok_and(|p| p == k.to_public_key())
            }
        }
    }
}

impl Drop for PrivateKey {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        // The ecdsa and rsa key types zeroize themselves; the bare scalar does not.
        if let PrivateKey::P256(d, _) = self {
            d.zeroize();
        }
    }
}

impl PublicKeyData for KeyPair {
    fn der_bytes(&self) -> &[u8] {
        &self.public_key_bits
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.signature_algorithm
    }
}

impl SigningKey for KeyPair {
    /// Deterministic: RFC 6979 nonces for ECDSA, PKCS#1 v1.5 (no randomness) for RSA.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        use rsa::signature::{SignatureEncoding, Signer};
        match &self.key {
            PrivateKey::P256(d, _) => {
                // The ecdsa crate's signer: RFC 6979 deterministic nonces.
                let signer = p256::ecdsa::SigningKey::from(*d);
                let sig: p256::ecdsa::Signature = signer
                    .try_sign(msg)
                    .map_err(|_| rcgen::Error::RemoteKeyError)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            PrivateKey::P384(k) => {
                let sig: p384::ecdsa::Signature =
                    k.try_sign(msg).map_err(|_| rcgen::Error::RemoteKeyError)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            PrivateKey::Rsa(k) => {
                let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(k.as_ref().clone());
                let sig = signer
                    .try_sign(msg)
                    .map_err(|_| rcgen::Error::RemoteKeyError)?;
                Ok(sig.to_vec())
            }
        }
    }
}

/// The public point `d×G`, by the p256 crate's fixed-base multiplication (its precomputed
/// basepoint table, the `precomputed-tables` feature; the ECDSA signer uses the same table).
fn p256_public_key(d: &p256::NonZeroScalar) -> p256::AffinePoint {
    *p256::PublicKey::from_secret_scalar(d).as_affine()
}

/// Derives an EC scalar: HKDF output read as a big-endian integer, retried with a counter in
/// the (astronomically unlikely) case that it is zero or not below the group order.
fn derive_ec<const N: usize, K>(
    root_secret: &[u8],
    info: &str,
    make: impl Fn(&[u8; N]) -> Option<K>,
) -> Result<K, PkiError> {
    for attempt in 0..64u32 {
        let mut bytes = Zeroizing::new([0u8; N]);
        hkdf_expand(
            root_secret,
            &format!("{info} attempt={attempt}"),
            bytes.as_mut(),
        )?;
        if let Some(k) = make(&bytes) {
            return Ok(k);
        }
    }
    Err(PkiError::internal(
        "no valid EC key after 64 derivation attempts",
    ))
}

/// Generates an RSA key from a ChaCha20 stream seeded by HKDF: deterministic for a given
/// `rsa` crate version (Cargo.lock pins it).
fn derive_rsa(root_secret: &[u8], info: &str, bits: usize) -> Result<rsa::RsaPrivateKey, PkiError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    hkdf_expand(root_secret, &format!("{info} rsa-seed"), seed.as_mut())?;
    let mut rng = ChaCha20Rng::from_seed(*seed);
    rsa::RsaPrivateKey::new(&mut rng, bits)
        .map_err(|_| PkiError::internal("RSA key generation failed"))
}

/// id-ecPublicKey, prime256v1 and secp384r1 (DER contents of the OBJECT IDENTIFIERs).
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

/// One DER tag-length-value (definite lengths up to 65535 bytes, enough for EC keys).
fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 4);
    out.push(tag);
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

/// PEM with 64-column base64 lines and LF line ends, zeroized on drop.
fn pem_encode(label: &str, der: &[u8]) -> Zeroizing<String> {
    use base64::Engine;
    let b64 = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(der));
    let mut out = Zeroizing::new(format!("-----BEGIN {label}-----\n"));
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The label of the first PEM block (`CERTIFICATE`, `PRIVATE KEY`, …).
pub(crate) fn pem_label(text: &str) -> Option<String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("-----BEGIN "))?;
    let rest = line.strip_prefix("-----BEGIN ")?;
    let label = rest.strip_suffix("-----")?;
    Some(label.to_string())
}

/// The decoded body of the first PEM block; `None` when the block is incomplete or its base64
/// is corrupt.
pub(crate) fn pem_body(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    use base64::Engine;
    let label = pem_label(text)?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut inside = false;
    let mut b64 = Zeroizing::new(String::new());
    for line in text.lines().map(str::trim) {
        if !inside {
            inside = line == begin;
            continue;
        }
        if line == end {
            return base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .ok()
                .map(Zeroizing::new);
        }
        if line.contains(':') {
            return None; // RFC 1421 headers (an encrypted legacy key)
        }
        b64.push_str(line);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::pkcs8::EncodePrivateKey as _;

    /// The hand-written EC PKCS#8 is what the RustCrypto encoder writes, byte for byte.
    #[test]
    fn ec_private_key_pem_matches_the_pkcs8_encoder() {
        for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP384] {
            let k = KeyPair::derive(&[7u8; 32], alg, "test").expect("derive");
            let reference = match &k.key {
                PrivateKey::P256(d, _) => p256::SecretKey::from(*d).to_pkcs8_pem(LineEnding::LF),
                PrivateKey::P384(s) => s.to_pkcs8_pem(LineEnding::LF),
                PrivateKey::Rsa(_) => unreachable!("EC only"),
            }
            .expect("encode");
            assert_eq!(*k.private_key_pem().expect("pem"), *reference, "{alg:?}");
            // And it reads back as the same key.
            let back = KeyPair::from_pem(&k.private_key_pem().expect("pem")).expect("parse");
            assert_eq!(back.public_key_bits, k.public_key_bits);
        }
    }

    #[test]
    fn derivation_depends_on_secret_algorithm_and_identity() {
        let bits = |root: u8, alg, id: &str| {
            KeyPair::derive(&[root; 32], alg, id)
                .expect("derive")
                .public_key_bits
        };
        let p = KeyAlgorithm::EcdsaP256;
        assert_eq!(bits(1, p, "a"), bits(1, p, "a"));
        assert_ne!(bits(1, p, "a"), bits(1, p, "b"));
        assert_ne!(bits(1, p, "a"), bits(2, p, "a"));
        assert_ne!(
            bits(1, p, "a").len(),
            bits(1, KeyAlgorithm::EcdsaP384, "a").len()
        );
    }

    #[test]
    fn pem_helpers_reject_incomplete_blocks() {
        assert_eq!(
            pem_label("-----BEGIN X-----\nAA==\n-----END X-----\n").as_deref(),
            Some("X")
        );
        assert!(
            pem_body("-----BEGIN X-----\nAA==\n").is_none(),
            "no END line"
        );
        assert!(
            pem_body("-----BEGIN X-----\n!!!\n-----END X-----\n").is_none(),
            "bad base64"
        );
        assert!(pem_label("no pem here").is_none());
        assert!(KeyPair::from_pem(
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"
        )
        .is_err());
    }
}
