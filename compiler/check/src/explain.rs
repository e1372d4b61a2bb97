//! The long explanation of every diagnostic code, language and cluster alike, kept in one
//! data file (`explanations.md`, one `## CODE title` section per code) embedded in the binary.

use std::collections::BTreeMap;
use std::sync::OnceLock;

const EXPLANATIONS: &str = include_str!("explanations.md");

fn table() -> &'static BTreeMap<&'static str, &'static str> {
    static TABLE: OnceLock<BTreeMap<&'static str, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map = BTreeMap::new();
        for section in EXPLANATIONS.split("\n## ").skip(1) {
            let code = section.split_whitespace().next().unwrap_or("");
            if !code.is_empty() {
                map.insert(code, section.trim_end());
            }
        }
        map
    })
}

/// The explanation of `code` (`E0202`, `w0401` — case does not matter), starting with its
/// title line.
pub fn explain(code: &str) -> Option<&'static str> {
    let upper = code.trim().to_ascii_uppercase();
    table().get(upper.as_str()).copied()
}

/// Every code that has an explanation.
pub fn codes() -> impl Iterator<Item = &'static str> {
    table().keys().copied()
}
