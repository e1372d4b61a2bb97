//! Enumerations a cluster file spells as strings (`kind = "haproxy"`). Each is declared once
//! with [`spelled_enum!`]: the variants, how a cluster file spells each, the default when the
//! attribute is unset (as `Default`) and the noun a diagnostic calls a value by. The schema
//! lists the spellings from `ALL`, the converter reads every such attribute with one reader
//! (through [`Spelled`]), and rendering writes `as_str` back: a new variant is one line.

/// An enumeration declared by [`spelled_enum!`].
pub trait Spelled: Copy + PartialEq + 'static {
    /// What a diagnostic calls a value of it ("load balancer kind").
    const NOUN: &'static str;
    /// Every variant with its spelling, in declaration order.
    fn all() -> &'static [(&'static str, Self)];
}

/// Declares an enumeration a cluster file spells as strings:
///
/// ```
/// hac_model::spelled_enum! {
///     /// How a door is held.
///     pub enum Latch ("latch") default Closed {
///         Open = "open",
///         /// Shut and locked.
///         Closed = "closed",
///     }
/// }
/// use hac_model::Spelled;
/// assert_eq!(Latch::ALL, [("open", Latch::Open), ("closed", Latch::Closed)]);
/// assert_eq!(Latch::NAMES, ["open", "closed"]);
/// assert_eq!(Latch::Closed.as_str(), "closed");
/// assert_eq!((Latch::DEFAULT, Latch::DEFAULT_NAME), (Latch::Closed, "closed"));
/// assert_eq!((Latch::NOUN, Latch::all()), ("latch", &Latch::ALL[..]));
/// assert_eq!(Latch::default(), Latch::Closed);
/// ```
#[macro_export]
macro_rules! spelled_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($noun:literal) $(default $default:ident)? {
            $( $(#[$vmeta:meta])* $variant:ident = $spelling:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every variant with its spelling, in declaration order.
            pub const ALL: [(&'static str, $name); [$($spelling),*].len()] =
                [ $( ($spelling, $name::$variant), )* ];

            /// Every spelling, in declaration order.
            pub const NAMES: [&'static str; [$($spelling),*].len()] = [ $( $spelling, )* ];

            /// The value as a cluster file spells it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $spelling, )*
                }
            }

            $(
            /// The value of the attribute when unset.
            pub const DEFAULT: Self = $name::$default;
            /// [`Self::DEFAULT`] as a cluster file spells it.
            pub const DEFAULT_NAME: &'static str = Self::DEFAULT.as_str();
            )?
        }

        $(
        impl ::core::default::Default for $name {
            fn default() -> Self {
                $name::$default
            }
        }
        )?

        impl $crate::Spelled for $name {
            const NOUN: &'static str = $noun;
            fn all() -> &'static [(&'static str, Self)] {
                &Self::ALL
            }
        }
    };
}
