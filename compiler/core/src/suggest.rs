//! "Did you mean …?": the closest candidate to a misspelled name.

/// The candidate closest to `name` by edit distance, if it is close enough to be a likely typo.
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let score = strsim::jaro_winkler(name, c);
        let dist = strsim::damerau_levenshtein(&name.to_lowercase(), &c.to_lowercase());
        let close = dist <= (name.len().max(c.len()) / 3).max(1) || score >= 0.88;
        if close && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;
    #[test]
    fn finds_typos() {
        assert_eq!(
            did_you_mean("netwrok", ["network", "nodes", "name"]).as_deref(),
            Some("network")
        );
        assert_eq!(
            did_you_mean("controlplane", ["controlPlane", "etcd"]).as_deref(),
            Some("controlPlane")
        );
        assert_eq!(did_you_mean("zzzz", ["network", "nodes"]), None);
    }
}
