//! `import`: reading `.ha` files relative to the importer inside the sandbox (the root
//! file's directory tree plus `--allow-path` directories; absolute paths, `..` escapes and
//! symlinks out → E0009), import cycles (E0010), missing files (E0011), and `<hac/NAME>`
//! resolving to the library embedded from `stdlib/`. Also the regex cache for `match`/`split`.

use crate::diag;
use crate::eval::{fail, EvalError, Evaluator, R};
use crate::ir::Compiler;
use crate::value::{PathValue, Value};
use hac_core::{Diagnostic, Span};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

/// The embedded library files: `<hac/NAME>` → source text.
pub const STDLIB: &[(&str, &str)] = &[
    ("lib", include_str!("../../../stdlib/lib.ha")),
    ("cidr", include_str!("../../../stdlib/cidr.ha")),
];

/// Removes `.` and resolves `..` lexically (no file system access).
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

impl Evaluator {
    /// `import v` where `v` must be a path.
    pub fn import_value(&mut self, v: &Value, span: Span) -> R<Value> {
        let Value::Path(p) = v else {
            return fail(
                diag::type_error(span, "a path such as ./file.ha or <hac/lib>", v.describe())
                    .with_hint("write the path literally: `import ./file.ha`"),
            );
        };
        match &**p {
            PathValue::Search(name) => self.import_stdlib(name, span),
            PathValue::File(path) => self.import_file(path, span, false),
            PathValue::Absolute(path) => self.import_file(path, span, true),
        }
    }

    pub fn import_stdlib(&mut self, name: &str, span: Span) -> R<Value> {
        let Some(short) = name.strip_prefix("hac/") else {
            return fail(diag::unsupported(
                span,
                format!("search path `<{name}>` is not supported in .ha"),
                "only the embedded library can be reached with angle brackets: <hac/lib>",
            ));
        };
        if let Some(v) = self.stdlib_cache.get(short) {
            return Ok(v.clone());
        }
        let Some((_, text)) = STDLIB.iter().find(|(n, _)| *n == short) else {
            let names: Vec<String> = STDLIB.iter().map(|(n, _)| format!("<hac/{n}>")).collect();
            let mut d = Diagnostic::error(format!("no library file `<{name}>`"))
                .with_code(hac_core::LanguageCode::ImportFailed)
                .with_span(span)
                .with_span_label("unknown library name")
                .with_note(format!("available: {}", names.join(", ")));
            if let Some(s) = hac_core::suggest::did_you_mean(short, STDLIB.iter().map(|(n, _)| *n))
            {
                d = d.with_hint(format!("did you mean `<hac/{s}>`?"));
            }
            return fail(d);
        };
        let key = PathBuf::from(format!("<hac/{short}>"));
        if self.importing.contains(&key) {
            return fail(cycle(span, &key, &self.importing));
        }
        self.importing.push(key);
        let r = self.load_source(&format!("<hac/{short}>"), text, Path::new("/"), true);
        self.importing.pop();
        let v = r?;
        self.stdlib_cache.insert(short.to_string(), v.clone());
        Ok(v)
    }

    fn import_file(&mut self, path: &Path, span: Span, absolute: bool) -> R<Value> {
        let lexical = normalize(path);
        let shown = display_name(&lexical);
        let inside = |dirs: &[PathBuf], p: &Path| dirs.iter().any(|d| p.starts_with(d));
        // Absolute paths are readable only under an `--allow-path` directory.
        let allowed: &[PathBuf] = if absolute {
            self.sandbox.get(1..).unwrap_or(&[])
        } else {
            &self.sandbox
        };
        if !inside(allowed, &lexical) {
            let mut d = outside(span, &shown, &self.sandbox);
            if absolute {
                d = d.with_note("absolute paths are only allowed under --allow-path directories; use a relative path");
            }
            return fail(d);
        }
        let mut canon = match std::fs::canonicalize(&lexical) {
            Ok(c) => c,
            Err(e) => {
                return fail(import_failed(
                    span,
                    &shown,
                    &hac_core::input::InputError::Io(e),
                ))
            }
        };
        if canon.is_dir() {
            // `dir/default.ha` is resolved again: it may itself be a link out of the tree.
            canon = match std::fs::canonicalize(canon.join("default.ha")) {
                Ok(c) => c,
                Err(e) => {
                    return fail(import_failed(
                        span,
                        &format!("{shown}/default.ha"),
                        &hac_core::input::InputError::Io(e),
                    ))
                }
            };
        }
        if !inside(&self.sandbox, &canon) {
            return fail(outside(span, &shown, &self.sandbox).with_note(format!(
                "`{shown}` resolves to `{}` (through a symbolic link)",
                canon.display()
            )));
        }
        if let Some(v) = self.imports.get(&canon) {
            return Ok(v.clone());
        }
        if self.importing.contains(&canon) {
            return fail(cycle(span, &canon, &self.importing));
        }
        // Only a regular UTF-8 file that is not a secrets file is read (never a FIFO, a
        // device or a folder; never blocking).
        let text = match hac_core::input::read_source(&canon) {
            Ok(t) => t,
            Err(e) => return fail(import_failed(span, &shown, &e)),
        };
        let dir = canon
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
        self.importing.push(canon.clone());
        let r = self.load_source(&display_name(&canon), &text, &dir, false);
        self.importing.pop();
        let v = r?;
        self.imports.insert(canon, v.clone());
        Ok(v)
    }

    /// Parses, compiles and evaluates one file's text (to weak head normal form).
    pub fn load_source(&mut self, name: &str, text: &str, dir: &Path, is_lib: bool) -> R<Value> {
        let file = self.sources.add(name, text);
        if is_lib {
            self.lib_files.push(file);
        }
        let ast = match hac_syntax::parse(file, text) {
            Ok(a) => a,
            Err(mut ds) => {
                if ds.is_empty() {
                    return fail(
                        Diagnostic::error(format!("cannot parse `{name}`"))
                            .with_code(hac_core::LanguageCode::Syntax),
                    );
                }
                let mut first = ds.remove(0);
                if !ds.is_empty() {
                    first =
                        first.with_note(format!("{} more syntax error(s) in this file", ds.len()));
                }
                return Err(EvalError::new(first));
            }
        };
        let globals = self.globals.clone();
        let ir = Compiler::new(dir, &globals)
            .compile_root(&ast)
            .map_err(|d| EvalError::new(*d))?;
        drop(ast);
        // The values made hold (`Rc`) the parts of the compiled form they may still run.
        let env = self.base_env.clone();
        self.eval(&ir, &env)
    }

    /// A compiled regex (anchored for `match`), cached by pattern.
    pub fn regex(&mut self, pattern: &str, whole: bool, span: Span) -> R<Rc<regex::Regex>> {
        let key = format!("{}{pattern}", if whole { "M" } else { "S" });
        if let Some(r) = self.regex_cache.get(&key) {
            return Ok(r.clone());
        }
        let src = if whole {
            format!("^(?s:{pattern})$")
        } else {
            format!("(?s:{pattern})")
        };
        let rx = regex::RegexBuilder::new(&src)
            .size_limit(1 << 22)
            .build()
            .map_err(|e| {
                EvalError::new(diag::invalid(
                    span,
                    format!("invalid regular expression `{pattern}`: {e}"),
                ))
            })?;
        let rx = Rc::new(rx);
        self.regex_cache.insert(key, rx.clone());
        Ok(rx)
    }
}

/// Why a data file named by the cluster file (`network.cni.manifest`) was not read.
#[derive(Debug)]
pub enum DataFileError {
    /// The path leads outside the sandbox; the note says how (absolute, symbolic link).
    Outside(Option<String>),
    /// It cannot be read: missing, not a regular file, over the limit, not UTF-8, or a
    /// secrets file.
    Input(hac_core::input::InputError),
}

/// Reads the data file `written` (as the cluster file spells it) under the rules of
/// `import`: a relative path is resolved against the root file's directory (`sandbox[0]`),
/// an absolute one must lie under an `--allow-path` directory (`sandbox[1..]`), and the
/// resolved path (symbolic links followed) must stay inside the sandbox. Only a regular
/// UTF-8 file of at most `limit` bytes that is not a secrets file is read
/// (`hac_core::input`). Returns the canonical path and the text.
pub fn read_data_file(
    sandbox: &[PathBuf],
    written: &str,
    limit: u64,
) -> Result<(PathBuf, String), DataFileError> {
    use hac_core::input::{self, InputError};
    let path = Path::new(written);
    let Some(root) = sandbox.first() else {
        return Err(DataFileError::Outside(None));
    };
    let absolute = path.is_absolute();
    let lexical = normalize(&if absolute {
        path.to_path_buf()
    } else {
        root.join(path)
    });
    let inside = |dirs: &[PathBuf], p: &Path| dirs.iter().any(|d| p.starts_with(d));
    let allowed: &[PathBuf] = if absolute {
        sandbox.get(1..).unwrap_or(&[])
    } else {
        sandbox
    };
    if !inside(allowed, &lexical) {
        return Err(DataFileError::Outside(absolute.then(|| {
            "absolute paths are only allowed under --allow-path directories; use a path relative to the cluster file".to_string()
        })));
    }
    if input::is_secrets_name(&lexical) {
        return Err(DataFileError::Input(InputError::Secrets));
    }
    let canon =
        std::fs::canonicalize(&lexical).map_err(|e| DataFileError::Input(InputError::Io(e)))?;
    if !inside(sandbox, &canon) {
        return Err(DataFileError::Outside(Some(format!(
            "`{written}` resolves to `{}` (through a symbolic link)",
            canon.display()
        ))));
    }
    if input::is_secrets_name(&canon) {
        return Err(DataFileError::Input(InputError::Secrets));
    }
    let bytes = input::read_regular(&canon, limit).map_err(DataFileError::Input)?;
    if input::looks_like_secrets(&String::from_utf8_lossy(&bytes[..bytes.len().min(8192)])) {
        return Err(DataFileError::Input(InputError::Secrets));
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| DataFileError::Input(InputError::NotUtf8(e.utf8_error().valid_up_to())))?;
    Ok((canon, text))
}

/// A short name for diagnostics: relative to the working directory when below it.
pub fn display_name(p: &Path) -> String {
    if let Ok(cwd) = std::env::current_dir().and_then(std::fs::canonicalize) {
        if let Ok(rel) = p.strip_prefix(&cwd) {
            return rel.display().to_string();
        }
    }
    p.display().to_string()
}

fn outside(span: Span, shown: &str, sandbox: &[PathBuf]) -> Diagnostic {
    let dirs: Vec<String> = sandbox.iter().map(|d| d.display().to_string()).collect();
    Diagnostic::error(format!("import of `{shown}` is outside the sandbox"))
        .with_code(hac_core::LanguageCode::ImportOutsideSandbox)
        .with_span(span)
        .with_span_label("this file is outside the directories imports may read")
        .with_note(format!("imports may read: {}", dirs.join(", ")))
        .with_hint("move the file under the cluster file's directory, or widen the sandbox with --allow-path DIR")
}

fn cycle(span: Span, target: &Path, chain: &[PathBuf]) -> Diagnostic {
    let start = chain.iter().position(|p| p == target).unwrap_or(0);
    let names: Vec<String> = chain[start..]
        .iter()
        .chain(std::iter::once(&target.to_path_buf()))
        .map(|p| display_name(p))
        .collect();
    Diagnostic::error(format!(
        "import cycle: `{}` imports itself",
        display_name(target)
    ))
    .with_code(hac_core::LanguageCode::ImportCycle)
    .with_span(span)
    .with_span_label("this import closes the cycle")
    .with_note(format!("cycle: {}", names.join(" → ")))
}

/// E0011 (E0610 for a secrets file): the imported file cannot be read. No snippet of the
/// file itself is ever shown.
fn import_failed(span: Span, shown: &str, e: &hac_core::input::InputError) -> Diagnostic {
    e.diagnostic(&format!("cannot import `{shown}`"))
        .with_span(span)
        .with_span_label("imported here")
}
