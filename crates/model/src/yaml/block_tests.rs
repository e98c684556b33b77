//! The line reader is held to saphyr-parser: on every item it accepts, the
//! same events at the same lines and columns; where saphyr-parser refuses
//! the text, the line reader must not accept it. Items come from a table,
//! a generator of kubectl-like and odd YAML, random edits of those, and
//! every YAML file of the repository written as a list item.

use super::*;
use saphyr_parser::Parser;

/// An event and where it starts (ends have no position that matters).
type Seen<'a> = (Event<'a>, Option<(usize, usize)>);

fn seen(events: Events<'_>) -> Vec<Seen<'_>> {
    events
        .into_iter()
        .map(|(e, span)| {
            let at =
                (!matches!(e, Event::MappingEnd | Event::SequenceEnd)).then(|| (span.start.line(), span.start.col()));
            (e, at)
        })
        .collect()
}

/// saphyr-parser's events for the item, without the stream, the document
/// and the one-item list around it; `None` when it refuses the text.
fn general(text: &str) -> Option<Vec<Seen<'_>>> {
    let mut events = Vec::new();
    for event in Parser::new_from_str(text) {
        events.push(event.ok()?);
    }
    let inner = events.get(3..events.len().checked_sub(3)?)?.to_vec();
    Some(seen(inner))
}

/// Whether the line reader accepted `text`; panics if it disagrees.
fn agrees(text: &str) -> bool {
    let Some(fast) = item(text) else { return false };
    let fast = seen(fast);
    match general(text) {
        Some(general) => assert_eq!(fast, general, "the readers disagree on:\n{text}\n{text:?}"),
        None => panic!("the line reader accepts what saphyr-parser refuses:\n{text}\n{text:?}\n{fast:?}"),
    }
    true
}

#[test]
fn kubectl_output_is_read_by_lines_as_saphyr_reads_it() {
    let accepted = [
        "- kind: Pod\n",
        "- a\n",
        "-\n",
        "- \n",
        "-   spaced: out\n",
        "- kind: Pod\n  metadata:\n    labels: {}\n    name: \"a\\\"b\"\n    e:\n    f: |\n      x\n\n      y\n    g: |-\n      z\n  spec:\n  - a\n  - 'q''s'\n  -\n  - b: 1\n    c:\n",
        "- spec:\n    containers:\n    - image: nginx:1.25\n      ports:\n      - containerPort: 80\n        protocol: TCP\n      resources: {}\n    nodeName: n1\n",
        "- a:\n    - x\n    - y\n  b: []\n",
        "- a:\n  - x\n  -\n    y: 1\n",
        "- a: \"\\u00e9\\x41\\U0001F600\\t\\/\\ \\N\\_\\L\\P\\0\\a\\b\\v\\f\\r\\e\"\n",
        "- a: 'it''s'   \n  b: \"\"\n  c: ''\n",
        "- a: -1\n  b: 0x10\n  c: yes\n  d: ~\n  e: 1e3\n  f: 2001-01-01\n  g: 12:30\n",
        "- app.kubernetes.io/name: x\n  kubernetes.io/config.seen: \"2024-01-01T00:00:00Z\"\n",
        "- a: http://example.com/a#b\n  b: a,b[c]{d}\n  c: x:y\n  d: é日本\n",
        "- a: |+\n    x\n\n  b: 1\n",
        "- a: |\n    x\n      indented\n    y\n",
        "- a: |\n\n    after a blank line\n",
        "- a:\n\n    b: 1\n\n  c: 2\n\n",
        "- on: 1\n  1: x\n  _x: y\n",
        "- managedFields:\n  - fieldsV1:\n      f:metadata:\n        f:labels:\n          .: {}\n          f:app: {}\n      f:spec:\n        f:containers:\n          k:{\"name\":\"app\"}:\n            .: {}\n    manager: kubectl\n",
        "- metadata:\n    annotations:\n      kubectl.kubernetes.io/last-applied-configuration: |\n        {\"apiVersion\":\"v1\",\"kind\":\"Pod\"}\n    name: a\n",
    ];
    let refused = [
        "- a: 1 # comment\n",
        "# comment\n- a\n",
        "- a: &x 1\n",
        "- a: *x\n",
        "- a: !!str 1\n",
        "- a: {b: 1}\n",
        "- a: [1]\n",
        "- a: >\n    folded\n",
        "- a: |2\n    x\n",
        "- a: long plain\n    continued\n",
        "- a: \"long quoted\n    continued\"\n",
        "- message: '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated:\n    batch}.'\n",
        "- a:\n    value on its own line\n",
        "- \"quoted\": key\n",
        "- <<: {a: 1}\n",
        "- a:\tb\n",
        "- a: b\r\n",
        "- a: \"\\q\"\n",
        "- a: |\n",
        "- - a\n",
        "- a: 1",
        "- a: 1\n- b\n",
    ];
    for text in accepted {
        assert!(agrees(text), "the line reader should read:\n{text}");
    }
    for text in refused {
        assert!(!agrees(text), "the line reader should leave to saphyr-parser:\n{text}");
    }
}

/// A small deterministic generator (xorshift), so that failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

const KEYS: &[&str] = &[
    "a",
    "name",
    "app.kubernetes.io/name",
    "on",
    "1",
    "_x",
    "x.y-z",
    "a/b",
    "-k",
    "k k",
    "\"q\"",
    "'q'",
    "<<",
    "k#",
    "y",
    "null",
    "~",
    "f:spec",
    ".",
    "k:{\"name\":\"app\"}",
    "?x",
    ":x",
    "a :",
    "é",
    "a #b",
    "a#b",
    "- a",
    "[a]",
];

const SCALARS: &[&str] = &[
    "nginx",
    "a b",
    "1",
    "-1",
    "0x10",
    "010",
    "yes",
    "null",
    "~",
    "1e3",
    "12:30",
    "2001-01-01",
    "a:b",
    "http://x/y",
    "a #b",
    "a#b",
    "é",
    "日本",
    "[x",
    "{a",
    "a]",
    "x,y",
    "@x",
    "`x",
    "%x",
    "!x",
    "&a",
    "*a",
    "- x",
    "-",
    "--",
    "? x",
    ": x",
    "a: b",
    "a:",
    "'q'",
    "\"dq\"",
    "\"a\\\"b\"",
    "\"\\u00e9\"",
    "\"\\x41\"",
    "\"\\q\"",
    "\"\\ud800\"",
    "'it''s'",
    "'a",
    "\"a",
    "{}",
    "[]",
    "{ }",
    "[ ]",
    "{a: 1}",
    "[1]",
    "'a' b",
    "\"a\" b",
    "x  ",
    "\u{85}x",
    "\u{feff}",
    "\u{2028}",
    "a\u{a0}b",
    "\"\"",
    "''",
    "'''",
    "\"\\\\\"",
    "?",
    ":",
    "a -b",
    "a - b",
    "a:  b",
    "#",
    "'a # b'",
    "\"a: b\"",
];

const HEADERS: &[&str] = &["|", "|-", "|+", ">", "|2", "|-2", "| #c"];

struct Gen<'r> {
    rng: &'r mut Rng,
    out: String,
    /// Only what kubectl writes: no noise lines, no odd scalars or keys.
    tame: bool,
}

const TAME_SCALARS: &[&str] =
    &["nginx", "a b", "1", "-1", "yes", "''", "\"a\\\"b\"", "http://x/y", "{}", "[]", "é", "'it''s'"];
const TAME_KEYS: &[&str] = &["a", "name", "app.kubernetes.io/name", "f:spec", "on", "1"];

impl Gen<'_> {
    fn line(&mut self, indent: usize, text: &str) {
        self.out.extend(std::iter::repeat_n(' ', indent));
        self.out.push_str(text);
        if self.tame {
            self.out.push('\n');
            return;
        }
        if self.rng.one_in(30) {
            self.out.push_str(self.rng.pick(&[" ", "  ", " # c", "\t"]));
        }
        self.out.push('\n');
        if self.rng.one_in(25) {
            let blank = " ".repeat(self.rng.below(6));
            self.out.push_str(&blank);
            self.out.push('\n');
        }
        if self.rng.one_in(80) {
            self.out.push_str(self.rng.pick(&["# c\n", "  # c\n", "---\n", "...\n", "\r\n"]));
        }
    }

    /// Block scalar content for a header written by an owner at `indent`.
    fn literal(&mut self, indent: usize) {
        let inner = indent + 1 + self.rng.below(3);
        if self.tame {
            self.line(inner, "x");
        }
        for _ in 0..self.rng.below(4) {
            match self.rng.below(6) {
                1 if self.tame => self.out.push('\n'),
                0 => self.out.push('\n'),
                1 => {
                    let more = " ".repeat(inner + 1 + self.rng.below(3));
                    self.out.push_str(&more);
                    self.out.push('\n');
                }
                2 => self.line(inner + 2, "deeper"),
                _ => {
                    let text = self.rng.pick(&["x", "a: b", "# not a comment", "- item", "'q", "\"", "{"]);
                    self.line(inner, text);
                }
            }
        }
        if self.rng.one_in(3) {
            self.out.push('\n');
        }
    }

    /// The rest of a line after `key:` or `-` (a space included), and the
    /// lines below it, for an owner at `indent`.
    fn value(&mut self, indent: usize, depth: usize, head: &str, in_sequence: bool) {
        let choice = if depth > 4 { self.rng.below(3) } else { self.rng.below(7) };
        match choice {
            0 | 1 => {
                let scalar = self.rng.pick(if self.tame { TAME_SCALARS } else { SCALARS });
                self.line(indent, &format!("{head} {scalar}"));
            }
            2 => {
                let header = self.rng.pick(if self.tame { &HEADERS[..3] } else { HEADERS });
                self.line(indent, &format!("{head} {header}"));
                self.literal(indent);
            }
            3 => {
                self.line(indent, head);
                let step = if self.rng.one_in(4) { 1 + self.rng.below(4) } else { 2 };
                self.mapping(indent + step, depth + 1);
            }
            4 => {
                self.line(indent, head);
                let step = if in_sequence || self.rng.one_in(2) { 2 } else { 0 };
                self.sequence(indent + step, depth + 1);
            }
            5 => self.line(indent, head),
            _ if self.tame && !in_sequence => self.line(indent, &format!("{head} x")),
            _ => {
                // A collection on the same line as its owner.
                let rest = self.out.len();
                self.line(indent, head);
                self.out.truncate(rest + indent + head.len());
                self.out.push(' ');
                let nested = indent + head.len() + 1;
                if self.rng.one_in(2) {
                    self.mapping_from(nested, depth + 1, true);
                } else {
                    self.sequence_from(nested, depth + 1, true);
                }
            }
        }
    }

    fn mapping(&mut self, indent: usize, depth: usize) {
        self.mapping_from(indent, depth, false);
    }

    /// A mapping at `indent`; `inline` when its first key follows text
    /// already written on the current line.
    fn mapping_from(&mut self, indent: usize, depth: usize, inline: bool) {
        for i in 0..1 + self.rng.below(4) {
            let key = format!("{}:", self.rng.pick(if self.tame { TAME_KEYS } else { KEYS }));
            if i == 0 && inline {
                let start = self.out.len();
                self.value(0, depth, &key, false);
                self.reindent(start, indent);
            } else {
                self.value(indent, depth, &key, false);
            }
        }
    }

    fn sequence(&mut self, indent: usize, depth: usize) {
        self.sequence_from(indent, depth, false);
    }

    fn sequence_from(&mut self, indent: usize, depth: usize, inline: bool) {
        for i in 0..1 + self.rng.below(3) {
            if i == 0 && inline {
                let start = self.out.len();
                self.value(0, depth, "-", true);
                self.reindent(start, indent);
            } else {
                self.value(indent, depth, "-", true);
            }
        }
    }

    /// Text written from `start` at indentation 0 moved to `indent`, its
    /// first line excepted (it continues a line already begun).
    fn reindent(&mut self, start: usize, indent: usize) {
        let written = self.out.split_off(start);
        let pad = " ".repeat(indent);
        for (i, line) in written.split_inclusive('\n').enumerate() {
            if i > 0 && line != "\n" {
                self.out.push_str(&pad);
            }
            self.out.push_str(line);
        }
    }
}

fn generated(rng: &mut Rng) -> String {
    let tame = rng.one_in(4);
    let mut g = Gen { rng, out: String::new(), tame };
    g.sequence_from(0, 0, false);
    // One item: later top-level entries are items of their own.
    let first_end = g.out.split_inclusive('\n').skip(1).position(is_item_start);
    match first_end {
        Some(n) => g.out.split_inclusive('\n').take(n + 1).collect(),
        None => g.out,
    }
}

#[test]
fn generated_items_are_read_as_saphyr_reads_them() {
    let mut rng = Rng(0x5eed_cafe);
    let (mut total, mut accepted) = (0, 0);
    for _ in 0..50_000 {
        let text = generated(&mut rng);
        total += 1;
        accepted += usize::from(agrees(&text));
    }
    // Most generated items hold something odd on purpose; enough must be
    // read by lines for the comparison to mean something.
    assert!(accepted * 5 > total, "only {accepted} of {total} generated items were read by lines");
}

#[test]
fn edited_items_are_read_as_saphyr_reads_them_or_left_to_it() {
    let mut rng = Rng(0xfeed_beef);
    let edits = [
        " ", "  ", "\n", "\t", "\r", "\u{2028}", "\u{85}", "\u{a0}", ":", "-", "- ", "#", "\"", "'", "|", "{", "}",
        "[", "]", "\\", "a", "&", "*", "!", "é",
    ];
    let mut accepted = 0;
    for _ in 0..50_000 {
        let mut text = generated(&mut rng);
        for _ in 0..1 + rng.below(3) {
            let mut at = rng.below(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            if rng.one_in(2) && at < text.len() {
                let next = text[at..].chars().next().map_or(0, char::len_utf8);
                text.replace_range(at..at + next, "");
            } else {
                text.insert_str(at, rng.pick(&edits));
            }
        }
        if !text.starts_with('-') {
            continue;
        }
        accepted += usize::from(agrees(&text));
    }
    assert!(accepted > 1000, "only {accepted} edited items were read by lines");
}

#[test]
fn every_yaml_file_of_the_repository_as_a_list_item_is_read_as_saphyr_reads_it() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    let mut dirs = vec![root.join("examples"), root.join("crates"), root.join("deploy")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && !path.ends_with("target") {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 10, "found {} YAML files", files.len());
    let (mut documents, mut accepted) = (0, 0);
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        for document in text.split("\n---") {
            let lines: Vec<&str> = document.lines().filter(|l| !l.starts_with("---")).collect();
            let Some(first) = lines.iter().position(|l| !l.trim().is_empty() && !l.starts_with('#')) else {
                continue;
            };
            let mut item = format!("- {}\n", lines[first]);
            for line in &lines[first + 1..] {
                item.push_str(if line.is_empty() { "" } else { "  " });
                item.push_str(line);
                item.push('\n');
            }
            documents += 1;
            accepted += usize::from(agrees(&item));
        }
    }
    // Most of them are written by hand, with comments and flow style.
    assert!(accepted >= 10, "only {accepted} of {documents} documents were read by lines");
}

/// Whether the line reader read every document of `text`; panics if it
/// disagrees with saphyr-parser.
fn documents_agree<'a>(text: &'a str) -> bool {
    let Some(documents) = documents(text) else { return false };
    let mut fast = Vec::new();
    for (document, line, explicit) in documents {
        let Some(events) = super::document(document, explicit) else { return false };
        fast.extend(seen(events).into_iter().map(|(e, at)| (e, at.map(|(l, c)| (l + line - 1, c)))));
    }
    let mut general = Vec::new();
    for event in Parser::new_from_str(text) {
        match event {
            Ok(event) => general.push(event),
            Err(e) => panic!("the line reader accepts what saphyr-parser refuses ({e}):\n{text}\n{text:?}"),
        }
    }
    // Where a document starts or ends is not a position anything reports.
    let unplaced = |events: Vec<Seen<'a>>| -> Vec<Seen<'a>> {
        events
            .into_iter()
            .map(|(e, at)| if matches!(e, Event::DocumentStart(_) | Event::DocumentEnd) { (e, None) } else { (e, at) })
            .collect()
    };
    let (fast, general) = (unplaced(fast), unplaced(seen(general[1..general.len() - 1].to_vec())));
    assert_eq!(fast, general, "the readers disagree on:\n{text}\n{text:?}");
    true
}

fn generated_documents(rng: &mut Rng) -> String {
    let separators = [
        "---\n",
        "---\n",
        "---\n",
        "---  \n",
        "---\n\n",
        "\n---\n",
        "...\n---\n",
        "--- # c\n",
        "---\n---\n",
        "%YAML 1.2\n---\n",
        "--- a: 1\n",
        "----\n",
    ];
    let mut text = String::new();
    if rng.one_in(3) {
        text.push_str(rng.pick(&separators));
    }
    let tame = rng.one_in(2);
    for i in 0..1 + rng.below(4) {
        if i > 0 {
            text.push_str(if tame { "---\n" } else { rng.pick(&separators) });
        }
        let mut g = Gen { rng, out: String::new(), tame };
        g.mapping(0, 1);
        text.push_str(&g.out);
    }
    if rng.one_in(5) {
        text.push_str(rng.pick(&separators));
    }
    text
}

#[test]
fn generated_documents_are_read_as_saphyr_reads_them() {
    let mut rng = Rng(0xd0c5_0001);
    let (mut total, mut accepted) = (0, 0);
    for _ in 0..20_000 {
        let text = generated_documents(&mut rng);
        total += 1;
        accepted += usize::from(documents_agree(&text));
    }
    // A text is read by lines only if all its documents are.
    assert!(accepted * 30 > total, "only {accepted} of {total} generated texts were read by lines");
}

#[test]
fn how_documents_are_cut() {
    let cut = |t: &str| documents(t).map(|d| d.into_iter().map(|(d, l, e)| (d.to_string(), l, e)).collect::<Vec<_>>());
    assert_eq!(cut("a: 1\n"), Some(vec![("a: 1\n".into(), 1, false)]));
    assert_eq!(cut("---\na: 1\n---\nb: 2\n"), Some(vec![("a: 1\n".into(), 2, true), ("b: 2\n".into(), 4, true)]));
    assert_eq!(cut("\n---\na: 1\n"), Some(vec![("a: 1\n".into(), 3, true)]));
    for general in ["a: 1\n---\n", "a: 1\n---\n---\nb: 1\n", "%YAML 1.2\n---\na: 1\n", "a: 1\n...\n", "--- a\n", ""] {
        assert_eq!(cut(general), None, "{general:?}");
    }
    assert!(documents_agree("a: 1\n---\nb:\n- c\n"));
    assert!(!documents_agree("# Source: chart/templates/a.yaml\na: 1\n"));
}
