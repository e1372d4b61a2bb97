#!/bin/sh
# Regenerates the expected .json of every Nix-checked success case from the oracle:
#   nix-instantiate --eval --strict --json CASE.ha
# Cases in the hac-only topics (lib, errors-lib) have hand-written expectations and are
# left alone, as are the success cases listed in nix-exceptions.txt; error cases (with a .err file) have no .json. Run from anywhere.
set -eu
cd "$(dirname "$0")"
command -v nix-instantiate >/dev/null || { echo "nix-instantiate missing: run scripts/install-test-deps.sh" >&2; exit 1; }
find . -name '*.ha' -not -path '*/_*' | sort | while read -r case; do
  topic=$(echo "$case" | cut -d/ -f2)
  base=${case%.ha}
  case "$topic" in lib|errors-lib) continue ;; esac
  [ -e "$base.err" ] && continue
  # Listed disagreements with Nix 2.8 keep their hand-written expectation.
  grep -q "^${case#./}[[:space:]]" nix-exceptions.txt && continue
  nix-instantiate --eval --strict --json "$case" 2>/dev/null > "$base.json.new" || { echo "Nix rejects $case" >&2; rm -f "$base.json.new"; exit 1; }
  echo >> "$base.json.new"
  mv "$base.json.new" "$base.json"
done
