//! The topology picture (`hac graph`, `topology.svg` in every bundle): insta snapshots of two
//! examples; structural checks on the parsed XML (every node, the VIP, the etcd quorum, one
//! column per zone, red exactly when report.txt warns, hostile text escaped, big clusters
//! collapsed, the same bytes every time); and every example's picture rendered to PNG by a
//! real browser (headless Chromium), decoded and checked: the expected size, not blank, and
//! red pixels exactly inside the red warning boxes. The PNGs stay under
//! `$CARGO_TARGET_TMPDIR/topology/` for people to look at.

mod e2e_support;
use e2e_support::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const RED: &str = hac_check::topology::WARNING_RED;

/// `hac graph FILE` (stdout), asserting success.
fn graph(file: &Path) -> String {
    let o = run(hac().arg("graph").arg(file));
    assert!(
        o.status.success(),
        "hac graph {} failed:\n{}",
        file.display(),
        text(&o.stderr)
    );
    text(&o.stdout)
}

/// `hac check FILE` (the report on stdout), asserting success.
fn report(file: &Path) -> String {
    let o = run(hac().arg("check").arg(file));
    assert!(o.status.success(), "{}", text(&o.stderr));
    text(&o.stdout)
}

fn seed(name: &str) -> PathBuf {
    root()
        .join("tests/cluster/seeds")
        .join(format!("{name}.ha"))
}

/// Every node name of a cluster file, from `hac eval --json -A nodes`.
fn node_names(file: &Path) -> Vec<String> {
    let o = run(hac().arg("eval").arg(file).args(["--json", "-A", "nodes"]));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    v.as_object().expect("nodes").keys().cloned().collect()
}

fn parse(svg: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{svg}"))
}

/// The text of every `<text>` element, in document order.
fn texts(doc: &roxmltree::Document) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").to_string())
        .collect()
}

/// All text of the picture, lines joined by a space (a sentence may be wrapped).
fn all_text(doc: &roxmltree::Document) -> String {
    texts(doc).join(" ")
}

fn is_red(n: &roxmltree::Node) -> bool {
    n.attribute("fill") == Some(RED) || n.attribute("stroke") == Some(RED)
}

fn red_elements<'a>(doc: &'a roxmltree::Document) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.is_element() && is_red(n))
        .collect()
}

fn groups<'a>(doc: &'a roxmltree::Document, class: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some(class))
        .collect()
}

/// The `class="node"` card whose first text is `name`.
fn node_card<'a>(doc: &'a roxmltree::Document, name: &str) -> Option<roxmltree::Node<'a, 'a>> {
    groups(doc, "node").into_iter().find(|g| {
        g.descendants()
            .find(|n| n.has_tag_name("text"))
            .and_then(|t| t.text())
            == Some(name)
    })
}

/// Whether the report of `hac check` holds a warning the picture must draw in red.
fn report_warns(report: &str) -> bool {
    !report.contains("single points of failure: none") || report.contains("does NOT survive")
}

fn dimension(doc: &roxmltree::Document, attr: &str) -> u32 {
    doc.root_element()
        .attribute(attr)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("the root <svg> has no integer {attr}"))
}

// ---------------------------------------------------------------------------------------
// Snapshots and structure

#[test]
fn snapshots_of_multi_zone_and_stacked_3() {
    for name in ["multi-zone", "stacked-3"] {
        let svg = graph(&example_file(name));
        insta::assert_snapshot!(format!("topology_{}", name.replace('-', "_")), svg);
    }
}

#[test]
fn hac_graph_prints_what_the_bundle_holds_and_the_same_bytes_every_time() {
    for name in BUILDABLE {
        let a = graph(&example_file(name));
        let b = graph(&example_file(name));
        assert_eq!(a, b, "{name}: two runs differ");
        let committed = std::fs::read_to_string(example_dir(name).join("bundle/topology.svg"))
            .unwrap_or_else(|e| panic!("{name}: bundle/topology.svg: {e}"));
        assert_eq!(
            a, committed,
            "{name}: hac graph differs from the bundle's topology.svg"
        );
    }
}

#[test]
fn every_example_is_well_formed_and_shows_every_node_the_quorum_and_the_front_door() {
    for name in BUILDABLE {
        let file = example_file(name);
        let svg = graph(&file);
        let doc = parse(&svg);
        let root = doc.root_element();
        assert!(
            root.has_tag_name(("http://www.w3.org/2000/svg", "svg")),
            "{name}"
        );
        let (w, h) = (dimension(&doc, "width"), dimension(&doc, "height"));
        assert_eq!(
            root.attribute("viewBox"),
            Some(format!("0 0 {w} {h}").as_str())
        );
        assert!(
            root.attribute("font-family")
                .is_some_and(|f| f.ends_with("sans-serif")),
            "{name}: the font list ends with a generic family"
        );
        let title = doc
            .descendants()
            .find(|n| n.has_tag_name("title"))
            .expect("<title>");
        assert!(
            title.text().unwrap_or("").contains(name),
            "{name}: {title:?}"
        );
        let background = root
            .children()
            .find(|n| n.has_tag_name("rect"))
            .expect("rect");
        assert_eq!(background.attribute("fill"), Some("#ffffff"));
        assert_eq!(background.attribute("width"), Some(w.to_string().as_str()));

        let cards: Vec<String> = groups(&doc, "node")
            .iter()
            .filter_map(|g| g.descendants().find(|n| n.has_tag_name("text")))
            .filter_map(|t| t.text().map(str::to_string))
            .collect();
        for node in node_names(&file) {
            assert!(
                cards.contains(&node),
                "{name}: no card for {node}: {cards:?}"
            );
        }
        let all = all_text(&doc);
        let rep = report(&file);
        // The quorum line of the report, as the picture words it.
        let quorum = "quorum 2 of 3 members · tolerates 1 failure";
        assert!(rep.contains("quorum 2, tolerates 1 failure"), "{rep}");
        assert!(all.contains(quorum), "{name}: no {quorum:?} in {all}");
        let endpoint = rep
            .lines()
            .find_map(|l| l.strip_prefix("endpoint:"))
            .map(str::trim)
            .expect("endpoint line");
        assert!(
            all.contains(endpoint),
            "{name}: endpoint {endpoint} missing"
        );
    }
}

#[test]
fn the_vip_and_its_failover_order_follow_keepalived_priorities() {
    let svg = graph(&example_file("stacked-3"));
    let doc = parse(&svg);
    let all = all_text(&doc);
    assert!(all.contains("VIP 192.168.1.10 (keepalived)"), "{all}");
    let order: Vec<String> = texts(&doc)
        .into_iter()
        .filter(|t| t.starts_with("1. ") || t.starts_with("2. "))
        .collect();
    assert_eq!(
        order,
        [
            "1. lb-0: MASTER, priority 150",
            "2. lb-1: BACKUP, priority 140"
        ]
    );
    let lb0 = node_card(&doc, "lb-0").expect("lb-0 card");
    let lb0_text: Vec<&str> = lb0.descendants().filter_map(|n| n.text()).collect();
    assert!(
        lb0_text
            .iter()
            .any(|t| t.contains("VIP 1st: MASTER, priority 150")),
        "{lb0_text:?}"
    );
    assert!(all.contains("haproxy on lb-0, lb-1"), "{all}");
    assert!(
        all.contains("kube-apiserver :6443 on master-0, master-1, master-2"),
        "{all}"
    );
}

#[test]
fn an_external_load_balancer_is_a_dashed_box_with_its_address() {
    let svg = graph(&example_file("multi-zone"));
    let doc = parse(&svg);
    let ext = groups(&doc, "external-lb");
    assert_eq!(ext.len(), 1);
    let rect = ext[0]
        .children()
        .find(|n| n.has_tag_name("rect"))
        .expect("rect");
    assert!(rect.attribute("stroke-dasharray").is_some(), "dashed");
    let t: Vec<&str> = ext[0].descendants().filter_map(|n| n.text()).collect();
    assert!(t.contains(&"10.132.0.100"), "{t:?}");
    assert!(t.contains(&"not managed by hac"), "{t:?}");
}

#[test]
fn one_column_per_zone_and_one_without_zones() {
    let doc_text = graph(&example_file("multi-zone"));
    let doc = parse(&doc_text);
    let zones = groups(&doc, "zone");
    assert_eq!(zones.len(), 3, "multi-zone has three zones");
    for (zone, z) in ["europe-west1-b", "europe-west1-c", "europe-west1-d"]
        .iter()
        .zip(&zones)
    {
        let first = z
            .descendants()
            .find(|n| n.has_tag_name("text"))
            .and_then(|t| t.text());
        assert_eq!(first, Some(*zone));
        let loss = z
            .descendants()
            .find(|n| n.attribute("class") == Some("zone-loss"))
            .expect("zone-loss");
        let words: Vec<&str> = loss.descendants().filter_map(|n| n.text()).collect();
        assert!(words.join(" ").contains("survives"), "{words:?}");
    }
    // Columns side by side: distinct x, same y.
    let xy: Vec<(&str, &str)> = zones
        .iter()
        .map(|z| {
            let r = z.children().find(|n| n.has_tag_name("rect")).expect("rect");
            (
                r.attribute("x").unwrap_or(""),
                r.attribute("y").unwrap_or(""),
            )
        })
        .collect();
    assert!(
        xy[0].0 != xy[1].0 && xy[1].0 != xy[2].0 && xy[0].1 == xy[2].1,
        "{xy:?}"
    );
    let stacked = graph(&example_file("stacked-3"));
    assert_eq!(
        groups(&parse(&stacked), "zone").len(),
        1,
        "no zones: one column"
    );
}

#[test]
fn red_appears_exactly_when_the_report_warns() {
    let mut files: Vec<PathBuf> = BUILDABLE.iter().map(|n| example_file(n)).collect();
    files.push(seed("single-dedicated-lb"));
    let mut warned = 0;
    for file in &files {
        let svg = graph(file);
        let doc = parse(&svg);
        let warns = report_warns(&report(file));
        warned += usize::from(warns);
        assert_eq!(
            !red_elements(&doc).is_empty(),
            warns,
            "{}: red elements must exist exactly when the report warns",
            file.display()
        );
    }
    assert_eq!(warned, 1, "exactly one of the clusters has a warning");
    // And the red is where the warning is: lb-0's card and the warnings box, nowhere else.
    let doc_text = graph(&seed("single-dedicated-lb"));
    let doc = parse(&doc_text);
    let lb0 = node_card(&doc, "lb-0").expect("lb-0 card");
    assert!(
        lb0.children().any(|n| n.has_tag_name("rect") && is_red(&n)),
        "lb-0 card is red"
    );
    for m in ["master-0", "master-1", "master-2", "worker-0"] {
        let card = node_card(&doc, m).expect("card");
        assert!(
            !card.descendants().any(|n| n.is_element() && is_red(&n)),
            "{m} is not red"
        );
    }
    let w = groups(&doc, "warnings");
    assert_eq!(w.len(), 1);
    let words: Vec<&str> = w[0].descendants().filter_map(|n| n.text()).collect();
    assert!(
        words
            .join(" ")
            .contains("single point of failure: lb-0: its loss loses every VIP holder"),
        "{words:?}"
    );
}

#[test]
fn a_zone_whose_loss_breaks_the_control_plane_is_red() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lopsided.ha");
    std::fs::write(
        &file,
        r#"{
  name = "lopsided";
  kubernetesVersion = "1.30.2";
  epoch = "2026-01-01T00:00:00Z";
  controlPlane = { vip = "10.0.2.100"; loadBalancer = { kind = "keepalived"; }; };
  network.pods = "10.244.0.0/16";
  nodes = {
    master-0 = { roles = [ "control-plane" ]; address = "10.0.2.10/24"; zone = "a"; };
    master-1 = { roles = [ "control-plane" ]; address = "10.0.2.11/24"; zone = "a"; };
    master-2 = { roles = [ "control-plane" ]; address = "10.0.2.12/24"; zone = "b"; };
  };
}
"#,
    )
    .unwrap();
    let rep = report(&file);
    assert!(rep.contains("does NOT survive"), "{rep}");
    let svg = graph(&file);
    let doc = parse(&svg);
    let zones = groups(&doc, "zone");
    assert_eq!(zones.len(), 2);
    let loss_is_red = |z: &roxmltree::Node| {
        z.descendants()
            .find(|n| n.attribute("class") == Some("zone-loss"))
            .and_then(|g| g.children().find(|n| n.has_tag_name("rect")))
            .is_some_and(|r| is_red(&r))
    };
    assert!(loss_is_red(&zones[0]), "zone a's loss breaks quorum");
    assert!(!loss_is_red(&zones[1]), "zone b's loss does not");
}

#[test]
fn rendering_is_deterministic() {
    for cluster in [
        hac_model::samples::stacked_3(),
        hac_model::samples::external_etcd(),
        hac_model::samples::masters_run_etcd(),
        hac_model::samples::stacked_3_dedicated_lb(),
    ] {
        let a = hac_check::topology_svg(&cluster);
        let b = hac_check::topology_svg(&cluster.clone());
        assert_eq!(a, b);
        parse(&a);
    }
}

#[test]
fn hostile_text_is_escaped() {
    let hostile_zone = "z<&\"'>]]></text><script>alert(1)</script>";
    let hostile_label = "<&\"v'>";
    let mut cluster = hac_model::samples::stacked_3();
    for n in &mut cluster.nodes {
        n.zone = Some(hostile_zone.to_string());
        n.labels
            .insert("k<&".to_string(), hostile_label.to_string());
    }
    cluster.nodes[0].name = "m<0>&\"".to_string();
    let svg = hac_check::topology_svg(&cluster);
    assert!(
        !svg.contains("<script>"),
        "raw markup from the input reached the SVG"
    );
    let doc = parse(&svg);
    assert!(!doc.descendants().any(|n| n.has_tag_name("script")));
    let t = texts(&doc);
    assert!(
        t.iter().any(|s| s == hostile_zone),
        "the zone name survives escaping: {t:?}"
    );
    assert!(
        t.iter().any(|s| s == &format!("k<&={hostile_label}")),
        "{t:?}"
    );
    assert!(t.iter().any(|s| s == "m<0>&\""), "{t:?}");
}

#[test]
fn hundreds_of_workers_are_collapsed_into_one_card_per_zone() {
    let mut cluster = hac_model::samples::stacked_3();
    let template = cluster.nodes[3].clone();
    cluster.nodes.retain(|n| !n.has(hac_model::Role::Worker));
    let zones = ["a", "b", "c"];
    for (i, n) in cluster.nodes.iter_mut().enumerate() {
        n.zone = Some(zones[i].to_string());
    }
    for i in 0..900u32 {
        let mut w = template.clone();
        w.name = format!("worker-{i}");
        w.address = std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(10, 1, 0, 0)) + i);
        w.zone = Some(zones[i as usize % 3].to_string());
        cluster.nodes.push(w);
    }
    cluster.nodes.sort_by(|a, b| a.name.cmp(&b.name));
    let svg = hac_check::topology_svg(&cluster);
    let doc = parse(&svg);
    let (w, h) = (dimension(&doc, "width"), dimension(&doc, "height"));
    assert!(w <= 1400 && h <= 1400, "a 903-node cluster drawn {w}×{h}");
    assert!(svg.len() < 40_000, "{} bytes", svg.len());
    let t = texts(&doc);
    assert_eq!(t.iter().filter(|s| *s == "300 workers").count(), 3, "{t:?}");
    assert!(
        t.iter().any(|s| s == "worker-0 … worker-897"),
        "natural order: {t:?}"
    );
    assert!(
        !t.iter().any(|s| s == "worker-57"),
        "collapsed workers get no card of their own"
    );
}

#[test]
fn hac_graph_needs_no_secrets_writes_0644_and_never_over_a_cluster_or_secrets_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // The cluster file alone, without its secrets file beside it.
    let file = dir.path().join("stacked-3.ha");
    std::fs::copy(example_file("stacked-3"), &file).unwrap();
    let out = dir.path().join("topology.svg");
    let o = run(hac().arg("graph").arg(&file).arg("-o").arg(&out));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written, graph(&file), "-o writes what stdout shows");
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    // Refused: the cluster file itself, any .ha or .secrets name, a folder.
    let before = std::fs::read(&file).unwrap();
    let secrets = dir.path().join("stacked-3.secrets");
    std::fs::write(&secrets, "keep").unwrap();
    for target in [
        file.clone(),
        dir.path().join("other.ha"),
        secrets.clone(),
        dir.path().to_path_buf(),
    ] {
        let o = run(hac().arg("graph").arg(&file).arg("-o").arg(&target));
        assert_eq!(
            o.status.code(),
            Some(3),
            "-o {} must be refused",
            target.display()
        );
        assert!(
            text(&o.stderr).contains("cannot write the picture"),
            "{}",
            text(&o.stderr)
        );
    }
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "the cluster file is intact"
    );
    assert_eq!(std::fs::read_to_string(&secrets).unwrap(), "keep");
    assert!(!dir.path().join("other.ha").exists());
    // A rejected cluster draws nothing.
    let o = run(hac().arg("graph").arg(example_file("two-masters")));
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "no picture of a rejected cluster");
}

// ---------------------------------------------------------------------------------------
// Rendered by a real browser

/// The browser, or a failure that says how to install it (never a skip).
fn chromium() -> PathBuf {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    found.unwrap_or_else(|| {
        panic!("chromium is not installed: run `bash scripts/install-test-deps.sh` (Debian package chromium)")
    })
}

struct Picture {
    width: u32,
    height: u32,
    /// RGBA, row by row.
    pixels: Vec<u8>,
}

impl Picture {
    fn rgb(&self, x: u32, y: u32) -> (u8, u8, u8) {
        let i = ((y * self.width + x) * 4) as usize;
        (self.pixels[i], self.pixels[i + 1], self.pixels[i + 2])
    }
}

fn red_pixel((r, g, b): (u8, u8, u8)) -> bool {
    r >= 170 && g <= 100 && b <= 100
}

/// Renders `svg` (a file) to `png` with headless Chromium at the picture's own size.
fn screenshot(svg: &Path, png: &Path, width: u32, height: u32) -> Picture {
    let profile = tempfile::tempdir().unwrap();
    // `timeout`: a browser that hangs fails the test instead of stalling the suite.
    let o = run(Command::new("timeout")
        .arg("120")
        .arg(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("file://{}", svg.display())));
    assert!(
        png.is_file(),
        "chromium wrote no {}:\n{}{}",
        png.display(),
        text(&o.stdout),
        text(&o.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "{}", png.display());
    let channels = match info.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("{}: unexpected colour type {other:?}", png.display()),
    };
    let mut pixels = Vec::with_capacity((info.width * info.height * 4) as usize);
    for px in buf[..info.buffer_size()].chunks(channels) {
        pixels.extend_from_slice(&px[..3]);
        pixels.push(255);
    }
    Picture {
        width: info.width,
        height: info.height,
        pixels,
    }
}

/// Bounding boxes (x, y, w, h) of the red rectangles of the picture.
fn red_rects(doc: &roxmltree::Document) -> Vec<(i64, i64, i64, i64)> {
    red_elements(doc)
        .into_iter()
        .filter(|n| n.has_tag_name("rect"))
        .map(|r| {
            let v = |a: &str| r.attribute(a).and_then(|v| v.parse().ok()).unwrap_or(0i64);
            (v("x"), v("y"), v("width"), v("height"))
        })
        .collect()
}

/// Renders one picture, checks size, content and red pixels; returns the PNG's path.
fn render_and_check(label: &str, svg_text: &str, expect_red: bool) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("topology");
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join(format!("{label}.svg"));
    let png = dir.join(format!("{label}.png"));
    std::fs::write(&svg, svg_text).unwrap();
    let _ = std::fs::remove_file(&png);
    let doc = parse(svg_text);
    let (w, h) = (dimension(&doc, "width"), dimension(&doc, "height"));
    let pic = screenshot(&svg, &png, w, h);
    assert_eq!((pic.width, pic.height), (w, h), "{label}: PNG size");
    let mut ink = 0usize;
    let mut reds = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let c = pic.rgb(x, y);
            if c != (255, 255, 255) {
                ink += 1;
            }
            if red_pixel(c) {
                reds.push((x as i64, y as i64));
            }
        }
    }
    let total = (w * h) as usize;
    assert!(
        ink * 100 > total * 5,
        "{label}: almost blank ({ink} of {total} pixels drawn)"
    );
    // The text was drawn: the darkest ink (text) covers a fair share.
    let dark = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let (r, g, b) = pic.rgb(x, y);
            u32::from(r) + u32::from(g) + u32::from(b) < 200
        })
        .count();
    assert!(
        dark * 1000 > total * 5,
        "{label}: hardly any text ({dark} dark pixels)"
    );
    let rects = red_rects(&doc);
    assert_eq!(
        !rects.is_empty(),
        expect_red,
        "{label}: red rectangles in the SVG"
    );
    if !expect_red {
        assert!(
            reds.is_empty(),
            "{label}: {} red pixels, first at {:?}",
            reds.len(),
            reds.first()
        );
        return png;
    }
    // Every red pixel lies in a red box (its border, or red text inside it), and every red
    // box shows red.
    let inside = |(x, y): (i64, i64), (rx, ry, rw, rh): (i64, i64, i64, i64)| {
        x >= rx - 2 && x <= rx + rw + 2 && y >= ry - 2 && y <= ry + rh + 2
    };
    let stray: Vec<&(i64, i64)> = reds
        .iter()
        .filter(|p| !rects.iter().any(|r| inside(**p, *r)))
        .collect();
    assert!(
        stray.is_empty(),
        "{label}: red pixels outside the red boxes: {:?}",
        &stray[..stray.len().min(10)]
    );
    for r in &rects {
        let n = reds.iter().filter(|p| inside(**p, *r)).count();
        assert!(
            n as i64 >= r.2.min(r.3),
            "{label}: the red box {r:?} shows only {n} red pixels"
        );
    }
    png
}

#[test]
fn every_example_renders_in_a_browser_and_red_is_exactly_where_the_warnings_are() {
    chromium();
    let mut pngs = Vec::new();
    for name in BUILDABLE {
        let svg = std::fs::read_to_string(example_dir(name).join("bundle/topology.svg"))
            .unwrap_or_else(|e| panic!("{name}: bundle/topology.svg: {e}"));
        pngs.push(render_and_check(name, &svg, false));
    }
    let spof = graph(&seed("single-dedicated-lb"));
    pngs.push(render_and_check("single-dedicated-lb", &spof, true));
    for p in &pngs {
        assert!(p.is_file());
    }
}
