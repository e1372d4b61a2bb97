//! Constructors for the evaluator's diagnostics, one per language error code, so every
//! error carries its code, span and "expected …, found …" wording the same way.

use hac_core::{Diagnostic, Span};

pub fn unsupported(span: Span, message: impl Into<String>, note: &str) -> Diagnostic {
    Diagnostic::error(message)
        .with_code(hac_core::LanguageCode::NotSupported)
        .with_span(span)
        .with_span_label("not supported in .ha")
        .with_note(note)
}

pub fn type_error(span: Span, expected: &str, found: &str) -> Diagnostic {
    Diagnostic::error(format!("type error: expected {expected}, found {found}"))
        .with_code(hac_core::LanguageCode::TypeError)
        .with_span(span)
        .with_span_label(format!("expected {expected}, found {found}"))
}

pub fn type_error_msg(
    span: Span,
    message: impl Into<String>,
    label: impl Into<String>,
) -> Diagnostic {
    Diagnostic::error(message)
        .with_code(hac_core::LanguageCode::TypeError)
        .with_span(span)
        .with_span_label(label)
}

pub fn duplicate(span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(message)
        .with_code(hac_core::LanguageCode::DuplicateAttribute)
        .with_span(span)
        .with_span_label("defined again here")
}

pub fn overflow(span: Span, what: &str) -> Diagnostic {
    Diagnostic::error(format!("integer overflow in {what}"))
        .with_code(hac_core::LanguageCode::IntegerOverflow)
        .with_span(span)
        .with_span_label("the result does not fit in a 64-bit signed integer")
}

pub fn div_zero(span: Span) -> Diagnostic {
    Diagnostic::error("division by zero")
        .with_code(hac_core::LanguageCode::DivisionByZero)
        .with_span(span)
        .with_span_label("the divisor is zero")
}

pub fn invalid(span: Span, message: impl Into<String>) -> Diagnostic {
    let message = message.into();
    Diagnostic::error(message.clone())
        .with_code(hac_core::LanguageCode::InvalidBuiltinValue)
        .with_span(span)
        .with_span_label(message)
}

pub fn unrepresentable(span: Option<Span>, what: &str) -> Diagnostic {
    Diagnostic::error(format!("{what} cannot be represented in the output"))
        .with_code(hac_core::LanguageCode::NotRepresentable)
        .with_span_opt(span)
        .with_span_label(format!("this is {what}"))
}
