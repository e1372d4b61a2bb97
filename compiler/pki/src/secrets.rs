//! The secrets file (docs/secrets.md): its text format (a small YAML subset, `version: 1`),
//! parsing with errors that never quote a secret, generation from the OS's secure random
//! source, and the adoption of an existing cluster CA.

use crate::ca::ImportedCa;
use crate::error::*;
use hac_core::Diagnostic;
use hac_model::{BootstrapToken, RenderSecrets, VrrpPassword, VRRP_PASSWORD_MAX};
use std::collections::BTreeMap;
use std::fmt;
use zeroize::Zeroizing;

/// The format version this crate writes and reads.
pub const SECRETS_VERSION: u32 = 1;
/// keepalived reads at most 8 characters of a VRRP PASS password; `init` writes exactly 8.
pub const VRRP_PASSWORD_LEN: usize = VRRP_PASSWORD_MAX;

const KEY_VERSION: &str = "version";
const KEY_ROOT: &str = "rootSecret";
const KEY_VRRP: &str = "vrrpPassword";
const KEY_TOKEN: &str = "bootstrapToken";
const KEY_CA_CERT: &str = "clusterCACertificate";
const KEY_CA_KEY: &str = "clusterCAKey";
/// The cluster the file was made for (written by `init` since it was added; older files
/// have none and stay readable).
const KEY_CLUSTER: &str = "cluster";
const KNOWN_KEYS: [&str; 7] = [
    KEY_VERSION,
    KEY_CLUSTER,
    KEY_ROOT,
    KEY_VRRP,
    KEY_TOKEN,
    KEY_CA_CERT,
    KEY_CA_KEY,
];

/// A parsed secrets file. `Debug` shows no secret.
pub struct Secrets {
    pub(crate) root_secret: Zeroizing<[u8; 32]>,
    vrrp_password: VrrpPassword,
    bootstrap_token: BootstrapToken,
    pub(crate) imported_ca: Option<ImportedCa>,
    /// `cluster:`, the cluster this file was made for.
    cluster: Option<String>,
    /// The header says the file is public and for tests only.
    test_only: bool,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("root_secret", &"[redacted]")
            .field("vrrp_password", &"[redacted]")
            .field("bootstrap_token", &"[redacted]")
            .field(
                "imported_ca",
                &self.imported_ca.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl Secrets {
    /// Parses the text of a secrets file. Errors name the line and the field, never a value.
    pub fn parse(text: &str) -> Result<Secrets, Diagnostic> {
        Secrets::parse_inner(text).map_err(Diagnostic::from)
    }

    /// A new secrets file's text (`hac secrets init`): a 256-bit root secret, an 8-character
    /// VRRP password and a kubeadm bootstrap token, all from the OS's secure random source.
    pub fn generate() -> Result<String, Diagnostic> {
        Secrets::generate_for(None)
    }

    /// [`Secrets::generate`], recording the name of the cluster the file is made for (a name
    /// that could not be written back verbatim is left out).
    pub fn generate_for(cluster: Option<&str>) -> Result<String, Diagnostic> {
        let cluster = cluster
            .filter(|c| {
                !c.is_empty()
                    && c.chars()
                        .all(|ch| ch.is_ascii_graphic() && ch != '"' && ch != '\\' && ch != '\'')
            })
            .map(str::to_string);
        let mut root = Zeroizing::new([0u8; 32]);
        os_random(root.as_mut())?;
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let vrrp = random_string(ALNUM, VRRP_PASSWORD_LEN)?;
        let token_id = random_string(LOWER_ALNUM, 6)?;
        let token_secret = random_string(LOWER_ALNUM, 16)?;
        let generated =
            || Diagnostic::from(PkiError::internal("a generated secret breaks its own rule"));
        let secrets = Secrets {
            root_secret: root,
            vrrp_password: VrrpPassword::parse(&vrrp).ok_or_else(generated)?,
            bootstrap_token: BootstrapToken::parse(&format!("{}.{}", *token_id, *token_secret))
                .ok_or_else(generated)?,
            imported_ca: None,
            cluster,
            test_only: false,
        };
        Ok(secrets.to_text().to_string())
    }

    /// Adopts an existing cluster CA: checks that `cert_pem` is a CA certificate and that
    /// `key_pem` is its private key, then returns the text of the secrets file `text` with
    /// the CA added (replacing one adopted before).
    pub fn import_ca(text: &str, cert_pem: &str, key_pem: &str) -> Result<String, Diagnostic> {
        let mut secrets = Secrets::parse_inner(text).map_err(Diagnostic::from)?;
        let ca = ImportedCa::new(cert_pem, key_pem).map_err(Diagnostic::from)?;
        secrets.imported_ca = Some(ca);
        Ok(secrets.to_text().to_string())
    }

    /// The values rendered files embed: the bootstrap token and the VRRP password.
    pub fn render_secrets(&self) -> RenderSecrets {
        RenderSecrets {
            bootstrap_token: self.bootstrap_token.clone(),
            vrrp_password: self.vrrp_password.clone(),
        }
    }

    /// The length of the VRRP password (the rules may check it against keepalived's 8).
    pub fn vrrp_password_len(&self) -> usize {
        self.vrrp_password.as_str().chars().count()
    }

    /// Whether the file carries an adopted cluster CA (`hac secrets import-ca`).
    pub fn has_imported_ca(&self) -> bool {
        self.imported_ca.is_some()
    }

    /// The cluster the file was made for, if it says (files written before this was recorded
    /// do not).
    pub fn cluster(&self) -> Option<&str> {
        self.cluster.as_deref()
    }

    /// Whether the file is marked as a public, test-only file (the `TEST ONLY` header of the
    /// files under `out-examples/` and the test fixtures).
    pub fn is_test_only(&self) -> bool {
        self.test_only
    }

    /// The diagnostics of using this file for the cluster `name`: E0611 when it was made for
    /// another cluster, W0601 when it is a public test-only file.
    pub fn check_for_cluster(&self, name: &str) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if let Some(recorded) = self.cluster.as_deref().filter(|c| *c != name) {
            out.push(
                Diagnostic::error(format!(
                    "the secrets file was made for the cluster `{recorded}`, not `{name}`"
                ))
                .with_code(PkiCode::OtherCluster)
                .with_hint("pass this cluster's own secrets file with --secrets FILE; sharing a root secret between clusters shares their identity"),
            );
        }
        if self.test_only {
            out.push(
                Diagnostic::warning(
                    "the secrets file is a public TEST ONLY file: anyone can derive every key of this build",
                )
                .with_code(PkiCode::TestOnly)
                .with_hint("create this cluster's own file with `hac secrets init` and keep it secret"),
            );
        }
        out
    }

    /// The file's text: what `init` and `import-ca` write.
    fn to_text(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::new());
        out.push_str(
            "# hac secrets file (docs/secrets.md). Keep it out of git: encrypt it with sops or\n\
             # age, or keep it in a vault. Every key and certificate derives from rootSecret.\n",
        );
        out.push_str(&format!("{KEY_VERSION}: {SECRETS_VERSION}\n"));
        if let Some(cluster) = &self.cluster {
            out.push_str(&format!("{KEY_CLUSTER}: \"{cluster}\"\n"));
        }
        out.push_str(&format!(
            "{KEY_ROOT}: \"{}\"\n",
            *hex(self.root_secret.as_ref())
        ));
        out.push_str(&format!(
            "{KEY_VRRP}: \"{}\"\n",
            self.vrrp_password.as_str()
        ));
        out.push_str(&format!(
            "{KEY_TOKEN}: \"{}\"\n",
            self.bootstrap_token.as_str()
        ));
        if let Some(ca) = &self.imported_ca {
            out.push_str(&format!("{KEY_CA_CERT}: |\n"));
            push_block(&mut out, &ca.cert_pem);
            out.push_str(&format!("{KEY_CA_KEY}: |\n"));
            push_block(&mut out, &ca.key_pem);
        }
        out
    }

    fn parse_inner(text: &str) -> Result<Secrets, PkiError> {
        reject_encrypted(text)?;
        let fields = parse_fields(text)?;
        check_keys_and_version(&fields)?;
        let required = |key: &str| {
            fields.get(key).ok_or_else(|| {
                PkiError::new(PkiCode::Value, format!("the secrets file has no `{key}`"))
                    .with_hint("the file may be truncated; restore it from where you keep it (sops, age, a vault)")
            })
        };
        let root = required(KEY_ROOT)?;
        let root_secret = parse_root_secret(&root.value).ok_or_else(|| {
            PkiError::new(
                PkiCode::Value,
                format!(
                    "`{KEY_ROOT}` (line {}) is not 64 hexadecimal digits (256 bits)",
                    root.line
                ),
            )
            .with_hint("the file may be truncated or corrupt; restore it from where you keep it")
        })?;
        if root_secret.iter().all(|b| *b == 0) {
            return Err(PkiError::new(
                PkiCode::Value,
                format!("`{KEY_ROOT}` (line {}) is all zeros: not a secret", root.line),
            )
            .with_hint("create a real secrets file with `hac secrets init` (a new root secret is a new cluster identity)"));
        }
        let vrrp = required(KEY_VRRP)?;
        let Some(vrrp_password) = VrrpPassword::parse(&vrrp.value) else {
            return Err(PkiError::new(
                PkiCode::Value,
                format!(
                    "`{KEY_VRRP}` (line {}) must be 1 to {VRRP_PASSWORD_LEN} printable characters without blanks, quotes, `\\`, `!` or `#` (keepalived uses at most {VRRP_PASSWORD_LEN})",
                    vrrp.line
                ),
            ));
        };
        let token = required(KEY_TOKEN)?;
        let Some(bootstrap_token) = BootstrapToken::parse(&token.value) else {
            return Err(PkiError::new(
                PkiCode::Value,
                format!(
                    "`{KEY_TOKEN}` (line {}) is not a kubeadm bootstrap token `[a-z0-9]{{6}}.[a-z0-9]{{16}}`",
                    token.line
                ),
            ));
        };
        let imported_ca = match (fields.get(KEY_CA_CERT), fields.get(KEY_CA_KEY)) {
            (None, None) => None,
            (Some(c), Some(k)) => Some(ImportedCa::new(&c.value, &k.value)?),
            (Some(_), None) => {
                return Err(PkiError::new(
                    PkiCode::Ca,
                    format!("`{KEY_CA_CERT}` is present but `{KEY_CA_KEY}` is missing"),
                )
                .with_hint("the file may be truncated; re-run `hac secrets import-ca`"))
            }
            (None, Some(_)) => {
                return Err(PkiError::new(
                    PkiCode::Ca,
                    format!("`{KEY_CA_KEY}` is present but `{KEY_CA_CERT}` is missing"),
                )
                .with_hint("re-run `hac secrets import-ca`"))
            }
        };
        Ok(Secrets {
            root_secret,
            vrrp_password,
            bootstrap_token,
            imported_ca,
            cluster: fields.get(KEY_CLUSTER).map(|c| c.value.to_string()),
            test_only: text
                .lines()
                .take_while(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
                .any(|l| l.contains("TEST ONLY")),
        })
    }
}

/// One `key: value` of the file, with the line it starts on (1-based).
struct Field {
    value: Zeroizing<String>,
    line: usize,
}

/// Every key of the file is known, and `version` is the one this hac reads.
fn check_keys_and_version(fields: &BTreeMap<String, Field>) -> Result<(), PkiError> {
    for key in fields.keys() {
        if !KNOWN_KEYS.contains(&key.as_str()) {
            let mut e = PkiError::new(
                PkiCode::UnknownKey,
                format!("the secrets file has an unknown key `{key}`"),
            );
            e = match hac_core::suggest::did_you_mean(key, KNOWN_KEYS.iter().copied()) {
                Some(s) => e.with_hint(format!("did you mean `{s}`?")),
                None => e.with_hint(format!(
                    "the keys of version 1 are: {}",
                    KNOWN_KEYS.join(", ")
                )),
            };
            return Err(e);
        }
    }
    let version = fields.get(KEY_VERSION).ok_or_else(|| {
        PkiError::new(PkiCode::Version, "the secrets file has no `version` line")
            .with_hint("the file is truncated or not a hac secrets file; `version: 1` comes first")
    })?;
    if version.value.as_str() != SECRETS_VERSION.to_string() {
        return Err(PkiError::new(
            PkiCode::Version,
            format!(
                "the secrets file has an unsupported version (line {})",
                version.line
            ),
        )
        .with_hint("this hac reads `version: 1`; a newer hac may have written it"));
    }
    Ok(())
}

/// Files that were handed over still encrypted: say so instead of a syntax error.
fn reject_encrypted(text: &str) -> Result<(), PkiError> {
    let start = text.trim_start();
    if start.starts_with("age-encryption.org/")
        || start.starts_with("-----BEGIN AGE ENCRYPTED FILE-----")
    {
        return Err(
            PkiError::new(PkiCode::Syntax, "the secrets file is encrypted with age").with_hint(
                "decrypt it first, e.g. `age -d -i KEY cluster.secrets.age > cluster.secrets`",
            ),
        );
    }
    let sops = text.lines().any(|l| l.starts_with("sops:")) || text.contains("ENC[AES256_GCM,");
    if sops {
        return Err(PkiError::new(PkiCode::Syntax, "the secrets file is still encrypted by sops")
            .with_hint("decrypt it first: `sops -d cluster.secrets.enc > cluster.secrets` (or `sops exec-file`)"));
    }
    Ok(())
}

/// Reads the YAML subset of docs/secrets.md: comments, blank lines, `---`, top-level
/// `key: scalar` (plain, "double" or 'single' quoted, without escapes) and `key: |` literal
/// blocks indented by spaces. Errors give line numbers only.
fn parse_fields(text: &str) -> Result<BTreeMap<String, Field>, PkiError> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut fields: BTreeMap<String, Field> = BTreeMap::new();
    let syntax = |line: usize, what: &str| {
        PkiError::new(
            PkiCode::Syntax,
            format!("line {line} of the secrets file {what}"),
        )
        .with_hint("the file is corrupt or truncated; docs/secrets.md describes the format")
    };
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let line = lines[i];
        i += 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || (line_no == 1 && trimmed == "---") {
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            return Err(syntax(
                line_no,
                "is indented but belongs to no `key: |` block",
            ));
        }
        let Some((key, rest)) = line.split_once(':') else {
            return Err(syntax(line_no, "is not `key: value`"));
        };
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(syntax(
                line_no,
                "does not start with a key name followed by `:`",
            ));
        }
        if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
            return Err(syntax(line_no, "needs a space after `:`"));
        }
        let rest = strip_comment(rest.trim());
        let value = if rest == "|" || rest == "|-" || rest == "|+" {
            // A literal block: the following lines indented more than the key.
            let mut block = Zeroizing::new(String::new());
            let mut indent: Option<usize> = None;
            while i < lines.len() {
                let l = lines[i];
                if l.trim().is_empty() {
                    block.push('\n');
                    i += 1;
                    continue;
                }
                let n = l.len() - l.trim_start_matches(' ').len();
                if n == 0 {
                    break;
                }
                let ind = *indent.get_or_insert(n);
                if n < ind {
                    return Err(syntax(
                        i + 1,
                        "is indented less than the block it continues",
                    ));
                }
                // `n` counts ASCII spaces, so slicing at `ind` is on a character boundary.
                block.push_str(&l[ind..]);
                block.push('\n');
                i += 1;
            }
            if indent.is_none() {
                return Err(syntax(
                    line_no,
                    "starts a `|` block with no indented lines after it",
                ));
            }
            let trimmed_len = block.trim_end_matches('\n').len();
            block.truncate(trimmed_len);
            block.push('\n');
            block
        } else {
            Zeroizing::new(
                unquote(rest)
                    .ok_or_else(|| syntax(line_no, "has a badly quoted value"))?
                    .to_string(),
            )
        };
        if fields.contains_key(key) {
            return Err(syntax(line_no, &format!("repeats the key `{key}`")));
        }
        fields.insert(
            key.to_string(),
            Field {
                value,
                line: line_no,
            },
        );
    }
    Ok(fields)
}

/// Drops a trailing ` # comment` from a plain scalar (values never contain `#`).
fn strip_comment(s: &str) -> &str {
    if s.starts_with('"') || s.starts_with('\'') {
        return s;
    }
    match s.find(" #") {
        Some(i) => s[..i].trim_end(),
        None => s,
    }
}

/// A plain, "double" or 'single' quoted scalar without escapes.
fn unquote(s: &str) -> Option<&str> {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q) {
            let (inner, after) = inner.split_once(q)?;
            let after = after.trim();
            if !(after.is_empty() || after.starts_with('#')) || inner.contains('\\') {
                return None;
            }
            return Some(inner);
        }
    }
    Some(s)
}

fn parse_root_secret(s: &str) -> Option<Zeroizing<[u8; 32]>> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = Zeroizing::new([0u8; 32]);
    for (i, pair) in b.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> Zeroizing<String> {
    let mut s = Zeroizing::new(String::with_capacity(bytes.len() * 2));
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn push_block(out: &mut String, text: &str) {
    for l in text.lines() {
        out.push_str("  ");
        out.push_str(l);
        out.push('\n');
    }
}

fn os_random(buf: &mut [u8]) -> Result<(), Diagnostic> {
    getrandom::getrandom(buf).map_err(|e| {
        Diagnostic::error(format!(
            "the operating system's secure random source failed: {e}"
        ))
        .with_code(PkiCode::Random)
    })
}

/// `len` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias).
fn random_string(alphabet: &[u8], len: usize) -> Result<Zeroizing<String>, Diagnostic> {
    let limit = 256 - (256 % alphabet.len());
    let mut out = Zeroizing::new(String::with_capacity(len));
    let mut buf = Zeroizing::new([0u8; 64]);
    while out.len() < len {
        os_random(buf.as_mut())?;
        for &b in buf.iter() {
            if (b as usize) < limit && out.len() < len {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    Ok(out)
}
