//! Diagnostics: every problem podsg reports about its input has one shape,
//! `file: Kind/ns/name: field.path: value: what is allowed`, so that a person
//! can find the exact spot and a program can read the JSON form.

use crate::yaml::Mark;
use serde::Serialize;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

/// Where an object came from: a file, the YAML document in it, and where
/// the object starts (an item of a `kind: List` starts inside its document).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Origin {
    pub file: String,
    /// 1-based index of the YAML document in the file.
    pub document: usize,
    /// Where the object starts; line 0 when not known.
    #[serde(flatten)]
    pub at: Mark,
}

impl Origin {
    pub fn new(file: impl Into<String>, document: usize) -> Self {
        Origin { file: file.into(), document, at: Mark::default() }
    }

    pub fn at(file: impl Into<String>, document: usize, at: Mark) -> Self {
        Origin { file: file.into(), document, at }
    }
}

impl fmt::Display for Origin {
    /// `file:line:column`, or `file` when the position is not known.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.line > 0 { write!(f, "{}:{}", self.file, self.at) } else { f.write_str(&self.file) }
    }
}

/// The object a diagnostic is about, as `Kind/ns/name` or `Kind/name`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn new(kind: &str, namespace: Option<&str>, name: &str) -> Self {
        ObjectRef { kind: kind.to_string(), namespace: namespace.map(str::to_string), name: name.to_string() }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
    /// Field path inside the object, e.g. `spec.ingress[0].fromPort`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Where in the file the field (or the value) is written, when known.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub position: Option<Mark>,
    /// The offending value as written, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub message: String,
}

impl Diagnostic {
    pub fn error(path: impl Into<String>, value: Option<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            origin: None,
            object: None,
            path: path.into(),
            position: None,
            value,
            message: message.into(),
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error("", None, message) }
    }

    pub fn note(message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Note, ..Diagnostic::error("", None, message) }
    }

    pub fn at(mut self, origin: Option<&Origin>, object: Option<&ObjectRef>) -> Self {
        if self.origin.is_none() {
            self.origin = origin.cloned();
        }
        if self.object.is_none() {
            self.object = object.cloned();
        }
        self
    }

    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    pub fn with_value(mut self, value: &str) -> Self {
        self.value = Some(value.to_string());
        self
    }

    pub fn with_position(mut self, at: Mark) -> Self {
        self.position = Some(at);
        self
    }

    /// `file:line:column` of the field, else of the object.
    pub fn location(&self) -> Option<String> {
        let origin = self.origin.as_ref()?;
        Some(match self.position {
            Some(at) if at.line > 0 => format!("{}:{at}", origin.file),
            _ => origin.to_string(),
        })
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Quotes a value whose edges would otherwise be lost in a message: empty,
/// with spaces (lists, which we render as `[a, b]`, excepted) or control characters.
pub fn quote(value: &str) -> String {
    let spaced = value.contains(' ') && !value.starts_with('[');
    if value.is_empty() || spaced || value.trim() != value || value.contains(char::is_control) {
        format!("{value:?}")
    } else {
        value.to_string()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = self.location() {
            write!(f, "{location}: ")?;
        }
        if let Some(object) = &self.object {
            write!(f, "{object}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        if let Some(value) = &self.value {
            write!(f, "{}: ", quote(value))?;
        }
        f.write_str(&self.message)
    }
}
