//! Property tests: for any artifact paths (valid or not), the writer either refuses the
//! bundle or produces an archive whose entries are sorted, unique, with every parent listed
//! before its children and nothing outside the node's `/`; it never panics.

use hac_bundle::host_archive;
use hac_model::Artifact;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use std::collections::BTreeSet;

fn component() -> impl Strategy<Value = String> {
    // Mostly valid names (so most bundles are accepted and checked), sometimes the ones
    // that must be refused.
    prop_oneof![
        4 => Just("etc".to_string()),
        4 => Just("pki".to_string()),
        4 => Just("a-b".to_string()),
        4 => Just("a".to_string()),
        8 => "[a-z0-9._-]{1,12}",
        1 => Just(".".to_string()),
        1 => Just("..".to_string()),
        1 => Just(String::new()),
    ]
}

fn artifact_path() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(component(), 1..5),
        prop::bool::weighted(0.05),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(parts, absolute, dir)| {
            let mut path = parts.join("/");
            if absolute {
                path.insert(0, '/');
            }
            if dir {
                path.push('/');
            }
            path
        })
}

fn artifacts() -> impl Strategy<Value = Vec<Artifact>> {
    prop::collection::vec(
        (
            artifact_path(),
            prop_oneof![Just(0o644u32), Just(0o600), Just(0o755), Just(0o700)],
        ),
        0..6,
    )
    .prop_map(|list| {
        list.into_iter()
            .map(|(path, mode)| {
                let contents = if path.ends_with('/') {
                    Vec::new()
                } else {
                    path.as_bytes().to_vec()
                };
                Artifact::new(path, mode, contents)
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn archives_are_well_formed_or_refused(artifacts in artifacts()) {
        let Ok(bytes) = host_archive("node", &artifacts, 1_767_225_600) else { return Ok(()) };
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let mut names = Vec::new();
        for entry in archive.entries().expect("entries") {
            let entry = entry.expect("entry");
            let name = entry.path().expect("path").display().to_string();
            prop_assert!(!name.starts_with('/') && !name.split('/').any(|c| c == ".."), "escaping entry {name}");
            names.push(name);
        }
        let mut sorted = names.clone();
        sorted.sort();
        prop_assert_eq!(&names, &sorted);
        let unique: BTreeSet<&String> = names.iter().collect();
        prop_assert_eq!(unique.len(), names.len(), "duplicate entries: {:?}", names);
        for name in &names {
            let trimmed = name.trim_end_matches('/');
            if let Some((parent, _)) = trimmed.rsplit_once('/') {
                let parent_entry = format!("{parent}/");
                let position = names.iter().position(|n| *n == parent_entry);
                let own = names.iter().position(|n| n == name);
                prop_assert!(position.is_some() && position < own, "{parent_entry} missing or after {name}");
            }
        }
        for artifact in &artifacts {
            prop_assert!(names.contains(&artifact.path), "{} missing from {:?}", artifact.path, names);
        }
    }
}

#[test]
fn the_generator_yields_both_accepted_and_refused_bundles() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..200 {
        let artifacts = artifacts()
            .new_tree(&mut runner)
            .expect("generate")
            .current();
        match host_archive("node", &artifacts, 0) {
            Ok(_) => accepted += 1,
            Err(_) => refused += 1,
        }
    }
    assert!(
        accepted >= 40 && refused >= 10,
        "accepted {accepted}, refused {refused}: the property tests too little"
    );
}
