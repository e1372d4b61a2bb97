//! Call-by-need evaluator of the `.ha` language, its builtins, imports (sandboxed) and the
//! library embedded from `stdlib/`. Produces a deep-forced [`hac_core::DataNode`].
//!
//! Evaluation runs on a thread of its own with a large stack, and counts its depth: deep
//! recursion ends in E0015, never in a stack overflow.

mod builtins;
mod cidr;
mod diag;
mod eval;
mod imports;
mod ir;
mod json;
mod output;
mod value;

use eval::{EvalError, Evaluator};
use hac_core::{DataNode, Diagnostic, SourceMap, Span};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use value::{Attr, AttrSet, Env, PathValue, Sym, Thunk, ThunkState, Value};

pub use builtins::compare_versions;
pub use imports::{read_data_file, DataFileError, STDLIB};

/// How to evaluate a root file.
#[derive(Clone, Debug, Default)]
pub struct EvalOptions {
    /// Directories imports may read besides the root file's directory tree (`--allow-path`).
    pub allow_paths: Vec<PathBuf>,
    /// `-A a.b.c`: select this attribute path of the (root-convention-applied) value.
    pub attr_path: Vec<String>,
    /// Budgets: evaluation steps and memory of values (`None`: the defaults).
    pub max_steps: Option<u64>,
    pub max_memory_bytes: Option<u64>,
}

/// Default budget of evaluation steps (thunks forced plus functions called): a 20,000-node
/// cluster (the evaluation benchmark) takes under 2 million.
pub const DEFAULT_MAX_STEPS: u64 = 100_000_000;
/// Default budget of values, in approximately accounted bytes (strings, list and set slots,
/// thunks): a 20,000-node cluster takes under 64 MiB.
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 1 << 30;

/// The outcome of one evaluation: the files read (for rendering diagnostics) and the value.
pub struct Evaluation {
    pub sources: SourceMap,
    /// Deep-forced value, or the first error (with its call trace).
    pub result: Result<DataNode, Diagnostic>,
}

/// The outcome of [`evaluate_to_json`]: the value printed as compact JSON.
pub struct JsonEvaluation {
    pub sources: SourceMap,
    /// The same text as `DataNode::to_json().to_string()` of [`evaluate`]'s value, or the
    /// same first error.
    pub result: Result<String, Diagnostic>,
}

/// What to make of the final value.
enum Output {
    Data(Option<DataNode>),
    Json(String),
}

/// The stack of the evaluation thread; the depth limit keeps use well below it.
const EVAL_STACK_BYTES: usize = 1 << 30;
/// Stack kept free below the budget (for the frames between two depth checks, and for
/// building the error).
const STACK_RESERVE_BYTES: usize = 64 << 20;
/// Nested forces/calls allowed before E0015 (the stack budget may stop it earlier).
const MAX_DEPTH: usize = 100_000;
/// Trace frames shown: the innermost and outermost ones, with a count of those left out.
const TRACE_INNER: usize = 6;
const TRACE_OUTER: usize = 4;

#[derive(Clone)]
enum Input {
    File(PathBuf),
    Text {
        name: String,
        text: String,
        dir: PathBuf,
    },
}

/// Evaluates `root` (reading it and its imports), applies the root-file convention (a
/// function `{ lib, ... }:` is called with the library), selects `attr_path`, and forces
/// the value deeply.
pub fn evaluate(root: &Path, opts: &EvalOptions) -> Evaluation {
    let (sources, result) = run_on_big_stack(&Input::File(root.to_path_buf()), opts, false);
    Evaluation {
        sources,
        result: result.map(data_of),
    }
}

/// As [`evaluate`], but prints the value as compact JSON directly from the evaluator's
/// values (no intermediate data tree): the fast path for `hac eval --json`.
pub fn evaluate_to_json(root: &Path, opts: &EvalOptions) -> JsonEvaluation {
    let (sources, result) = run_on_big_stack(&Input::File(root.to_path_buf()), opts, true);
    JsonEvaluation {
        sources,
        result: result.map(json_of),
    }
}

fn data_of(o: Output) -> DataNode {
    match o {
        Output::Data(Some(d)) => d,
        _ => DataNode::new(hac_core::Data::Null, None),
    }
}

fn json_of(o: Output) -> String {
    match o {
        Output::Json(s) => s,
        Output::Data(d) => d.map(|d| d.to_json().to_string()).unwrap_or_default(),
    }
}

/// Evaluates source text as if it were the file `name` in directory `dir` (the sandbox root).
pub fn evaluate_source(name: &str, text: &str, dir: &Path, opts: &EvalOptions) -> Evaluation {
    let input = Input::Text {
        name: name.to_string(),
        text: text.to_string(),
        dir: dir.to_path_buf(),
    };
    let (sources, result) = run_on_big_stack(&input, opts, false);
    Evaluation {
        sources,
        result: result.map(data_of),
    }
}

/// [`evaluate_to_json`] of source text (see [`evaluate_source`]).
pub fn evaluate_source_to_json(
    name: &str,
    text: &str,
    dir: &Path,
    opts: &EvalOptions,
) -> JsonEvaluation {
    let input = Input::Text {
        name: name.to_string(),
        text: text.to_string(),
        dir: dir.to_path_buf(),
    };
    let (sources, result) = run_on_big_stack(&input, opts, true);
    JsonEvaluation {
        sources,
        result: result.map(json_of),
    }
}

type Outcome = (SourceMap, Result<Output, Diagnostic>);

fn run_on_big_stack(input: &Input, opts: &EvalOptions, json: bool) -> Outcome {
    let internal = |what: &str| {
        (
            SourceMap::new(),
            Err(
                Diagnostic::error(format!("internal error in the evaluator: {what}")).with_note(
                    "this is a bug in hac; please report it with the input that caused it",
                ),
            ),
        )
    };
    // A smaller stack if the address space is limited (the budget shrinks with it).
    let mut last_error = String::new();
    for stack in [
        EVAL_STACK_BYTES,
        EVAL_STACK_BYTES / 4,
        EVAL_STACK_BYTES / 16,
    ] {
        let (input, opts) = (input.clone(), opts.clone());
        let (send, receive) = std::sync::mpsc::sync_channel(1);
        // The thread sends the outcome, then frees the evaluator and every value it made
        // (a noticeable share of a big run) while the caller already goes on: the values
        // never leave the thread that made them.
        let spawned = std::thread::Builder::new()
            .name("hac-eval".to_string())
            .stack_size(stack)
            .spawn(move || {
                let (outcome, leftovers) = run(input, &opts, json, stack);
                // The caller may have stopped waiting only by panicking itself.
                let _ = send.send(outcome);
                drop(leftovers);
            });
        match spawned {
            // A closed channel without an outcome: the thread panicked before sending it.
            Ok(_detached) => {
                return receive
                    .recv()
                    .unwrap_or_else(|_| internal("the evaluation thread panicked"))
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    internal(&format!("cannot start the evaluation thread: {last_error}"))
}

fn new_evaluator(sandbox: Vec<PathBuf>, stack: usize, opts: &EvalOptions) -> Evaluator {
    value::reset_allocated();
    let (names, values) = builtins::base_bindings();
    Evaluator {
        depth: 0,
        nesting: 0,
        steps: 0,
        max_steps: opts.max_steps.unwrap_or(DEFAULT_MAX_STEPS),
        next_budget_check: 0,
        max_memory: opts.max_memory_bytes.unwrap_or(DEFAULT_MAX_MEMORY_BYTES),
        max_depth: MAX_DEPTH,
        sources: SourceMap::new(),
        globals: Rc::from(names),
        base_env: Rc::new(Env {
            parent: None,
            slots: values.into(),
        }),
        imports: HashMap::new(),
        importing: Vec::new(),
        sandbox,
        lib_files: Vec::new(),
        stdlib_cache: HashMap::new(),
        regex_cache: HashMap::new(),
        retained: Vec::new(),
        scratch: String::new(),
        stack_base: eval::stack_position(),
        stack_budget: stack - STACK_RESERVE_BYTES.min(stack / 4),
    }
}

/// The directories imports (and data files such as `network.cni.manifest`) may read: the
/// root file's directory `root_dir` (canonical) first, then each `--allow-path` directory.
pub fn sandbox_of(root_dir: &Path, allow_paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut sandbox = vec![root_dir.to_path_buf()];
    for p in allow_paths {
        sandbox.push(std::fs::canonicalize(p).unwrap_or_else(|_| imports::normalize(p)));
    }
    sandbox
}

/// [`sandbox_of`] for the root file `file`.
pub fn sandbox_for(file: &Path, allow_paths: &[PathBuf]) -> Vec<PathBuf> {
    let abs = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let root_dir = abs
        .parent()
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
    sandbox_of(&root_dir, allow_paths)
}

/// Evaluates on the current (evaluation) thread; returns the outcome and the evaluator, which
/// the caller drops after handing the outcome over.
fn run(input: Input, opts: &EvalOptions, json: bool, stack: usize) -> (Outcome, Evaluator) {
    let root_dir = match &input {
        Input::File(p) => {
            let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            abs.parent()
                .map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
        }
        Input::Text { dir, .. } => std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone()),
    };
    let sandbox = sandbox_of(&root_dir, &opts.allow_paths);
    let mut ev = new_evaluator(sandbox, stack, opts);
    let result = run_in(&mut ev, input, &root_dir, opts, json).map_err(|e| finish_error(*e));
    let sources = std::mem::take(&mut ev.sources);
    ((sources, result), ev)
}

fn run_in(
    ev: &mut Evaluator,
    input: Input,
    root_dir: &Path,
    opts: &EvalOptions,
    json: bool,
) -> eval::R<Output> {
    let (name, text) = match input {
        Input::File(p) => match hac_core::input::read_source(&p) {
            Ok(t) => (p.display().to_string(), t),
            Err(e) => return eval::fail(e.diagnostic(&format!("cannot read `{}`", p.display()))),
        },
        Input::Text { name, text, .. } => (name, text),
    };
    let whole = Span::new(hac_core::FileId(ev.sources.files().count() as u32), 0, 0);
    if let Ok(canon) =
        std::fs::canonicalize(root_dir.join(Path::new(&name).file_name().unwrap_or_default()))
    {
        ev.importing.push(canon);
    }
    let mut value = ev.load_source(&name, &text, root_dir, false)?;
    ev.importing.clear();
    let root_span = Span::new(whole.file, 0, text.len());
    if matches!(value, Value::Lambda(_) | Value::Prim(_)) {
        let import_fn = ev.base_env.slots[ev
            .globals
            .iter()
            .position(|n| &**n == "import")
            .unwrap_or(0)]
        .clone();
        let lib = Thunk::lazy(
            ThunkState::Apply(
                import_fn,
                Thunk::done(
                    Value::Path(Rc::new(PathValue::Search("hac/lib".to_string()))),
                    None,
                ),
                root_span,
            ),
            None,
        );
        let arg = Value::attrs(AttrSet::from_unsorted(vec![Attr {
            name: Sym::from("lib"),
            value: lib,
            key_span: None,
        }]));
        value = ev
            .call(value, Thunk::done(arg, None), root_span)
            .map_err(|mut e| {
                if hac_core::LanguageCode::WrongArguments.matches(&e.diag) {
                    e.diag = e
                        .diag
                        .with_note("the root file's function is called with `{ lib }` only");
                }
                e
            })?;
    }
    let mut span = Some(root_span);
    for (i, name) in opts.attr_path.iter().enumerate() {
        let shown = opts.attr_path[..=i].join(".");
        let Value::Attrs(set) = &value else {
            return eval::fail(
                Diagnostic::error(format!(
                    "cannot select `{shown}` (-A): expected a set, found {}",
                    value.describe()
                ))
                .with_code(hac_core::LanguageCode::TypeError)
                .with_span_opt(span),
            );
        };
        let Some(attr) = set.get(name).cloned() else {
            let mut d = eval::missing_attr(set, name, root_span);
            d.span = None;
            d.message = format!("attribute `{shown}` (-A) missing");
            return eval::fail(d);
        };
        value = ev.force(&attr.value)?;
        span = attr.value.span().or(attr.key_span);
    }
    let out = if json {
        let mut text = String::new();
        ev.value_to_json(&value, span, &mut text)
            .map(|_| Output::Json(text))
    } else {
        ev.value_to_data(&value, span, None)
            .map(|d| Output::Data(Some(d)))
    };
    ev.retained.push(value);
    out
}

/// Bounds the trace: the innermost and outermost frames, and a note on the rest.
fn finish_error(e: EvalError) -> Diagnostic {
    let mut d = e.diag;
    let total = d.trace.len() + e.dropped_frames;
    if d.trace.len() > TRACE_INNER + TRACE_OUTER {
        let outer = d.trace.split_off(d.trace.len() - TRACE_OUTER);
        d.trace.truncate(TRACE_INNER);
        d.trace.extend(outer);
    }
    if total > d.trace.len() {
        let hidden = total - d.trace.len();
        d = d.with_note(format!("… {hidden} more call frames not shown"));
    }
    d
}
