//! nginx really balances the apiservers and steps around a dead one: in a private network
//! namespace, one fake apiserver (`openssl s_server`) listens on the first control plane's
//! address, the other two addresses have none; every connection through the rendered
//! nginx.conf's frontend must still reach the live one (proxy_next_upstream, max_fails).

mod common;

use common::*;
use hac_render::facts::*;
use std::process::Command;

#[test]
fn nginx_reaches_the_live_apiserver_past_dead_ones() {
    let nginx = tool("nginx");
    let openssl = tool("openssl");
    tool("unshare");
    let tmp = scratch_dir("nginx-proxy");
    let dir = tmp.path();
    let out = run(Command::new(&openssl)
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
            "-subj",
            "/CN=master-0",
            "-days",
            "2",
        ])
        .current_dir(dir));
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut cluster = hac_model::samples::stacked_3();
    cluster.control_plane.load_balancer.kind = hac_model::LoadBalancerKind::Nginx;
    let bundle = render_with_real_ca(&cluster);
    let conf = text(file(&bundle, "master-1", NGINX_CONF).expect("nginx.conf"))
        .replace(
            "pid /run/nginx.pid;",
            &format!("pid {}/nginx.pid;", dir.display()),
        )
        .replace(
            "error_log /var/log/nginx/error.log warn;",
            &format!("error_log {}/error.log;", dir.display()),
        )
        .replace("user www-data;", "");
    std::fs::write(dir.join("nginx.conf"), &conf).expect("conf");
    let script = format!(
        r#"set -u
cd {dir}
ip link set lo up
for a in 10.0.2.10 10.0.2.11 10.0.2.12; do ip addr add $a/32 dev lo; done
openssl s_server -quiet -www -accept 10.0.2.10:6443 -cert c.pem -key k.pem >/dev/null 2>&1 &
p1=$!
{nginx} -c {dir}/nginx.conf -g 'daemon off;' &
p2=$!
trap 'kill $p1 $p2 2>/dev/null' EXIT
ok=0
i=0
while [ $i -lt 60 ]; do
    subject=$(echo | openssl s_client -connect 127.0.0.1:8443 2>/dev/null | openssl x509 -noout -subject 2>/dev/null)
    case "$subject" in
        *master-0*) ok=$((ok + 1)) ;;
        *) ok=0 ;;
    esac
    if [ $ok -ge 9 ]; then echo REACHED; exit 0; fi
    i=$((i + 1))
    sleep 0.3
done
echo NEVER-REACHED
exit 1
"#,
        dir = dir.display(),
        nginx = nginx.display()
    );
    let out = run(Command::new("unshare").args(["-n", "sh", "-c", &script]));
    let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("REACHED"),
        "nginx did not carry 9 connections in a row to the live apiserver:\n{}\n{}\nerror.log:\n{log}\n{conf}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
