#!/usr/bin/env bash
# Times issuing the complete PKI of a 3-master stacked cluster (ECDSA P-256): 3 CAs and 31
# leaves (apiserver, apiserver-kubelet-client, front-proxy-client, apiserver-etcd-client,
# etcd server/peer/healthcheck-client, admin/controller-manager/scheduler kubeconfig client
# certificates per master, super-admin on the first), written to disk, by
#   1. hac-pki (the `issue_tree` example, one process),
#   2. cfssl + cfssljson (golang-cfssl), one `gencert` per certificate,
#   3. the openssl CLI, one `req` per certificate,
# in one run with hyperfine, and prints the times and ratios (target: hac >= 20x cfssl).
# Results are also written to benchmarks/pki/latest.json.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in hyperfine cfssl cfssljson openssl python3; do
  command -v "$tool" >/dev/null || { echo "$tool missing: run scripts/install-test-deps.sh" >&2; exit 1; }
done
cargo build --release --locked --quiet -p hac-pki --example issue_tree
hac_issue=$PWD/target/release/examples/issue_tree
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

masters=(master-0 master-1 master-2)
addr() { echo "10.0.2.1${1#master-}"; }

# The 31 leaves: NAME CA KIND CN O HOSTS (HOSTS comma-separated, "-" for none).
leaves() {
  for m in "${masters[@]}"; do
    local a; a=$(addr "$m")
    echo "$m-apiserver ca server kube-apiserver - $m,kubernetes,kubernetes.default,kubernetes.default.svc,kubernetes.default.svc.cluster.local,10.96.0.1,$a,10.0.2.100"
    echo "$m-apiserver-kubelet-client ca client kube-apiserver-kubelet-client kubeadm:cluster-admins -"
    echo "$m-front-proxy-client front-proxy-ca client front-proxy-client - -"
    echo "$m-apiserver-etcd-client etcd-ca client kube-apiserver-etcd-client - -"
    echo "$m-etcd-server etcd-ca both $m - $m,localhost,$a,127.0.0.1,::1"
    echo "$m-etcd-peer etcd-ca both $m - $m,localhost,$a,127.0.0.1,::1"
    echo "$m-etcd-healthcheck-client etcd-ca client kube-etcd-healthcheck-client - -"
    echo "$m-admin ca client kubernetes-admin kubeadm:cluster-admins -"
    echo "$m-controller-manager ca client system:kube-controller-manager - -"
    echo "$m-scheduler ca client system:kube-scheduler - -"
  done
  echo "master-0-super-admin ca client kubernetes-super-admin system:masters -"
}
leaves > "$work/leaves.txt"
[ "$(wc -l < "$work/leaves.txt")" -eq 31 ] || { echo "internal: expected 31 leaves" >&2; exit 1; }

# --- cfssl -----------------------------------------------------------------------------
cat > "$work/cfssl-config.json" <<'JSON'
{ "signing": { "default": { "expiry": "8760h" }, "profiles": {
  "server": { "expiry": "8760h", "usages": ["digital signature", "key encipherment", "server auth"] },
  "client": { "expiry": "8760h", "usages": ["digital signature", "key encipherment", "client auth"] },
  "both":   { "expiry": "8760h", "usages": ["digital signature", "key encipherment", "server auth", "client auth"] } } } }
JSON
cat > "$work/cfssl.sh" <<'SH'
#!/usr/bin/env bash
set -euo pipefail
work=$1; out=$(mktemp -d "$work/cfssl-out.XXXX"); cd "$out"
for ca in ca:kubernetes front-proxy-ca:front-proxy-ca etcd-ca:etcd-ca; do
  printf '{"CN":"%s","key":{"algo":"ecdsa","size":256},"ca":{"expiry":"87600h"}}' "${ca#*:}" > "${ca%%:*}-csr.json"
  cfssl gencert -loglevel 5 -initca "${ca%%:*}-csr.json" | cfssljson -bare "${ca%%:*}"
done
while read -r name ca kind cn o hosts; do
  names=""; [ "$o" != "-" ] && names=",\"names\":[{\"O\":\"$o\"}]"
  printf '{"CN":"%s","key":{"algo":"ecdsa","size":256}%s}' "$cn" "$names" > "$name-csr.json"
  h=""; [ "$hosts" != "-" ] && h="-hostname=$hosts"
  cfssl gencert -loglevel 5 -ca "$ca.pem" -ca-key "$ca-key.pem" -config "$work/cfssl-config.json" \
    -profile "$kind" $h "$name-csr.json" | cfssljson -bare "$name"
done < "$work/leaves.txt"
SH

# --- openssl CLI -------------------------------------------------------------------------
cat > "$work/openssl.sh" <<'SH'
#!/usr/bin/env bash
set -euo pipefail
work=$1; out=$(mktemp -d "$work/openssl-out.XXXX"); cd "$out"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
for ca in ca:kubernetes front-proxy-ca:front-proxy-ca etcd-ca:etcd-ca; do
  openssl req -x509 "${ec[@]}" -keyout "${ca%%:*}.key" -out "${ca%%:*}.crt" -days 3650 \
    -subj "/CN=${ca#*:}" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" 2>/dev/null
done
while read -r name ca kind cn o hosts; do
  subj="/CN=$cn"; [ "$o" != "-" ] && subj="/O=$o/CN=$cn"
  case $kind in server) eku=serverAuth ;; client) eku=clientAuth ;; *) eku=serverAuth,clientAuth ;; esac
  ext=(-addext "keyUsage=critical,digitalSignature,keyEncipherment" -addext "extendedKeyUsage=$eku")
  if [ "$hosts" != "-" ]; then
    san=$(echo "$hosts" | tr ',' '\n' | while read -r h; do
      if [[ $h =~ ^[0-9.]+$ || $h == *:* ]]; then echo "IP:$h"; else echo "DNS:$h"; fi; done | paste -sd,)
    ext+=(-addext "subjectAltName=$san")
  fi
  openssl req -x509 "${ec[@]}" -keyout "$name.key" -out "$name.crt" -days 365 -subj "$subj" \
    -CA "$ca.crt" -CAkey "$ca.key" "${ext[@]}" 2>/dev/null
done < "$work/leaves.txt"
SH
chmod +x "$work/cfssl.sh" "$work/openssl.sh"

# Sanity: each contender produces the full set once before timing.
"$work/cfssl.sh" "$work"; "$work/openssl.sh" "$work"; "$hac_issue" "$work/hac-check"
n_cfssl=$(ls "$work"/cfssl-out.*/*.pem | grep -vc -- '-key.pem')
n_openssl=$(ls "$work"/openssl-out.*/*.crt | wc -l)
n_hac=$(( $(find "$work/hac-check" -name '*.crt' -exec sha256sum {} + | cut -d' ' -f1 | sort -u | wc -l) + $(find "$work/hac-check" -name '*.conf' | wc -l) ))
echo "distinct certificates issued: cfssl $n_cfssl, openssl $n_openssl, hac-pki $n_hac (10 of them inside kubeconfigs)"
rm -rf "$work"/cfssl-out.* "$work"/openssl-out.* "$work/hac-check"

json=benchmarks/pki/latest.json
hyperfine --warmup 2 --runs 10 -N --export-json "$json" \
  --prepare "rm -rf $work/hac-out $work/cfssl-out.* $work/openssl-out.*" \
  -n hac-pki "$hac_issue $work/hac-out" \
  -n cfssl "bash $work/cfssl.sh $work" \
  -n openssl-cli "bash $work/openssl.sh $work" >/dev/null
python3 - "$json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
hac = r["hac-pki"]
print(f"{'contender':<12} {'mean':>9} {'stddev':>9} {'min':>9}   mean vs hac-pki   min vs hac-pki")
for name in ["hac-pki", "cfssl", "openssl-cli"]:
    x = r[name]
    print(f"{name:<12} {x['mean']*1000:>7.1f}ms {x['stddev']*1000:>7.1f}ms {x['min']*1000:>7.1f}ms"
          f"   {x['mean']/hac['mean']:>13.1f}x   {x['min']/hac['min']:>12.1f}x")
ratio = r["cfssl"]["mean"] / hac["mean"]
print(f"hac-pki is {ratio:.0f}x faster than cfssl on the mean, {r['cfssl']['min']/hac['min']:.0f}x on the best run "
      f"(target >= 20x): {'OK' if ratio >= 20 else 'BELOW TARGET (a loaded machine inflates the short hac-pki run most)'}")
PY
