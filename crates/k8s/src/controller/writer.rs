//! Carries out planned writes against the API server: the only code of the
//! controller that writes. Each kind of write is one request:
//!
//! * a pod's annotation: a JSON merge patch that carries the pod's
//!   `metadata.uid`; the API server refuses it (409 Conflict) when the pod
//!   of that name is another pod now, so a recreated pod never receives
//!   its predecessor's groups;
//! * an event: `events.k8s.io/v1`, which `kubectl describe pod` shows;
//! * a status: server-side apply on the `status` subresource, so that
//!   fields the controller no longer sets are removed;
//! * a member slice: server-side apply of the whole object, or a delete
//!   (one already gone is fine).

use super::writes::{PodEvent, Write};
use crate::crd;
use crate::sgp_api::SgpApi;
use k8s_openapi::api::core::v1::{ObjectReference, Pod};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use podsg_model::pod_eni::POD_ENI;
use podsg_model::slices::slice_name;
use serde_json::json;

/// Who writes: the field manager of its patches, and the reporter of its
/// events.
#[derive(Clone)]
pub struct Writer {
    client: Client,
    /// `reportingController` of events and the field manager of patches.
    pub controller: String,
    /// `reportingInstance` of events: this replica (its pod name).
    pub instance: String,
    /// The clock of events' `eventTime` and names.
    pub now: fn() -> Timestamp,
}

/// The name podsg's controller writes under.
pub const FIELD_MANAGER: &str = "podsg-controller";
/// `reportingController` of its events, shown as `From` by kubectl.
pub const REPORTING_CONTROLLER: &str = "podsg.io/controller";

impl Writer {
    pub fn new(client: Client, instance: String) -> Writer {
        Writer { client, controller: REPORTING_CONTROLLER.into(), instance, now: Timestamp::now }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn write(&self, write: &Write) -> Result<(), kube::Error> {
        match write {
            Write::PodAnnotation { namespace, name, uid, value } => {
                let pods: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
                let patch = json!({"metadata": {"uid": uid, "annotations": {POD_ENI: value}}});
                pods.patch(name, &self.params(), &Patch::Merge(patch)).await.map(drop)
            }
            Write::PodEvent { namespace, name, uid, event } => {
                let events: Api<Event> = Api::namespaced(self.client.clone(), namespace);
                events.create(&PostParams::default(), &self.event(namespace, name, uid, event)).await.map(drop)
            }
            Write::PolicyStatus { api, namespace, name, status } => {
                let sgps: Api<DynamicObject> =
                    Api::namespaced_with(self.client.clone(), namespace, &policy_resource(*api));
                let body = json!({
                    "apiVersion": format!("{}/v1beta1", api.group()),
                    "kind": "SecurityGroupPolicy",
                    "status": status,
                });
                sgps.patch_status(name, &self.params().force(), &Patch::Apply(body)).await.map(drop)
            }
            Write::GroupStatus { name, status } => {
                let groups: Api<crd::SecurityGroup> = Api::all(self.client.clone());
                let body = json!({"apiVersion": "podsg.io/v1alpha1", "kind": "SecurityGroup", "status": status});
                groups.patch_status(name, &self.params().force(), &Patch::Apply(body)).await.map(drop)
            }
            Write::PutSlice { group, index, addresses } => {
                let slices: Api<crd::MemberSlice> = Api::all(self.client.clone());
                let slice = crd::MemberSlice::of(group, *index, addresses.clone());
                slices.patch(&slice_name(group, *index), &self.params().force(), &Patch::Apply(slice)).await.map(drop)
            }
            Write::DeleteSlice { name } => {
                let slices: Api<crd::MemberSlice> = Api::all(self.client.clone());
                match slices.delete(name, &DeleteParams::default()).await {
                    // Already gone is what was asked.
                    Err(e) if is_not_found(&e) => Ok(()),
                    other => other.map(drop),
                }
            }
        }
    }

    fn params(&self) -> PatchParams {
        PatchParams::apply(FIELD_MANAGER)
    }

    fn event(&self, namespace: &str, name: &str, uid: &str, event: &PodEvent) -> Event {
        let now = (self.now)();
        Event {
            metadata: ObjectMeta {
                // As client-go names events: the object's name and the time.
                name: Some(format!("{name}.{:x}", now.as_nanosecond())),
                namespace: Some(namespace.into()),
                ..ObjectMeta::default()
            },
            event_time: Some(MicroTime(now)),
            action: Some(if event.warning { "Fail" } else { "Allocate" }.into()),
            reason: Some(event.reason.into()),
            note: Some(event.message.clone()),
            type_: Some(if event.warning { "Warning" } else { "Normal" }.into()),
            regarding: Some(ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: Some(name.into()),
                namespace: Some(namespace.into()),
                uid: Some(uid.into()),
                ..ObjectReference::default()
            }),
            reporting_controller: Some(self.controller.clone()),
            reporting_instance: Some(self.instance.clone()),
            ..Event::default()
        }
    }
}

/// The SGP resource in `api`'s group.
pub fn policy_resource(api: SgpApi) -> ApiResource {
    let gvk = GroupVersionKind::gvk(api.group(), "v1beta1", "SecurityGroupPolicy");
    ApiResource::from_gvk_with_plural(&gvk, "securitygrouppolicies")
}

/// Whether the API server refused a write because the object changed
/// under it (or is another object now).
pub fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(status) if status.code == 409)
}

pub fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(status) if status.code == 404)
}
