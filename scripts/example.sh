#!/usr/bin/env bash
# Builds hac and runs the main job on a bundled example: check and build the stacked-3
# cluster (3 masters, haproxy+keepalived on a dedicated pair, 2 workers) into out/stacked-3.
set -euo pipefail
cd "$(dirname "$0")/.."
example=${1:-stacked-3}
chmod 600 "out-examples/$example/$example.secrets"
cargo build --release --locked --quiet
./target/release/hac check "out-examples/$example/$example.ha"
./target/release/hac build "out-examples/$example/$example.ha" -o "out/$example"
# What the first control plane receives: files, modes, and every certificate's subject and SANs.
first=$(ls "out/$example/hosts" | grep -m1 master || ls "out/$example/hosts" | head -n1)
./target/release/hac inspect "out/$example/hosts/$first"
