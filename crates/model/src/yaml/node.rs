//! A YAML document as a tree that remembers where each part was written, so
//! that every problem found later can be reported as `file:line:column`.

use serde::Serialize;
use std::fmt;

/// A position in the text: 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Mark {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub at: Mark,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A mapping entry. The key is kept as the string Kubernetes makes of it
/// (`on:` is the key `"true"`, as sigs.k8s.io/yaml converts it).
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_at: Mark,
    pub value: Node,
}

/// A scalar as written, and the type kubectl's YAML reader gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub typed: Typed,
    /// Written without quotes: only plain scalars are typed by their text.
    pub plain: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Typed {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str,
}

impl Typed {
    /// What the type is called in messages.
    pub fn name(self) -> &'static str {
        match self {
            Typed::Null => "null",
            Typed::Bool(_) => "a boolean",
            Typed::Int(_) | Typed::Uint(_) => "an integer",
            Typed::Float(_) => "a number",
            Typed::Str => "a string",
        }
    }
}

impl Node {
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(Scalar { typed: Typed::Null, .. }))
    }

    /// The value under `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.value),
            _ => None,
        }
    }

    /// The text of a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(Scalar { text, typed: Typed::Str, .. }) => Some(text),
            _ => None,
        }
    }

    /// How many nodes this tree holds (aliases copy whole trees: this is
    /// what a YAML bomb makes large).
    pub fn count(&self) -> usize {
        1 + match &self.value {
            Value::Scalar(_) => 0,
            Value::Seq(items) => items.iter().map(Node::count).sum(),
            Value::Map(entries) => entries.iter().map(|e| e.value.count()).sum(),
        }
    }

    /// Where the field at `path` (as diagnostics write it:
    /// `spec.ingress[0].fromPort`, `metadata.labels.app.kubernetes.io/name`)
    /// was written: the key for a mapping entry, the item for a list index.
    /// The deepest part that exists answers when the rest does not.
    pub fn locate(&self, path: &str) -> Mark {
        let mut node = self;
        let mut at = self.at;
        let mut rest = path;
        loop {
            rest = rest.strip_prefix('.').unwrap_or(rest);
            if rest.is_empty() {
                return at;
            }
            if let Some(tail) = rest.strip_prefix('[') {
                let Some((index, tail)) = tail.split_once(']') else { return at };
                let item = match (&node.value, index.parse::<usize>()) {
                    (Value::Seq(items), Ok(i)) => items.get(i),
                    _ => None,
                };
                let Some(item) = item else { return at };
                (node, at, rest) = (item, item.at, tail);
                continue;
            }
            let Value::Map(entries) = &node.value else { return at };
            // Keys may hold dots (label keys): the longest key that the path
            // continues from wins.
            let found = entries
                .iter()
                .filter(|e| {
                    rest.strip_prefix(e.key.as_str())
                        .is_some_and(|tail| tail.is_empty() || tail.starts_with('.') || tail.starts_with('['))
                })
                .max_by_key(|e| e.key.len());
            let Some(entry) = found else { return at };
            rest = &rest[entry.key.len()..];
            node = &entry.value;
            at = if rest.is_empty() { entry.key_at } else { entry.value.at };
        }
    }
}

impl Node {
    /// The JSON value kubectl sends for this node (null-valued keys kept;
    /// numbers that JSON cannot hold, `.inf` and `.nan`, become null).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Scalar(s) => match s.typed {
                Typed::Null => J::Null,
                Typed::Bool(b) => J::Bool(b),
                Typed::Int(i) => J::from(i),
                Typed::Uint(u) => J::from(u),
                Typed::Float(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
                Typed::Str => J::String(s.text.clone()),
            },
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(entries.iter().map(|e| (e.key.clone(), e.value.to_json())).collect()),
        }
    }
}
