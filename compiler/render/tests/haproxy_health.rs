//! haproxy's health check really verifies each kube-apiserver's certificate against the
//! cluster CA: in a private network namespace, three fake apiservers (`openssl s_server
//! -www`, which answers any GET with 200) listen on the control planes' addresses: one with
//! a certificate from the cluster CA, one with a certificate from another CA, one not at
//! all. haproxy runs the rendered haproxy.cfg; once its checks settle, every connection
//! through the frontend must reach the one correctly certified server.
// Tests read as one scenario, from the setup to the last assertion; cut into
// pieces they would only scatter it, so long test functions are allowed here.
#![allow(clippy::too_many_lines)]

mod common;

use common::*;
use hac_render::facts::*;
use std::path::Path;
use std::process::Command;

fn openssl<S: AsRef<str>>(dir: &Path, args: &[S]) {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let out = run(Command::new(tool("openssl")).args(&args).current_dir(dir));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn haproxy_routes_only_to_apiservers_whose_certificate_the_cluster_ca_signed() {
    let haproxy = tool("haproxy");
    tool("unshare");
    let tmp = scratch_dir("haproxy-health");
    let dir = tmp.path();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let req = |name: &str, subj: &str| {
        let mut a = vec!["req"];
        a.extend(ec);
        a.extend(["-keyout", name, "-subj", subj]);
        a.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let args = |v: Vec<String>, extra: &[&str]| -> Vec<String> {
        v.into_iter()
            .chain(extra.iter().map(std::string::ToString::to_string))
            .collect()
    };
    // The cluster CA and another CA.
    for ca in ["ca", "other-ca"] {
        let a = args(
            req(&format!("{ca}.key"), &format!("/CN={ca}")),
            &["-x509", "-days", "30", "-out", &format!("{ca}.crt")],
        );
        openssl(dir, &a);
    }
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:10.0.2.10,IP:10.0.2.11,IP:10.0.2.12\n",
    )
    .expect("ext");
    for (leaf, ca) in [("master-0", "ca"), ("master-1", "other-ca")] {
        let a = args(
            req(&format!("{leaf}.key"), &format!("/CN={leaf}")),
            &["-out", &format!("{leaf}.csr")],
        );
        openssl(dir, &a);
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{leaf}.csr"),
                "-CA",
                &format!("{ca}.crt"),
                "-CAkey",
                &format!("{ca}.key"),
                "-CAcreateserial",
                "-days",
                "30",
                "-extfile",
                "san.ext",
                "-out",
                &format!("{leaf}.crt"),
            ],
        );
    }
    let ca_pem = std::fs::read_to_string(dir.join("ca.crt")).expect("ca");
    let cluster = hac_model::samples::stacked_3();
    let bundle = hac_render::render(
        &cluster,
        &fake_pki(&cluster, &ca_pem),
        &secrets(),
        "r",
        "svg",
    )
    .expect("render");
    let cfg = text(file(&bundle, "master-0", HAPROXY_CFG).expect("haproxy.cfg"))
        .replace(
            "/etc/kubernetes/pki/ca.crt",
            &dir.join("ca.crt").display().to_string(),
        )
        .replace("    log /dev/log local0\n", "")
        .replace("    log global\n", "");
    std::fs::write(dir.join("haproxy.cfg"), &cfg).expect("cfg");
    let script = format!(
        r#"set -u
cd {dir}
ip link set lo up
for a in 10.0.2.10 10.0.2.11 10.0.2.12; do ip addr add $a/32 dev lo; done
openssl s_server -quiet -www -accept 10.0.2.10:6443 -cert master-0.crt -key master-0.key >/dev/null 2>&1 &
p1=$!
openssl s_server -quiet -www -accept 10.0.2.11:6443 -cert master-1.crt -key master-1.key >/dev/null 2>&1 &
p2=$!
{haproxy} -db -f haproxy.cfg >haproxy.log 2>&1 &
p3=$!
trap 'kill $p1 $p2 $p3 2>/dev/null' EXIT
streak=0
i=0
while [ $i -lt 120 ]; do
    subject=$(echo | openssl s_client -connect 127.0.0.1:8443 2>/dev/null | openssl x509 -noout -subject 2>/dev/null)
    case "$subject" in
        *master-0*) streak=$((streak + 1)) ;;
        *) streak=0 ;;
    esac
    echo "$subject"
    if [ $streak -ge 8 ]; then echo SETTLED; exit 0; fi
    i=$((i + 1))
    sleep 0.5
done
echo NEVER-SETTLED
exit 1
"#,
        dir = dir.display(),
        haproxy = haproxy.display()
    );
    let out = run(Command::new("unshare").args(["-n", "sh", "-c", &script]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let log = std::fs::read_to_string(dir.join("haproxy.log")).unwrap_or_default();
    assert!(out.status.success() && stdout.contains("SETTLED"), "haproxy kept sending connections to a server the cluster CA did not certify:\n{stdout}\nhaproxy:\n{log}\n{cfg}");
    assert!(
        stdout.lines().any(|l| l.contains("master-1")) || log.contains("master-1"),
        "the wrongly certified server was tried at least once, or marked down:\n{stdout}\n{log}"
    );
}
