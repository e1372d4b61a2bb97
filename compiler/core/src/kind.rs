//! Diagnostic codes as typed kinds. Each stage declares its codes once, as an enum made by
//! [`diagnostic_kinds!`]: a variant per code, its code string, and the list of them all
//! (`ALL`), which `hac explain`'s registry joins. The long explanation of each code lives in
//! one data file per stage (hac-check's `explanations.md`, hac-render's table); tests check
//! that every declared code has one and every explanation a declared code.

/// Declares the diagnostic codes of a stage:
///
/// ```
/// hac_core::diagnostic_kinds! {
///     /// The codes of an example stage.
///     pub enum ExampleCode {
///         /// Something was wrong.
///         Wrong = "E9901",
///     }
/// }
/// assert_eq!(ExampleCode::Wrong.code(), "E9901");
/// assert_eq!(ExampleCode::ALL, &[ExampleCode::Wrong]);
/// let d = hac_core::Diagnostic::error("x").with_code(ExampleCode::Wrong);
/// assert_eq!(d.code.as_deref(), Some("E9901"));
/// assert!(ExampleCode::Wrong.matches(&d));
/// ```
#[macro_export]
macro_rules! diagnostic_kinds {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every code of this stage, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )* ];

            /// The stable code (`E0203`, `W0502`).
            pub const fn code(self) -> &'static str {
                match self {
                    $( $name::$variant => $code, )*
                }
            }

            /// Whether `diagnostic` carries this code.
            pub fn matches(self, diagnostic: &$crate::Diagnostic) -> bool {
                diagnostic.code.as_deref() == Some(self.code())
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl ::core::convert::From<$name> for ::std::string::String {
            fn from(kind: $name) -> ::std::string::String {
                kind.code().to_string()
            }
        }
    };
}

diagnostic_kinds! {
    /// The language's codes: the parser, the evaluator and the source reader (E00xx).
    pub enum LanguageCode {
        Syntax = "E0001",
        NotSupported = "E0002",
        UndefinedVariable = "E0003",
        TypeError = "E0004",
        MissingAttribute = "E0005",
        InfiniteRecursion = "E0006",
        IntegerOverflow = "E0007",
        DivisionByZero = "E0008",
        ImportOutsideSandbox = "E0009",
        ImportCycle = "E0010",
        /// An import (or a source file) that cannot be read.
        ImportFailed = "E0011",
        Throw = "E0012",
        Abort = "E0013",
        AssertionFailed = "E0014",
        TooDeep = "E0015",
        DuplicateAttribute = "E0016",
        WrongArguments = "E0017",
        InvalidBuiltinValue = "E0018",
        NotRepresentable = "E0019",
        StepLimit = "E0020",
        MemoryLimit = "E0021",
        /// A value or a source file too large.
        TooLarge = "E0022",
    }
}

diagnostic_kinds! {
    /// The source reader's one code outside the language's range.
    pub enum InputCode {
        /// A secrets file given where a `.ha` file belongs.
        SecretsAsSource = "E0610",
    }
}
