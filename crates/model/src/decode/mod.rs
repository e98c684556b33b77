//! Text to objects: multi-document YAML, JSON, and `kind: List`. Unknown kinds
//! are skipped with a note; a document that claims to be one of podsg's kinds
//! but cannot be read is an error, never silently mis-read.

use crate::api::{Object, PODSG_API_VERSION, SGP_API_VERSIONS};
use crate::diagnostic::{Diagnostic, ObjectRef, Origin};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    /// By file name: `.json` is JSON, everything else YAML (which also reads JSON).
    pub fn of_path(path: &str) -> Format {
        if path.ends_with(".json") { Format::Json } else { Format::Yaml }
    }
}

/// A recognised object and where it was read.
#[derive(Clone, Debug)]
pub struct Decoded {
    pub origin: Origin,
    pub object: Object,
}

/// What one file held: its objects, and errors and notes about the rest.
#[derive(Clone, Debug, Default)]
pub struct DecodedFile {
    pub objects: Vec<Decoded>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Decodes every document of `text`, which was read from `file`.
pub fn decode(text: &str, file: &str, format: Format) -> DecodedFile {
    let mut out = DecodedFile::default();
    let documents: Vec<Result<Value, String>> = match format {
        Format::Json => vec![serde_json::from_str::<Value>(text).map_err(|e| format!("invalid JSON: {e}"))],
        Format::Yaml => {
            let mut docs = Vec::new();
            for doc in serde_yaml::Deserializer::from_str(text) {
                let parsed = Value::deserialize(doc).map_err(|e| format!("invalid YAML: {e}"));
                let failed = parsed.is_err();
                docs.push(parsed);
                // After a syntax error the parser cannot find the next document.
                if failed {
                    break;
                }
            }
            docs
        }
    };
    for (i, document) in documents.into_iter().enumerate() {
        let origin = Origin::new(file, i + 1);
        match document {
            Ok(value) => decode_value(value, &origin, &mut out),
            Err(message) => out.diagnostics.push(Diagnostic::error("", None, message).at(Some(&origin), None)),
        }
    }
    out
}

fn decode_value(value: Value, origin: &Origin, out: &mut DecodedFile) {
    let object = match value {
        Value::Null => return, // an empty document, e.g. a trailing `---`
        Value::Object(map) => map,
        other => {
            out.diagnostics.push(
                Diagnostic::error(
                    "",
                    Some(other.to_string()),
                    "a document must be a Kubernetes object (a mapping with apiVersion and kind)",
                )
                .at(Some(origin), None),
            );
            return;
        }
    };
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_string);
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    let meta = object.get("metadata");
    let name = meta.and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("<unnamed>");
    let namespace = meta.and_then(|m| m.get("namespace")).and_then(Value::as_str);
    let reference = ObjectRef::new(kind.as_deref().unwrap_or("<no kind>"), namespace, name);
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        let missing = if object.contains_key("apiVersion") || object.contains_key("kind") {
            "apiVersion and kind must both be strings"
        } else {
            "missing apiVersion and kind: not a Kubernetes object"
        };
        out.diagnostics.push(Diagnostic::error("", None, missing).at(Some(origin), Some(&reference)));
        return;
    };
    let value = Value::Object(object);
    let err = |d: Diagnostic| d.at(Some(origin), Some(&reference));
    let decoded = match (api_version.as_str(), kind.as_str()) {
        ("v1", "List") => {
            let items = value.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
            for item in items {
                decode_value(item, origin, out);
            }
            return;
        }
        (v, "SecurityGroupPolicy") if SGP_API_VERSIONS.contains(&v) => typed(value).map(Object::SecurityGroupPolicy),
        (PODSG_API_VERSION, "SecurityGroup") => typed(value).map(Object::SecurityGroup),
        (PODSG_API_VERSION, "ClusterConfig") => typed(value).map(Object::ClusterConfig),
        (_, "SecurityGroupPolicy") => Err(Box::new(Diagnostic::error(
            "apiVersion",
            Some(api_version.clone()),
            format!("SecurityGroupPolicy is read from {}", SGP_API_VERSIONS.join(" or ")),
        ))),
        (_, "SecurityGroup" | "ClusterConfig") if api_version.starts_with("podsg.io/") => {
            Err(Box::new(Diagnostic::error(
                "apiVersion",
                Some(api_version.clone()),
                format!("{kind} is read from {PODSG_API_VERSION}"),
            )))
        }
        (PODSG_API_VERSION, "LabSpec" | "LabExpectations") => {
            out.diagnostics.push(err(Diagnostic::note(format!("{kind} is read by podsg lab"))));
            return;
        }
        ("v1", "Pod") => typed(value).map(Object::Pod),
        ("v1", "Namespace") => typed(value).map(Object::Namespace),
        ("v1", "ServiceAccount") => typed(value).map(Object::ServiceAccount),
        ("v1", "Node") => typed(value).map(Object::Node),
        ("apps/v1", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") | ("batch/v1", "Job") => {
            typed(value).map(Object::Workload)
        }
        _ => {
            out.diagnostics
                .push(err(Diagnostic::note(format!("skipped {api_version} {kind}: not a kind podsg reads"))));
            return;
        }
    };
    match decoded {
        Ok(object) => out.objects.push(Decoded { origin: origin.clone(), object }),
        Err(d) => out.diagnostics.push(err(*d)),
    }
}

/// Typed decoding that keeps the path of the field that failed.
fn typed<T: DeserializeOwned>(value: Value) -> Result<T, Box<Diagnostic>> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        Box::new(Diagnostic::error(path, None, e.into_inner().to_string()))
    })
}

/// Decodes one object of a known type from a JSON value (used by importers
/// and tests).
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, Box<Diagnostic>> {
    typed(value)
}
