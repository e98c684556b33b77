//! Text to objects: multi-document YAML, JSON (read as the YAML it is), and
//! lists (`kind: List`, `PodList`, ...). Every problem has a line and a
//! column. A document of a kind podsg reads that cannot be read is an error,
//! never silently mis-read; a kind that does not exist in an API group podsg
//! reads is an error; other kinds are skipped with a note.

mod fields;
mod kinds;
mod locate;
mod split;

pub use kinds::{Class, classify};
pub use locate::{locate, to_place};

use crate::api::{Object, ObjectMeta};
use crate::diagnostic::{Diagnostic, ObjectRef, Origin};
use crate::suggest::closest;
use crate::yaml::{self, Node, Unit, Unknown, Value};
use serde::de::DeserializeOwned;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    /// By file name: `.json` (any case) is JSON, everything else YAML. Both
    /// are read by the same reader; the format only names the syntax in
    /// messages.
    pub fn of_path(path: &str) -> Format {
        if path.to_ascii_lowercase().ends_with(".json") { Format::Json } else { Format::Yaml }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
        }
    }
}

/// A recognised object and where it was read.
#[derive(Clone, Debug)]
pub struct Decoded {
    pub origin: Origin,
    pub object: Object,
}

/// What one file held: its objects, the identities of objects of podsg's
/// kinds that could not be read (so that references to them are not
/// reported as missing as well), and errors and notes about the rest.
#[derive(Clone, Debug, Default)]
pub struct DecodedFile {
    pub objects: Vec<Decoded>,
    pub unreadable: Vec<ObjectRef>,
    pub diagnostics: Vec<Diagnostic>,
}

impl DecodedFile {
    fn append(&mut self, mut other: DecodedFile) {
        self.objects.append(&mut other.objects);
        self.unreadable.append(&mut other.unreadable);
        self.diagnostics.append(&mut other.diagnostics);
    }
}

/// Decodes every document of `text`, which was read from `file`.
pub fn decode(text: &str, file: &str, format: Format) -> DecodedFile {
    let text = yaml::strip_bom(text);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).min(8);
    let large = text.len() >= PARALLEL_BYTES && cores > 1;
    let (mut out, result) = match large.then(|| decode_in_parts(text, file, cores)).flatten() {
        Some(out) => (out, Ok(())),
        None => {
            let mut objects = Objects::new(file);
            let result = yaml::read(text, |unit| objects.unit(unit));
            (objects.finish(), result)
        }
    };
    if let Err(problem) = result {
        let d = Diagnostic::error("", None, format!("invalid {}: {}", format.name(), problem.message));
        out.diagnostics.push(d.at(Some(&Origin::at(file, 0, problem.at)), None).with_position(problem.at));
    }
    if text.contains("{{") && out.diagnostics.iter().any(Diagnostic::is_error) {
        let note = Diagnostic::note(
            "this looks like an unrendered Helm template (it holds `{{`); render it first: \
             helm template RELEASE CHART | podsg check -",
        );
        out.diagnostics.push(note.at(Some(&Origin::new(file, 0)), None));
    }
    out
}

fn report(problems: Vec<yaml::Problem>, origin: &Origin, object: Option<&ObjectRef>, out: &mut DecodedFile) {
    for p in problems {
        out.diagnostics.push(Diagnostic::error("", None, p.message).at(Some(origin), object).with_position(p.at));
    }
}

/// Below this size a text is read on one core.
const PARALLEL_BYTES: usize = 4 << 20;

/// A large list read on every core (see `split`); `None` when the text is
/// small, not of that shape, or its parts cannot be read on their own (an
/// alias to an anchor in another part): it is then read whole.
fn decode_in_parts(text: &str, file: &str, parts: usize) -> Option<DecodedFile> {
    let split = split::split(text, parts)?;
    let parts: Vec<Option<DecodedFile>> = std::thread::scope(|scope| {
        let handles: Vec<_> = split
            .parts
            .iter()
            .map(|(part, first_line)| {
                scope.spawn(move || {
                    let mut objects = Objects::new(file);
                    // The part's list of items is its only document, as the
                    // list is the file's; the list itself is the wrapper's.
                    let read = yaml::read_items(part, *first_line, |unit| {
                        if matches!(unit, Unit::Item { .. }) {
                            objects.unit(unit);
                        }
                    });
                    read.ok().map(|()| objects.items)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    let mut objects = Objects::new(file);
    for part in parts {
        objects.items.append(part?);
    }
    yaml::read(&split.wrapper, |unit| objects.unit(unit)).ok()?;
    Some(objects.finish())
}

/// Typing units into objects, in the order they were read.
struct Objects<'a> {
    file: &'a str,
    out: DecodedFile,
    /// Items of a document are read before its `kind` (kubectl prints `kind:
    /// List` last); they count once the document turns out to be a list.
    items: DecodedFile,
}

impl<'a> Objects<'a> {
    fn new(file: &'a str) -> Self {
        Objects { file, out: DecodedFile::default(), items: DecodedFile::default() }
    }

    fn unit(&mut self, unit: Unit) {
        match unit {
            Unit::Item { document, node, problems, .. } => {
                let origin = Origin::at(self.file, document, node.at);
                decode_object(&node, problems, &origin, &mut self.items);
            }
            Unit::Document { document, node, problems } => {
                let origin = Origin::at(self.file, document, node.at);
                let listed = std::mem::take(&mut self.items);
                let is_list = node.get("kind").and_then(Node::as_str).is_some_and(|k| k.ends_with("List"));
                if is_list && node.get("items").is_some() {
                    self.out.append(listed);
                    report(problems, &origin, None, &mut self.out);
                    check_list(&node, &origin, &mut self.out);
                } else {
                    decode_object(&node, problems, &origin, &mut self.out);
                }
            }
        }
    }

    /// Items of a document that never ended (a syntax error) still count.
    fn finish(mut self) -> DecodedFile {
        self.out.append(self.items);
        self.out
    }
}

/// A list document's own fields: only `apiVersion`, `kind`, `metadata`
/// and `items` mean anything.
fn check_list(node: &Node, origin: &Origin, out: &mut DecodedFile) {
    if let Value::Map(entries) = &node.value {
        for e in entries.iter().filter(|e| !["apiVersion", "kind", "metadata", "items"].contains(&e.key.as_str())) {
            let d = Diagnostic::warning(format!("unknown field `{}` in a list; it is ignored", e.key));
            out.diagnostics.push(d.at(Some(origin), None).with_position(e.key_at));
        }
    }
}

fn decode_object(node: &Node, problems: Vec<yaml::Problem>, origin: &Origin, out: &mut DecodedFile) {
    let entries = match &node.value {
        Value::Map(entries) => entries,
        _ if node.is_null() => return report(problems, origin, None, out), // an empty document, e.g. a trailing `---`
        _ => {
            report(problems, origin, None, out);
            let d = Diagnostic::error(
                "",
                None,
                "a document must be a Kubernetes object (a mapping with apiVersion and kind)",
            );
            out.diagnostics.push(d.at(Some(origin), None).with_position(node.at));
            return;
        }
    };
    let text = |key: &str| node.get(key).and_then(Node::as_str);
    let meta = node.get("metadata");
    let name = meta.and_then(|m| m.get("name")).and_then(Node::as_str).unwrap_or("<unnamed>");
    let namespace = meta.and_then(|m| m.get("namespace")).and_then(Node::as_str);
    let (Some(api_version), Some(kind)) = (text("apiVersion"), text("kind")) else {
        let reference = ObjectRef::new(text("kind").unwrap_or("<no kind>"), namespace, name);
        let present = entries.iter().any(|e| e.key == "apiVersion" || e.key == "kind");
        let missing = if present {
            "apiVersion and kind must both be strings"
        } else {
            "missing apiVersion and kind: not a Kubernetes object"
        };
        report(problems, origin, Some(&reference), out);
        out.diagnostics.push(Diagnostic::error("", None, missing).at(Some(origin), Some(&reference)));
        return;
    };
    let class = classify(api_version, kind);
    let reference = identity(&class, kind, namespace, name);
    let errors_before = out.diagnostics.iter().filter(|d| d.is_error()).count();
    report(problems, origin, Some(&reference), out);
    let place = |d: Diagnostic| d.at(Some(origin), Some(&reference));
    let strict = class.strict();
    let decoded = match class {
        Class::SecurityGroupPolicy => typed(node, strict, out, place).map(Object::SecurityGroupPolicy),
        Class::SecurityGroup => typed(node, strict, out, place).map(Object::SecurityGroup),
        Class::ClusterConfig => typed(node, strict, out, place).map(Object::ClusterConfig),
        Class::Pod => typed(node, strict, out, place).map(Object::Pod),
        Class::Workload => typed(node, strict, out, place).map(Object::Workload),
        Class::Namespace => typed(node, strict, out, place).map(Object::Namespace),
        Class::ServiceAccount => typed(node, strict, out, place).map(Object::ServiceAccount),
        Class::Node => typed(node, strict, out, place).map(Object::Node),
        Class::Service => typed(node, strict, out, place).map(Object::Service),
        Class::List => {
            let d = Diagnostic::error("items", None, "a list must have `items`, a list of objects");
            out.diagnostics.push(place(d).with_position(node.at));
            None
        }
        Class::Elsewhere(reader) => {
            out.diagnostics.push(place(Diagnostic::note(format!("{kind} is read by {reader}"))));
            return;
        }
        Class::Skip => {
            let note = Diagnostic::note(format!("skipped {api_version} {kind}: not a kind podsg reads"));
            out.diagnostics.push(place(note));
            return;
        }
        Class::Refuse { path, message } => {
            let (at, value) = (node.locate(path), node.get(path).and_then(Node::as_str).map(str::to_string));
            out.diagnostics.push(place(Diagnostic::error(path, value, message)).with_position(at));
            None
        }
    };
    let flawed = out.diagnostics.iter().filter(|d| d.is_error()).count() > errors_before;
    match decoded {
        Some(object) if !flawed => out.objects.push(Decoded { origin: origin.clone(), object }),
        _ => out.unreadable.push(reference),
    }
}

/// The identity diagnostics use: the namespace defaults as the cluster
/// defaults it, and cluster-scoped kinds have none.
fn identity(class: &Class, kind: &str, namespace: Option<&str>, name: &str) -> ObjectRef {
    let cluster_scoped = matches!(class, Class::SecurityGroup | Class::ClusterConfig | Class::Namespace | Class::Node);
    let namespace = if cluster_scoped { None } else { Some(ObjectMeta::namespace_or_default(namespace)) };
    ObjectRef::new(kind, namespace.as_deref(), name)
}

/// Typed decoding; fields the type does not read and Kubernetes does not
/// define are errors for podsg's own kinds (`strict`) and warnings for
/// Kubernetes' kinds.
fn typed<T: DeserializeOwned>(
    node: &Node,
    strict: bool,
    out: &mut DecodedFile,
    place: impl Fn(Diagnostic) -> Diagnostic,
) -> Option<T> {
    match yaml::from_node::<T>(node, worth_recording) {
        Ok((value, unknown)) => {
            for u in unknown {
                out.diagnostics.push(place(unknown_field(&u, strict)));
            }
            Some(value)
        }
        Err((e, unknown)) => {
            // A type that refuses unknown fields stops at the first: say it
            // as every unknown field is said, with the closest real one.
            let refused = unknown.iter().find(|u| u.at == e.at).map(|u| unknown_field(u, true));
            let d = refused.unwrap_or_else(|| Diagnostic::error(e.path, None, e.message).with_position(e.at));
            out.diagnostics.push(place(d));
            None
        }
    }
}

/// The unknown fields worth reporting: fields of the types whose
/// Kubernetes fields are listed, and not among them (this is the one place
/// that decides; `unknown_field` reports what it kept).
fn worth_recording(within: &'static str, key: &str) -> bool {
    fields::ignored(within).is_some_and(|ignored| !ignored.contains(&key))
}

/// The report of a field `worth_recording` kept, with the closest real one.
fn unknown_field(u: &Unknown, strict: bool) -> Diagnostic {
    let ignored = fields::ignored(u.within).unwrap_or_default();
    let known = u.expected.iter().chain(ignored).copied();
    let hint = match closest(&u.key, known) {
        Some(field) => format!("; did you mean `{field}`?"),
        None if strict => {
            let fields: Vec<String> = u.expected.iter().map(|f| format!("`{f}`")).collect();
            format!("; expected one of {}", fields.join(", "))
        }
        None => String::new(),
    };
    let path = if u.path.is_empty() { u.key.clone() } else { format!("{}.{}", u.path, u.key) };
    let d = if strict {
        Diagnostic::error(path, None, format!("unknown field `{}`{hint}", u.key))
    } else {
        let message =
            format!("unknown field `{}`{hint} (kubectl --validate=strict refuses it; podsg ignores it)", u.key);
        Diagnostic::warning(message).with_path(path)
    };
    d.with_position(u.at)
}

/// The first document of `text` (YAML or JSON), for input that is one
/// object (an import, a lab file): reading problems are errors.
pub fn document(text: &str) -> Result<Node, Box<Diagnostic>> {
    let mut first: Option<Result<Node, Box<Diagnostic>>> = None;
    let result = yaml::read_whole(yaml::strip_bom(text), |unit| {
        if let (None, Unit::Document { node, problems, .. }) = (&first, unit) {
            first = Some(match problems.into_iter().next() {
                Some(p) => Err(Box::new(Diagnostic::error("", None, p.message).with_position(p.at))),
                None => Ok(node),
            });
        }
    });
    if let Err(p) = result {
        return Err(Box::new(Diagnostic::error("", None, p.message).with_position(p.at)));
    }
    first.unwrap_or_else(|| Err(Box::new(Diagnostic::error("", None, "the input is empty"))))
}

/// Typed decoding of one node, with the field path and position of an error.
pub fn typed_node<T: DeserializeOwned>(node: &Node) -> Result<T, Box<Diagnostic>> {
    yaml::from_node::<T>(node, |_, _| false)
        .map(|(v, _)| v)
        .map_err(|(e, _)| Box::new(Diagnostic::error(e.path, None, e.message).with_position(e.at)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a decode found, comparable: objects by their debug form.
    fn seen(out: &DecodedFile) -> (Vec<String>, Vec<String>, Vec<Diagnostic>) {
        let objects = out.objects.iter().map(|d| format!("{:?} {:?}", d.origin, d.object)).collect();
        (objects, out.unreadable.iter().map(ToString::to_string).collect(), out.diagnostics.clone())
    }

    #[test]
    fn a_list_read_in_parts_is_read_as_it_is_whole() {
        let item = |i: usize| match i % 8 {
            // A key written twice, a wrong type, an unknown field, a misspelt kind.
            1 => format!("- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p{i}\n    name: again\n"),
            2 => format!("- apiVersion: v1\n  kind: Pod\n  metadata: {{name: p{i}, labels: {{a: yes}}}}\n"),
            3 => format!("- apiVersion: v1\n  kind: Pod\n  metadata: {{name: p{i}, lables: {{}}}}\n"),
            4 => format!("- apiVersion: v1\n  kind: pod\n  metadata: {{name: p{i}}}\n"),
            // Anchors inside an item (read by saphyr-parser, numbered apart
            // from other items' anchors).
            5 => format!(
                "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p{i}\n    labels: &l{i} {{app: a{i}}}\n    annotations: *l{i}\n"
            ),
            // kubectl's own block YAML: read by lines.
            6 => format!(
                "- apiVersion: v1\n  kind: Pod\n  metadata:\n    annotations:\n      note: |\n        line\n    name: p{i}\n  spec:\n    containers:\n    - name: app\n      ports:\n      - containerPort: 80\n"
            ),
            _ => format!(
                "# a comment\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p{i}\n    namespace: ns\n  status: {{podIP: 10.0.0.{i}}}\n\n"
            ),
        };
        let items: String = (0..60).map(item).collect();
        for tail in ["kind: List\nmetadata:\n  resourceVersion: \"\"\n", "kind: List\nkind: List\n", "kind: Widget\n"] {
            let text = format!("apiVersion: v1\nitems:\n{items}{tail}");
            let mut whole = Objects::new("t.yaml");
            yaml::read(&text, |unit| whole.unit(unit)).unwrap();
            let whole = whole.finish();
            let parts = decode_in_parts(&text, "t.yaml", 3).expect("the shape is cut");
            assert_eq!(seen(&parts), seen(&whole), "{tail}");
        }
        // An alias to an anchor in another part: read whole instead.
        let anchored = format!(
            "apiVersion: v1\nitems:\n- &pod {{apiVersion: v1, kind: Pod, metadata: {{name: a}}}}\n{items}- *pod\nkind: List\n"
        );
        assert!(decode_in_parts(&anchored, "t.yaml", 3).is_none());
    }
}
