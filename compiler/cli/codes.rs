//! The one registry of diagnostic codes: every stage's kinds, joined. `hac explain` answers
//! for these codes only, and `hac explain --list` lists them (tests/docs_reference.rs checks
//! that each has its explanation and that no explanation is left without a code).

/// Every code hac can raise, sorted.
pub fn registry() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = hac_core::LanguageCode::ALL
        .iter()
        .map(|k| k.code())
        .chain(hac_core::InputCode::ALL.iter().map(|k| k.code()))
        .chain(hac_check::codes::CheckCode::ALL.iter().map(|k| k.code()))
        .chain(hac_pki::PkiCode::ALL.iter().map(|k| k.code()))
        .chain(hac_render::codes::RenderCode::ALL.iter().map(|k| k.code()))
        .chain(hac_bundle::BundleCode::ALL.iter().map(|k| k.code()))
        .chain(hac_plan::codes::PlanCode::ALL.iter().map(|k| k.code()))
        .collect();
    all.sort_unstable();
    all
}

/// The long explanation of a registered `code` (any case), starting with its title line.
pub fn explanation(code: &str) -> Option<&'static str> {
    let code = code.trim().to_ascii_uppercase();
    if !registry().contains(&code.as_str()) {
        return None;
    }
    hac_check::explain(&code).or_else(|| hac_render::codes::explain(&code))
}
