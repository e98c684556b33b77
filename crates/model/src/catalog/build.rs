use super::{Catalog, Loaded, group_ref, policy_ref, workload_ref};
use crate::api::Object;
use crate::decode::Decoded;
use crate::diagnostic::{Diagnostic, ObjectRef, Origin};
use crate::policy::Policy;
use crate::validate::{self, Checked};
use crate::world::references::{self, References};
use std::collections::{HashMap, HashSet};

impl Catalog {
    /// Validates and cross-checks every object. All problems are reported
    /// (errors, warnings and notes) in `Err`; nothing is half loaded.
    pub fn build(objects: Vec<Decoded>) -> Result<Loaded, Vec<Diagnostic>> {
        Builder::default().run(objects)
    }

    /// As `build`, knowing that the objects `unreadable` exist but could not
    /// be read (their errors are reported by whoever read them): references
    /// to them are not reported as missing too.
    pub fn build_knowing(objects: Vec<Decoded>, unreadable: Vec<ObjectRef>) -> Result<Loaded, Vec<Diagnostic>> {
        Builder { unreadable: unreadable.into_iter().collect(), ..Builder::default() }.run(objects)
    }

    /// For a running node: invalid objects are left out (and reported), and
    /// references to groups that do not exist are kept, so that only the pods
    /// that use them fail closed instead of the whole node.
    pub fn build_lenient(objects: Vec<Decoded>) -> Loaded {
        Builder { lenient: true, ..Builder::default() }.run(objects).expect("a lenient build always loads")
    }
}

#[derive(Default)]
struct Builder {
    catalog: Catalog,
    diagnostics: Vec<Diagnostic>,
    policies: Vec<Policy>,
    config_seen: Option<Origin>,
    default_groups_ref: Option<ObjectRef>,
    lenient: bool,
    /// Objects that exist but were not loaded because they have errors.
    unreadable: HashSet<ObjectRef>,
}

impl Builder {
    fn run(mut self, objects: Vec<Decoded>) -> Result<Loaded, Vec<Diagnostic>> {
        for Decoded { origin, object } in objects {
            self.add(origin, object);
        }
        self.cross_check();
        let Builder { mut catalog, diagnostics, policies, lenient, .. } = self;
        if !lenient && diagnostics.iter().any(Diagnostic::is_error) {
            return Err(diagnostics);
        }
        catalog.index_workloads();
        catalog.index.set_default_groups(catalog.settings.default_group_ids.clone());
        for p in policies {
            catalog.index.apply_policy(p);
        }
        Ok(Loaded { catalog, diagnostics })
    }

    /// Records the findings; returns the value when it has no errors.
    fn take<T>(&mut self, origin: &Origin, object: &ObjectRef, checked: Checked<T>) -> Option<T> {
        let (value, findings) = match checked {
            Ok((value, warnings)) => (Some(value), warnings),
            Err(errors) => (None, errors),
        };
        self.diagnostics.extend(findings.into_iter().map(|d| d.at(Some(origin), Some(object))));
        value
    }

    /// Registers an object's identity; a second object with it is an error.
    fn claim(&mut self, origin: &Origin, object: ObjectRef, what: &str) -> bool {
        if let Some(first) = self.catalog.origins.get(&object) {
            let d = Diagnostic::error(
                "metadata.name",
                Some(object.name.clone()),
                format!("duplicate {what}; also defined at {first}"),
            );
            self.diagnostics.push(d.at(Some(origin), Some(&object)));
            return false;
        }
        self.catalog.origins.insert(object, origin.clone());
        true
    }

    fn add(&mut self, origin: Origin, object: Object) {
        let name_of = |m: &crate::api::ObjectMeta| m.name.clone().unwrap_or_else(|| "<unnamed>".into());
        let ns_of = |m: &crate::api::ObjectMeta| Some(m.namespace());
        match object {
            Object::SecurityGroup(m) => {
                let r = ObjectRef::new("SecurityGroup", None, &name_of(&m.metadata));
                match self.take(&origin, &r, validate::security_group(&m)) {
                    Some(g) => {
                        if self.claim(&origin, r, "security group ID") {
                            self.catalog.groups.insert(g.id.clone(), g);
                        }
                    }
                    None => {
                        self.unreadable.insert(r);
                    }
                }
            }
            Object::SecurityGroupPolicy(m) => {
                let r = ObjectRef {
                    kind: "SecurityGroupPolicy".into(),
                    namespace: ns_of(&m.metadata),
                    name: name_of(&m.metadata),
                };
                if let Some(p) = self.take(&origin, &r, validate::policy(&m))
                    && self.claim(&origin, r, "SecurityGroupPolicy")
                {
                    self.policies.push(p);
                }
            }
            Object::ClusterConfig(m) => {
                let r = ObjectRef::new("ClusterConfig", None, &name_of(&m.metadata));
                if let Some(first) = &self.config_seen {
                    let d = Diagnostic::error(
                        "",
                        None,
                        format!("only one ClusterConfig is allowed; another is at {first}"),
                    );
                    self.diagnostics.push(d.at(Some(&origin), Some(&r)));
                    return;
                }
                self.config_seen = Some(origin.clone());
                if let Some(s) = self.take(&origin, &r, validate::cluster_config(&m)) {
                    self.catalog.settings = s;
                    self.catalog.origins.insert(r.clone(), origin);
                    self.default_groups_ref = Some(r);
                }
            }
            Object::Pod(m) => {
                let r = ObjectRef { kind: m.kind.clone(), namespace: ns_of(&m.metadata), name: name_of(&m.metadata) };
                if let Some(w) = self.take(&origin, &r, validate::pod(&m)) {
                    let r = workload_ref(&w);
                    if self.claim(&origin, r, "Pod") {
                        self.catalog.workloads.push(w);
                    }
                }
            }
            Object::Workload(m) => {
                let r = ObjectRef { kind: m.kind.clone(), namespace: ns_of(&m.metadata), name: name_of(&m.metadata) };
                if let Some(w) = self.take(&origin, &r, validate::workload(&m)) {
                    let kind = w.kind.as_str();
                    if self.claim(&origin, workload_ref(&w), kind) {
                        self.catalog.workloads.push(w);
                    }
                }
            }
            Object::Namespace(m) => {
                let r = ObjectRef::new("Namespace", None, &name_of(&m.metadata));
                // Checked and claimed; no analysis reads a namespace's labels
                // (SGPs select pods within their own namespace only).
                if self.take(&origin, &r, validate::namespace(&m)).is_some() {
                    self.claim(&origin, r, "Namespace");
                }
            }
            Object::ServiceAccount(m) => {
                let r = ObjectRef {
                    kind: "ServiceAccount".into(),
                    namespace: ns_of(&m.metadata),
                    name: name_of(&m.metadata),
                };
                if let Some((ns, name, labels)) = self.take(&origin, &r, validate::service_account(&m))
                    && self.claim(&origin, r, "ServiceAccount")
                {
                    self.catalog.index.apply_service_account(&ns, &name, labels);
                }
            }
            Object::Service(m) => {
                let r = ObjectRef::new("Service", ns_of(&m.metadata).as_deref(), &name_of(&m.metadata));
                if let Some(s) = self.take(&origin, &r, validate::service(&m))
                    && self.claim(&origin, r, "Service")
                {
                    self.catalog.services.push(s);
                }
            }
            Object::Node(m) => {
                let r = ObjectRef::new("Node", None, &name_of(&m.metadata));
                if let Some(n) = self.take(&origin, &r, validate::node(&m))
                    && self.claim(&origin, r, "Node")
                {
                    self.catalog.nodes.push(n);
                }
            }
        }
    }

    /// References between objects: groups named by SGPs, rules and the
    /// config must exist (the rule the controller's world applies, by the
    /// same functions); cluster DNS targets must be workloads.
    fn cross_check(&mut self) {
        let unreadable = std::mem::take(&mut self.unreadable);
        let mut references = References::default();
        for p in &self.policies {
            references.set(&policy_ref(p), references::in_policy(p));
        }
        for g in self.catalog.groups.values() {
            references.set(&group_ref(&g.id), references::in_group(g));
        }
        if let Some(config) = &self.default_groups_ref {
            references.set(config, references::in_settings(&self.catalog.settings, config));
        }
        let groups = &self.catalog.groups;
        for d in references.missing(|id| groups.contains_key(id) || unreadable.contains(&group_ref(id))) {
            let origin = d.object.as_ref().and_then(|o| self.catalog.origins.get(o)).cloned();
            self.diagnostics.push(d.at(origin.as_ref(), None));
        }
        if let Some(config) = self.default_groups_ref.clone() {
            let workloads: HashMap<(&str, &str), ()> =
                self.catalog.workloads.iter().map(|w| ((w.namespace.as_str(), w.name.as_str()), ())).collect();
            let mut unknown_dns = Vec::new();
            for (i, target) in self.catalog.settings.cluster_dns.iter().enumerate() {
                if let Some((ns, name)) = target.split_once('/')
                    && !workloads.contains_key(&(ns, name))
                {
                    unknown_dns.push((i, target.clone()));
                }
            }
            for (i, target) in unknown_dns {
                let origin = self.catalog.origins.get(&config).cloned();
                let d = Diagnostic::error(
                    format!("spec.clusterDNS[{i}]"),
                    Some(target),
                    "no pod or workload of this name is defined",
                );
                self.diagnostics.push(d.at(origin.as_ref(), Some(&config)));
            }
        }
    }
}
