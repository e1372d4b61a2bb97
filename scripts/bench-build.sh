#!/usr/bin/env bash
# Measures `hac build`: the multi-zone example, and generated clusters of 5 masters, 5 external
# etcd nodes, 2 load balancers and N workers (N = 100, 1000, 5000). Prints wall time (best of
# hyperfine's runs) and peak RSS, and the time per node so linear growth is visible.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
hac=$PWD/target/release/hac
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
command -v hyperfine >/dev/null || { echo "hyperfine missing: run scripts/install-test-deps.sh" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing: run scripts/install-test-deps.sh" >&2; exit 1; }

gen() { # gen WORKERS FILE
  cat > "$2" <<HA
{ lib, ... }:
{
  name = "bench";
  kubernetesVersion = "1.31.4";
  epoch = "2026-01-01T00:00:00Z";
  controlPlane = { vip = "10.0.0.100"; loadBalancer = { kind = "haproxy"; placement = "dedicated"; }; };
  etcd.topology = "external";
  network = { pods = "10.128.0.0/9"; services = "10.96.0.0/12"; nodeMaskSize = 24; };
  nodes =
    lib.nodes { prefix = "master"; count = 5; first = "10.0.0.10/16"; roles = [ "control-plane" ]; }
    // lib.nodes { prefix = "etcd"; count = 5; first = "10.0.0.20/16"; roles = [ "etcd" ]; }
    // lib.nodes { prefix = "lb"; count = 2; first = "10.0.0.5/16"; roles = [ "load-balancer" ]; }
    // lib.nodes { prefix = "worker"; count = $1; first = "10.0.1.1/16"; roles = [ "worker" ]; };
}
HA
}

measure() { # measure LABEL FILE NODES
  local label=$1 file=$2 nodes=$3
  "$hac" secrets init "$file" >/dev/null
  local json="$work/$label.json"
  hyperfine --warmup 2 --runs 5 --style none --export-json "$json" -N "$hac -q build $file -o $work/out-$label" >/dev/null
  local mean; mean=$(python3 -c "import json;print('%.3f'%json.load(open('$json'))['results'][0]['mean'])")
  local rss; rss=$( { /usr/bin/time -f %M "$hac" -q build "$file" -o "$work/out-$label" >/dev/null; } 2>&1 | tail -n1)
  printf '%-22s %6s nodes  %8s s  %8s MiB peak  %8.3f ms/node\n' "$label" "$nodes" "$mean" "$((rss / 1024))" "$(python3 -c "print($mean*1000/$nodes)")"
}

cp out-examples/multi-zone/multi-zone.ha "$work/multi-zone.ha"
measure multi-zone "$work/multi-zone.ha" 12
for n in 100 1000 5000; do
  gen "$n" "$work/gen-$n.ha"
  measure "generated-$n" "$work/gen-$n.ha" $((n + 12))
done
