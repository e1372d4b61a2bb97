//! The one error type of the bundle writer and of `inspect`: either the bundle itself is
//! malformed (a bad artifact path, a collision — a bug upstream, caught before anything is
//! written) or the filesystem refused something.

use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
pub enum BundleError {
    /// An artifact path that is empty, absolute, contains `.`/`..`/empty components or
    /// characters that cannot be stored safely. `owner` is `node <name>` or `bundle files`.
    InvalidPath {
        owner: String,
        path: String,
        reason: &'static str,
    },
    /// Two artifacts would land on the same path, or a file where a folder is needed.
    PathCollision {
        owner: String,
        path: String,
        other: String,
    },
    /// A node name that would not stay one folder/file name under `hosts/`.
    InvalidNodeName { name: String, reason: &'static str },
    /// A mode with bits beyond the permission bits (`0o7777`).
    InvalidMode {
        owner: String,
        path: String,
        mode: u32,
    },
    /// A negative epoch cannot be an archive mtime.
    InvalidEpoch(i64),
    /// The output folder exists but is not something the writer may replace.
    RefuseReplace { path: PathBuf, reason: String },
    /// A signal (SIGINT, SIGTERM, SIGHUP) arrived while writing; nothing was changed.
    Interrupted(i32),
    /// `inspect` was given something that is neither an archive, a file nor a folder.
    NotInspectable { path: PathBuf, reason: String },
    /// `hac diff` was given something that is not a bundle `hac build` wrote (or a part of it
    /// is unreadable: a truncated archive, a file too large).
    NotABundle { path: PathBuf, reason: String },
    /// The filesystem refused an operation.
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

hac_core::diagnostic_kinds! {
    /// The bundle writer's refusals (E07xx, beside the render stage's).
    pub enum BundleCode {
        /// The output folder holds something that is not an earlier bundle of this cluster.
        RefuseReplace = "E0704",
        /// An epoch before 1970 cannot be an archive entry's time.
        InvalidEpoch = "E0705",
    }
}

impl BundleError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        BundleError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// The diagnostic code: an output folder that must not be replaced, a negative epoch;
    /// `None` for plain I/O failures.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            BundleError::RefuseReplace { .. } => Some(BundleCode::RefuseReplace.code()),
            BundleError::InvalidEpoch(_) => Some(BundleCode::InvalidEpoch.code()),
            _ => None,
        }
    }

    /// True when the environment failed (I/O, an output folder that must not be replaced),
    /// false when the bundle itself is malformed.
    pub fn is_environment_failure(&self) -> bool {
        matches!(
            self,
            BundleError::Io { .. }
                | BundleError::RefuseReplace { .. }
                | BundleError::Interrupted(_)
                | BundleError::NotInspectable { .. }
                | BundleError::NotABundle { .. }
        )
    }
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BundleError::InvalidPath {
                owner,
                path,
                reason,
            } => {
                write!(f, "invalid file path {path:?} in {owner}: {reason}")
            }
            BundleError::PathCollision { owner, path, other } => {
                write!(f, "file path {path:?} in {owner} collides with {other:?}")
            }
            BundleError::InvalidNodeName { name, reason } => {
                write!(f, "invalid node name {name:?}: {reason}")
            }
            BundleError::InvalidMode { owner, path, mode } => {
                write!(f, "invalid mode {mode:#o} for {path:?} in {owner}: only permission bits (at most 0o7777) are allowed")
            }
            BundleError::InvalidEpoch(epoch) => write!(
                f,
                "invalid epoch {epoch}: must be 0 or more seconds since 1970"
            ),
            BundleError::RefuseReplace { path, reason } => {
                write!(f, "refusing to replace {}: {reason}", path.display())
            }
            BundleError::Interrupted(signal) => {
                write!(f, "interrupted by signal {signal}; nothing was changed")
            }
            BundleError::NotInspectable { path, reason } => {
                write!(f, "cannot inspect {}: {reason}", path.display())
            }
            BundleError::NotABundle { path, reason } => {
                write!(f, "{}: {reason}", path.display())
            }
            BundleError::Io {
                action,
                path,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for BundleError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BundleError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<BundleError> for io::Error {
    fn from(error: BundleError) -> io::Error {
        let kind = match &error {
            BundleError::Io { source, .. } => source.kind(),
            BundleError::RefuseReplace { .. } => io::ErrorKind::AlreadyExists,
            _ => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, error.to_string())
    }
}
