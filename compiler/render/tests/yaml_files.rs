//! Every emitted YAML file (kubeadm config, kube-vip pod, cloud-init user-data, Ansible
//! inventory and play) read back by PyYAML (YAML 1.1, as cloud-init and Ansible read it)
//! and by yaml_serde (YAML 1.2) and compared with the data it was made from; and every
//! kubeadm config's field names checked against kubeadm's v1beta3/v1beta4 types.
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod common;

use common::*;
use hac_model::{Cluster, KubeadmApi};
use hac_render::facts::*;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

/// Reads every file with PyYAML's safe_load_all in one python3 run: path → documents.
fn pyyaml_load(files: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<Value>> {
    let python = tool("python3");
    let tmp = scratch_dir("pyyaml");
    let mut paths = Vec::new();
    for (i, (name, contents)) in files.iter().enumerate() {
        let p = tmp.path().join(format!("{i}.yaml"));
        std::fs::write(&p, contents).expect("write yaml");
        paths.push((name.clone(), p));
    }
    let script = "import sys, json, yaml\nout = []\nfor p in sys.argv[1:]:\n    with open(p) as f:\n        out.append(list(yaml.safe_load_all(f)))\nprint(json.dumps(out))\n";
    let out = run(Command::new(python)
        .arg("-c")
        .arg(script)
        .args(paths.iter().map(|(_, p)| p)));
    assert!(out.status.success(), "PyYAML could not read the files (is python3-yaml installed? run scripts/install-test-deps.sh):\n{}", String::from_utf8_lossy(&out.stderr));
    let docs: Vec<Vec<Value>> = serde_json::from_slice(&out.stdout).expect("python prints JSON");
    paths.into_iter().map(|(n, _)| n).zip(docs).collect()
}

fn yaml_serde_load(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).expect("yaml_serde reads the file"))
        .collect()
}

/// (file id, its bytes, the data it was made from) for every YAML file of a variant.
fn yaml_files(
    cluster: &Cluster,
    bundle: &hac_model::Bundle,
    pki: &hac_model::IssuedPki,
) -> Vec<(String, Vec<u8>, Vec<Value>)> {
    let secrets = secrets();
    let mut out = Vec::new();
    for node in &cluster.nodes {
        if let Some(f) = file(bundle, &node.name, KUBEADM_CONFIG) {
            let docs = hac_render::kubeadm::documents(cluster, node, &pki.ca_cert_hash, &secrets);
            let expected = docs
                .iter()
                .map(|d| serde_json::to_value(d).expect("to_value"))
                .collect();
            out.push((
                format!("{}/{KUBEADM_CONFIG}", node.name),
                f.contents.clone(),
                expected,
            ));
        }
        let kube_vip = hac_render::facts::kube_vip_manifest_path(cluster, node);
        if let Some(f) = file(bundle, &node.name, kube_vip) {
            let expected = vec![
                serde_json::to_value(hac_render::kube_vip::pod(cluster, node)).expect("to_value"),
            ];
            out.push((
                format!("{}/{kube_vip}", node.name),
                f.contents.clone(),
                expected,
            ));
        }
    }
    for f in &bundle.files {
        let expected = if let Some(node) = f
            .path
            .strip_prefix("cloud-init/")
            .and_then(|p| p.strip_suffix(".yaml"))
        {
            // (cloud-init/<node>-keys.tar.gz is an archive, not YAML.)
            let keys = cluster.outputs.cloud_init_keys;
            let rendered =
                hac_render::cloud_init::render(node, &bundle.hosts[node], keys).expect("user-data");
            serde_json::to_value(rendered.data).expect("to_value")
        } else if f.path == "ansible/inventory.yml" {
            hac_render::ansible::inventory(cluster)
        } else if f.path == "ansible/site.yml" {
            hac_render::ansible::site(cluster)
        } else {
            continue;
        };
        out.push((f.path.clone(), f.contents.clone(), vec![expected]));
    }
    out
}

#[test]
fn every_yaml_file_reads_back_as_its_data_under_yaml_1_1_and_1_2() {
    let mut checked = 0;
    for (variant, cluster) in variants() {
        let pki = fake_pki(&cluster, "CA");
        let bundle = hac_render::render(&cluster, &pki, &secrets(), "r", "svg").expect("render");
        let files = yaml_files(&cluster, &bundle, &pki);
        let inputs: BTreeMap<String, Vec<u8>> = files
            .iter()
            .map(|(n, b, _)| (n.clone(), b.clone()))
            .collect();
        let pyyaml = pyyaml_load(&inputs);
        for (name, bytes, expected) in &files {
            let text = String::from_utf8(bytes.clone()).expect("YAML is UTF-8");
            assert_eq!(
                &pyyaml[name], expected,
                "{variant}: PyYAML reads {name} differently from its data:\n{text}"
            );
            assert_eq!(
                &yaml_serde_load(&text),
                expected,
                "{variant}: yaml_serde reads {name} differently"
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} YAML files were compared");
}

#[test]
fn yaml_1_1_look_alikes_are_quoted() {
    let mut cluster = hac_model::samples::stacked_3();
    cluster.control_plane.cert_sans = [
        "yes",
        "on",
        "no",
        "0644",
        "1e3",
        "~",
        "null",
        "2026-01-01",
        "y",
    ]
    .iter()
    .map(std::string::ToString::to_string)
    .collect();
    let pki = fake_pki(&cluster, "CA");
    let bundle = hac_render::render(&cluster, &pki, &secrets(), "r", "svg").expect("render");
    let config = text(file(&bundle, "master-0", KUBEADM_CONFIG).expect("kubeadm config"));
    for s in &cluster.control_plane.cert_sans {
        assert!(
            config.contains(&format!("  - \"{s}\"\n")),
            "{s} must be quoted in:\n{config}"
        );
    }
    let mut inputs = BTreeMap::new();
    inputs.insert("kubeadm".to_string(), config.into_bytes());
    let docs = &pyyaml_load(&inputs)["kubeadm"];
    let sans = &docs[1]["apiServer"]["certSANs"];
    for s in &cluster.control_plane.cert_sans {
        assert!(
            sans.as_array()
                .is_some_and(|a| a.contains(&Value::String(s.clone()))),
            "PyYAML must read {s} back as a string: {sans}"
        );
    }
}

/// kubeadm's config types, field by field (k8s.io/kubernetes cmd/kubeadm/app/apis/kubeadm/
/// v1beta3 and v1beta4 types.go): type → [(field, type of its value or "" for a leaf)].
fn kubeadm_schema(api: KubeadmApi) -> BTreeMap<&'static str, Vec<(&'static str, &'static str)>> {
    let v4 = api == KubeadmApi::V1beta4;
    let mut s: BTreeMap<&'static str, Vec<(&'static str, &'static str)>> = BTreeMap::new();
    let mut init = vec![
        ("apiVersion", ""),
        ("kind", ""),
        ("bootstrapTokens", "BootstrapToken"),
        ("nodeRegistration", "NodeRegistrationOptions"),
        ("localAPIEndpoint", "APIEndpoint"),
        ("certificateKey", ""),
        ("skipPhases", ""),
        ("patches", ""),
    ];
    let mut cluster = vec![
        ("apiVersion", ""),
        ("kind", ""),
        ("etcd", "Etcd"),
        ("networking", "Networking"),
        ("kubernetesVersion", ""),
        ("controlPlaneEndpoint", ""),
        ("apiServer", "APIServer"),
        ("controllerManager", "ControlPlaneComponent"),
        ("scheduler", "ControlPlaneComponent"),
        ("dns", ""),
        ("certificatesDir", ""),
        ("imageRepository", ""),
        ("featureGates", ""),
        ("clusterName", ""),
    ];
    let mut join = vec![
        ("apiVersion", ""),
        ("kind", ""),
        ("nodeRegistration", "NodeRegistrationOptions"),
        ("caCertPath", ""),
        ("discovery", "Discovery"),
        ("controlPlane", "JoinControlPlane"),
        ("skipPhases", ""),
        ("patches", ""),
    ];
    let mut node_reg = vec![
        ("name", ""),
        ("criSocket", ""),
        ("taints", "Taint"),
        ("kubeletExtraArgs", "ExtraArgs"),
        ("ignorePreflightErrors", ""),
        ("imagePullPolicy", ""),
    ];
    let mut local_etcd = vec![
        ("imageRepository", ""),
        ("imageTag", ""),
        ("dataDir", ""),
        ("extraArgs", "ExtraArgs"),
        ("serverCertSANs", ""),
        ("peerCertSANs", ""),
    ];
    let mut api_server = vec![
        ("extraArgs", "ExtraArgs"),
        ("extraVolumes", ""),
        ("certSANs", ""),
    ];
    let mut component = vec![("extraArgs", "ExtraArgs"), ("extraVolumes", "")];
    let mut discovery = vec![
        ("bootstrapToken", "BootstrapTokenDiscovery"),
        ("file", ""),
        ("tlsBootstrapToken", ""),
    ];
    if v4 {
        init.extend([("dryRun", ""), ("timeouts", "Timeouts")]);
        cluster.extend([
            ("proxy", ""),
            ("encryptionAlgorithm", ""),
            ("certificateValidityPeriod", ""),
            ("caCertificateValidityPeriod", ""),
        ]);
        join.extend([("dryRun", ""), ("timeouts", "Timeouts")]);
        node_reg.push(("imagePullSerial", ""));
        local_etcd.push(("extraEnvs", ""));
        api_server.push(("extraEnvs", ""));
        component.push(("extraEnvs", ""));
        s.insert(
            "Timeouts",
            vec![
                ("controlPlaneComponentHealthCheck", ""),
                ("kubeletHealthCheck", ""),
                ("kubernetesAPICall", ""),
                ("etcdAPICall", ""),
                ("tlsBootstrap", ""),
                ("discovery", ""),
                ("upgradeManifests", ""),
            ],
        );
    } else {
        api_server.push(("timeoutForControlPlane", ""));
        discovery.push(("timeout", ""));
    }
    s.insert("InitConfiguration", init);
    s.insert("ClusterConfiguration", cluster);
    s.insert("JoinConfiguration", join);
    s.insert("NodeRegistrationOptions", node_reg);
    s.insert("LocalEtcd", local_etcd);
    s.insert("APIServer", api_server);
    s.insert("ControlPlaneComponent", component);
    s.insert("Discovery", discovery);
    s.insert(
        "BootstrapToken",
        vec![
            ("token", ""),
            ("description", ""),
            ("ttl", ""),
            ("expires", ""),
            ("usages", ""),
            ("groups", ""),
        ],
    );
    s.insert(
        "Taint",
        vec![
            ("key", ""),
            ("value", ""),
            ("effect", ""),
            ("timeAdded", ""),
        ],
    );
    s.insert(
        "APIEndpoint",
        vec![("advertiseAddress", ""), ("bindPort", "")],
    );
    s.insert(
        "Etcd",
        vec![("local", "LocalEtcd"), ("external", "ExternalEtcd")],
    );
    s.insert(
        "ExternalEtcd",
        vec![
            ("endpoints", ""),
            ("caFile", ""),
            ("certFile", ""),
            ("keyFile", ""),
        ],
    );
    s.insert(
        "Networking",
        vec![("serviceSubnet", ""), ("podSubnet", ""), ("dnsDomain", "")],
    );
    s.insert(
        "BootstrapTokenDiscovery",
        vec![
            ("token", ""),
            ("apiServerEndpoint", ""),
            ("caCertHashes", ""),
            ("unsafeSkipCAVerification", ""),
        ],
    );
    s.insert(
        "JoinControlPlane",
        vec![("localAPIEndpoint", "APIEndpoint"), ("certificateKey", "")],
    );
    s
}

fn check_fields(
    value: &Value,
    ty: &str,
    api: KubeadmApi,
    path: &str,
    schema: &BTreeMap<&str, Vec<(&str, &str)>>,
    errors: &mut Vec<String>,
) {
    if ty == "ExtraArgs" {
        let ok = match api {
            KubeadmApi::V1beta3 => value
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string)),
            KubeadmApi::V1beta4 => value.as_array().is_some_and(|a| {
                a.iter().all(|e| {
                    e.as_object().is_some_and(|m| {
                        m.len() == 2 && m["name"].is_string() && m["value"].is_string()
                    })
                })
            }),
        };
        if !ok {
            errors.push(format!(
                "{path}: extraArgs has the wrong shape for {api:?}: {value}"
            ));
        }
        return;
    }
    let Some(fields) = schema.get(ty) else {
        return;
    };
    let items: Vec<&Value> = match value {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    for item in items {
        let Some(map) = item.as_object() else {
            errors.push(format!("{path}: expected an object of type {ty}"));
            continue;
        };
        for (key, child) in map {
            match fields.iter().find(|(f, _)| f == key) {
                None => errors.push(format!("{path}.{key}: no such field in {api:?} {ty}")),
                Some((_, child_ty)) => check_fields(
                    child,
                    child_ty,
                    api,
                    &format!("{path}.{key}"),
                    schema,
                    errors,
                ),
            }
        }
    }
}

#[test]
fn kubeadm_configs_use_only_fields_kubeadm_knows() {
    let mut checked = 0;
    for (variant, cluster) in variants() {
        let api = cluster.kubeadm_api();
        let schema = kubeadm_schema(api);
        let pki = fake_pki(&cluster, "CA");
        let bundle = hac_render::render(&cluster, &pki, &secrets(), "r", "svg").expect("render");
        for node in &cluster.nodes {
            let Some(f) = file(&bundle, &node.name, KUBEADM_CONFIG) else {
                continue;
            };
            assert_eq!(
                f.mode, 0o600,
                "{variant}/{}: the kubeadm config holds the token",
                node.name
            );
            let docs = yaml_serde_load(&text(f));
            let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
            let first = cluster
                .first_control_plane()
                .is_some_and(|m| m.name == node.name);
            let expected_kinds: &[&str] = if first {
                &["InitConfiguration", "ClusterConfiguration"]
            } else {
                &["JoinConfiguration"]
            };
            assert_eq!(kinds, expected_kinds, "{variant}/{}", node.name);
            let mut errors = Vec::new();
            for doc in &docs {
                assert_eq!(
                    doc["apiVersion"],
                    Value::String(api.api_version().to_string()),
                    "{variant}"
                );
                let kind = doc["kind"].as_str().unwrap_or_default();
                check_fields(doc, kind, api, kind, &schema, &mut errors);
            }
            assert!(errors.is_empty(), "{variant}/{}: {errors:#?}", node.name);
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} kubeadm configs were checked");
}

#[test]
fn the_field_check_catches_a_misspelt_field() {
    let schema = kubeadm_schema(KubeadmApi::V1beta3);
    let doc = serde_json::json!({"apiVersion": "kubeadm.k8s.io/v1beta3", "kind": "ClusterConfiguration", "networking": {"podCIDR": "10.0.0.0/16"}, "controllerManager": {"extraArgs": [{"name": "a", "value": "b"}]}});
    let mut errors = Vec::new();
    check_fields(
        &doc,
        "ClusterConfiguration",
        KubeadmApi::V1beta3,
        "ClusterConfiguration",
        &schema,
        &mut errors,
    );
    assert_eq!(errors.len(), 2, "{errors:#?}");
}

/// Standard padded base64 (RFC 4648) back to bytes; `None` for anything else.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().rev().take_while(|&&b| b == b'=').count();
        let mut triple = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            let v = if i >= 4 - pad {
                0
            } else {
                ALPHABET.iter().position(|&a| a == b)? as u32
            };
            triple = triple << 6 | v;
        }
        let decoded = [(triple >> 16) as u8, (triple >> 8) as u8, triple as u8];
        out.extend_from_slice(&decoded[..3 - pad]);
    }
    Some(out)
}

/// One gzip member back to bytes, as cloud-init's `gz+b64` reads it: the header, the deflate
/// stream, and the CRC-32 and length of the trailer all checked.
fn gunzip(z: &[u8]) -> Option<Vec<u8>> {
    if z.len() < 18 || z[..4] != [0x1f, 0x8b, 8, 0] {
        return None;
    }
    let data = miniz_oxide::inflate::decompress_to_vec(&z[10..z.len() - 8]).ok()?;
    let trailer = &z[z.len() - 8..];
    (trailer[..4] == crc32fast::hash(&data).to_le_bytes()
        && trailer[4..] == (data.len() as u32).to_le_bytes())
    .then_some(data)
}

#[test]
fn cloud_init_write_files_unpack_to_exactly_the_node_files() {
    let (mut plain, mut packed) = (0, 0);
    for (variant, cluster) in variants() {
        let mut pki = fake_pki(&cluster, &real_ca_pem());
        // A world-readable binary file must be packed too: the first readable PKI file
        // (the archive table decides which files exist) made binary.
        let readable = pki
            .files
            .values_mut()
            .flat_map(|files| files.iter_mut())
            .find(|f| f.mode == 0o644)
            .expect("a readable PKI file");
        readable.contents = vec![0, 1, 2, 255, b'\n'];
        let bundle = hac_render::render(&cluster, &pki, &secrets(), "r", "svg").expect("render");
        let inputs: BTreeMap<String, Vec<u8>> = bundle
            .files
            .iter()
            .filter(|f| f.path.starts_with("cloud-init/") && f.path.ends_with(".yaml"))
            .map(|f| (f.path.clone(), f.contents.clone()))
            .collect();
        assert_eq!(inputs.len(), bundle.hosts.len(), "{variant}");
        let keys = cluster.outputs.cloud_init_keys;
        let parsed = pyyaml_load(&inputs);
        for (path, docs) in &parsed {
            let node = &path["cloud-init/".len()..path.len() - ".yaml".len()];
            let raw = String::from_utf8(inputs[path].clone()).expect("UTF-8");
            let entries = docs[0]["write_files"].as_array().expect("write_files");
            // "separate": the private files are in cloud-init/<node>-keys.tar.gz instead.
            let files: Vec<&hac_model::Artifact> = bundle.hosts[node]
                .iter()
                .filter(|f| keys == hac_model::CloudInitKeys::Inline || f.mode & 0o044 != 0)
                .collect();
            assert_eq!(entries.len(), files.len(), "{variant}/{node}");
            // Readable text is packed only where the user-data would not fit 16 KiB otherwise.
            let all_plain = hac_render::yaml::to_yaml(&hac_render::cloud_init::user_data(
                &bundle.hosts[node],
                keys,
            ))
            .expect("yaml");
            let over_limit = all_plain.len() > hac_render::cloud_init::USER_DATA_LIMIT;
            for (entry, f) in entries.iter().zip(files) {
                let at = format!("{variant}/{node}/{}", f.path);
                assert_eq!(entry["path"], Value::from(format!("/{}", f.path)), "{at}");
                assert_eq!(entry["owner"], Value::from("root:root"), "{at}");
                let mode = format!("{:04o}", f.mode);
                assert_eq!(entry["permissions"], Value::from(mode), "{at}");
                let content = entry["content"].as_str().expect("content is a string");
                let secret = f.mode & 0o044 == 0;
                let text = std::str::from_utf8(&f.contents).ok();
                let binary = text
                    .is_none_or(|t| t.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
                let bytes = match entry.get("encoding") {
                    Some(encoding) => {
                        assert_eq!(encoding, "gz+b64", "{at}");
                        assert!(secret || binary || over_limit, "{at}: readable text packed");
                        packed += 1;
                        gunzip(&base64_decode(content).expect("base64")).expect("gzip")
                    }
                    None => {
                        assert!(!secret && !binary, "{at}: a secret or binary file in clear");
                        plain += 1;
                        content.as_bytes().to_vec()
                    }
                };
                assert_eq!(bytes, f.contents, "{at}: unpacks to other bytes");
                if secret {
                    // No line of a secret file is readable in the user-data.
                    for line in text.unwrap_or("").lines().filter(|l| l.len() > 8) {
                        assert!(!raw.contains(line), "{at}: {line:?} readable");
                    }
                }
            }
        }
    }
    assert!(plain > 100 && packed > 40, "{plain} plain, {packed} packed");
}
