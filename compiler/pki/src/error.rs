//! The diagnostic codes of the secrets file and the PKI (E0603–E0609; the CLI owns E0601
//! "no secrets file" and E0602 "secrets file readable by others"), and a small internal error
//! type turned into a [`Diagnostic`] at the API boundary. No message ever quotes secret
//! material: messages name fields and line numbers, never values.

use hac_core::Diagnostic;

hac_core::diagnostic_kinds! {
    /// The codes of the secrets file and the PKI (E06xx). The CLI raises E0601, E0602 and,
    /// through [`crate::Secrets::check_for_cluster`], E0611 and W0601; E0610 is the source
    /// reader's (`hac_core::InputCode`).
    pub enum PkiCode {
        /// No secrets file.
        NoSecretsFile = "E0601",
        /// The secrets file is readable by group or others.
        SecretsReadableByOthers = "E0602",
        /// The secrets file is not in the expected syntax (a line that is not `key: value`, a
        /// duplicate key, a file still encrypted by sops or age).
        Syntax = "E0603",
        /// The secrets file has no `version`, or one this `hac` does not read.
        Version = "E0604",
        /// A required value is missing or malformed (root secret, VRRP password, bootstrap
        /// token).
        Value = "E0605",
        /// A key this version of the format does not have.
        UnknownKey = "E0606",
        /// The adopted CA is unusable: not PEM, not a CA, or its key does not match its
        /// certificate.
        Ca = "E0607",
        /// The operating system's secure random source failed (`hac secrets init`).
        Random = "E0608",
        /// A certificate could not be issued (a validity beyond what X.509 can express, a
        /// name that is not ASCII, an internal signing failure).
        Issue = "E0609",
        /// The secrets file was made for another cluster.
        OtherCluster = "E0611",
        /// The secrets file is a public test-only file.
        TestOnly = "W0601",
    }
}

/// An error of this crate before it becomes a [`Diagnostic`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PkiError {
    pub code: PkiCode,
    pub message: String,
    pub hint: Option<String>,
}

impl PkiError {
    pub(crate) fn new(code: PkiCode, message: impl Into<String>) -> PkiError {
        PkiError {
            code,
            message: message.into(),
            hint: None,
        }
    }
    pub(crate) fn internal(message: impl Into<String>) -> PkiError {
        PkiError::new(PkiCode::Issue, message)
    }
    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> PkiError {
        self.hint = Some(hint.into());
        self
    }
}

impl From<PkiError> for Diagnostic {
    fn from(e: PkiError) -> Diagnostic {
        let d = Diagnostic::error(e.message).with_code(e.code);
        match e.hint {
            Some(h) => d.with_hint(h),
            None => d,
        }
    }
}
