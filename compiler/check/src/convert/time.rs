//! Data → model for time: `epoch` and `pki.leafEpoch` read as RFC 3339 timestamps, and the
//! RFC 3339 parsing and formatting the other stages use for certificate dates.

use super::Converter;
use crate::codes::CheckCode;
use hac_core::DataNode;
use hac_model::Epoch;

impl Converter {
    pub(super) fn epoch(&mut self, node: &DataNode, path: &str) -> Option<Epoch> {
        let s = self.string(
            node,
            path,
            "an RFC 3339 timestamp such as \"2026-01-01T00:00:00Z\"",
        )?;
        match parse_rfc3339(&s) {
            Some(unix) if unix >= 0 => Some(Epoch { unix }),
            Some(_) => {
                // Archive entries carry the epoch as their mtime: tar cannot store a time
                // before 1970, so `hac build` could not write the bundle.
                self.error(
                    CheckCode::Malformed,
                    format!("`{path}` is {s:?}, before 1970-01-01T00:00:00Z"),
                    node.best_span(),
                )
                .hints
                .push("archives store the epoch as their files' time, which cannot be before 1970; use a recent date".to_string());
                None
            }
            None => {
                self.error(
                    CheckCode::Malformed,
                    format!("`{path}` is {s:?}, not an RFC 3339 timestamp"),
                    node.best_span(),
                )
                .hints
                .push(
                    "write a date and time with a zone, e.g. \"2026-01-01T00:00:00Z\"".to_string(),
                );
                None
            }
        }
    }
}

/// Seconds since the Unix epoch of an RFC 3339 timestamp (`2026-01-01T00:00:00Z`,
/// `2026-01-01T01:00:00+01:00`, fractional seconds allowed and dropped).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || !s.is_ascii() {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || !matches!(rb[0], b'+' | b'-') || rb[3] != b':' {
                return None;
            }
            let oh: i64 = rest[1..3].parse().ok()?;
            let om: i64 = rest[4..6].parse().ok()?;
            if !rest[1..3].bytes().all(|c| c.is_ascii_digit())
                || !rest[4..6].bytes().all(|c| c.is_ascii_digit())
            {
                return None;
            }
            if oh > 23 || om > 59 {
                return None;
            }
            let sign = if rb[0] == b'-' { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(
        days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second.min(59)
            - offset,
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The date and time of a Unix timestamp, as RFC 3339 in UTC (for messages).
pub fn format_rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86400);
    let secs = unix.rem_euclid(86400);
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}
