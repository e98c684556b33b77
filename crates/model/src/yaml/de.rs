//! Typed decoding straight from a positioned tree: every error knows the
//! field path and the line and column it is about, and every field that the
//! target type does not have is recorded (with its position) instead of
//! vanishing, so that the caller can decide whether a misspelt field is an
//! error or a warning.

use super::node::{Entry, Mark, Node, Scalar, Typed, Value};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::cell::RefCell;
use std::fmt;

/// A field that the target type does not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unknown {
    /// The Rust type that was being read (`ObjectMeta`, `PodSpec`, ...).
    pub within: &'static str,
    /// The fields that type reads.
    pub expected: &'static [&'static str],
    pub path: String,
    pub key: String,
    pub at: Mark,
}

/// The unknown fields found so far, and which to keep.
struct Unknowns {
    found: RefCell<Vec<Unknown>>,
    record: Record,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    pub path: String,
    pub at: Mark,
    located: bool,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error { message: msg.to_string(), path: String::new(), at: Mark::default(), located: false }
    }
}

impl Error {
    fn locate(mut self, at: Mark, path: &Path<'_>) -> Self {
        if !self.located {
            (self.at, self.path, self.located) = (at, path.to_string(), true);
        }
        self
    }
}

/// Which fields that a type does not read are worth recording: given the
/// type's name and the key (most are fields Kubernetes defines and the
/// caller ignores; recording each would cost a path string).
pub type Record = fn(within: &'static str, key: &str) -> bool;

/// Decodes `node` as a `T`; the fields `T` does not read (those `record`
/// keeps) are returned, also with an error (a type that refuses unknown
/// fields fails on one).
pub fn from_node<'de, T: de::Deserialize<'de>>(
    node: &'de Node,
    record: Record,
) -> Result<(T, Vec<Unknown>), (Error, Vec<Unknown>)> {
    let unknown = Unknowns { found: RefCell::new(Vec::new()), record };
    match T::deserialize(NodeDe { node, path: Path::Root, unknown: &unknown }) {
        Ok(value) => Ok((value, unknown.found.into_inner())),
        Err(e) => Err((e, unknown.found.into_inner())),
    }
}

/// Where a node is, as a linked list on the stack: rendered only when needed.
#[derive(Clone, Copy)]
enum Path<'de> {
    Root,
    Key(&'de Path<'de>, &'de str),
    Index(&'de Path<'de>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(Path::Root, k) => f.write_str(k),
            Path::Key(parent, k) => write!(f, "{parent}.{k}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

struct NodeDe<'de, 'p> {
    node: &'de Node,
    path: Path<'p>,
    unknown: &'p Unknowns,
}

impl<'de> NodeDe<'de, '_> {
    fn scalar<V: Visitor<'de>>(&self, s: &'de Scalar, visitor: V) -> Result<V::Value, Error> {
        let result = match s.typed {
            Typed::Null => visitor.visit_unit(),
            Typed::Bool(b) => visitor.visit_bool(b),
            Typed::Int(i) => visitor.visit_i64(i),
            Typed::Uint(u) => visitor.visit_u64(u),
            Typed::Float(f) => visitor.visit_f64(f),
            Typed::Str => visitor.visit_borrowed_str(&s.text),
        };
        result.map_err(|e: Error| {
            if e.located || !s.plain || s.typed == Typed::Str {
                return e;
            }
            // `tier: yes` read as a boolean: say why, and how to keep the text.
            let message = format!(
                "{}; unquoted `{}` is {} to kubectl (YAML 1.1): write \"{}\" for the text",
                e.message,
                s.text,
                s.typed.name(),
                s.text
            );
            Error { message, ..e }
        })
    }
}

impl<'de> de::Deserializer<'de> for NodeDe<'de, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let result = match &self.node.value {
            Value::Scalar(s) => self.scalar(s, visitor),
            Value::Seq(items) => {
                visitor.visit_seq(SeqDe { items: items.iter(), index: 0, path: &self.path, unknown: self.unknown })
            }
            Value::Map(entries) => visitor.visit_map(MapDe::new(entries, None, &self.path, self.unknown)),
        };
        result.map_err(|e| e.locate(self.node.at, &self.path))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.node.is_null() {
            return visitor.visit_none();
        }
        let (at, path) = (self.node.at, self.path);
        visitor.visit_some(self).map_err(|e| e.locate(at, &path))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let result = match &self.node.value {
            Value::Map(entries) => {
                visitor.visit_map(MapDe::new(entries, Some((name, fields)), &self.path, self.unknown))
            }
            _ => return self.deserialize_any(visitor),
        };
        result.map_err(|e| e.locate(self.node.at, &self.path))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let result: Result<V::Value, Error> = match &self.node.value {
            Value::Scalar(s) => visitor.visit_enum(s.text.as_str().into_deserializer()),
            _ => Err(de::Error::custom("expected the name of a variant")),
        };
        result.map_err(|e| e.locate(self.node.at, &self.path))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

struct SeqDe<'de, 'p> {
    items: std::slice::Iter<'de, Node>,
    index: usize,
    path: &'p Path<'p>,
    unknown: &'p Unknowns,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'de, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        let Some(node) = self.items.next() else { return Ok(None) };
        let path = Path::Index(self.path, self.index);
        self.index += 1;
        seed.deserialize(NodeDe { node, path, unknown: self.unknown }).map(Some).map_err(|e| e.locate(node.at, &path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDe<'de, 'p> {
    /// Entries with a null value are absent, as in Kubernetes (`labels:`
    /// with nothing after it is no labels).
    entries: std::iter::Filter<std::slice::Iter<'de, Entry>, fn(&&Entry) -> bool>,
    current: Option<&'de Entry>,
    fields: Option<(&'static str, &'static [&'static str])>,
    path: &'p Path<'p>,
    unknown: &'p Unknowns,
}

impl<'de, 'p> MapDe<'de, 'p> {
    fn new(
        entries: &'de [Entry],
        fields: Option<(&'static str, &'static [&'static str])>,
        path: &'p Path<'p>,
        unknown: &'p Unknowns,
    ) -> Self {
        let present: fn(&&Entry) -> bool = |e| !e.value.is_null();
        MapDe { entries: entries.iter().filter(present), current: None, fields, path, unknown }
    }
}

impl<'de> de::MapAccess<'de> for MapDe<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some(entry) = self.entries.next() else { return Ok(None) };
        self.current = Some(entry);
        let path = Path::Key(self.path, &entry.key);
        if let Some((within, expected)) = self.fields
            && !expected.contains(&entry.key.as_str())
            && (self.unknown.record)(within, &entry.key)
        {
            self.unknown.found.borrow_mut().push(Unknown {
                within,
                expected,
                path: self.path.to_string(),
                key: entry.key.clone(),
                at: entry.key_at,
            });
        }
        let key: de::value::BorrowedStrDeserializer<'de, Error> = de::value::BorrowedStrDeserializer::new(&entry.key);
        seed.deserialize(key).map(Some).map_err(|e| e.locate(entry.key_at, &path))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let entry = self.current.take().expect("serde asks for a key first");
        let path = Path::Key(self.path, &entry.key);
        let node = &entry.value;
        seed.deserialize(NodeDe { node, path, unknown: self.unknown }).map_err(|e| e.locate(node.at, &path))
    }
}
