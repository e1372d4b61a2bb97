//! Benchmark: evaluating a generated 20,000-node cluster (genList/listToAttrs/groupBy).

fn main() {
    divan::main();
}

/// A cluster file with `n` generated nodes, grouped by zone.
pub fn generated_cluster(node_count: usize) -> String {
    format!(
        r#"{{ lib, ... }}:
let
  count = {node_count};
  mk = i: {{
    name = "node-${{toString i}}";
    value = {{
      address = "10.${{toString (i / 65536)}}.${{toString (lib.mod (i / 256) 256)}}.${{toString (lib.mod i 256)}}/8";
      roles = if i < 3 then [ "control-plane" ] else [ "worker" ];
      zone = "zone-${{toString (lib.mod i 3)}}";
      labels = {{ rack = "r${{toString (lib.mod i 40)}}"; }};
    }};
  }};
  nodes = builtins.listToAttrs (builtins.genList mk count);
  byZone = builtins.groupBy (name: nodes.${{name}}.zone) (builtins.attrNames nodes);
in
{{
  name = "bench";
  inherit nodes;
  zones = builtins.mapAttrs (z: ns: builtins.length ns) byZone;
}}
"#
    )
}

/// `hac eval --json`'s path: evaluate and print JSON straight from the values.
#[divan::bench(sample_count = 5)]
fn eval_20000_nodes_to_json(bencher: divan::Bencher) {
    let text = generated_cluster(20_000);
    let dir = std::env::temp_dir();
    bencher.bench(|| {
        let ev = hac_eval::evaluate_source_to_json(
            "bench.ha",
            &text,
            &dir,
            &hac_eval::EvalOptions::default(),
        );
        assert!(ev.result.is_ok_and(|s| s.len() > 1_000_000));
    });
}

/// The checking pipeline's path: evaluate into the data tree.
#[divan::bench(sample_count = 5)]
fn eval_20000_nodes_to_data(bencher: divan::Bencher) {
    let text = generated_cluster(20_000);
    let dir = std::env::temp_dir();
    bencher.bench(|| {
        let ev =
            hac_eval::evaluate_source("bench.ha", &text, &dir, &hac_eval::EvalOptions::default());
        assert!(ev.result.is_ok());
        ev
    });
}
