//! The kube-apiserver's `EncryptionConfiguration` (encryption at rest): its 32-byte keys come
//! from the root secret by HKDF, labelled with the cluster, the provider and the rotation
//! number, so the same secrets file always gives the same file and no key is ever stored
//! elsewhere. The newest key encrypts, the previous one still decrypts, `identity` last reads
//! what was written before encryption was turned on.

use crate::error::PkiError;
use crate::keys::hkdf_expand;
use base64::Engine;
use hac_model::{Cluster, Encryption};
use zeroize::Zeroizing;

/// The key named `key-<rotation>`, as base64.
fn key_b64(
    root_secret: &[u8],
    cluster: &str,
    enc: &Encryption,
    rotation: u64,
) -> Result<Zeroizing<String>, PkiError> {
    let mut key = Zeroizing::new([0u8; 32]);
    let info = format!(
        "encryption-at-rest cluster={cluster} provider={} rotation={rotation}",
        enc.provider.as_str()
    );
    hkdf_expand(root_secret, &info, key.as_mut())?;
    Ok(Zeroizing::new(
        base64::engine::general_purpose::STANDARD.encode(key.as_ref()),
    ))
}

/// The YAML text of the EncryptionConfiguration, or `None` when encryption is off.
pub(crate) fn encryption_config(
    cluster: &Cluster,
    root_secret: &[u8],
) -> Result<Option<Zeroizing<String>>, PkiError> {
    let Some(enc) = &cluster.components.api_server.encryption else {
        return Ok(None);
    };
    let mut out = Zeroizing::new(String::new());
    out.push_str("# Written by hac: the keys derive from the secrets file; do not edit.\n");
    out.push_str("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n");
    out.push_str("resources:\n  - resources:\n");
    for r in &enc.resources {
        // Resource names are lowercase letters, digits, `.`, `-` and `*` (checked by the
        // converter); quoted because `*.*` is not a plain YAML scalar.
        out.push_str(&format!("      - \"{r}\"\n"));
    }
    out.push_str("    providers:\n");
    out.push_str(&format!(
        "      - {}:\n          keys:\n",
        enc.provider.as_str()
    ));
    let mut rotations = vec![enc.rotation];
    if let Some(previous) = enc.rotation.checked_sub(1) {
        rotations.push(previous);
    }
    for r in rotations {
        let key = key_b64(root_secret, &cluster.name, enc, r)?;
        out.push_str(&format!(
            "            - name: key-{r}\n              secret: {}\n",
            key.as_str()
        ));
    }
    out.push_str("      - identity: {}\n");
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hac_model::EncryptionProvider;

    fn enc(rotation: u64, provider: EncryptionProvider) -> Encryption {
        Encryption {
            resources: vec!["secrets".into(), "*.example.com".into()],
            provider,
            rotation,
        }
    }

    #[test]
    fn keys_are_32_bytes_distinct_per_rotation_provider_and_cluster() {
        let root = [7u8; 32];
        let k = |c: &str, e: &Encryption, r: u64| key_b64(&root, c, e, r).map(|k| k.to_string());
        let aescbc = enc(1, EncryptionProvider::Aescbc);
        let a0 = k("prod", &aescbc, 0).expect("key");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&a0)
            .expect("base64");
        assert_eq!(decoded.len(), 32);
        assert_eq!(k("prod", &aescbc, 0).expect("key"), a0, "deterministic");
        assert_ne!(k("prod", &aescbc, 1).expect("key"), a0);
        assert_ne!(k("test", &aescbc, 0).expect("key"), a0);
        let secretbox = enc(1, EncryptionProvider::Secretbox);
        assert_ne!(k("prod", &secretbox, 0).expect("key"), a0);
        let other_root = key_b64(&[8u8; 32], "prod", &aescbc, 0).expect("key");
        assert_ne!(other_root.as_str(), a0);
    }

    #[test]
    fn rotation_puts_the_new_key_first_the_previous_second_and_identity_last() {
        let root = [1u8; 32];
        let e = enc(3, EncryptionProvider::Aesgcm);
        let text = {
            let mut out = String::new();
            for r in [3u64, 2] {
                out.push_str(&key_b64(&root, "c", &e, r).expect("key"));
            }
            out
        };
        assert!(!text.is_empty());
        let mut cluster = hac_model::samples::stacked_3();
        cluster.name = "c".into();
        cluster.components.api_server.encryption = Some(e.clone());
        let yaml = encryption_config(&cluster, &root)
            .expect("config")
            .expect("on");
        let k3 = yaml.find("name: key-3").expect("key-3");
        let k2 = yaml.find("name: key-2").expect("key-2");
        let id = yaml.find("- identity: {}").expect("identity");
        assert!(k3 < k2 && k2 < id, "{}", yaml.as_str());
        assert!(yaml.contains("- aesgcm:"));
        assert!(yaml.contains("- \"*.example.com\""));
        assert!(!yaml.contains("key-1"));
        assert!(yaml.contains(key_b64(&root, "c", &e, 3).expect("key").as_str()));

        cluster.components.api_server.encryption = Some(enc(0, EncryptionProvider::Aescbc));
        let first = encryption_config(&cluster, &root)
            .expect("config")
            .expect("on");
        assert!(first.contains("name: key-0") && !first.contains("key-18446744073709551615"));
        cluster.components.api_server.encryption = None;
        assert!(encryption_config(&cluster, &root).expect("off").is_none());
    }
}
