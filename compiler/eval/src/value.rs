//! Runtime values of the evaluator: the lazy [`Thunk`] (call-by-need with blackholing), the
//! [`Value`] it forces to, attribute sets kept sorted by name, closures and partially
//! applied builtins, and the environments (one slot vector per scope).

use crate::ir::{Ir, LambdaIr};
use hac_core::Span;
use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;

thread_local! {
    /// Approximate bytes of values made by the evaluation on this thread: string bytes, list
    /// and attribute-set slots, thunks. Compared with the memory budget (E0021) as it runs.
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
}

/// Adds `bytes` to this thread's value accounting.
#[inline]
pub fn account(bytes: usize) {
    ALLOCATED.with(|c| c.set(c.get().wrapping_add(bytes as u64)));
}

/// Bytes of values accounted on this thread so far.
pub fn allocated() -> u64 {
    ALLOCATED.with(Cell::get)
}

/// Starts a new evaluation's accounting.
pub fn reset_allocated() {
    ALLOCATED.with(|c| c.set(0));
}

/// Accounted size of one list element or attribute: its slot and its thunk. Thunks are not
/// counted where they are made (that is the hottest allocation of the evaluator): those of
/// lists and sets are counted with them, and the others live in environments whose size the
/// step budget bounds.
const THUNK_BYTES: usize = 64;

/// An interned-ish attribute or variable name (cheap to clone).
pub type Sym = Rc<str>;

/// A value that may not be computed yet. Forced at most once: the state becomes `Done`.
#[derive(Clone)]
pub struct Thunk(pub Rc<ThunkCell>);

pub struct ThunkCell {
    pub state: RefCell<ThunkState>,
    /// The expression that produces this value (for diagnostics and data spans).
    pub span: Option<Span>,
}

pub enum ThunkState {
    Done(Value),
    /// An expression to evaluate in an environment.
    Expr(Rc<Ir>, Rc<Env>),
    /// `f arg`, applied when forced (used by `map`, `genList`, …).
    Apply(Thunk, Thunk, Span),
    /// `from.name`, selected when forced (used by `inherit (from) name`).
    Select(Thunk, Sym, Span),
    /// Being forced right now: forcing it again is infinite recursion.
    Blackhole,
}

impl Thunk {
    pub fn done(value: Value, span: Option<Span>) -> Thunk {
        Thunk(Rc::new(ThunkCell {
            state: RefCell::new(ThunkState::Done(value)),
            span,
        }))
    }
    pub fn expr(ir: &Rc<Ir>, env: Rc<Env>) -> Thunk {
        Thunk(Rc::new(ThunkCell {
            span: Some(ir.span),
            state: RefCell::new(ThunkState::Expr(ir.clone(), env)),
        }))
    }
    pub fn lazy(state: ThunkState, span: Option<Span>) -> Thunk {
        Thunk(Rc::new(ThunkCell {
            state: RefCell::new(state),
            span,
        }))
    }
    pub fn span(&self) -> Option<Span> {
        self.0.span
    }
    pub fn ptr_eq(&self, other: &Thunk) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// A path literal, resolved against the directory of the file it is written in.
#[derive(Debug, PartialEq)]
pub enum PathValue {
    File(PathBuf),
    /// An absolute path literal: readable only under an `--allow-path` directory.
    Absolute(PathBuf),
    /// `<hac/NAME>`: the text inside the angle brackets.
    Search(String),
}

#[derive(Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Path(Rc<PathValue>),
    List(Rc<Vec<Thunk>>),
    Attrs(Rc<AttrSet>),
    Lambda(Rc<Closure>),
    Prim(Rc<PrimApp>),
}

impl Value {
    /// Nix's `builtins.typeOf` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Path(_) => "path",
            Value::List(_) => "list",
            Value::Attrs(_) => "set",
            Value::Lambda(_) | Value::Prim(_) => "lambda",
        }
    }
    /// "a set", "an integer", … for "expected …, found …" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a Boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Str(_) => "a string",
            Value::Path(_) => "a path",
            Value::List(_) => "a list",
            Value::Attrs(_) => "a set",
            Value::Lambda(_) | Value::Prim(_) => "a function",
        }
    }
    pub fn str(s: &str) -> Value {
        account(s.len() + 16);
        Value::Str(Rc::from(s))
    }
    /// A string value made from a built `String` (accounted).
    pub fn string(s: String) -> Value {
        account(s.len() + 16);
        Value::Str(Rc::from(s))
    }
    pub fn list(items: Vec<Thunk>) -> Value {
        account(items.len() * (8 + THUNK_BYTES) + 24);
        Value::List(Rc::new(items))
    }
    pub fn attrs(set: AttrSet) -> Value {
        account(set.len() * (40 + THUNK_BYTES) + 24);
        Value::Attrs(Rc::new(set))
    }
}

/// One attribute of a set.
#[derive(Clone)]
pub struct Attr {
    pub name: Sym,
    pub value: Thunk,
    /// Where the name was written, when it was written in source.
    pub key_span: Option<Span>,
}

/// An attribute set, sorted by name (byte order, as Nix sorts `attrNames`).
#[derive(Clone, Default)]
pub struct AttrSet {
    pub entries: Vec<Attr>,
    /// True for the `builtins` set (unsupported Nix builtins then give E0002, not E0005).
    pub is_builtins: bool,
    /// For big sets: name → position, built on the first lookup.
    pub index: std::cell::OnceCell<NameIndex>,
}

/// A hash index of a big set's names (FNV-1a: names are short).
pub type NameIndex = std::collections::HashMap<Sym, u32, std::hash::BuildHasherDefault<Fnv>>;

/// Sets with at least this many attributes get a hash index for lookups.
const INDEXED_SET_SIZE: usize = 32;

/// Sets with at most this many attributes are searched front to back (cheaper than a
/// binary search when most names differ in length).
const LINEAR_SET_SIZE: usize = 12;

/// The FNV-1a hash, fast for short keys.
#[derive(Default)]
pub struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

impl AttrSet {
    /// Builds a set from entries in any order; the last of equal names wins.
    pub fn from_unsorted(mut entries: Vec<Attr>) -> AttrSet {
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        entries.dedup_by(|later, earlier| {
            if later.name == earlier.name {
                std::mem::swap(later, earlier);
                true
            } else {
                false
            }
        });
        AttrSet {
            entries,
            is_builtins: false,
            index: Default::default(),
        }
    }
    #[inline]
    pub fn get(&self, name: &str) -> Option<&Attr> {
        if self.entries.len() >= INDEXED_SET_SIZE {
            let index = self.index.get_or_init(|| {
                self.entries
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (a.name.clone(), i as u32))
                    .collect()
            });
            return index.get(name).map(|&i| &self.entries[i as usize]);
        }
        if self.entries.len() <= LINEAR_SET_SIZE {
            // Small sets: compare lengths first, so most names are rejected without
            // reading their bytes.
            return self.entries.iter().find(|a| {
                a.name.len() == name.len()
                    && (std::ptr::eq(a.name.as_ptr(), name.as_ptr()) || *a.name == *name)
            });
        }
        self.entries
            .binary_search_by(|a| (*a.name).cmp(name))
            .ok()
            .map(|i| &self.entries[i])
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|a| &*a.name)
    }
    /// `self // other`: attributes of `other` win.
    pub fn update(&self, other: &AttrSet) -> AttrSet {
        let mut out = Vec::with_capacity(self.entries.len() + other.entries.len());
        let (mut i, mut j) = (0, 0);
        while i < self.entries.len() && j < other.entries.len() {
            match self.entries[i].name.cmp(&other.entries[j].name) {
                std::cmp::Ordering::Less => {
                    out.push(self.entries[i].clone());
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.push(other.entries[j].clone());
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    out.push(other.entries[j].clone());
                    i += 1;
                    j += 1;
                }
            }
        }
        out.extend_from_slice(&self.entries[i..]);
        out.extend_from_slice(&other.entries[j..]);
        AttrSet {
            entries: out,
            is_builtins: false,
            index: Default::default(),
        }
    }
}

/// A lambda together with the environment it was created in.
pub struct Closure {
    pub lambda: Rc<LambdaIr>,
    pub env: Rc<Env>,
}

/// The signature of a builtin: the evaluator, the arguments (lazy), the call site.
pub type PrimFn = fn(&mut crate::eval::Evaluator, &[Thunk], Span) -> crate::eval::R<Value>;

pub struct PrimOp {
    pub name: &'static str,
    pub arity: usize,
    /// Also a global name (`map`, `toString`, …), not only `builtins.NAME`.
    pub global: bool,
    pub func: PrimFn,
}

/// A builtin with some of its arguments already given.
pub struct PrimApp {
    pub op: &'static PrimOp,
    pub args: Vec<Thunk>,
}

/// One scope at run time: the values of the names it binds, in the order the compiler
/// assigned. A `with` scope has one slot: the set it opens.
pub struct Env {
    pub parent: Option<Rc<Env>>,
    pub slots: smallvec::SmallVec<[Thunk; 2]>,
}
