//! The spanned abstract syntax tree of `.ha` files. Every node carries the [`Span`] of the
//! source text it came from. Pest types never appear here: the parser turns its pairs into
//! these plain types at once.

use hac_core::Span;

/// A name as written (`master-0`, `x'`), with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    /// `"…"` and `'' … ''`, with escapes decoded and indentation already stripped.
    Str(Vec<StrPart>),
    /// `./file.ha`, `../x/y.ha`, `/abs/path` (rejected later) or `<hac/lib>`.
    Path(PathLit),
    Var(Ident),
    List(Vec<Expr>),
    Attrs {
        rec: bool,
        bindings: Vec<Binding>,
    },
    Let {
        bindings: Vec<Binding>,
        body: Box<Expr>,
    },
    With {
        scope: Box<Expr>,
        body: Box<Expr>,
    },
    Assert {
        cond: Box<Expr>,
        body: Box<Expr>,
    },
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        else_: Box<Expr>,
    },
    Lambda {
        param: Param,
        body: Box<Expr>,
    },
    Apply {
        func: Box<Expr>,
        arg: Box<Expr>,
    },
    /// `e.a.b` and `e.a.b or default`.
    Select {
        expr: Box<Expr>,
        path: Vec<AttrKey>,
        default: Option<Box<Expr>>,
    },
    /// `e ? a.b`
    HasAttr {
        expr: Box<Expr>,
        path: Vec<AttrKey>,
    },
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    Lit(String),
    /// `${ e }`
    Interp(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub enum PathLit {
    /// A path relative to the file it is written in, as written (`./lib/x.ha`).
    Relative(String),
    /// An absolute path (always outside the sandbox unless widened).
    Absolute(String),
    /// `<hac/NAME>`: the part inside the angle brackets.
    Search(String),
}

/// One step of an attribute path: `a`, `"q k"`, `${e}`.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrKey {
    pub kind: AttrKeyKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AttrKeyKind {
    Ident(String),
    /// A quoted key, possibly with interpolation (`"a-${b}"`).
    Str(Vec<StrPart>),
    /// `${ e }`
    Dynamic(Box<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Binding {
    /// `a.b.c = value;`
    Assign {
        path: Vec<AttrKey>,
        value: Expr,
        span: Span,
    },
    /// `inherit a b;` or `inherit (from) a "b";` (keys are identifiers or static strings).
    Inherit {
        from: Option<Box<Expr>>,
        names: Vec<AttrKey>,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    /// `x: e`
    Ident(Ident),
    /// `{ a, b ? 1, ... }: e`, `args@{ … }: e`, `{ … }@args: e`
    Pattern {
        formals: Vec<Formal>,
        ellipsis: bool,
        at: Option<Ident>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Formal {
    pub name: Ident,
    pub default: Option<Expr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-e`
    Neg,
    /// `!e`
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `++`
    Concat,
    Mul,
    Div,
    Add,
    Sub,
    /// `//`
    Update,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
    /// `->`
    Impl,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Concat => "++",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Update => "//",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::And => "&&",
            BinOp::Or => "||",
            BinOp::Impl => "->",
        }
    }
}
