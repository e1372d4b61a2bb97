#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the real tools the tests check
# emitted files with (Debian packages), then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
# The real kubeadm, kube-apiserver, kube-controller-manager, kube-scheduler and kubectl the
# Kubernetes tests run, built from k8s.io/kubernetes at pinned versions (cached per version
# outside the work tree; the first build takes about 15 minutes on 2 cores, see README).
# One cache folder for the script and the tests, also where HOME is not set.
export HAC_K8S_CACHE="${HAC_K8S_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/hac/k8s}"
bash scripts/k8s-tools.sh --all >/dev/null
# git does not keep mode 0600; hac refuses secrets files that others can read.
find out-examples tests -name '*.secrets' -exec chmod 600 {} + 2>/dev/null || true
export CARGO_TERM_COLOR=never
cargo test --workspace --locked --no-fail-fast "$@"
