//! Benchmark: issuing the complete PKI of a 3-master stacked cluster (ECDSA P-256): 3 CAs,
//! the service-account pair, every leaf and kubeconfig. `scripts/bench-pki.sh` compares the
//! same set with cfssl and the openssl CLI.

use hac_pki::Secrets;

fn main() {
    divan::main();
}

fn secrets() -> Secrets {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/test-only.secrets"
    );
    let text = std::fs::read_to_string(path).unwrap_or_default();
    match Secrets::parse(&text) {
        Ok(s) => s,
        Err(d) => panic!("test-only secrets: {}", d.message),
    }
}

#[divan::bench]
fn issue_stacked_3_ecdsa_p256(bencher: divan::Bencher) {
    let cluster = hac_model::samples::stacked_3();
    let secrets = secrets();
    bencher.bench(|| {
        hac_pki::issue(divan::black_box(&cluster), &secrets)
            .map(|p| p.files.len())
            .ok()
    });
}

#[divan::bench]
fn issue_stacked_3_ecdsa_p384(bencher: divan::Bencher) {
    let mut cluster = hac_model::samples::stacked_3();
    cluster.pki.algorithm = hac_model::KeyAlgorithm::EcdsaP384;
    let secrets = secrets();
    bencher.bench(|| {
        hac_pki::issue(divan::black_box(&cluster), &secrets)
            .map(|p| p.files.len())
            .ok()
    });
}

#[divan::bench]
fn parse_secrets_file(bencher: divan::Bencher) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/test-only.secrets"
    );
    let text = std::fs::read_to_string(path).unwrap_or_default();
    bencher.bench(|| Secrets::parse(divan::black_box(&text)).is_ok());
}
