//! `podsg graph` and `podsg lab check --output html` as people see them:
//! the SVG parses and shows every group and rule, 50 groups lay out
//! without overlapping, and the page renders in a real browser (headless
//! Chromium) to a picture that is not blank and has the matrix's colours.

use std::path::{Path, PathBuf};
use std::process::Command;

fn podsg(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_podsg")).args(args).output().expect("podsg runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn handbook() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/handbook").display().to_string()
}

#[derive(Debug)]
struct Box4 {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// An edge as drawn: from, to, label.
type Drawn = (String, String, String);

/// The groups' boxes and the edges of a drawing.
fn parse(svg: &str) -> (Vec<(String, Box4)>, Vec<Drawn>) {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let num = |n: roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
    let groups = doc
        .descendants()
        .filter_map(|n| {
            let id = n.attribute("data-group")?;
            let r = n.children().find(|c| c.has_tag_name("rect"))?;
            Some((id.to_string(), Box4 { x: num(r, "x"), y: num(r, "y"), w: num(r, "width"), h: num(r, "height") }))
        })
        .collect();
    let edges = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("edge"))
        .map(|n| {
            let label: String = n.descendants().filter(|t| t.has_tag_name("text")).filter_map(|t| t.text()).collect();
            (n.attribute("data-from").unwrap().to_string(), n.attribute("data-to").unwrap().to_string(), label)
        })
        .collect();
    (groups, edges)
}

#[test]
fn the_handbooks_groups_and_rules_are_all_in_the_drawing() {
    let (code, svg, err) = podsg(&["graph", &handbook()]);
    assert_eq!(code, 0, "{err}");
    let (groups, edges) = parse(&svg);
    let ids: Vec<&str> = groups.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["sg-0a7f3c9e2b1d48502", "sg-0b9e1d7c3f5a26804", "sg-0c4d8e2f6a1b39703", "sg-0e1b5c2a7d4f36901"]);
    for expected in [
        ("sg-0a7f3c9e2b1d48502", "sg-0c4d8e2f6a1b39703", "tcp 5432"),
        ("sg-0b9e1d7c3f5a26804", "sg-0c4d8e2f6a1b39703", "tcp 5432"),
        ("sg-0a7f3c9e2b1d48502", "sg-0e1b5c2a7d4f36901", "tcp 53, udp 53"),
        ("sg-0e1b5c2a7d4f36901", "sg-0e1b5c2a7d4f36901", "all traffic"),
        ("0.0.0.0/0", "sg-0b9e1d7c3f5a26804", "tcp 22"),
    ] {
        assert!(
            edges.iter().any(|(f, t, l)| (f.as_str(), t.as_str(), l.as_str()) == expected),
            "{expected:?} not in {edges:?}"
        );
    }
    assert_eq!(edges.len(), 5, "{edges:?}");
    assert!(svg.contains("Deployment/networking/green-pod") && svg.contains("member rds-ekslab.internal (10.0.3.50)"));
    let (_, dot, _) = podsg(&["graph", &handbook(), "--format", "dot"]);
    assert!(
        dot.starts_with("digraph podsg {")
            && dot.contains("\"sg-0a7f3c9e2b1d48502\" -> \"sg-0c4d8e2f6a1b39703\" [label=\"tcp 5432\"];"),
        "{dot}"
    );
    let (code, _, err) = podsg(&["graph", &handbook(), "--format", "dot", "--matrix"]);
    assert_eq!((code, err.as_str()), (2, "podsg graph: --matrix is drawn in svg or html, not dot\n"));
}

/// Fifty groups, each taking a port from two others and from a CIDR.
fn fifty_groups() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..50 {
        let a = (i * 7 + 3) % 50;
        let b = (i * 13 + 5) % 50;
        text.push_str(&format!(
            "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {{name: sg-{i:08x}}}\nspec:\n  groupName: group-{i}\n  ingress:\n  - {{ipProtocol: tcp, fromPort: {p}, toPort: {p}, userIdGroupPairs: [{{groupId: sg-{a:08x}}}, {{groupId: sg-{b:08x}}}]}}\n  - {{ipProtocol: udp, fromPort: 53, toPort: 53, ipRanges: [{{cidrIp: 10.{c}.0.0/16}}]}}\n---\n",
            p = 8000 + i,
            c = i % 5
        ));
        text.push_str(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{i}, namespace: ns}}\nspec: {{template: {{metadata: {{labels: {{app: app-{i}}}}}}}}}\n---\napiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata: {{name: p-{i}, namespace: ns}}\nspec: {{podSelector: {{matchLabels: {{app: app-{i}}}}}, securityGroups: {{groupIds: [sg-{i:08x}]}}}}\n---\n"
        ));
    }
    std::fs::write(dir.path().join("groups.yaml"), text).unwrap();
    dir
}

#[test]
fn fifty_groups_lay_out_without_overlapping_boxes() {
    let dir = fifty_groups();
    let (code, svg, err) = podsg(&["graph", &dir.path().display().to_string()]);
    assert_eq!(code, 0, "{err}");
    let (groups, edges) = parse(&svg);
    assert_eq!(groups.len(), 50);
    // On a page, not a tower or a ribbon: about sqrt(50) rows of about as many boxes.
    let size = |name: &str| -> f64 {
        let doc = roxmltree::Document::parse(&svg).unwrap();
        doc.root_element().attribute(name).unwrap().parse().unwrap()
    };
    assert!(size("width") < 3500.0 && size("height") < 2000.0, "{} x {}", size("width"), size("height"));
    assert_eq!(edges.iter().filter(|(f, _, _)| f.starts_with("10.")).count(), 50, "each group's CIDR rule is an edge");
    for (i, (a, ra)) in groups.iter().enumerate() {
        for (b, rb) in &groups[i + 1..] {
            let apart = ra.x + ra.w <= rb.x || rb.x + rb.w <= ra.x || ra.y + ra.h <= rb.y || rb.y + rb.h <= ra.y;
            assert!(apart, "{a} {ra:?} overlaps {b} {rb:?}");
        }
    }
}

/// Headless Chromium, which scripts/setup.sh installs; without it (outside
/// CI) the rendering test says so and stops.
fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|c| {
        let out = Command::new("sh").args(["-c", &format!("command -v {c}")]).output().ok()?;
        out.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    });
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "chromium is missing in CI: scripts/setup.sh installs it");
        eprintln!("SKIPPED: no chromium on this machine (scripts/setup.sh installs it)");
    }
    found
}

/// The screenshot of a page, decoded: (width, height, RGBA pixels).
fn screenshot(browser: &Path, page: &Path, size: (u32, u32)) -> (u32, u32, Vec<u8>) {
    let shot = page.with_extension("png");
    let out = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
        .arg(format!("--window-size={},{}", size.0, size.1))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(shot.exists(), "no screenshot: {}", String::from_utf8_lossy(&out.stderr));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    let rgba: Vec<u8> = match info.color_type {
        png::ColorType::Rgba => buf,
        png::ColorType::Rgb => buf.chunks(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    (info.width, info.height, rgba)
}

/// Pixels of exactly this colour (the page's cell colours are flat).
fn count(rgba: &[u8], rgb: [u8; 3]) -> usize {
    rgba.chunks(4).filter(|p| p[..3] == rgb).count()
}

#[test]
fn the_handbook_page_renders_in_a_browser_with_its_matrix_colours() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("handbook.html");
    let (code, html, err) = podsg(&["graph", &handbook(), "--format", "html", "--matrix"]);
    assert_eq!(code, 0, "{err}");
    std::fs::write(&page, &html).unwrap();
    let (w, h, rgba) = screenshot(&browser, &page, (1400, 1000));
    assert_eq!((w, h), (1400, 1000));
    let white = count(&rgba, [255, 255, 255]);
    let total = (w * h) as usize;
    assert!(white < total * 95 / 100, "the page is blank: {white} of {total} pixels white");
    for (name, rgb) in [
        ("allowed", [0xc8, 0xef, 0xc8]),
        ("denied", [0xf6, 0xc4, 0xc4]),
        ("some allowed", [0xfb, 0xe3, 0xa6]),
        ("group box", [0xee, 0xf4, 0xfb]),
    ] {
        assert!(count(&rgba, rgb) > 500, "no {name} colour on the page");
    }
}

/// The picture in docs/ is the handbook's page as the browser shows it.
#[test]
fn the_committed_picture_is_a_rendering_of_the_handbook() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/handbook-graph.png");
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
    let reader = decoder.read_info().unwrap();
    assert_eq!((reader.info().width, reader.info().height), (1400, 1000));
}
