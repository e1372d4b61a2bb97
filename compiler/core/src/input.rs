//! Reading an input file (a `.ha` root file, an import, a file to format) safely: only a
//! regular file is read (a FIFO, a device, a socket or a folder is refused without blocking:
//! the file is opened with `O_NONBLOCK` and the opened handle is checked), at most
//! [`MAX_SOURCE_BYTES`] are read, the text must be UTF-8, and a secrets file (by name
//! `*.secrets` or by its content) is refused so that no diagnostic can quote it.

use crate::Diagnostic;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The largest source file read (8 MiB; a 20,000-node cluster is a few kilobytes of `.ha`
/// when written with `lib.nodes`, a few megabytes when every node is spelled out).
pub const MAX_SOURCE_BYTES: u64 = 8 << 20;

/// Why a source file was not read.
#[derive(Debug)]
pub enum InputError {
    /// It does not exist (or cannot be opened): the I/O error.
    Io(std::io::Error),
    /// It exists but is not a regular file: what it is ("a folder", "a FIFO", …).
    NotRegular(&'static str),
    /// Larger than [`MAX_SOURCE_BYTES`].
    TooLarge(u64),
    /// Not UTF-8 (the byte offset of the first bad byte).
    NotUtf8(usize),
    /// A secrets file: never read as source, never quoted.
    Secrets,
}

impl InputError {
    /// A short reason, for "cannot read X: <reason>".
    pub fn reason(&self) -> String {
        match self {
            InputError::Io(e) => match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ => e.to_string(),
            },
            InputError::NotRegular(what) => format!("it is {what}, not a regular file"),
            InputError::TooLarge(n) => format!(
                "it is {n} bytes long, more than the {} MiB a source file may have",
                MAX_SOURCE_BYTES >> 20
            ),
            InputError::NotUtf8(at) => format!("it is not UTF-8 text (byte {at})"),
            InputError::Secrets => "it is a secrets file, not a .ha file".to_string(),
        }
    }

    /// True when the file is missing or unreadable for an environment reason (exit 3 in the
    /// CLI) rather than being the wrong kind of input.
    pub fn is_io(&self) -> bool {
        matches!(self, InputError::Io(_))
    }

    /// The diagnostic for `what` (e.g. "cannot import `x.ha`"), without a snippet of the file.
    pub fn diagnostic(&self, what: &str) -> Diagnostic {
        let d = Diagnostic::error(format!("{what}: {}", self.reason()));
        match self {
            InputError::TooLarge(_) => d.with_code(crate::LanguageCode::TooLarge),
            InputError::Secrets => d
                .with_code(crate::InputCode::SecretsAsSource)
                .with_hint("give the .ha cluster file; hac finds the secrets file beside it (or use --secrets FILE with `hac build`)")
                .with_note("hac never reads a secrets file as source, so no message can show its contents"),
            _ => d.with_code(crate::LanguageCode::ImportFailed),
        }
    }
}

/// What a file type is, in words.
fn kind_of(ft: std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a folder"
    } else if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// Whether the name says it is a secrets file.
pub fn is_secrets_name(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "secrets")
}

/// Whether the text looks like a hac secrets file: its header line, or a `rootSecret:` key.
pub fn looks_like_secrets(text: &str) -> bool {
    text.lines().take(64).any(|l| {
        let l = l.trim_start();
        l.starts_with("# hac secrets file") || l.starts_with("rootSecret:")
    })
}

/// What kind of file system object `path` is, when it is not a regular file (following
/// links); `None` for a regular file or a missing path.
pub fn not_regular(path: &Path) -> Option<&'static str> {
    let meta = std::fs::metadata(path).ok()?;
    (!meta.file_type().is_file()).then(|| kind_of(meta.file_type()))
}

/// Reads a source file: a regular file, at most [`MAX_SOURCE_BYTES`], UTF-8, not a secrets
/// file. Never blocks on a FIFO.
pub fn read_source(path: &Path) -> Result<String, InputError> {
    if is_secrets_name(path) {
        return Err(InputError::Secrets);
    }
    let bytes = read_regular(path, MAX_SOURCE_BYTES)?;
    if looks_like_secrets(&String::from_utf8_lossy(&bytes[..bytes.len().min(8192)])) {
        return Err(InputError::Secrets);
    }
    String::from_utf8(bytes).map_err(|e| InputError::NotUtf8(e.utf8_error().valid_up_to()))
}

/// Reads a regular file of at most `limit` bytes (opened non-blocking, the handle checked).
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    // O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)
        .map_err(|e| match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => InputError::NotRegular(kind_of(m.file_type())),
            _ => InputError::Io(e),
        })?;
    let meta = file.metadata().map_err(InputError::Io)?;
    if !meta.file_type().is_file() {
        return Err(InputError::NotRegular(kind_of(meta.file_type())));
    }
    if meta.len() > limit {
        return Err(InputError::TooLarge(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // A file growing while read stops at the limit.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(InputError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

const O_NONBLOCK: i32 = libc::O_NONBLOCK;

/// `s` made safe for a terminal: every control character (C0, DEL, C1) other than newline
/// and tab, and every Unicode bidirectional override, is written as an escape (`\u{1b}`), and
/// a newline is followed by two spaces, so that text taken from input (a zone, a file name
/// inside an archive, a `throw` message) can neither move the cursor, recolour the
/// terminal nor start a line of output that looks like hac's own (`error: …`).
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        (c.is_control() && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\n' {
            out.push_str("\n  ");
        } else if bad(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `s` with control characters other than newline and tab replaced by `?` byte for byte
/// (offsets stay valid): for source snippets shown in diagnostics.
pub fn blank_controls(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        c.is_control() && c != '\n' && c != '\t' && c != '\r'
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if bad(c) {
            for _ in 0..c.len_utf8() {
                out.push('?');
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// As [`escape_controls`], but a newline is escaped too (`\n`): for names that are one line
/// (file names inside an archive).
pub fn escape_name(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('\n') {
        return escape_controls(s);
    }
    std::borrow::Cow::Owned(escape_controls(&s.replace('\n', "\\n")).into_owned())
}
