//! The block YAML that kubectl prints, read line by line.
//!
//! `kubectl get -o yaml` (go-yaml) writes a narrow part of YAML: mappings
//! and sequences in block style indented with spaces, one-line plain and
//! quoted scalars, `{}` and `[]`, literal block scalars. saphyr-parser reads
//! any YAML at 20-30 MB/s (character by character, through a token queue);
//! most of a 50,000-pod dump's reading time was spent there. This reader
//! knows only that narrow part, reads it a line at a time several times
//! faster, and gives the same events with the same positions. Anything
//! else (comments, anchors, tags, flow collections with content, folded or
//! multi-line scalars, tabs, carriage returns, control characters) makes it
//! answer `None`, and the caller reads that item with saphyr-parser. A test
//! holds the two readers to the same events on every item this one accepts.

use saphyr_parser::{Event, Marker, ScalarStyle, Span};
use std::borrow::Cow;

/// Events of one item with where each starts (lines counted from 1 at the
/// item's first line).
pub(super) type Events<'a> = Vec<(Event<'a>, Span)>;

/// Deeper than this is left to the general reader, which reports depth.
const MAX_DEPTH: usize = 48;
/// YAML allows implicit keys of at most 1024 characters.
const MAX_KEY: usize = 1024;

/// A line that starts a list item at column 0: `- ...` or a lone `-`.
pub(crate) fn is_item_start(line: &str) -> bool {
    line.starts_with("- ") || line.trim_end_matches([' ', '\t', '\r', '\n']) == "-"
}

/// The items of a list written from column 0, each with its first line
/// (counted from `first_line`). Text before the first item start (there is
/// none in a list cut by `decode::split`) makes the whole text one item.
pub(super) fn items(text: &str, first_line: usize) -> impl Iterator<Item = (&str, usize)> {
    let mut rest = text;
    let mut line = first_line;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = 0;
        let mut lines = 0;
        for l in rest.split_inclusive('\n') {
            if end > 0 && is_item_start(l) {
                break;
            }
            end += l.len();
            lines += 1;
        }
        let item = (&rest[..end], line);
        rest = &rest[end..];
        line += lines;
        Some(item)
    })
}

/// A document is read by lines when it is at most this long: its events are
/// held until it is read whole (a longer one is a list read item by item).
const MAX_DOCUMENT: usize = 1 << 20;

/// The documents of a text of several (`---` lines between them), each
/// with its first line and whether a `---` line opened it; `None` when the
/// text holds what only the general reader reads the same way: directives,
/// `...`, text after `---`, or a document with nothing in it; or when a
/// document is longer than `MAX_DOCUMENT`.
pub(super) fn documents(text: &str) -> Option<Vec<(&str, usize, bool)>> {
    let mut out = Vec::new();
    let (mut start, mut first_line, mut explicit) = (0, 1, false);
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let b = line.as_bytes();
        if matches!(b.first(), Some(b'%')) || line.starts_with("...") {
            return None;
        }
        if line.starts_with("---") {
            if line.trim_end_matches([' ', '\n']) != "---" {
                return None;
            }
            out.push((&text[start..offset], first_line, explicit));
            (start, first_line, explicit) = (offset + line.len(), i + 2, true);
        }
        offset += line.len();
    }
    out.push((&text[start..], first_line, explicit));
    // Nothing before the first `---` is no document; an empty one anywhere
    // else is a null document.
    if out.len() > 1 && out[0].0.bytes().all(|b| b == b' ' || b == b'\n') {
        out.remove(0);
    }
    out.iter().all(|(d, ..)| d.len() <= MAX_DOCUMENT && d.bytes().any(|b| b != b' ' && b != b'\n')).then_some(out)
}

/// The events of one document that is a block mapping (`text` is the
/// document without its `---` line), its start and end included.
pub(super) fn document(text: &str, explicit: bool) -> Option<Events<'_>> {
    let mut reader = Block::new(text)?;
    let first = reader.next_content()?;
    if reader.lines[first].indent != 0 {
        return None;
    }
    reader.push(Event::DocumentStart(explicit), first, 0);
    reader.mapping(first, 0)?;
    if reader.next_content().is_some() {
        return None;
    }
    let last = reader.lines.len() - 1;
    reader.push(Event::DocumentEnd, last, 0);
    Some(reader.events)
}

/// The events of the node of one item (`text` starts with `-` at column 0
/// and has nothing else at column 0), without the enclosing sequence's.
pub(super) fn item(text: &str) -> Option<Events<'_>> {
    let mut reader = Block::new(text)?;
    if reader.lines.first().is_none_or(|l| !is_entry(l.text)) {
        return None;
    }
    reader.entry(0, 0)?;
    if reader.next_content().is_some() {
        return None;
    }
    Some(reader.events)
}

/// A line that is not empty (empty lines are not kept: a list cut out of a
/// file leaves millions of them in its wrapper).
struct Line<'a> {
    /// Leading spaces.
    indent: usize,
    text: &'a str,
    /// Byte offset of the line in the text.
    offset: usize,
    /// Line number in the text, from 0.
    number: usize,
}

impl Line<'_> {
    fn blank(&self) -> bool {
        self.indent == self.text.len()
    }
}

/// The lines of `text` that are not empty, and how many lines it has; or
/// `None` if it holds a byte this reader leaves to the general one: control
/// characters (tabs and carriage returns among them) and, in lines that are
/// not ASCII, the characters YAML refuses.
fn lines(text: &str) -> Option<(Vec<Line<'_>>, usize)> {
    let mut out = Vec::with_capacity(text.len() / 24);
    let mut offset = 0;
    let mut count = 0;
    for (number, text) in text.split_terminator('\n').enumerate() {
        count = number + 1;
        if text.is_empty() {
            offset += 1;
            continue;
        }
        let mut ascii = true;
        for &b in text.as_bytes() {
            if b < 0x20 || b == 0x7f {
                return None;
            }
            ascii &= b < 0x80;
        }
        if !ascii && text.chars().any(|c| !printable(c)) {
            return None;
        }
        let indent = text.bytes().take_while(|&b| b == b' ').count();
        out.push(Line { indent, text, offset, number });
        offset += text.len() + 1;
    }
    Some((out, count))
}

/// YAML's printable set, for characters outside ASCII.
fn printable(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

fn is_entry(s: &str) -> bool {
    s == "-" || s.starts_with("- ")
}

/// The length of the plain key that `s` starts with, if `s` is `key:`
/// followed by a space or the end of the line. Keys are ASCII (so that
/// columns after them are bytes), as Kubernetes field names, label and
/// annotation keys and server-side apply's `f:`/`k:{...}` keys are.
fn key_len(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    if !starts_plain(bytes) {
        return None;
    }
    let mut i = 0;
    loop {
        let b = *bytes.get(i)?;
        if b == b':' && matches!(bytes.get(i + 1), None | Some(b' ')) {
            break;
        }
        if b >= 0x80 || (b == b'#' && bytes[i - 1] == b' ') || i == MAX_KEY {
            return None;
        }
        i += 1;
    }
    (bytes[i - 1] != b' ').then_some(i)
}

/// Whether a plain scalar may start here: not with an indicator, except
/// `-`, `?` and `:` before a character that is not a space.
fn starts_plain(bytes: &[u8]) -> bool {
    match bytes.first() {
        None | Some(b' ') => false,
        Some(b'-' | b'?' | b':') => !matches!(bytes.get(1), None | Some(b' ')),
        Some(
            b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@'
            | b'`',
        ) => false,
        Some(_) => true,
    }
}

enum Chomp {
    Clip,
    Strip,
    Keep,
}

struct Block<'a> {
    lines: Vec<Line<'a>>,
    /// Lines in the text, empty ones included.
    count: usize,
    /// The first line not read yet.
    at: usize,
    depth: usize,
    events: Events<'a>,
}

impl<'a> Block<'a> {
    fn new(text: &'a str) -> Option<Self> {
        // A last line without its line break ends a literal differently.
        if !text.ends_with('\n') {
            return None;
        }
        let (lines, count) = lines(text)?;
        if lines.is_empty() {
            return None;
        }
        Some(Block { lines, count, at: 0, depth: 0, events: Vec::with_capacity(text.len() / 12) })
    }

    fn mark(&self, line: usize, col: usize) -> Span {
        let line = &self.lines[line];
        let m = Marker::new(line.offset + col, line.number + 1, col);
        Span::new(m, m)
    }

    fn push(&mut self, event: Event<'a>, line: usize, col: usize) {
        let span = self.mark(line, col);
        self.events.push((event, span));
    }

    fn scalar(&mut self, text: Cow<'a, str>, style: ScalarStyle, line: usize, col: usize) {
        self.push(Event::Scalar(text, style, 0, None), line, col);
    }

    /// The next line from `at` that is not blank.
    fn next_content(&self) -> Option<usize> {
        (self.at..self.lines.len()).find(|&i| !self.lines[i].blank())
    }

    fn deeper(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// A sequence entry whose `-` is at (`line`, `dash`).
    fn entry(&mut self, line: usize, dash: usize) -> Option<()> {
        let text = self.lines[line].text;
        let rest = &text[dash + 1..];
        let content = dash + 1 + rest.bytes().take_while(|&b| b == b' ').count();
        if content == text.len() {
            // saphyr-parser places an empty entry where its line ends.
            self.at = line + 1;
            return self.value_below(dash, line, content, true);
        }
        let s = &text[content..];
        if is_entry(s) {
            return None;
        }
        if key_len(s).is_some() {
            return self.mapping(line, content);
        }
        self.inline(line, content, dash)
    }

    /// A block mapping whose first key is at (`first`, `indent`).
    fn mapping(&mut self, first: usize, indent: usize) -> Option<()> {
        self.deeper()?;
        self.push(Event::MappingStart(0, None), first, indent);
        let mut line = first;
        loop {
            let text = self.lines[line].text;
            let key = key_len(&text[indent..])?;
            self.scalar(Cow::Borrowed(&text[indent..indent + key]), ScalarStyle::Plain, line, indent);
            let colon = indent + key;
            let value = colon + 1 + text[colon + 1..].bytes().take_while(|&b| b == b' ').count();
            if value < text.len() {
                self.inline(line, value, indent)?;
            } else {
                self.at = line + 1;
                self.value_below(indent, line, colon, false)?;
            }
            match self.next_content() {
                Some(next) if self.lines[next].indent == indent => line = next,
                Some(next) if self.lines[next].indent > indent => return None,
                _ => break,
            }
        }
        let end = self.at.min(self.lines.len() - 1);
        self.push(Event::MappingEnd, end, 0);
        self.depth -= 1;
        Some(())
    }

    /// A block sequence whose first `-` is at (`first`, `indent`);
    /// `indentless` when it is a mapping's value written at the key's
    /// indentation (as go-yaml writes lists).
    fn sequence(&mut self, first: usize, indent: usize, indentless: bool) -> Option<()> {
        self.deeper()?;
        // saphyr-parser places an indentless list where its first entry's
        // content starts; one that starts with an empty entry is left to it.
        let start = if indentless {
            let text = self.lines[first].text;
            let content = indent + 1 + text[indent + 1..].bytes().take_while(|&b| b == b' ').count();
            if content == text.len() {
                return None;
            }
            content
        } else {
            indent
        };
        self.push(Event::SequenceStart(0, None), first, start);
        let mut line = first;
        loop {
            self.entry(line, indent)?;
            match self.next_content() {
                Some(next) if self.lines[next].indent > indent => return None,
                Some(next) if self.lines[next].indent == indent => {
                    if !is_entry(&self.lines[next].text[indent..]) {
                        if indentless {
                            break;
                        }
                        return None;
                    }
                    line = next;
                }
                _ => break,
            }
        }
        let end = self.at.min(self.lines.len() - 1);
        self.push(Event::SequenceEnd, end, 0);
        self.depth -= 1;
        Some(())
    }

    /// The value of a key, or of an entry, with nothing after its `:` or
    /// `-` (at `line`, `col`): a collection on the lines below, or null.
    /// `owner` is the indentation of the key or the `-`.
    fn value_below(&mut self, owner: usize, line: usize, col: usize, in_sequence: bool) -> Option<()> {
        match self.next_content() {
            Some(next) if self.lines[next].indent > owner => {
                let indent = self.lines[next].indent;
                let s = &self.lines[next].text[indent..];
                if is_entry(s) {
                    self.sequence(next, indent, false)
                } else if key_len(s).is_some() {
                    self.mapping(next, indent)
                } else {
                    None
                }
            }
            Some(next)
                if !in_sequence && self.lines[next].indent == owner && is_entry(&self.lines[next].text[owner..]) =>
            {
                self.sequence(next, owner, true)
            }
            _ => {
                self.scalar(Cow::Borrowed(""), ScalarStyle::Plain, line, col);
                Some(())
            }
        }
    }

    /// A value written on its key's (or entry's) line from `col`; `owner`
    /// is the indentation of the key or the `-`: the lines below must not
    /// continue it.
    fn inline(&mut self, line: usize, col: usize, owner: usize) -> Option<()> {
        let s = &self.lines[line].text[col..];
        let (event, style) = match s.as_bytes()[0] {
            b'"' => (double_quoted(&s[1..])?, ScalarStyle::DoubleQuoted),
            b'\'' => (single_quoted(&s[1..])?, ScalarStyle::SingleQuoted),
            b'{' | b'[' => {
                let (start, end) = match s.trim_end_matches(' ') {
                    "{}" => (Event::MappingStart(0, None), Event::MappingEnd),
                    "[]" => (Event::SequenceStart(0, None), Event::SequenceEnd),
                    _ => return None,
                };
                self.push(start, line, col);
                self.push(end, line, col + 1);
                return self.ends_at(line, owner);
            }
            b'|' => {
                let chomp = match s.trim_end_matches(' ') {
                    "|" => Chomp::Clip,
                    "|-" => Chomp::Strip,
                    "|+" => Chomp::Keep,
                    _ => return None,
                };
                return self.literal(line, owner, chomp);
            }
            _ if !starts_plain(s.as_bytes()) => return None,
            _ => {
                let plain = s.trim_end_matches(' ');
                if plain.contains(": ") || plain.contains(" #") || plain.ends_with(':') {
                    return None;
                }
                (Cow::Borrowed(plain), ScalarStyle::Plain)
            }
        };
        self.scalar(event, style, line, col);
        self.ends_at(line, owner)
    }

    /// A one-line value ended on `line`: the next line with content must
    /// not be indented past the value's owner (it would continue it).
    fn ends_at(&mut self, line: usize, owner: usize) -> Option<()> {
        self.at = line + 1;
        match self.next_content() {
            Some(next) if self.lines[next].indent > owner => None,
            _ => Some(()),
        }
    }

    /// A literal block scalar (`|`, `|-`, `|+`) whose header is on
    /// `header`, for a key or entry at indentation `owner`.
    fn literal(&mut self, header: usize, owner: usize, chomp: Chomp) -> Option<()> {
        let first = (header + 1..self.lines.len()).find(|&i| !self.lines[i].blank())?;
        let indent = self.lines[first].indent;
        if indent <= owner || (header + 1..first).any(|i| self.lines[i].text.len() > indent) {
            return None;
        }
        let mut last = first;
        let mut i = header + 1;
        while i < self.lines.len() {
            let line = &self.lines[i];
            if line.blank() {
                if line.text.len() > indent {
                    return None;
                }
            } else if line.indent < indent {
                break;
            } else {
                last = i;
            }
            i += 1;
        }
        let mut text = String::new();
        let mut previous = self.lines[header].number;
        for line in &self.lines[header + 1..=last] {
            // Empty lines are not kept: their number says where they were.
            text.extend(std::iter::repeat_n('\n', line.number - previous - 1));
            previous = line.number;
            if !line.blank() {
                text.push_str(&line.text[indent..]);
            }
            text.push('\n');
        }
        match chomp {
            Chomp::Clip => {}
            Chomp::Strip => {
                text.pop();
            }
            Chomp::Keep => {
                let next = self.lines.get(i).map_or(self.count, |l| l.number);
                text.extend(std::iter::repeat_n('\n', next - previous - 1));
            }
        }
        self.scalar(Cow::Owned(text), ScalarStyle::Literal, first, indent);
        self.ends_at(last, owner)
    }
}

/// A double-quoted scalar closed on its line, after its opening quote;
/// only spaces may follow it.
fn double_quoted(s: &str) -> Option<Cow<'_, str>> {
    let bytes = s.as_bytes();
    let end = bytes.iter().position(|&b| b == b'"' || b == b'\\')?;
    if bytes[end] == b'"' {
        return rest_is_blank(&s[end + 1..]).then_some(Cow::Borrowed(&s[..end]));
    }
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..end]);
    let mut chars = s[end..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return rest_is_blank(&s[end + i + 1..]).then_some(Cow::Owned(out)),
            '\\' => {
                let (_, e) = chars.next()?;
                let hex = |chars: &mut std::str::CharIndices<'_>, n: usize| -> Option<char> {
                    let digits: String = chars.by_ref().take(n).map(|(_, c)| c).collect();
                    if digits.len() != n || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return None;
                    }
                    char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
                };
                out.push(match e {
                    '0' => '\0',
                    'a' => '\x07',
                    'b' => '\x08',
                    't' => '\t',
                    'n' => '\n',
                    'v' => '\x0b',
                    'f' => '\x0c',
                    'r' => '\r',
                    'e' => '\x1b',
                    ' ' | '"' | '/' | '\\' => e,
                    'N' => '\u{85}',
                    '_' => '\u{a0}',
                    'L' => '\u{2028}',
                    'P' => '\u{2029}',
                    'x' => hex(&mut chars, 2)?,
                    'u' => hex(&mut chars, 4)?,
                    'U' => hex(&mut chars, 8)?,
                    _ => return None,
                });
            }
            c => out.push(c),
        }
    }
    None
}

/// A single-quoted scalar closed on its line, after its opening quote.
fn single_quoted(s: &str) -> Option<Cow<'_, str>> {
    let mut out: Option<String> = None;
    let mut from = 0;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                out.get_or_insert_with(String::new).push_str(&s[from..=i]);
                i += 2;
                from = i;
                continue;
            }
            if !rest_is_blank(&s[i + 1..]) {
                return None;
            }
            return Some(match out {
                None => Cow::Borrowed(&s[..i]),
                Some(mut o) => {
                    o.push_str(&s[from..i]);
                    Cow::Owned(o)
                }
            });
        }
        i += 1;
    }
    None
}

fn rest_is_blank(s: &str) -> bool {
    s.bytes().all(|b| b == b' ')
}

#[cfg(test)]
#[path = "block_tests.rs"]
mod tests;
