//! The topology picture (`topology.svg` in every bundle, `hac graph`): zones as columns,
//! nodes with their roles, the VIP and its failover order, the load balancers and their
//! backends, the etcd quorum, what the loss of each zone leaves, and the warnings of
//! `report.txt` in red. A pure function of the model that writes SVG text by hand: integer
//! coordinates only, nothing iterated out of a hash map, every text from the input escaped,
//! so the same model always gives the same bytes.
//!
//! Every fact comes from [`Availability`], the analysis behind `report.txt`, so the picture
//! and the report cannot disagree. Big clusters stay readable and small: the workers of a
//! zone beyond [`WORKERS_SHOWN`] become one "N workers" card, other nodes beyond
//! [`NODES_SHOWN`] one "N more nodes" card, name lists stop after a dozen, and the work is
//! linear in the number of nodes (apart from sorting what is drawn).

use crate::availability::{Availability, LossOutcome};
use hac_model::{natural_cmp, Cluster, EtcdTopology, LoadBalancerKind, Node, Role};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The workers of one zone drawn one by one up to this many; more become one "N workers" card.
pub const WORKERS_SHOWN: usize = 4;
/// Other nodes drawn per column before the rest become one "N more nodes" card.
pub const NODES_SHOWN: usize = 24;
/// The colour of everything that shows a warning of `report.txt` (a single point of failure,
/// a zone whose loss breaks the control plane), and of nothing else.
pub const WARNING_RED: &str = "#d32f2f";

/// Names listed in one sentence before "and N more".
const NAMES_LISTED: usize = 12;
/// Warning lines listed before "and N more".
const WARNINGS_LISTED: usize = 20;
/// Zone columns side by side before the next row of columns starts.
const COLUMNS_PER_ROW: usize = 4;

const MARGIN: i64 = 24;
const GAP: i64 = 16;
const PAD: i64 = 10;
const CARD_GAP: i64 = 10;
const MIN_WIDTH: i64 = 960;
const CARD_MIN: i64 = 240;
const CARD_MAX: i64 = 600;
/// A zone name widens its column up to this; a longer one wraps.
const TITLE_MAX: i64 = 360;
const ARROW: i64 = 40;
const CHIP_H: i64 = 17;
const CHIP_ROW: i64 = 22;
const CHIP_SIZE: i64 = 11;
const FONTS: &str = "'DejaVu Sans', Verdana, Arial, Helvetica, sans-serif";

const INK: &str = "#1f2933";
const MUTED: &str = "#52606d";
const BORDER: &str = "#9aa5b1";
const PANEL: &str = "#f5f7fa";
const PANEL_BORDER: &str = "#cbd2d9";
const WHITE: &str = "#ffffff";
const BLUE: &str = "#1565c0";
const GREEN: &str = "#2e7d32";
const GREEN_BG: &str = "#f1f8f1";
const PURPLE: &str = "#6a1b9a";
const SLATE: &str = "#546e7a";
const TEAL: &str = "#00838f";
const RED_BG: &str = "#fff4f4";

/// The topology of `cluster` as a standalone SVG document.
pub fn topology_svg(cluster: &Cluster) -> String {
    let a = Availability::of(cluster);
    let facts = Facts::new(cluster, &a);
    let columns = columns(cluster, &a, &facts);
    let front = front_cards(cluster, &a);
    let etcd = etcd_card(&a);
    let warnings = warnings_card(&a);
    let collapsed = columns
        .iter()
        .any(|c| c.cards.iter().any(|k| k.class == "workers"));
    let legend = legend_items(cluster, &a, warnings.is_some(), collapsed);

    // Widths: every card as wide as the widest name needs, columns as wide as their cards,
    // the picture at least MIN_WIDTH.
    let card_natural = columns
        .iter()
        .flat_map(|c| c.cards.iter())
        .map(Card::natural_width)
        .max()
        .unwrap_or(CARD_MIN)
        .clamp(CARD_MIN, CARD_MAX);
    let per_row = columns.len().clamp(1, COLUMNS_PER_ROW) as i64;
    let title_w = columns
        .iter()
        .map(|c| text_w(&c.title, 14, true) + 2 * PAD)
        .max()
        .unwrap_or(0)
        .min(TITLE_MAX);
    let col_needed = (card_natural + 2 * PAD).max(title_w);
    let content_w = (per_row * col_needed + (per_row - 1) * GAP).max(MIN_WIDTH - 2 * MARGIN);
    let width = content_w + 2 * MARGIN;
    let col_w = (content_w - (per_row - 1) * GAP) / per_row;
    let per_col = ((col_w - 2 * PAD + CARD_GAP) / (card_natural + CARD_GAP)).max(1);
    let card_w = (col_w - 2 * PAD - (per_col - 1) * CARD_GAP) / per_col;

    let mut svg = Svg::default();
    let x0 = MARGIN;
    let mut y = MARGIN;

    // Header: the cluster, its version and endpoint.
    y = draw_header(&mut svg, cluster, &a, x0, y, content_w);

    // How clients reach the API servers: endpoint → VIP or external load balancer → backends.
    y = draw_front(&mut svg, &front, x0, y, content_w);

    // The etcd quorum.
    y = section(&mut svg, x0, y, content_w, "etcd quorum");
    let etcd_h = etcd.height(content_w);
    etcd.draw(&mut svg, x0, y, content_w, etcd_h, "etcd");
    y += etcd_h + GAP;

    // The zones, one column each, with what the loss of each leaves.
    let heading = if a.zones.is_empty() {
        "Nodes (no zones named: one column)".to_string()
    } else {
        "Zones, one column each, and what the loss of each leaves".to_string()
    };
    y = section(&mut svg, x0, y, content_w, &heading);
    for row in columns.chunks(COLUMNS_PER_ROW) {
        y = draw_row(&mut svg, row, x0, y, col_w, card_w, per_col) + GAP;
    }

    // The warnings of report.txt.
    if let Some(card) = &warnings {
        let h = card.height(content_w);
        card.draw(&mut svg, x0, y, content_w, h, "warnings");
        y += h + GAP;
    }

    // The legend.
    y = section(&mut svg, x0, y, content_w, "Legend");
    y = draw_legend(&mut svg, &legend, x0, y, content_w);
    let height = y + MARGIN;

    let mut out = String::with_capacity(svg.body.len() + 1024);
    let _ = writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"{FONTS}\" font-size=\"12\">"
    );
    let _ = writeln!(
        out,
        "<title>{}</title>",
        esc(&format!(
            "Topology of cluster \"{}\" (Kubernetes {})",
            a.cluster_name, a.kubernetes_version
        ))
    );
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"{WHITE}\"/>"
    );
    out.push_str(&svg.body);
    out.push_str("</svg>\n");
    out
}

/// The header (the cluster, its version, endpoint and shape) from `y`; returns the `y` below it.
fn draw_header(
    svg: &mut Svg,
    cluster: &Cluster,
    a: &Availability,
    x0: i64,
    mut y: i64,
    content_w: i64,
) -> i64 {
    for line in wrap(&format!("Cluster {}", cluster.name), content_w, 20, true) {
        svg.text(x0, y + 20, 20, true, INK, &line);
        y += 25;
    }
    let placement = if a.load_balancer_kind.is_tcp_proxy() {
        format!(
            " ({})",
            cluster.control_plane.load_balancer.placement.as_str()
        )
    } else {
        String::new()
    };
    let header = [
        format!(
            "Kubernetes {} · endpoint {}",
            a.kubernetes_version, a.endpoint
        ),
        format!(
            "load balancer {}{} · etcd {} · {} node{}, {}",
            a.load_balancer_kind.as_str(),
            placement,
            a.etcd_topology.as_str(),
            cluster.nodes.len(),
            s(cluster.nodes.len()),
            match a.zones.len() {
                0 => "no zones".to_string(),
                n => format!("{n} zone{}", s(n)),
            }
        ),
    ];
    for line in header.iter().flat_map(|h| wrap(h, content_w, 13, false)) {
        svg.text(x0, y + 13 + 4, 13, false, MUTED, &line);
        y += 18;
    }
    y += 14;
    y
}

/// The section on how clients reach the kube-apiservers, one card per hop with arrows
/// between; returns the `y` below it.
fn draw_front(svg: &mut Svg, front: &[Card], x0: i64, mut y: i64, content_w: i64) -> i64 {
    y = section(
        svg,
        x0,
        y,
        content_w,
        "How clients reach the kube-apiservers",
    );
    let box_w = (content_w - 2 * ARROW) / 3;
    let front_h = front.iter().map(|c| c.height(box_w)).max().unwrap_or(0);
    for (i, card) in front.iter().enumerate() {
        let x = x0 + i as i64 * (box_w + ARROW);
        card.draw(svg, x, y, box_w, front_h, "front");
        if i + 1 < front.len() {
            svg.arrow(x + box_w + 4, x + box_w + ARROW - 4, y + front_h / 2, SLATE);
        }
    }
    y += front_h + GAP;
    y
}

/// Lookups of what each node does, built once (so the picture stays linear in nodes).
struct Facts<'a> {
    a: &'a Availability,
    etcd: BTreeSet<&'a str>,
    /// VIP holder → (place in the failover order, keepalived priority).
    vip_order: BTreeMap<&'a str, (usize, i64)>,
    vip_candidates: BTreeSet<&'a str>,
    load_balancers: BTreeSet<&'a str>,
    spof: BTreeMap<&'a str, &'a LossOutcome>,
    api_port: u16,
    topology: EtcdTopology,
}

impl<'a> Facts<'a> {
    fn new(cluster: &Cluster, a: &'a Availability) -> Facts<'a> {
        Facts {
            a,
            etcd: a.etcd_members.iter().map(String::as_str).collect(),
            vip_order: failover_order(a)
                .into_iter()
                .enumerate()
                .map(|(i, (name, p))| (name, (i, p)))
                .collect(),
            vip_candidates: if a.load_balancer_kind == LoadBalancerKind::KubeVip {
                a.vip_holders.iter().map(String::as_str).collect()
            } else {
                BTreeSet::new()
            },
            load_balancers: a.load_balancers.iter().map(String::as_str).collect(),
            spof: a
                .single_points_of_failure
                .iter()
                .map(|(n, o)| (n.as_str(), o))
                .collect(),
            api_port: cluster.control_plane.api_server_port,
            topology: a.etcd_topology,
        }
    }
}

/// The keepalived VIP holders in failover order: highest priority first, ties in name order
/// (the first with the highest priority starts as MASTER, as in the report).
fn failover_order(a: &Availability) -> Vec<(&str, i64)> {
    let mut v: Vec<(usize, &str, i64)> = a
        .priorities
        .iter()
        .enumerate()
        .map(|(i, (n, p))| (i, n.as_str(), *p))
        .collect();
    v.sort_by(|x, y| y.2.cmp(&x.2).then(x.0.cmp(&y.0)));
    v.into_iter().map(|(_, n, p)| (n, p)).collect()
}

fn ordinal(i: usize) -> String {
    let n = i + 1;
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn s(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Up to [`NAMES_LISTED`] names in natural order, then "and N more".
fn name_list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_string();
    }
    let mut v: Vec<&String> = names.iter().collect();
    v.sort_by(|x, y| natural_cmp(x, y));
    let shown: Vec<&str> = v.iter().take(NAMES_LISTED).map(|n| n.as_str()).collect();
    let mut out = shown.join(", ");
    if v.len() > NAMES_LISTED {
        let _ = write!(out, " and {} more", v.len() - NAMES_LISTED);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Cards: boxes of text lines and role chips, measured before they are drawn.

#[derive(Clone, Debug)]
enum Item {
    /// A paragraph, wrapped to the card's width; `wide` paragraphs (names, addresses) decide
    /// how wide cards are.
    Para {
        text: String,
        size: i64,
        bold: bool,
        color: &'static str,
        wide: bool,
    },
    /// Role chips, wrapped onto more rows when they do not fit.
    Chips(Vec<(String, &'static str)>),
}

#[derive(Clone, Debug)]
struct Card {
    items: Vec<Item>,
    fill: &'static str,
    stroke: &'static str,
    stroke_width: i64,
    dashed: bool,
    /// A `class` for the card's group, so tests can find nodes and zones.
    class: &'static str,
}

impl Card {
    fn new(class: &'static str) -> Card {
        Card {
            items: Vec::new(),
            fill: WHITE,
            stroke: BORDER,
            stroke_width: 1,
            dashed: false,
            class,
        }
    }
    fn para(mut self, text: impl Into<String>, size: i64, bold: bool, color: &'static str) -> Card {
        self.items.push(Item::Para {
            text: text.into(),
            size,
            bold,
            color,
            wide: false,
        });
        self
    }
    fn wide(mut self, text: impl Into<String>, size: i64, bold: bool, color: &'static str) -> Card {
        self.items.push(Item::Para {
            text: text.into(),
            size,
            bold,
            color,
            wide: true,
        });
        self
    }
    fn chips(mut self, chips: Vec<(String, &'static str)>) -> Card {
        if !chips.is_empty() {
            self.items.push(Item::Chips(chips));
        }
        self
    }
    fn border(mut self, stroke: &'static str, width: i64, fill: &'static str) -> Card {
        self.stroke = stroke;
        self.stroke_width = width;
        self.fill = fill;
        self
    }
    fn warning(self) -> Card {
        self.border(WARNING_RED, 2, RED_BG)
    }

    fn natural_width(&self) -> i64 {
        self.items
            .iter()
            .map(|item| match item {
                Item::Para {
                    text,
                    size,
                    bold,
                    wide: true,
                    ..
                } => text_w(text, *size, *bold),
                Item::Para { .. } => 0,
                Item::Chips(chips) => chips
                    .iter()
                    .map(|(label, _)| chip_w(label) + 4)
                    .sum::<i64>(),
            })
            .max()
            .unwrap_or(0)
            + 2 * PAD
    }

    fn height(&self, w: i64) -> i64 {
        let inner = w - 2 * PAD;
        let body: i64 = self
            .items
            .iter()
            .map(|item| match item {
                Item::Para {
                    text, size, bold, ..
                } => wrap(text, inner, *size, *bold).len() as i64 * line_h(*size),
                Item::Chips(chips) => chip_rows(chips, inner).len() as i64 * CHIP_ROW,
            })
            .sum();
        body + 2 * PAD - 4
    }

    fn draw(&self, svg: &mut Svg, x: i64, y: i64, w: i64, h: i64, class: &str) {
        let class = if self.class.is_empty() {
            class
        } else {
            self.class
        };
        let _ = writeln!(svg.body, "<g class=\"{class}\">");
        svg.rect(
            x,
            y,
            w,
            h,
            self.fill,
            self.stroke,
            self.stroke_width,
            self.dashed,
        );
        let inner = w - 2 * PAD;
        let mut cy = y + PAD - 2;
        for item in &self.items {
            match item {
                Item::Para {
                    text,
                    size,
                    bold,
                    color,
                    ..
                } => {
                    for line in wrap(text, inner, *size, *bold) {
                        svg.text(x + PAD, cy + *size, *size, *bold, color, &line);
                        cy += line_h(*size);
                    }
                }
                Item::Chips(chips) => {
                    for row in chip_rows(chips, inner) {
                        let mut cx = x + PAD;
                        for (label, color) in row {
                            svg.chip(cx, cy + 2, label, color);
                            cx += chip_w(label) + 4;
                        }
                        cy += CHIP_ROW;
                    }
                }
            }
        }
        svg.body.push_str("</g>\n");
    }
}

fn line_h(size: i64) -> i64 {
    size + 5
}

fn chip_w(label: &str) -> i64 {
    text_w(label, CHIP_SIZE, true) + 10
}

fn chip_rows<'a>(
    chips: &'a [(String, &'static str)],
    inner: i64,
) -> Vec<Vec<(&'a str, &'static str)>> {
    let mut rows: Vec<Vec<(&'a str, &'static str)>> = Vec::new();
    let mut used = 0;
    for (label, color) in chips {
        let w = chip_w(label) + 4;
        match rows.last_mut() {
            Some(row) if used + w <= inner + 4 => {
                row.push((label.as_str(), *color));
                used += w;
            }
            _ => {
                rows.push(vec![(label.as_str(), *color)]);
                used = w;
            }
        }
    }
    rows
}

/// The width of a character in thousandths of an em: DejaVu Sans's advance widths (Verdana's
/// are alike; Arial and Helvetica are narrower), so estimates err on the wide side.
fn char_em(c: char) -> i64 {
    match c {
        'i' | 'j' | 'l' | '\'' | 'I' | 'J' => 300,
        ' ' | '.' | ',' | ':' | ';' | '/' | '|' | '·' | '!' => 340,
        'f' | 't' | '-' | '(' | ')' | '[' | ']' | '{' | '}' => 400,
        'r' => 420,
        '"' | '*' | '`' | '_' | '?' => 540,
        's' | 'z' | 'c' => 560,
        'L' | 'F' => 580,
        'k' | 'v' | 'x' | 'y' => 600,
        'a' | 'e' | 'o' | 'b' | 'd' | 'g' | 'h' | 'n' | 'p' | 'q' | 'u' => 640,
        '0'..='9' | 'E' | 'P' | 'S' | 'T' => 640,
        'A'..='Z' if !matches!(c, 'M' | 'W') => 790,
        '&' => 790,
        'w' | '+' | '=' | '<' | '>' | '#' | '→' => 840,
        'm' | 'M' | '%' => 980,
        _ => 1000,
    }
}

/// The width of one character in thousandths of a pixel.
fn char_milli(c: char, size: i64, bold: bool) -> i64 {
    // Bold is about 10% wider (narrow letters up to 20%); regular gets 3% to spare.
    char_em(c) * size * if bold { 116 } else { 103 } / 100
}

/// The estimated width of `text` in pixels, rounded up.
fn text_w(text: &str, size: i64, bold: bool) -> i64 {
    let milli: i64 = text.chars().map(|c| char_milli(c, size, bold)).sum();
    (milli + 999) / 1000
}

/// Greedy word wrap to `width` pixels. A word longer than a line is cut, after a `.`, `-`,
/// `:`, `/` or `,` where one is near the end of the part that fits.
fn wrap(text: &str, width: i64, size: i64, bold: bool) -> Vec<String> {
    let space = text_w(" ", size, bold);
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let w = text_w(word, size, bold);
        if !current.is_empty() && used + space + w <= width {
            current.push(' ');
            current.push_str(word);
            used += space + w;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        if w <= width {
            current.push_str(word);
            used = w;
            continue;
        }
        let mut pieces = split_long(word, width, size, bold);
        let last = pieces.pop().unwrap_or_default();
        lines.extend(pieces);
        used = text_w(&last, size, bold);
        current = last;
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// Cuts a word wider than `width` into pieces that fit (at least one character each).
fn split_long(word: &str, width: i64, size: i64, bold: bool) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let mut end = start;
        let mut milli = 0;
        while end < chars.len() {
            let c = char_milli(chars[end], size, bold);
            if end > start && milli + c > width * 1000 {
                break;
            }
            milli += c;
            end += 1;
        }
        if end < chars.len() {
            let fits = end - start;
            if let Some(cut) = (start + 1..end)
                .rev()
                .take_while(|i| (i - start) * 3 >= fits)
                .find(|i| matches!(chars[i - 1], '.' | '-' | ':' | '/' | ','))
            {
                end = cut;
            }
        }
        pieces.push(chars[start..end].iter().collect());
        start = end;
    }
    pieces
}

// ---------------------------------------------------------------------------------------
// What is drawn.

/// Endpoint → VIP (or external load balancer) → backends.
fn front_cards(cluster: &Cluster, a: &Availability) -> Vec<Card> {
    let port = cluster.control_plane.api_server_port;
    let endpoint = Card::new("endpoint")
        .para("Endpoint", 13, true, INK)
        .para(a.endpoint.clone(), 13, false, INK)
        .para(
            "controlPlaneEndpoint of kubeadm and of every kubeconfig",
            11,
            false,
            MUTED,
        );
    let vip = cluster
        .control_plane
        .vip
        .map_or_else(|| "(none)".to_string(), |v| v.to_string());
    let backends = format!("kube-apiserver :{port} on {}", name_list(&a.control_planes));
    match a.load_balancer_kind {
        LoadBalancerKind::External => {
            let mut external = Card::new("external-lb")
                .para("External load balancer", 13, true, INK)
                .para(
                    a.external_load_balancer.clone().unwrap_or_default(),
                    13,
                    false,
                    INK,
                )
                .para("not managed by hac", 11, false, MUTED)
                .para(
                    "outside this analysis: make it redundant too",
                    11,
                    false,
                    MUTED,
                );
            external.dashed = true;
            let back = Card::new("backends")
                .para("Backends", 13, true, INK)
                .para(backends, 12, false, BLUE);
            vec![endpoint, external, back]
        }
        LoadBalancerKind::KubeVip => {
            let holder = Card::new("vip")
                .para(format!("VIP {vip} (kube-vip)"), 13, true, TEAL)
                .para(
                    "held by the control plane that wins kube-vip's leader election among",
                    11,
                    false,
                    MUTED,
                )
                .para(name_list(&a.vip_holders), 12, false, TEAL);
            let back = Card::new("backends")
                .para("Backend: no load balancer", 13, true, INK)
                .para(
                    format!("the VIP leads straight to the kube-apiserver :{port} of its holder"),
                    12,
                    false,
                    BLUE,
                );
            vec![endpoint, holder, back]
        }
        kind @ (LoadBalancerKind::Haproxy
        | LoadBalancerKind::Nginx
        | LoadBalancerKind::Keepalived) => {
            let holder = keepalived_card(&vip, a);
            let back = if kind.is_tcp_proxy() {
                Card::new("load-balancers")
                    .para(
                        format!("{} on {}", kind.as_str(), name_list(&a.load_balancers)),
                        13,
                        true,
                        PURPLE,
                    )
                    .para("backends:", 11, false, MUTED)
                    .para(backends, 12, false, BLUE)
            } else {
                Card::new("backends")
                    .para("Backend: no load balancer", 13, true, INK)
                    .para(
                        format!(
                            "the VIP leads straight to the kube-apiserver :{port} of its holder"
                        ),
                        12,
                        false,
                        BLUE,
                    )
            };
            vec![endpoint, holder, back]
        }
    }
}

/// The VIP held by keepalived: its failover order (MASTER first) with the priorities.
fn keepalived_card(vip: &str, a: &Availability) -> Card {
    let mut holder = Card::new("vip")
        .para(format!("VIP {vip} (keepalived)"), 13, true, TEAL)
        .para("failover order (keepalived priority):", 11, false, MUTED);
    let order = failover_order(a);
    for (i, (name, p)) in order.iter().take(NAMES_LISTED).enumerate() {
        let state = if i == 0 { "MASTER" } else { "BACKUP" };
        holder = holder.para(
            format!("{}. {name}: {state}, priority {p}", i + 1),
            12,
            i == 0,
            TEAL,
        );
    }
    if order.len() > NAMES_LISTED {
        holder = holder.para(
            format!("… and {} more", order.len() - NAMES_LISTED),
            12,
            false,
            TEAL,
        );
    }
    holder
}

fn etcd_card(a: &Availability) -> Card {
    let n = a.etcd_members.len();
    let where_ = match a.etcd_topology {
        EtcdTopology::Stacked => "stacked on the control-plane nodes",
        EtcdTopology::External => "external, on the nodes with role etcd",
    };
    Card::new("etcd")
        .border(GREEN, 1, GREEN_BG)
        .para(
            format!(
                "quorum {} of {n} member{} · tolerates {} failure{}",
                a.quorum,
                s(n),
                a.failures_tolerated,
                s(a.failures_tolerated)
            ),
            13,
            true,
            GREEN,
        )
        .para(
            format!(
                "{n} member{} ({where_}): {}",
                s(n),
                name_list(&a.etcd_members)
            ),
            12,
            false,
            INK,
        )
}

/// The warnings of report.txt, or None when it has none.
fn warnings_card(a: &Availability) -> Option<Card> {
    let mut lines: Vec<String> = Vec::new();
    let mut spofs: Vec<&(String, LossOutcome)> = a.single_points_of_failure.iter().collect();
    spofs.sort_by(|x, y| natural_cmp(&x.0, &y.0));
    for (node, outcome) in spofs {
        lines.push(format!(
            "single point of failure: {node}: its loss loses {}",
            outcome.lost.join(", ")
        ));
    }
    for z in a.zones.iter().filter(|z| !z.outcome.survives()) {
        lines.push(format!(
            "zone {}: its loss loses {}",
            z.zone,
            z.outcome.lost.join(", ")
        ));
    }
    if lines.is_empty() {
        return None;
    }
    let total = lines.len();
    let mut card =
        Card::new("warnings")
            .warning()
            .para("Warnings (as in report.txt)", 13, true, WARNING_RED);
    for line in lines.into_iter().take(WARNINGS_LISTED) {
        card = card.para(line, 12, false, INK);
    }
    if total > WARNINGS_LISTED {
        card = card.para(
            format!("… and {} more", total - WARNINGS_LISTED),
            12,
            false,
            INK,
        );
    }
    Some(card)
}

/// A column: a zone, the nodes without a zone, or (no zones at all) every node.
struct Column {
    title: String,
    subtitle: String,
    cards: Vec<Card>,
    loss: Card,
}

fn columns(cluster: &Cluster, a: &Availability, f: &Facts) -> Vec<Column> {
    let by_name: BTreeMap<&str, &Node> =
        cluster.nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut out = Vec::new();
    if a.zones.is_empty() {
        let nodes: Vec<&Node> = cluster.nodes.iter().collect();
        out.push(Column {
            title: "All nodes".to_string(),
            subtitle: format!("{} node{}, no zone named", nodes.len(), s(nodes.len())),
            cards: node_cards(&nodes, f),
            loss: Card::new("zone-loss")
                .para("Zone loss: not analysed", 12, true, MUTED)
                .para(
                    "no zones named: set `zone` on the nodes to analyse zone failures",
                    12,
                    false,
                    MUTED,
                ),
        });
        return out;
    }
    for z in &a.zones {
        let nodes: Vec<&Node> = z
            .nodes
            .iter()
            .filter_map(|n| by_name.get(n.as_str()).copied())
            .collect();
        let loss = if z.outcome.survives() {
            Card::new("zone-loss")
                .border(GREEN, 1, GREEN_BG)
                .para("If this zone is lost: survives", 12, true, GREEN)
                .para(a.remaining(&z.outcome), 12, false, INK)
        } else {
            Card::new("zone-loss")
                .warning()
                .para(
                    "If this zone is lost: the control plane breaks",
                    12,
                    true,
                    WARNING_RED,
                )
                .para(
                    format!("loses {}", z.outcome.lost.join(", ")),
                    12,
                    false,
                    INK,
                )
        };
        out.push(Column {
            title: z.zone.clone(),
            subtitle: format!("zone · {} node{}", nodes.len(), s(nodes.len())),
            cards: node_cards(&nodes, f),
            loss,
        });
    }
    let unzoned: Vec<&Node> = cluster.nodes.iter().filter(|n| n.zone.is_none()).collect();
    if !unzoned.is_empty() {
        out.push(Column {
            title: "(no zone)".to_string(),
            subtitle: format!("{} node{} without a zone", unzoned.len(), s(unzoned.len())),
            cards: node_cards(&unzoned, f),
            loss: Card::new("zone-loss")
                .para("Not a zone", 12, true, MUTED)
                .para(
                    "nodes without `zone` are outside the zone analysis",
                    12,
                    false,
                    MUTED,
                ),
        });
    }
    out
}

/// Load balancers first (traffic comes in there), then control planes, etcd, workers.
fn rank(n: &Node) -> u8 {
    if n.has(Role::LoadBalancer) {
        0
    } else if n.has(Role::ControlPlane) {
        1
    } else if n.has(Role::Etcd) {
        2
    } else {
        3
    }
}

fn node_cards(nodes: &[&Node], f: &Facts) -> Vec<Card> {
    let plain_worker =
        |n: &Node| n.roles == [Role::Worker] && !f.spof.contains_key(n.name.as_str());
    let (workers, mut others): (Vec<&Node>, Vec<&Node>) =
        nodes.iter().copied().partition(|n| plain_worker(n));
    others.sort_by(|x, y| {
        rank(x)
            .cmp(&rank(y))
            .then_with(|| natural_cmp(&x.name, &y.name))
    });
    let mut cards: Vec<Card> = others
        .iter()
        .take(NODES_SHOWN)
        .map(|n| node_card(n, f))
        .collect();
    if others.len() > NODES_SHOWN {
        let rest = &others[NODES_SHOWN..];
        let mut counts: BTreeMap<u8, usize> = BTreeMap::new();
        for n in rest {
            for r in &n.roles {
                *counts.entry(*r as u8).or_default() += 1;
            }
        }
        let roles: Vec<String> = Role::ALL
            .iter()
            .filter_map(|(name, r)| counts.get(&(*r as u8)).map(|c| format!("{c} {name}")))
            .collect();
        cards.push(
            Card::new("more-nodes")
                .wide(format!("{} more nodes", rest.len()), 13, true, INK)
                .para(format!("roles: {}", roles.join(", ")), 11, false, MUTED),
        );
    }
    if workers.len() > WORKERS_SHOWN {
        let first = workers
            .iter()
            .min_by(|x, y| natural_cmp(&x.name, &y.name))
            .map_or("", |n| n.name.as_str());
        let last = workers
            .iter()
            .max_by(|x, y| natural_cmp(&x.name, &y.name))
            .map_or("", |n| n.name.as_str());
        cards.push(
            Card::new("workers")
                .wide(format!("{} workers", workers.len()), 13, true, INK)
                .wide(format!("{first} … {last}"), 11, false, MUTED)
                .chips(vec![("worker".to_string(), SLATE)])
                .para(
                    format!("drawn as one card: more than {WORKERS_SHOWN} workers here"),
                    11,
                    false,
                    MUTED,
                ),
        );
    } else {
        let mut workers = workers;
        workers.sort_by(|x, y| natural_cmp(&x.name, &y.name));
        cards.extend(workers.iter().map(|n| node_card(n, f)));
    }
    cards
}

fn role_color(r: Role) -> &'static str {
    match r {
        Role::ControlPlane => BLUE,
        Role::Etcd => GREEN,
        Role::LoadBalancer => PURPLE,
        Role::Worker => SLATE,
    }
}

fn node_card(n: &Node, f: &Facts) -> Card {
    let name = n.name.as_str();
    let address = match n.prefix_len {
        Some(p) => format!("{}/{p}", n.address),
        None => n.address.to_string(),
    };
    let mut chips: Vec<(String, &'static str)> = n
        .roles
        .iter()
        .map(|r| (r.as_str().to_string(), role_color(*r)))
        .collect();
    if f.etcd.contains(name) && !n.has(Role::Etcd) {
        chips.push(("etcd (stacked)".to_string(), GREEN));
    }
    let mut card = Card::new("node")
        .wide(name, 13, true, INK)
        .wide(address, 11, false, MUTED)
        .chips(chips);
    if n.has(Role::ControlPlane) {
        card = card.para(format!("kube-apiserver :{}", f.api_port), 11, false, BLUE);
    }
    if f.etcd.contains(name) && f.topology == EtcdTopology::External && !n.has(Role::Etcd) {
        card = card.para("etcd member", 11, false, GREEN);
    }
    if let Some((i, p)) = f.vip_order.get(name) {
        let state = if *i == 0 { "MASTER" } else { "BACKUP" };
        card = card.para(
            format!("VIP {}: {state}, priority {p}", ordinal(*i)),
            11,
            *i == 0,
            TEAL,
        );
    }
    if f.vip_candidates.contains(name) {
        card = card.para("VIP candidate (kube-vip)", 11, false, TEAL);
    }
    if f.load_balancers.contains(name) {
        let c = f.a.control_planes.len();
        card = card.para(
            format!(
                "{} → {c} kube-apiserver{}",
                f.a.load_balancer_kind.as_str(),
                s(c)
            ),
            11,
            false,
            PURPLE,
        );
    }
    const LABELS_SHOWN: usize = 3;
    for (k, v) in n.labels.iter().take(LABELS_SHOWN) {
        card = card.para(format!("{k}={v}"), 11, false, MUTED);
    }
    if n.labels.len() > LABELS_SHOWN {
        card = card.para(
            format!("+{} more labels", n.labels.len() - LABELS_SHOWN),
            11,
            false,
            MUTED,
        );
    }
    if let Some(outcome) = f.spof.get(name) {
        card = card
            .warning()
            .para("single point of failure", 11, true, WARNING_RED)
            .para(
                format!("its loss loses {}", outcome.lost.join(", ")),
                11,
                false,
                INK,
            );
    }
    card
}

/// Draws one row of columns; returns the y below it.
fn draw_row(
    svg: &mut Svg,
    row: &[Column],
    x0: i64,
    y0: i64,
    col_w: i64,
    card_w: i64,
    per_col: i64,
) -> i64 {
    let inner = col_w - 2 * PAD;
    let header_h = row
        .iter()
        .map(|c| {
            wrap(&c.title, inner, 14, true).len() as i64 * line_h(14)
                + wrap(&c.subtitle, inner, 11, false).len() as i64 * line_h(11)
        })
        .max()
        .unwrap_or(0);
    // Each column's cards in a grid of `per_col` across; a grid row as tall as its tallest.
    let grids: Vec<Vec<(i64, Vec<&Card>)>> = row
        .iter()
        .map(|c| {
            c.cards
                .chunks(per_col as usize)
                .map(|cards| {
                    let h = cards.iter().map(|k| k.height(card_w)).max().unwrap_or(0);
                    (h, cards.iter().collect())
                })
                .collect()
        })
        .collect();
    let cards_h = grids
        .iter()
        .map(|g| g.iter().map(|(h, _)| h + CARD_GAP).sum::<i64>())
        .max()
        .unwrap_or(0);
    let loss_h = row.iter().map(|c| c.loss.height(inner)).max().unwrap_or(0);
    let col_h = PAD + header_h + 8 + cards_h + loss_h + PAD;
    for (i, (c, grid)) in row.iter().zip(&grids).enumerate() {
        let x = x0 + i as i64 * (col_w + GAP);
        let _ = writeln!(svg.body, "<g class=\"zone\">");
        svg.rect(x, y0, col_w, col_h, PANEL, PANEL_BORDER, 1, false);
        let mut y = y0 + PAD - 2;
        for line in wrap(&c.title, inner, 14, true) {
            svg.text(x + PAD, y + 14, 14, true, INK, &line);
            y += line_h(14);
        }
        for line in wrap(&c.subtitle, inner, 11, false) {
            svg.text(x + PAD, y + 11, 11, false, MUTED, &line);
            y += line_h(11);
        }
        let mut y = y0 + PAD + header_h + 8;
        for (h, cards) in grid {
            for (j, card) in cards.iter().enumerate() {
                let cx = x + PAD + j as i64 * (card_w + CARD_GAP);
                card.draw(svg, cx, y, card_w, *h, "node");
            }
            y += h + CARD_GAP;
        }
        c.loss.draw(
            svg,
            x + PAD,
            y0 + col_h - PAD - loss_h,
            inner,
            loss_h,
            "zone-loss",
        );
        svg.body.push_str("</g>\n");
    }
    y0 + col_h
}

enum Swatch {
    Chip(&'static str, &'static str),
    Box {
        fill: &'static str,
        stroke: &'static str,
        width: i64,
        dashed: bool,
    },
    Text(&'static str, &'static str),
}

fn legend_items(
    cluster: &Cluster,
    a: &Availability,
    warnings: bool,
    collapsed: bool,
) -> Vec<(Swatch, String)> {
    let mut v = vec![
        (
            Swatch::Chip("control-plane", BLUE),
            "runs a kube-apiserver".to_string(),
        ),
        (Swatch::Chip("etcd", GREEN), "etcd member".to_string()),
        (
            Swatch::Chip("load-balancer", PURPLE),
            "dedicated load-balancer node".to_string(),
        ),
        (Swatch::Chip("worker", SLATE), "worker".to_string()),
    ];
    if !a.priorities.is_empty() {
        v.push((
            Swatch::Text("VIP 1st", TEAL),
            "place in keepalived's failover order (MASTER first)".to_string(),
        ));
    }
    if cluster.control_plane.load_balancer.kind == LoadBalancerKind::External {
        v.push((
            Swatch::Box {
                fill: WHITE,
                stroke: BORDER,
                width: 1,
                dashed: true,
            },
            "outside hac (not managed)".to_string(),
        ));
    }
    if !a.zones.is_empty() {
        v.push((
            Swatch::Box {
                fill: GREEN_BG,
                stroke: GREEN,
                width: 1,
                dashed: false,
            },
            "survives the loss of its zone".to_string(),
        ));
    }
    if warnings {
        v.push((
            Swatch::Box {
                fill: RED_BG,
                stroke: WARNING_RED,
                width: 2,
                dashed: false,
            },
            "warning of report.txt".to_string(),
        ));
    }
    if collapsed {
        v.push((
            Swatch::Text("N workers", INK),
            format!("more than {WORKERS_SHOWN} workers of a zone, drawn as one card"),
        ));
    }
    v
}

fn draw_legend(svg: &mut Svg, items: &[(Swatch, String)], x0: i64, y0: i64, w: i64) -> i64 {
    let mut x = x0;
    let mut y = y0;
    for (swatch, label) in items {
        let sw = match swatch {
            Swatch::Chip(l, _) => chip_w(l),
            Swatch::Box { .. } => 28,
            Swatch::Text(t, _) => text_w(t, 12, true),
        };
        let item_w = sw + 6 + text_w(label, 12, false) + 22;
        if x > x0 && x + item_w > x0 + w {
            x = x0;
            y += 26;
        }
        match swatch {
            Swatch::Chip(l, color) => svg.chip(x, y + 2, l, color),
            Swatch::Box {
                fill,
                stroke,
                width,
                dashed,
            } => svg.rect(x, y + 2, 28, 16, fill, stroke, *width, *dashed),
            Swatch::Text(t, color) => svg.text(x, y + 15, 12, true, color, t),
        }
        svg.text(x + sw + 6, y + 15, 12, false, INK, label);
        x += item_w;
    }
    y + 26
}

/// A section heading; returns the y below it.
fn section(svg: &mut Svg, x: i64, y: i64, w: i64, title: &str) -> i64 {
    let mut y = y;
    for line in wrap(title, w, 14, true) {
        svg.text(x, y + 14, 14, true, INK, &line);
        y += line_h(14);
    }
    y + 4
}

// ---------------------------------------------------------------------------------------
// SVG text.

#[derive(Default)]
struct Svg {
    body: String,
}

impl Svg {
    #[allow(clippy::too_many_arguments)]
    fn rect(
        &mut self,
        x: i64,
        y: i64,
        w: i64,
        h: i64,
        fill: &str,
        stroke: &str,
        width: i64,
        dashed: bool,
    ) {
        let dash = if dashed {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let _ = writeln!(
            self.body,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" rx=\"4\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{width}\"{dash}/>"
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn text(&mut self, x: i64, y: i64, size: i64, bold: bool, fill: &str, text: &str) {
        let weight = if bold { " font-weight=\"bold\"" } else { "" };
        let _ = writeln!(
            self.body,
            "<text x=\"{x}\" y=\"{y}\" font-size=\"{size}\"{weight} fill=\"{fill}\">{}</text>",
            esc(text)
        );
    }

    fn chip(&mut self, x: i64, y: i64, label: &str, color: &str) {
        let w = chip_w(label);
        let _ = writeln!(
            self.body,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{CHIP_H}\" rx=\"8\" fill=\"{color}\"/>"
        );
        self.text(x + 5, y + 13, CHIP_SIZE, true, WHITE, label);
    }

    /// A horizontal arrow from `x1` to `x2` at height `y`.
    fn arrow(&mut self, x1: i64, x2: i64, y: i64, color: &str) {
        let _ = writeln!(
            self.body,
            "<line x1=\"{x1}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{color}\" stroke-width=\"2\"/>",
            x2 - 8
        );
        let _ = writeln!(
            self.body,
            "<polygon points=\"{x2},{y} {},{} {},{}\" fill=\"{color}\"/>",
            x2 - 10,
            y - 6,
            x2 - 10,
            y + 6
        );
    }
}

/// XML-escapes text from the input; characters XML 1.0 cannot hold become U+FFFD.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_character_and_respects_the_width() {
        let text = "a bb ccc k8s.europe-west1.example.internal:6443 dddddddddddddddddddddddddddd e";
        let lines = wrap(text, 100, 10, false);
        assert!(
            lines
                .iter()
                .all(|l| text_w(l, 10, false) <= 100 || l.chars().count() == 1),
            "{lines:?}"
        );
        assert_eq!(lines.join("").replace(' ', ""), text.replace(' ', ""));
        assert_eq!(
            lines[1..4],
            ["k8s.europe-", "west1.example.", "internal:6443"],
            "cut after punctuation"
        );
        assert_eq!(wrap("", 100, 10, false), vec![String::new()]);
        assert_eq!(wrap("mmm", 1, 10, true), vec!["m", "m", "m"]);
    }

    #[test]
    fn escaping_leaves_no_markup_and_no_control_characters() {
        assert_eq!(
            esc("a<&\"'>b\u{1}\n"),
            "a&lt;&amp;&quot;&#39;&gt;b\u{FFFD} "
        );
    }

    #[test]
    fn ordinals() {
        let v: Vec<String> = [0, 1, 2, 3, 10, 11, 12, 20, 21].map(ordinal).to_vec();
        assert_eq!(
            v,
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd"]
        );
    }
}
