//! YAML text to trees, the way Kubernetes reads it, with everything
//! serde_yaml let through refused by name: a key written twice (the first
//! value silently lost), a YAML bomb, nesting that takes a parser seconds.
//! The events come from saphyr-parser, a YAML 1.2 parser that knows where
//! each event was written; the tree, the typing of scalars (kubectl's) and
//! the limits are podsg's.
//!
//! The items of a `kind: List` (what `kubectl get -o yaml` prints) are
//! handed over one at a time as they are read, so that a 50,000-pod dump is
//! never one tree in memory.

use super::block;
use super::node::{Entry, Mark, Node, Scalar, Typed, Value};
use super::scalar::resolve;
use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span, Tag};
use std::collections::{HashMap, HashSet};

/// Kubernetes objects nest about 15 deep; deeper input is refused at once
/// instead of being walked.
pub const MAX_DEPTH: usize = 64;
/// Nodes that aliases may copy into one document: real manifests use a few
/// dozen; a YAML bomb asks for billions.
pub const MAX_ALIASED_NODES: usize = 100_000;

/// Something wrong in the text, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub at: Mark,
    pub message: String,
}

/// What the reader hands over: a whole document, or one item of a document's
/// top-level `items` list (which the document then holds as an empty list).
#[derive(Debug)]
pub enum Unit {
    Document { document: usize, node: Node, problems: Vec<Problem> },
    Item { document: usize, node: Node, problems: Vec<Problem> },
}

/// Reads every document of `text`. Problems inside a document (a duplicate
/// key, an unsupported tag) come with its unit; problems after which the
/// reader cannot go on (syntax, limits) end the reading with `Err`, after
/// the units read so far.
pub fn read(text: &str, mut sink: impl FnMut(Unit)) -> Result<(), Problem> {
    let mut reader = Reader { stream_items: true, ..Reader::default() };
    // Documents in kubectl's block YAML are read by lines, when all of
    // them are (reading them twice by lines costs less than once by
    // saphyr-parser); otherwise the text is read by saphyr-parser.
    if let Some(documents) = block::documents(text)
        && documents.iter().all(|&(d, _, explicit)| block::document(d, explicit).is_some())
    {
        for (document, line, explicit) in documents {
            reader.lines = line - 1;
            for (event, span) in block::document(document, explicit).expect("read above") {
                reader.event(event, span, &mut sink)?;
            }
        }
        return Ok(());
    }
    run(text, reader, sink)
}

/// The items of a list written from column 0 (`- ...` lines cut out of a
/// file's `items`), handed over one at a time as `Unit::Item`; the text
/// starts on line `first_line` of the file, and positions are the file's.
/// Items in the block YAML that kubectl prints are read by the line-based
/// reader (`block`), any other by saphyr-parser.
pub fn read_items(text: &str, first_line: usize, mut sink: impl FnMut(Unit)) -> Result<(), Problem> {
    let mut reader = Reader { stream_items: true, stream_root: true, ..Reader::default() };
    let start = Span::new(Marker::new(0, first_line, 0), Marker::new(0, first_line, 0));
    reader.event(Event::DocumentStart(false), start, &mut sink)?;
    reader.event(Event::SequenceStart(0, None), start, &mut sink)?;
    let mut anchors = 0;
    for (item, line) in block::items(text, first_line) {
        reader.lines = line - 1;
        match block::item(item) {
            Some(events) => {
                for (event, span) in events {
                    reader.event(event, span, &mut sink)?;
                }
            }
            None => anchors = read_item(item, anchors, &mut reader, &mut sink)?,
        }
    }
    reader.event(Event::SequenceEnd, start, &mut sink)?;
    reader.event(Event::DocumentEnd, start, &mut sink)
}

/// One item read by saphyr-parser: its node's events, without the stream,
/// the document and the one-item list around it. Anchor numbers start after
/// `anchors` (the items before), so that each names one node; the largest
/// number used is returned.
fn read_item(text: &str, anchors: usize, reader: &mut Reader, sink: &mut impl FnMut(Unit)) -> Result<usize, Problem> {
    let mut parser = Parser::new_from_str(text);
    let mut depth = 0;
    let mut last = anchors;
    let mut renumber = |id: usize| {
        if id == 0 {
            return 0;
        }
        last = last.max(anchors + id);
        anchors + id
    };
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| reader.scan_problem(&e))?;
        let event = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) | Event::DocumentEnd | Event::Nothing => {
                continue;
            }
            Event::SequenceStart(..) if depth == 0 => {
                depth = 1;
                continue;
            }
            Event::SequenceEnd if depth == 1 => {
                depth = 0;
                continue;
            }
            Event::SequenceStart(id, tag) => {
                depth += 1;
                Event::SequenceStart(renumber(id), tag)
            }
            Event::MappingStart(id, tag) => {
                depth += 1;
                Event::MappingStart(renumber(id), tag)
            }
            Event::SequenceEnd | Event::MappingEnd => {
                depth -= 1;
                event
            }
            Event::Scalar(text, style, id, tag) => Event::Scalar(text, style, renumber(id), tag),
            Event::Alias(id) => Event::Alias(anchors + id),
        };
        reader.event(event, span, sink)?;
    }
    Ok(last)
}

/// As `read`, with every document whole: for input whose `items` are not
/// objects of their own.
pub fn read_whole(text: &str, sink: impl FnMut(Unit)) -> Result<(), Problem> {
    run(text, Reader::default(), sink)
}

fn run(text: &str, mut reader: Reader, mut sink: impl FnMut(Unit)) -> Result<(), Problem> {
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| reader.scan_problem(&e))?;
        if event == Event::StreamEnd {
            break;
        }
        reader.event(event, span, &mut sink)?;
    }
    Ok(())
}

fn mark(line: usize, col: usize) -> Mark {
    Mark { line, column: col + 1 }
}

#[derive(Default)]
struct Reader {
    document: usize,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    aliased: usize,
    root: Option<Node>,
    problems: Vec<Problem>,
    item_problems: Vec<Problem>,
    stream_items: bool,
    /// Lines before the text, when it is a part of a file.
    lines: usize,
    /// The text is a list of items itself (`read_items`).
    stream_root: bool,
}

enum Frame {
    Seq {
        at: Mark,
        anchor: usize,
        items: Vec<Node>,
        streamed: bool,
    },
    Map {
        at: Mark,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<Key>,
        merges: Vec<Node>,
        seen: Option<HashSet<String>>,
        /// Objects run together without `---`: said once for the document.
        concatenated: bool,
    },
}

struct Key {
    text: String,
    at: Mark,
    merge: bool,
}

impl Reader {
    /// saphyr-parser's refusal, placed in the file (the text may be a part
    /// of it).
    fn scan_problem(&self, e: &ScanError) -> Problem {
        Problem { at: mark(e.marker().line() + self.lines, e.marker().col()), message: e.info().to_string() }
    }

    fn event(&mut self, event: Event<'_>, span: Span, sink: &mut impl FnMut(Unit)) -> Result<(), Problem> {
        let at = mark(span.start.line() + self.lines, span.start.col());
        match event {
            Event::DocumentStart(_) => {
                self.document += 1;
                self.anchors.clear();
                (self.aliased, self.root) = (0, None);
            }
            Event::DocumentEnd => {
                if let Some(node) = self.root.take() {
                    let problems = std::mem::take(&mut self.problems);
                    sink(Unit::Document { document: self.document, node, problems });
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let scalar = self.scalar(text.into_owned(), style, tag.as_deref(), at);
                self.complete(Node { at, value: Value::Scalar(scalar) }, anchor, sink);
            }
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id).cloned() else {
                    return Err(Problem { at, message: "alias to an unknown anchor".into() });
                };
                self.aliased += node.count();
                if self.aliased > MAX_ALIASED_NODES {
                    return Err(Problem {
                        at,
                        message: format!(
                            "aliases expand this document to more than {MAX_ALIASED_NODES} nodes; \
                             refused as a YAML bomb"
                        ),
                    });
                }
                self.complete(Node { at, ..node }, 0, sink);
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(at, tag.as_deref(), "seq")?;
                let streamed = self.opens_items();
                self.stack.push(Frame::Seq { at, anchor, items: Vec::new(), streamed });
            }
            Event::MappingStart(anchor, tag) => {
                self.open(at, tag.as_deref(), "map")?;
                self.stack.push(Frame::Map {
                    at,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                    merges: Vec::new(),
                    seen: None,
                    concatenated: false,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop().expect("the parser balances collections") {
                    Frame::Seq { at, anchor, items, .. } => (Node { at, value: Value::Seq(items) }, anchor),
                    Frame::Map { at, anchor, entries, merges, .. } => {
                        let entries = self.merge(entries, merges);
                        (Node { at, value: Value::Map(entries) }, anchor)
                    }
                };
                self.complete(node.0, node.1, sink);
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn open(&mut self, at: Mark, tag: Option<&Tag>, kind: &str) -> Result<(), Problem> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(Problem { at, message: format!("nested deeper than {MAX_DEPTH} levels") });
        }
        if let Some(tag) = tag
            && !(tag.is_yaml_core_schema() && tag.suffix == kind)
        {
            self.problem(at, format!("tag {} is not supported: Kubernetes manifests are plain JSON data", shown(tag)));
        }
        Ok(())
    }

    /// A list under the top-level key `items` of a document.
    fn opens_items(&self) -> bool {
        (self.stream_root && self.stack.is_empty())
            || (self.stream_items
                && matches!(self.stack.as_slice(), [Frame::Map { key: Some(k), .. }] if k.text == "items"))
    }

    fn in_item(&self) -> bool {
        self.stack.iter().take(2).any(|f| matches!(f, Frame::Seq { streamed: true, .. }))
    }

    fn problem(&mut self, at: Mark, message: String) {
        let problem = Problem { at, message };
        if self.in_item() { self.item_problems.push(problem) } else { self.problems.push(problem) }
    }

    fn scalar(&mut self, text: String, style: ScalarStyle, tag: Option<&Tag>, at: Mark) -> Scalar {
        let plain = style == ScalarStyle::Plain;
        let typed = match tag {
            None if plain => resolve(&text),
            None => Typed::Str,
            Some(tag) if tag.is_yaml_core_schema() => match tag.suffix.as_str() {
                "str" => Typed::Str,
                wanted @ ("int" | "bool" | "float" | "null") => {
                    let typed = resolve(&text);
                    let matches = matches!(
                        (wanted, typed),
                        ("int", Typed::Int(_) | Typed::Uint(_))
                            | ("bool", Typed::Bool(_))
                            | ("null", Typed::Null)
                            | ("float", Typed::Float(_) | Typed::Int(_) | Typed::Uint(_))
                    );
                    if !matches {
                        self.problem(at, format!("{:?} is not a valid !!{wanted}", text));
                    }
                    typed
                }
                _ => {
                    self.problem(
                        at,
                        format!("tag {} is not supported: Kubernetes manifests are plain JSON data", shown(tag)),
                    );
                    Typed::Str
                }
            },
            Some(tag) => {
                self.problem(
                    at,
                    format!("tag {} is not supported: Kubernetes manifests are plain JSON data", shown(tag)),
                );
                Typed::Str
            }
        };
        Scalar { text, typed, plain }
    }

    /// A finished node goes to its parent, or is the document (or an item).
    fn complete(&mut self, node: Node, anchor: usize, sink: &mut impl FnMut(Unit)) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let top = self.stack.len() == 1;
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        match parent {
            Frame::Seq { streamed: true, .. } => {
                let problems = std::mem::take(&mut self.item_problems);
                sink(Unit::Item { document: self.document, node, problems });
            }
            Frame::Seq { items, .. } => items.push(node),
            Frame::Map { key: key @ None, .. } => {
                let at = node.at;
                let result = match node.value {
                    Value::Scalar(s) => Ok(Key { merge: s.plain && s.text == "<<", text: key_text(s), at }),
                    _ => Err(at),
                };
                match result {
                    Ok(k) => *key = Some(k),
                    Err(at) => {
                        // Keep the structure: the value is read under a key no one can name.
                        *key = Some(Key { text: String::new(), at, merge: false });
                        self.problem(at, "a mapping key must be a string, not a list or a mapping".into());
                    }
                }
            }
            Frame::Map { key, entries, merges, seen, concatenated, .. } => {
                let key = key.take().expect("matched above");
                if key.merge {
                    merges.push(node);
                    return;
                }
                let first = find(entries, seen, &key.text);
                if let Some(first) = first {
                    let message = if top && ["apiVersion", "kind"].contains(&key.text.as_str()) {
                        if std::mem::replace(concatenated, true) {
                            return;
                        }
                        format!(
                            "`{}` again on line {} (first on line {}): objects written one after another need a \
                             `---` line between them",
                            key.text, key.at.line, first.line
                        )
                    } else if top && *concatenated {
                        return;
                    } else {
                        format!(
                            "duplicate key `{}` (first on line {}, again on line {}); a second value would silently \
                             replace the first",
                            key.text, first.line, key.at.line
                        )
                    };
                    self.problem(key.at, message);
                    return;
                }
                entries.push(Entry { key: key.text, key_at: key.at, value: node });
            }
        }
    }

    /// YAML merge keys (`<<: *defaults`), as kubectl reads them: keys
    /// written in the mapping win, then earlier merged mappings.
    fn merge(&mut self, mut entries: Vec<Entry>, merges: Vec<Node>) -> Vec<Entry> {
        for source in merges {
            let maps = match source.value {
                Value::Map(m) => vec![m],
                Value::Seq(items) if items.iter().all(|i| matches!(i.value, Value::Map(_))) => items
                    .into_iter()
                    .map(|i| match i.value {
                        Value::Map(m) => m,
                        _ => unreachable!("checked above"),
                    })
                    .collect(),
                _ => {
                    self.problem(source.at, "a merge key `<<` takes a mapping or a list of mappings".into());
                    continue;
                }
            };
            for map in maps {
                for entry in map {
                    if !entries.iter().any(|e| e.key == entry.key) {
                        entries.push(entry);
                    }
                }
            }
        }
        entries
    }
}

/// Where `key` was first written in this mapping. Small mappings are
/// scanned; large ones (a ConfigMap's data) get a set.
fn find(entries: &[Entry], seen: &mut Option<HashSet<String>>, key: &str) -> Option<Mark> {
    const SCAN: usize = 32;
    if entries.len() >= SCAN {
        let set = seen.get_or_insert_with(|| entries.iter().map(|e| e.key.clone()).collect());
        if set.insert(key.to_string()) {
            return None;
        }
    }
    entries.iter().find(|e| e.key == key).map(|e| e.key_at)
}

/// The JSON key kubectl makes of a YAML key: typed keys become their text
/// in canonical form (`on` is `true`, `0x10` is `16`).
fn key_text(s: Scalar) -> String {
    match s.typed {
        Typed::Str => s.text,
        Typed::Null => "null".into(),
        Typed::Bool(b) => b.to_string(),
        Typed::Int(i) => i.to_string(),
        Typed::Uint(u) => u.to_string(),
        Typed::Float(f) => f.to_string(),
    }
}

/// A tag as it is written: `!!binary`, `!custom`.
fn shown(tag: &Tag) -> String {
    if tag.is_yaml_core_schema() { format!("!!{}", tag.suffix) } else { tag.to_string() }
}
