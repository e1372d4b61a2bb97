//! Data → model: reads the evaluated `.ha` value (a [`DataNode`] tree) into a typed
//! [`Cluster`], applying the defaults of cluster.md and recording in `origins` where every
//! attribute was written. Every problem found is collected (not just the first), each
//! pointing at the attribute at fault.
//!
//! No default or range is written here: `walk` reads each attribute set as a `Set` that knows
//! its schema section, and its readers take the attribute's range and default from the
//! schema row (an enumeration's spellings and default from its `spelled_enum!`).
//!
//! The reading is split by concern: `walk` reads attribute sets against the schema,
//! `values` the typed values (addresses, versions, labels, …), `time` the timestamps,
//! `sections` the cluster's own sections, `components` and `hosts` theirs.

use crate::codes::CheckCode;
use hac_core::{DataNode, Diagnostic, Span};
use hac_model::{Cluster, Origins};
use std::collections::BTreeMap;

mod components;
mod hosts;
mod sections;
mod time;
mod values;
mod walk;

pub use time::{format_rfc3339, parse_rfc3339};
pub use values::{label_value_problem, qualified_name_problem};

/// Reads the whole cluster; `Err` holds every conversion error found.
pub fn build_model(data: &DataNode) -> Result<Cluster, Vec<Diagnostic>> {
    let mut conv = Converter {
        diags: Vec::new(),
        origins: Origins::default(),
    };
    let cluster = conv.cluster(data);
    match cluster {
        Some(c) if conv.diags.is_empty() => Ok(c),
        _ => {
            if conv.diags.is_empty() {
                conv.diags.push(
                    Diagnostic::error("the cluster description could not be read")
                        .with_code(CheckCode::WrongType)
                        .with_span_opt(data.best_span()),
                );
            }
            Err(crate::sort_diagnostics(conv.diags))
        }
    }
}

type Attrs = BTreeMap<String, DataNode>;

struct Converter {
    diags: Vec<Diagnostic>,
    origins: Origins,
}

impl Converter {
    fn error(&mut self, code: CheckCode, message: String, span: Option<Span>) -> &mut Diagnostic {
        self.diags.push(
            Diagnostic::error(message)
                .with_code(code)
                .with_span_opt(span),
        );
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }
}

#[cfg(test)]
mod schema_tests {
    use hac_model::schema::{self, Section};
    use std::collections::BTreeSet;

    /// The set a converter variable holds, by the names `convert` gives them.
    fn section_of(var: &str) -> Option<Section> {
        Some(match var {
            // convert/sections.rs, convert/values.rs (`attrs`, `t`)
            "root" => Section::Root,
            "cp" => Section::ControlPlane,
            "lb" => Section::LoadBalancer,
            "ka" => Section::Keepalived,
            "e" => Section::Etcd,
            "net" => Section::Network,
            "pki" => Section::Pki,
            "attrs" => Section::Node,
            "t" => Section::Taint,
            "o" => Section::Outputs,
            "cni" => Section::Cni,
            // convert/components.rs
            "api" => Section::ApiServer,
            "v" => Section::Volume,
            "cm" => Section::ControllerManager,
            "sched" => Section::Scheduler,
            "k" => Section::Kubelet,
            "kp" => Section::KubeProxy,
            "enc" => Section::Encryption,
            "audit" => Section::Audit,
            "oidc" => Section::Oidc,
            "vip" => Section::KubeVip,
            // convert/hosts.rs
            "h" => Section::Hosts,
            _ => return None,
        })
    }

    /// The converter's sources: this file (without these tests) and every file of `convert/`.
    fn sources() -> [(&'static str, &'static str); 7] {
        let own = include_str!("convert.rs");
        let own = &own[..own
            .find("#[cfg(test)]\nmod schema_tests")
            .unwrap_or(own.len())];
        [
            ("convert.rs", own),
            (
                "convert/components.rs",
                include_str!("convert/components.rs"),
            ),
            ("convert/hosts.rs", include_str!("convert/hosts.rs")),
            ("convert/sections.rs", include_str!("convert/sections.rs")),
            ("convert/time.rs", include_str!("convert/time.rs")),
            ("convert/values.rs", include_str!("convert/values.rs")),
            ("convert/walk.rs", include_str!("convert/walk.rs")),
        ]
    }

    /// Every `(reader, set, "key")` the converter reads: calls of the attribute readers whose
    /// first argument is a set variable and whose second is a string literal.
    fn reads() -> BTreeSet<(&'static str, Section, String)> {
        let mut out = BTreeSet::new();
        for (file, src) in sources() {
            for reader in [
                "present(",
                "opt_string(",
                "text_or_default(",
                "flag(",
                "opt_flag(",
                "number(",
                "opt_number(",
                "choice(",
                "opt_choice(",
                "optional_set(",
                "quantities(",
            ] {
                for (i, _) in src.match_indices(reader) {
                    let before = src[..i].chars().last().unwrap_or(' ');
                    if before.is_alphanumeric() || before == '_' {
                        continue; // `import(` is not `port(`
                    }
                    let rest = &src[i + reader.len()..];
                    let Some((var, after)) = rest.split_once(',') else {
                        continue;
                    };
                    let var = var
                        .trim()
                        .trim_start_matches('&')
                        .trim_end_matches(".attrs");
                    let Some(key) = after
                        .trim_start()
                        .strip_prefix('"')
                        .and_then(|k| k.split_once('"'))
                        .map(|(k, _)| k)
                    else {
                        continue;
                    };
                    let section = section_of(var)
                        .unwrap_or_else(|| panic!("{file} reads {key:?} from unknown set `{var}`"));
                    out.insert((reader, section, key.to_string()));
                }
            }
        }
        out
    }

    fn keys_read() -> BTreeSet<(Section, String)> {
        reads().into_iter().map(|(_, s, k)| (s, k)).collect()
    }

    #[test]
    fn each_reader_finds_its_range_and_default_in_the_schema_row() {
        use hac_model::schema::{Allowed, DefaultValue};
        let mut checked = 0;
        for (reader, section, key) in reads() {
            let row = schema::attribute(section, &key)
                .unwrap_or_else(|| panic!("no schema row for {section:?}.{key}"));
            let fits = match reader {
                // The range comes from the row, and the default too.
                "number(" => {
                    matches!(row.allowed, Allowed::IntRange(..))
                        && matches!(row.default, DefaultValue::Int(_))
                }
                "opt_number(" => matches!(row.allowed, Allowed::IntRange(..)),
                "flag(" => matches!(row.default, DefaultValue::Bool(_)),
                "text_or_default(" => matches!(row.default, DefaultValue::Str(_)),
                // The spellings and the default come from the enumeration, which the row lists.
                "choice(" => {
                    matches!(row.allowed, Allowed::OneOf(_))
                        && matches!(row.default, DefaultValue::Str(_))
                }
                "opt_choice(" => matches!(row.allowed, Allowed::OneOf(_)),
                _ => continue,
            };
            checked += 1;
            assert!(
                fits,
                "`{reader}` reads `{}`, whose schema row has {:?} and {:?}",
                row.path(),
                row.allowed,
                row.default
            );
        }
        assert!(
            checked > 25,
            "the scan found too few typed reads: {checked}"
        );
    }

    #[test]
    fn the_converter_reads_exactly_the_schema_attributes() {
        let read = keys_read();
        assert!(read.len() > 40, "the scan found too little: {read:?}");
        let schema: BTreeSet<(Section, String)> = schema::ATTRIBUTES
            .iter()
            .map(|a| (a.section, a.key.to_string()))
            .collect();
        let unknown: Vec<_> = read.difference(&schema).collect();
        assert!(
            unknown.is_empty(),
            "the converter reads attributes the schema lacks: {unknown:?}"
        );
        let unread: Vec<_> = schema.difference(&read).collect();
        assert!(
            unread.is_empty(),
            "the schema lists attributes the converter never reads: {unread:?}"
        );
    }

    #[test]
    fn every_file_of_the_converter_is_scanned() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/convert");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("src/convert")
            .map(|e| {
                format!(
                    "convert/{}",
                    e.expect("a directory entry").file_name().to_string_lossy()
                )
            })
            .collect();
        on_disk.push("convert.rs".to_string());
        on_disk.sort();
        let mut scanned: Vec<String> = sources().iter().map(|(f, _)| (*f).to_string()).collect();
        scanned.sort();
        assert_eq!(
            scanned, on_disk,
            "add the converter's new file to `sources`"
        );
    }

    #[test]
    fn the_known_attribute_lists_keep_their_order() {
        // The order of "the attributes of … are: …" hints.
        assert_eq!(
            Section::ControlPlane.keys(),
            [
                "vip",
                "endpoint",
                "port",
                "apiServerPort",
                "certSANs",
                "loadBalancer",
                "keepalived",
                "apiServer",
                "controllerManager",
                "scheduler",
                "kubeVip"
            ]
        );
        assert_eq!(
            Section::Node.keys(),
            [
                "roles",
                "address",
                "interface",
                "zone",
                "priority",
                "labels",
                "taints",
                "kubelet",
                "hosts"
            ]
        );
        assert_eq!(
            Section::Outputs.keys(),
            ["cloudInit", "ansible", "cloudInitKeys"]
        );
    }
}
