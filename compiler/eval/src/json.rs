//! JSON for the evaluator: the one float writer and string escaper (used by `toJSON` and by
//! `hac eval --json`), and a small reader for `builtins.fromJSON`: integers stay integers and one that does
//! not fit in 64 bits is an overflow (E0007), not a float; a NUL character is rejected
//! (E0018), as current Nix does. Nesting is bounded so no input can exhaust the stack.

/// A parsed JSON value.
#[derive(Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    /// In document order (the caller decides which duplicate wins).
    Object(Vec<(String, Json)>),
}

/// Why a text is not acceptable JSON.
#[derive(Debug, PartialEq)]
pub enum JsonError {
    Syntax(String),
    Overflow(String),
}

const MAX_NESTING: usize = 2_000;

pub fn parse(text: &str) -> Result<Json, JsonError> {
    let mut p = Parser {
        b: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    p.ws();
    let v = p.value()?;
    p.ws();
    if p.i != p.b.len() {
        return Err(p.err("unexpected text after the value"));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> JsonError {
        JsonError::Syntax(format!("{what} at byte {}", self.i))
    }
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn eat(&mut self, lit: &str) -> bool {
        if self.b[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }
    fn value(&mut self) -> Result<Json, JsonError> {
        let Some(&c) = self.b.get(self.i) else {
            return Err(self.err("unexpected end of input"));
        };
        match c {
            b'n' if self.eat("null") => Ok(Json::Null),
            b't' if self.eat("true") => Ok(Json::Bool(true)),
            b'f' if self.eat("false") => Ok(Json::Bool(false)),
            b'"' => Ok(Json::Str(self.string()?)),
            b'[' | b'{' => {
                self.depth += 1;
                if self.depth > MAX_NESTING {
                    return Err(self.err("JSON nested too deeply"));
                }
                let r = if c == b'[' {
                    self.array()
                } else {
                    self.object()
                };
                self.depth -= 1;
                r
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(self.err("unexpected character")),
        }
    }
    fn array(&mut self) -> Result<Json, JsonError> {
        self.i += 1;
        let mut out = Vec::new();
        self.ws();
        if self.eat("]") {
            return Ok(Json::Array(out));
        }
        loop {
            self.ws();
            out.push(self.value()?);
            self.ws();
            if self.eat(",") {
                continue;
            }
            if self.eat("]") {
                return Ok(Json::Array(out));
            }
            return Err(self.err("expected `,` or `]`"));
        }
    }
    fn object(&mut self) -> Result<Json, JsonError> {
        self.i += 1;
        let mut out = Vec::new();
        self.ws();
        if self.eat("}") {
            return Ok(Json::Object(out));
        }
        loop {
            self.ws();
            if self.b.get(self.i) != Some(&b'"') {
                return Err(self.err("expected a string key"));
            }
            let k = self.string()?;
            self.ws();
            if !self.eat(":") {
                return Err(self.err("expected `:`"));
            }
            self.ws();
            let v = self.value()?;
            out.push((k, v));
            self.ws();
            if self.eat(",") {
                continue;
            }
            if self.eat("}") {
                return Ok(Json::Object(out));
            }
            return Err(self.err("expected `,` or `}`"));
        }
    }
    fn hex4(&mut self) -> Result<u32, JsonError> {
        let s = self
            .b
            .get(self.i..self.i + 4)
            .ok_or_else(|| self.err("short \\u escape"))?;
        let s = std::str::from_utf8(s).map_err(|_| self.err("bad \\u escape"))?;
        let v = u32::from_str_radix(s, 16).map_err(|_| self.err("bad \\u escape"))?;
        self.i += 4;
        Ok(v)
    }
    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return Err(self.err("unterminated string"));
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.b.get(self.i) else {
                        return Err(self.err("unterminated string"));
                    };
                    self.i += 1;
                    let ch: char = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) && self.eat("\\u") {
                                let lo = self.hex4()?;
                                0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF)
                            } else {
                                hi
                            };
                            char::from_u32(cp).unwrap_or('\u{FFFD}')
                        }
                        _ => return Err(self.err("bad escape")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                c if c < 0x20 => return Err(self.err("control character in string")),
                c => out.push(c),
            }
        }
        let s = String::from_utf8(out).map_err(|_| self.err("invalid UTF-8 in string"))?;
        if s.contains('\0') {
            return Err(JsonError::Syntax(
                "a NUL character in a string is not supported".to_string(),
            ));
        }
        Ok(s)
    }
    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.i;
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.i < p.b.len() && p.b[p.i].is_ascii_digit() {
                p.i += 1;
            }
            p.i - s
        };
        if digits(self) == 0 {
            return Err(self.err("expected digits"));
        }
        let mut float = false;
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            float = true;
            if digits(self) == 0 {
                return Err(self.err("expected digits after `.`"));
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            float = true;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err(self.err("expected exponent digits"));
            }
        }
        let text = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("0");
        if float {
            text.parse::<f64>()
                .map(Json::Float)
                .map_err(|_| self.err("bad number"))
        } else {
            text.parse::<i64>().map(Json::Int).map_err(|_| {
                JsonError::Overflow(format!(
                    "the number {text} does not fit in a 64-bit integer"
                ))
            })
        }
    }
}

/// How a float is written as JSON.
#[derive(Clone, Copy, PartialEq)]
pub enum FloatStyle {
    /// The shortest text that reads back to the same number, as serde_json prints it (and so
    /// `DataNode::to_json`): `1.0`, `0.1`, `1e21`. `hac eval --json` prints the result so.
    Shortest,
    /// As Nix's `builtins.toJSON`: values from 1e-7 to 1e21 (and zero) in plain decimal,
    /// integral ones without a fraction (`1`, `-0`), the others as [`FloatStyle::Shortest`].
    Nix,
}

/// Appends a float as JSON (`null` for NaN and the infinities, which JSON cannot write).
/// The one place the evaluator formats a float for JSON.
pub fn write_float(f: f64, style: FloatStyle, out: &mut String) {
    use std::fmt::Write;
    let Some(n) = serde_json::Number::from_f64(f) else {
        out.push_str("null");
        return;
    };
    let a = f.abs();
    // Writing to a String cannot fail.
    let _ = if style == FloatStyle::Nix && (a == 0.0 || (1e-7..1e21).contains(&a)) {
        write!(out, "{f}")
    } else {
        write!(out, "{n}")
    };
}

/// Appends `s` as a JSON string literal, escaped exactly as serde_json escapes it.
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => out.push_str(&format!("\\u{b:04x}")),
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn writes_floats_in_both_styles() {
        let w = |f: f64, style| {
            let mut out = String::new();
            write_float(f, style, &mut out);
            out
        };
        for (f, shortest, nix) in [
            (1.0, "1.0", "1"),
            (-0.0, "-0.0", "-0"),
            (0.0, "0.0", "0"),
            (0.1, "0.1", "0.1"),
            (2.5e20, "2.5e+20", "250000000000000000000"),
            (1e21, "1e+21", "1e+21"),
            (1e-7, "1e-7", "0.0000001"),
            (1.5e-8, "1.5e-8", "1.5e-8"),
            (f64::NAN, "null", "null"),
            (f64::NEG_INFINITY, "null", "null"),
        ] {
            assert_eq!(w(f, FloatStyle::Shortest), shortest, "{f}");
            assert_eq!(w(f, FloatStyle::Nix), nix, "{f}");
            if f.is_finite() {
                let serde = serde_json::Number::from_f64(f).unwrap().to_string();
                assert_eq!(w(f, FloatStyle::Shortest), serde);
            }
        }
    }

    #[test]
    fn escapes_strings_as_serde_json_does() {
        let all: String = (0u32..0x80)
            .filter_map(char::from_u32)
            .chain("é😀\u{2028}".chars())
            .collect();
        let mut out = String::new();
        write_string(&all, &mut out);
        assert_eq!(out, serde_json::Value::String(all).to_string());
    }

    #[test]
    fn reads_numbers_strings_and_nesting() {
        assert_eq!(parse(" 12 ").unwrap(), Json::Int(12));
        assert_eq!(parse("-1.5e1").unwrap(), Json::Float(-15.0));
        assert!(matches!(
            parse("99999999999999999999"),
            Err(JsonError::Overflow(_))
        ));
        assert_eq!(
            parse(r#""a\u00e9\n""#).unwrap(),
            Json::Str("aé\n".to_string())
        );
        assert_eq!(
            parse(r#""\ud83d\ude00""#).unwrap(),
            Json::Str("😀".to_string())
        );
        assert!(parse(r#""a\u0000b""#).is_err());
        assert!(parse("[1,]").is_err());
        assert!(parse("{\"a\" 1}").is_err());
        assert!(parse(&"[".repeat(100_000)).is_err());
        assert_eq!(
            parse(r#"{"a":[true,null],"b":{}}"#).unwrap(),
            Json::Object(vec![
                (
                    "a".to_string(),
                    Json::Array(vec![Json::Bool(true), Json::Null])
                ),
                ("b".to_string(), Json::Object(vec![])),
            ])
        );
    }
}
