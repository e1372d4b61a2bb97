//! Deterministic PKI: the secrets file ([`Secrets`], docs/secrets.md) and every certificate,
//! key and kubeconfig of pki.md ([`issue`]), derived from the root secret so that a build
//! reads no clock and no random source.
//!
//! Diagnostic codes: see [`error`] (E0603–E0609).

// The agreed API returns `hac_core::Diagnostic` errors, a large type by design.
#![allow(clippy::result_large_err)]

mod ca;
mod encryption;
pub mod error;
mod issue;
mod keys;
mod kubeconfig;
mod secrets;

pub use error::PkiCode;
pub use issue::{issue, MODE_CERT, MODE_SECRET};
pub use secrets::{Secrets, SECRETS_VERSION, VRRP_PASSWORD_LEN};
