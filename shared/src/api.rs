//! The JSON bodies of `/api/*`: what the SPA sends and what the worker answers.
//!
//! Every response wraps its payload in a named field (`{"service": ...}`,
//! `{"actions": [...]}`) so a body can grow without breaking clients, and every failure
//! has the one shape of [`ErrorBody`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::action::settings::{RunSettings, RunSettingsPatch};
use crate::errors::ErrorCode;
use crate::incident::{IncidentStatus, Severity, Urgency};
use crate::inputs::InputDefinition;
use crate::limits::FAILURES_BEFORE_WARNING;
use crate::roles::Role;
use crate::run_rules::Confirm;
use crate::view::Viewed;
use crate::FieldError;

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, for programs (`code`) and for people (`message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `action_limit` (`shared::errors`).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub code: ErrorCode,
    /// A sentence fit to show a user.
    pub message: String,
    /// Per-field problems, when the request failed validation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

/// The body of a 409 `edit_conflict`: the error, and the action as it stands now, so the
/// editor can see what changed and apply their edit again on top of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditConflictBody {
    /// `edit_conflict`.
    pub error: ErrorDetail,
    /// The current action (as the caller's role may see it).
    pub action: Action,
}

/// The body of a 409 `edit_conflict` on a user: the error, and the user as they are now.
/// A change or delete of a user is made on the version read, so one that met another
/// change first did nothing, and the admin can see what changed before trying again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserEditConflictBody {
    /// `edit_conflict`.
    pub error: ErrorDetail,
    /// The user as they are now.
    pub user: User,
}

// ---------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------

/// `POST /api/session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInRequest {
    /// The sign-in token: `ADMIN_TOKEN` or a user's API token (`iat_…`).
    pub token: String,
}

/// `GET /api/session` and the answer to `POST /api/session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionResponse {
    /// Who is signed in.
    pub session: SessionInfo,
    /// Deployment settings the SPA needs to validate forms as the worker will.
    pub settings: Settings,
}

/// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// The signed-in principal, e.g. `admin`.
    pub user_id: String,
    /// Display name of the principal.
    pub user_name: String,
    /// The principal's role (absent from workers older than roles).
    #[serde(default)]
    pub role: Option<Role>,
    /// When the session cookie stops working; `None` for bearer-token requests.
    pub expires_at: Option<String>,
}

/// Deployment settings the SPA needs; empty below `manager`, who do not edit actions,
/// because the values name internal hosts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settings {
    /// The `PRIVATE_ENDPOINT_ALLOWLIST` value, so the form applies the same URL rule.
    pub private_endpoint_allowlist: String,
    /// The `OWN_HOSTS` value (this deployment's host names, which an action must not
    /// call), for the same reason.
    #[serde(default)]
    pub own_hosts: String,
}

// ---------------------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------------------

/// `POST /api/services`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateServiceRequest {
    /// Service name, 1..=80 characters. Missing reads as blank, so the answer is the
    /// field's own "Name is required" rather than a parser message.
    #[serde(default)]
    pub name: String,
    /// Optional description.
    #[serde(default)]
    pub description: Option<String>,
}

/// `PATCH /api/services/{id}`: fields left out stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateServiceRequest {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description; an empty string clears it.
    #[serde(default)]
    pub description: Option<String>,
}

/// A service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Service {
    /// Identifier, `svc_…`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// The 32-character integration key for `POST /v2/enqueue`; `null` for roles that may
    /// not read routing keys (below `manager`), and when the stored (sealed) key does not
    /// open with the configured encryption keys (logged; a rotation gives a new one).
    pub routing_key: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// `POST /api/services/{id}/rotate_routing_key`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RotateRoutingKeyRequest {
    /// Hours the old key keeps working, a whole number from 0 to 168 (default 24); 0
    /// stops it at once. Read as any JSON so that a wrong one is named in a 422
    /// (`shared::service::parse_grace_hours`).
    #[serde(default)]
    pub grace_hours: Option<Value>,
}

/// `{"service": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceResponse {
    /// The service.
    #[cfg_attr(feature = "openapi", schema(value_type = Service))]
    pub service: Viewed<Service>,
}

/// `{"services": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceList {
    /// Services by name.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Service>))]
    pub services: Vec<Viewed<Service>>,
}

// ---------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------

/// A custom header in a create or edit request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeaderInput {
    /// Header name (missing reads as blank, answered by validation).
    #[serde(default)]
    pub name: String,
    /// Value; on edit, `null` or empty for a secret header keeps the stored value.
    #[serde(default)]
    pub value: Option<String>,
    /// Hide the value after it is written.
    #[serde(default)]
    pub secret: Option<bool>,
}

/// `POST /api/services/{id}/actions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateActionRequest {
    /// Button label (missing reads as blank, answered by validation).
    #[serde(default)]
    pub name: String,
    /// Where the worker POSTs (missing reads as blank, answered by validation).
    #[serde(default)]
    pub endpoint_url: String,
    /// Optional help text.
    #[serde(default)]
    pub description: Option<String>,
    /// Shown on incidents; defaults to true.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Custom headers.
    #[serde(default)]
    pub headers: Option<Vec<HeaderInput>>,
    /// How it runs: inputs, confirmation, availability, body template, reply.
    #[serde(flatten)]
    pub settings: RunSettings,
}

/// `PATCH /api/services/{id}/actions/{action_id}`: fields left out stay as they are;
/// `headers`, when present, replaces the whole list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateActionRequest {
    /// New label.
    #[serde(default)]
    pub name: Option<String>,
    /// New endpoint.
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// New description; an empty string clears it.
    #[serde(default)]
    pub description: Option<String>,
    /// Enable or disable.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// New header list.
    #[serde(default)]
    pub headers: Option<Vec<HeaderInput>>,
    /// The run settings it changes.
    #[serde(flatten)]
    pub settings: RunSettingsPatch,
    /// The revision being edited (or send `If-Match: "<revision>"`). A stale one answers
    /// 409 `edit_conflict` and changes nothing; without one the edit applies to the
    /// current revision.
    #[serde(default)]
    pub revision: Option<u64>,
}

/// `POST .../rotate_secret`: the body is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RotateSecretRequest {
    /// The revision being rotated, as for an edit.
    #[serde(default)]
    pub revision: Option<u64>,
}

crate::spelled_enum! {
    /// Whether an action's stored configuration can be used. Reading it never opens a
    /// secret: the health is judged from the record's shape and the keys it names.
    #[derive(Default)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum ConfigHealth {
        /// The configuration is readable and its secrets are sealed under configured keys.
        #[default]
        Ok = "ok",
        /// The configuration cannot be opened (damaged, or sealed under a key no longer
        /// configured); runs answer 409 `action_unreadable`. `config_problem` says why.
        Unreadable = "unreadable",
        /// The current revision has not reached this Cloudflare location yet (Workers KV
        /// takes up to a minute); runs answer 503 `config_propagating` until it has.
        Propagating = "propagating",
    }
}

/// How an action's endpoint has answered lately, judged from its finished runs (a run
/// counts as its latest attempt). The action is never disabled for failing: its card and
/// buttons warn instead, once [`FAILURES_BEFORE_WARNING`] runs in a row have failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndpointHealth {
    /// Finished runs in a row, newest first, that failed (counted over the last
    /// [`crate::limits::RUN_STATS_WINDOW`]).
    pub recent_failures: u32,
    /// How the newest finished run ended; `null` before the first.
    pub last_outcome: Option<RunOutcome>,
    /// Its HTTP status, if the endpoint answered.
    #[serde(default)]
    pub last_http_status: Option<u16>,
    /// How long it waited for the endpoint (for a timeout: the deadline it was sent with);
    /// left out before the first run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_duration_ms: Option<u64>,
    /// When it finished (RFC 3339).
    pub last_run_at: Option<String>,
}

impl EndpointHealth {
    /// Whether to warn: the last [`FAILURES_BEFORE_WARNING`] finished runs all failed.
    pub fn is_failing(&self) -> bool {
        self.recent_failures >= FAILURES_BEFORE_WARNING
    }
}

/// A custom header as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionHeader {
    /// Header name.
    pub name: String,
    /// Value; always `null` for a secret header.
    pub value: Option<String>,
    /// Whether the value is hidden.
    pub secret: bool,
}

/// A custom incident action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Action {
    /// Identifier, `act_…`.
    pub id: String,
    /// The service it belongs to.
    pub service_id: String,
    /// Button label.
    pub name: String,
    /// Help text.
    pub description: Option<String>,
    /// Where the worker POSTs; left out for roles that may not read action
    /// configuration (below `manager`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    /// Whether incidents show it.
    pub enabled: bool,
    /// Custom headers, secret values hidden; left out, like `endpoint_url`, for roles
    /// below `manager`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<ActionHeader>>,
    /// How it runs; its `body_template` is left out, like `endpoint_url`, for roles
    /// below `manager`.
    #[serde(flatten)]
    pub settings: RunSettings,
    /// `whsec_…`: only in the answer to create and to rotate_secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    /// The configuration's revision: 1 when created, one more on every edit or rotation.
    /// Send it back with an edit so that a concurrent change is not overwritten.
    #[serde(default)]
    pub revision: u64,
    /// Whether the configuration can be used.
    #[serde(default)]
    pub config_health: ConfigHealth,
    /// Why it cannot, and what fixes it; `null` when healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_problem: Option<String>,
    /// How its endpoint has answered lately.
    #[serde(default)]
    pub health: EndpointHealth,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// `{"action": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionResponse {
    /// The action.
    #[cfg_attr(feature = "openapi", schema(value_type = Action))]
    pub action: Viewed<Action>,
}

/// `{"actions": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionList {
    /// Actions in creation order.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Action>))]
    pub actions: Vec<Viewed<Action>>,
}

/// The answer to `POST .../rotate_secret`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RotatedSecret {
    /// The new `whsec_…`, shown this once.
    pub signing_secret: String,
}

/// An action as an incident lists it: enough to draw the button.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionSummary {
    /// Identifier.
    pub id: String,
    /// Button label.
    pub name: String,
    /// Help text.
    pub description: Option<String>,
    /// Whether it can run; an unreadable one is shown but refuses to run.
    #[serde(default)]
    pub config_health: ConfigHealth,
    /// How its endpoint has answered lately.
    #[serde(default)]
    pub health: EndpointHealth,
    /// What a run asks for, in order.
    #[serde(default)]
    pub inputs: Vec<InputDefinition>,
    /// The confirmation asked before each run, if any.
    #[serde(default)]
    pub confirm: Option<Confirm>,
}

/// The body of `POST /api/incidents/{id}/actions/{action_id}/runs` (optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunRequest {
    /// The values of the action's inputs, by key.
    #[serde(default)]
    pub inputs: serde_json::Map<String, Value>,
    /// Required as `true` when the action asks for confirmation (else 428).
    #[serde(default)]
    pub confirmed: bool,
}

/// `POST /api/services/{id}/actions/{action_id}/preview` (responder and up; with a
/// `draft`, manager and up) and `POST /api/services/{id}/actions/preview` (manager and
/// up): every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreviewRequest {
    /// The incident to render against; by default the service's latest, or a sample.
    #[serde(default)]
    pub incident_id: Option<String>,
    /// Input values as a run would send them (checked as a run checks them); by default
    /// each input's default or a sample of its type.
    #[serde(default)]
    pub inputs: Option<serde_json::Map<String, Value>>,
    /// An unsaved create or edit body to preview instead of the stored action (required
    /// when there is no action yet). A secret header without a value keeps the stored one.
    #[serde(default)]
    pub draft: Option<CreateActionRequest>,
}

/// The request a run would send, exactly, except that secret values read
/// [`REDACTED`], the signature is [`PREVIEW_SIGNATURE`] and the run id is
/// [`PREVIEW_RUN_ID`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreviewedRequest {
    /// Always `POST`.
    pub method: String,
    /// The endpoint; `null` for roles that may not read action configuration (below
    /// `manager`), as on the action itself.
    pub url: Option<String>,
    /// Every header, in sending order.
    pub headers: Vec<SentHeader>,
    /// The body, exactly as it would be signed and sent.
    pub body: String,
}

/// The incident a preview was rendered against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreviewIncident {
    /// Identifier.
    pub id: String,
    /// Its number.
    pub number: i64,
    /// Its title.
    pub title: String,
}

/// The answer to a preview. Nothing was sent or recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreviewResponse {
    /// The request.
    #[cfg_attr(feature = "openapi", schema(value_type = PreviewedRequest))]
    pub request: Viewed<PreviewedRequest>,
    /// The incident used; `null` when the service has none yet and a sample was used.
    pub incident: Option<PreviewIncident>,
}

/// The `webhook-signature` a preview shows: the real one is computed when the request
/// is sent, over the body and the timestamp of that moment.
pub const PREVIEW_SIGNATURE: &str = "v1,<computed when sent>";

/// The run id a preview shows in place of the one a run is given when it starts (the
/// `webhook-id`, `event.id` and `run.id`).
pub const PREVIEW_RUN_ID: &str = "run_preview";

// ---------------------------------------------------------------------------------------
// Incidents
// ---------------------------------------------------------------------------------------

/// The service an incident belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceRef {
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
}

/// An incident. The same shape is the `data` of the payload POSTed to endpoints, there
/// without `actions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Incident {
    /// Identifier, `inc_…`.
    pub id: String,
    /// Sequence number shown to people (`#42`).
    pub number: i64,
    /// The trigger's `payload.summary`.
    pub title: String,
    /// Triggered, acknowledged or resolved.
    pub status: IncidentStatus,
    /// From severity: critical/error high, warning/info low.
    pub urgency: Urgency,
    /// The trigger's severity.
    pub severity: Severity,
    /// The affected system.
    pub source: String,
    /// Affected component.
    pub component: Option<String>,
    /// Logical group.
    pub group: Option<String>,
    /// Event class.
    pub class: Option<String>,
    /// Free-form details from the monitor (`null` when it sent none). Present on one
    /// incident and in action payloads; absent from lists, which stay small.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_details: Option<Value>,
    /// Details typed by whoever opened it by hand (plain text); `null` for incidents from
    /// events.
    #[serde(default)]
    pub details: Option<String>,
    /// Links from its triggers and its runs' replies (`[{"href", "text"}]`), each `href`
    /// once, at most 50. Present on one incident and in action payloads; absent from lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Value>,
    /// Key that ties later events to this incident.
    pub dedup_key: String,
    /// Trigger events merged into this incident (1 for a fresh one).
    pub event_count: i64,
    /// The service.
    pub service: ServiceRef,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// The service's change events of the 24 hours before the incident opened, newest
    /// first, at most 10 (deploys, commits: what may have caused it). Present on one
    /// incident and in action payloads; absent from lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recent_changes: Option<Vec<ChangeEvent>>,
    /// `true` in an action's default payload when the oldest of `recent_changes` were left
    /// out to keep the payload within 256 KiB; absent otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recent_changes_truncated: bool,
    /// Enabled actions of the service; absent in endpoint payloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<ActionSummary>>,
}

/// A change event (`POST /v2/change/enqueue`): something that changed on a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeEvent {
    /// Identifier, `chg_…`.
    pub id: String,
    /// The service.
    pub service_id: String,
    /// One line: "Deployed checkout v41".
    pub summary: String,
    /// Where it happened (a repository, a deploy tool), if said.
    pub source: Option<String>,
    /// Free-form details as sent (a commit, its author).
    pub custom_details: Value,
    /// Links as sent.
    pub links: Value,
    /// When it happened (the event's `timestamp`, else when it was received), RFC 3339.
    pub timestamp: String,
}

/// `GET /api/services/{id}/changes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeList {
    /// Newest first.
    pub changes: Vec<ChangeEvent>,
}

/// `POST /api/incidents`: an incident opened by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateIncidentRequest {
    /// The service to open it on (missing reads as blank, answered by validation).
    #[serde(default)]
    pub service_id: String,
    /// 1–1024 characters after trimming.
    #[serde(default)]
    pub title: String,
    /// `high` (the default) or `low`.
    #[serde(default)]
    pub urgency: Option<Urgency>,
    /// At most 10,000 characters, shown as text.
    #[serde(default)]
    pub details: Option<String>,
    /// Ties later events to it; one already used by an open incident of the service is
    /// 409 `duplicate_incident`.
    #[serde(default)]
    pub dedup_key: Option<String>,
}

/// The body of a 409 `duplicate_incident`: the error, and the open incident that already
/// has the dedup key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuplicateIncidentBody {
    /// `duplicate_incident`.
    pub error: ErrorDetail,
    /// The open incident with that key.
    pub incident_id: String,
}

/// `{"incident": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentResponse {
    /// The incident.
    #[cfg_attr(feature = "openapi", schema(value_type = Incident))]
    pub incident: Viewed<Incident>,
}

/// `{"incidents": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentList {
    /// Newest first, without `custom_details`.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Incident>))]
    pub incidents: Vec<Viewed<Incident>>,
    /// Pass as `?cursor=` for the next (older) page; `null` on the last.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

crate::spelled_enum! {
    /// What a timeline entry records.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum LogEntryType {
        /// The incident was opened.
        Trigger = "trigger",
        /// Another trigger with the same dedup key was merged in.
        Alert = "alert",
        /// Someone acknowledged.
        Acknowledge = "acknowledge",
        /// Someone or something resolved.
        Resolve = "resolve",
        /// A custom action ran.
        ActionRun = "action_run",
        /// Someone added a note; the summary is its text.
        Note = "note",
        /// Someone changed the title (PagerDuty's `PUT`); the summary says from what to what.
        TitleChange = "title_change",
        /// Someone changed the urgency (PagerDuty's `PUT`).
        UrgencyChange = "urgency_change",
    }
}

/// One line of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogEntry {
    /// Identifier, `log_…`.
    pub id: String,
    /// What happened.
    #[serde(rename = "type")]
    pub entry_type: LogEntryType,
    /// RFC 3339.
    pub created_at: String,
    /// Who or what did it.
    pub agent: String,
    /// One line for people.
    pub summary: String,
    /// The run, for `action_run` entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<ActionRun>,
    /// Which attempt of the run the entry is about (1: the first send, 2 and up:
    /// redeliveries), for `action_run` entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
}

/// `POST /api/incidents/{id}/notes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateNoteRequest {
    /// The note, 1..=2000 characters after trimming. Missing reads as blank, so the
    /// answer is the field's own message.
    #[serde(default)]
    pub content: String,
}

/// `{"log_entry": ...}`: the note as the timeline shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogEntryResponse {
    /// The new entry.
    #[cfg_attr(feature = "openapi", schema(value_type = LogEntry))]
    pub log_entry: Viewed<LogEntry>,
}

/// `{"log_entries": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogEntryList {
    /// Newest first.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<LogEntry>))]
    pub log_entries: Vec<Viewed<LogEntry>>,
    /// Pass as `?cursor=` for the next (older) page; `null` on the last.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------

crate::spelled_enum! {
    /// Whether a run is done and how it went.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum RunStatus {
        /// The POST is in flight (seen only while it is, or if the worker died mid-run).
        Running = "running",
        /// The endpoint answered 2xx.
        Succeeded = "succeeded",
        /// Anything else.
        Failed = "failed",
    }
}

crate::spelled_enum! {
    /// How the endpoint answered.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum RunOutcome {
        /// 2xx.
        Success = "success",
        /// 4xx or 5xx (or another non-2xx, non-3xx code).
        HttpError = "http_error",
        /// No answer within the deadline.
        Timeout = "timeout",
        /// The connection failed (refused, reset, DNS).
        NetworkError = "network_error",
        /// 3xx; redirects are not followed.
        Redirect = "redirect",
        /// Nothing was sent: the endpoint guard refused the stored URL under the rules in
        /// force at send time; the excerpt names the rule.
        Blocked = "blocked",
        /// The worker stopped before it could record how the endpoint answered (the run was
        /// still `running` a minute past its deadline): the endpoint may have received it.
        Unknown = "unknown",
        /// Nothing was sent: the body template or a templated header value did not render
        /// into a valid request; the excerpt says why, with the line.
        TemplateError = "template_error",
    }
}

/// One press of an action button.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionRun {
    /// Identifier, `run_…`; also the `webhook-id` the endpoint received.
    pub id: String,
    /// The incident.
    pub incident_id: String,
    /// The action.
    pub action_id: String,
    /// The action's label at the time of the run.
    pub action_name: String,
    /// Running, succeeded or failed.
    pub status: RunStatus,
    /// How the endpoint answered; `None` while running.
    pub outcome: Option<RunOutcome>,
    /// The endpoint's status code, if it answered.
    pub http_status: Option<u16>,
    /// From sending to the end of reading the answer.
    pub duration_ms: Option<u64>,
    /// The first 4 KiB of the answer, as text; `null` for roles that may not see run
    /// details (below `responder`).
    pub response_excerpt: Option<String>,
    /// The request headers as sent, in order, each secret value replaced by
    /// [`REDACTED`]; `null` when nothing was sent (still running, or `blocked`) and for
    /// roles that may not see run details (below `responder`).
    #[serde(default)]
    pub request_headers: Option<Vec<SentHeader>>,
    /// Who pressed the button.
    pub requested_by: String,
    /// Their display name then (`null` for runs recorded before names were kept).
    #[serde(default)]
    pub requested_by_name: Option<String>,
    /// The input values sent (`null` when none were, or before the result is stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<serde_json::Map<String, Value>>,
    /// The revision of the action's configuration that was sent; `null` for runs from
    /// before revisions.
    #[serde(default)]
    pub action_revision: Option<u64>,
    /// The one-line result the endpoint's reply gave (`shared::reply`), shown in place of
    /// "HTTP 200".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// What of the endpoint's reply was ignored, and why; the run still succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_error: Option<String>,
    /// Every delivery of the run, oldest first: the first send, then each redelivery.
    /// The fields above show the latest. (The app's build does not decode them; see the
    /// `app` feature.)
    #[serde(default)]
    #[cfg_attr(
        all(feature = "app", not(feature = "openapi")),
        serde(skip_deserializing)
    )]
    pub attempts: Vec<RunAttempt>,
    /// The latest attempt's number: 1 for the first send, 2 and up after redeliveries.
    #[serde(default = "first_attempt")]
    pub attempt: u32,
    /// Whether the request body is still kept, so the run can be redelivered
    /// ([`crate::limits::RUN_BODY_KEPT_DAYS`] after it was first sent).
    #[serde(default)]
    pub redeliverable: bool,
    /// RFC 3339; of the latest attempt.
    pub started_at: String,
    /// RFC 3339; `None` while running.
    pub finished_at: Option<String>,
}

/// One delivery of a run: its first send, or a redelivery (same body, same
/// `webhook-id`, a fresh timestamp and signature).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunAttempt {
    /// 1 for the first send.
    pub number: u32,
    /// Running, succeeded or failed.
    pub status: RunStatus,
    /// How the endpoint answered; `None` while running.
    pub outcome: Option<RunOutcome>,
    /// The endpoint's status code, if it answered.
    pub http_status: Option<u16>,
    /// From sending to the end of reading the answer.
    pub duration_ms: Option<u64>,
    /// The first 4 KiB of the answer; `null` below `responder`.
    pub response_excerpt: Option<String>,
    /// Who sent it.
    pub requested_by: String,
    /// Their display name then.
    #[serde(default)]
    pub requested_by_name: Option<String>,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339; `None` while running.
    pub finished_at: Option<String>,
}

/// The body of `POST /api/runs/{id}/redeliver` (optional).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedeliverRequest {
    /// Required as `true` when the action asks for confirmation (else 428).
    #[serde(default)]
    pub confirmed: bool,
}

/// An action's success rate and median duration over its last
/// [`crate::limits::RUN_STATS_WINDOW`] finished runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunStats {
    /// Finished runs counted (at most the window).
    pub finished: u32,
    /// Of those, how many succeeded.
    pub succeeded: u32,
    /// The median duration of those that reached the endpoint; `null` when none did.
    pub p50_duration_ms: Option<u64>,
}

/// One page of `GET /api/services/{id}/actions/{action_id}/runs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunHistory {
    /// Newest first.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<ActionRun>))]
    pub runs: Vec<Viewed<ActionRun>>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
    /// Over the action's last finished runs, whatever the page.
    pub stats: RunStats,
}

/// What a run record shows in place of a secret header's value.
pub const REDACTED: &str = "[redacted]";

/// One request header of a run, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SentHeader {
    /// Header name, as configured.
    pub name: String,
    /// The value sent, or [`REDACTED`] for a secret header.
    pub value: String,
}

/// `{"run": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunResponse {
    /// The run.
    #[cfg_attr(feature = "openapi", schema(value_type = ActionRun))]
    pub run: Viewed<ActionRun>,
    /// `false` (with HTTP 202) when the endpoint was called but its answer could not be
    /// recorded yet: `run` shows what the worker saw, and the stored run stays `running`
    /// until it is recorded or, a minute past the deadline, marked `unknown`. Do not run
    /// the action again blindly: the endpoint may already have acted.
    #[serde(default = "recorded")]
    pub outcome_recorded: bool,
}

fn recorded() -> bool {
    true
}

fn first_attempt() -> u32 {
    1
}

/// One page of `GET /api/incidents/{id}/runs`: `{"runs": [...], "next_cursor"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunList {
    /// Newest first (in the order they were first run; a redelivery does not move a run).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<ActionRun>))]
    pub runs: Vec<Viewed<ActionRun>>,
    /// Pass as `?cursor=` for the next (older) page; `null` on the last.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------------------

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditActor {
    /// Principal id.
    pub id: String,
    /// Display name at the time.
    pub name: String,
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Identifier, `aud_…`.
    pub id: String,
    /// RFC 3339.
    pub created_at: String,
    /// Who.
    pub actor: AuditActor,
    /// What, e.g. `service.created`, `action.updated`, `action.secret_rotated`.
    pub event: String,
    /// `service` or `action`.
    pub target_type: String,
    /// The changed thing.
    pub target_id: String,
    /// The service concerned.
    pub service_id: Option<String>,
    /// The state before, as the API shows it (secret values are never recorded).
    pub before: Value,
    /// The state after, likewise.
    pub after: Value,
}

/// `{"audit_entries": [...], "next_cursor"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditList {
    /// Newest first.
    pub audit_entries: Vec<AuditEntry>,
    /// Pass as `?cursor=` for the next (older) page; `null` on the last.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Users and tokens
// ---------------------------------------------------------------------------------------

/// `POST /api/users`. Missing fields read as blank, so the answer is the field's own
/// message rather than a parser message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateUserRequest {
    /// Display name, 1..=80 characters.
    #[serde(default)]
    pub name: String,
    /// E-mail address, unique regardless of case.
    #[serde(default)]
    pub email: String,
    /// One of `owner`, `admin`, `manager`, `responder`, `observer`, `stakeholder`.
    #[serde(default)]
    pub role: String,
}

/// `PATCH /api/users/{id}`: fields left out stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateUserRequest {
    /// New display name.
    #[serde(default)]
    pub name: Option<String>,
    /// New e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// New role.
    #[serde(default)]
    pub role: Option<String>,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// Identifier, `usr_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// What the user may do.
    pub role: Role,
    /// RFC 3339.
    pub created_at: String,
    /// Bumped by every change. Send it as `If-Match` with a change or delete to have it
    /// made only on this version (409 `edit_conflict` with the user as they are now when
    /// someone changed them since).
    pub version: u64,
}

/// `{"user": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserResponse {
    /// The user.
    pub user: User,
    /// The tokens this change revoked: a promotion to admin or owner revokes the tokens
    /// someone else minted for the user. Absent when none were.
    /// (The app shows `notice` and never decodes these: see the `app` feature.)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(
        all(feature = "app", not(feature = "openapi")),
        serde(skip_deserializing)
    )]
    pub revoked_tokens: Vec<ApiToken>,
    /// What the change did beyond the user itself, in words (the revocation); absent when
    /// nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

/// `{"users": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserList {
    /// Users by name.
    pub users: Vec<User>,
}

/// `POST /api/users/{id}/tokens`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTokenRequest {
    /// What the token is for, 1..=80 characters.
    #[serde(default)]
    pub label: String,
}

/// An API token. Only a SHA-256 hash of the secret is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    /// Identifier, `tok_…`.
    pub id: String,
    /// What it is for.
    pub label: String,
    /// `iat_…`: only in the answer to create, never again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The secret's last four characters, to tell tokens apart.
    pub last4: String,
    /// RFC 3339.
    pub created_at: String,
}

/// `{"token": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// The token.
    pub token: ApiToken,
}

/// `{"tokens": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenList {
    /// Oldest first.
    pub tokens: Vec<ApiToken>,
}

/// Who is calling, as `GET /api/me` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// User id; `admin` for the `ADMIN_TOKEN`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// E-mail; `None` for the built-in `ADMIN_TOKEN` owner.
    pub email: Option<String>,
    /// What the caller may do.
    pub role: Role,
    /// RFC 3339; `None` for the built-in owner.
    pub created_at: Option<String>,
    /// Whether this is the built-in `ADMIN_TOKEN` owner rather than a user row.
    pub built_in: bool,
}

/// `{"user": ...}` from `GET /api/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeResponse {
    /// The caller.
    pub user: Me,
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_timeline_entry_type_is_stored_as_it_is_sent() {
        for entry_type in super::LogEntryType::ALL {
            assert_eq!(
                serde_json::to_value(entry_type).unwrap(),
                entry_type.as_str()
            );
        }
    }

    use super::*;

    #[test]
    fn missing_required_fields_read_as_blank_for_validation_to_answer() {
        let request: CreateActionRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(
            (request.name.as_str(), request.endpoint_url.as_str()),
            ("", "")
        );
        let request: CreateServiceRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(request.name, "");
    }

    #[test]
    fn an_error_body_without_field_errors_has_only_code_and_message() {
        let body = ErrorBody {
            error: ErrorDetail {
                code: ErrorCode::ActionLimit,
                message: "A service can have at most 3 custom actions".to_owned(),
                fields: Vec::new(),
            },
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"error": {"code": "action_limit",
                "message": "A service can have at most 3 custom actions"}})
        );
    }

    #[test]
    fn the_signing_secret_is_omitted_unless_present() {
        let action = Action {
            id: "act_1".into(),
            service_id: "svc_1".into(),
            name: "Restart".into(),
            description: None,
            endpoint_url: None,
            enabled: true,
            headers: None,
            settings: RunSettings::default(),
            signing_secret: None,
            revision: 1,
            config_health: ConfigHealth::Ok,
            config_problem: None,
            health: EndpointHealth::default(),
            created_at: "t".into(),
            updated_at: "t".into(),
        };
        let json = serde_json::to_value(&action).unwrap();
        assert!(json.get("signing_secret").is_none());
        // Redacted configuration is left out, not sent as null.
        assert!(json.get("endpoint_url").is_none());
        assert!(json.get("headers").is_none());
        assert!(json.get("body_template").is_none());
    }

    #[test]
    fn a_run_answer_from_an_older_worker_reads_as_recorded() {
        let run = serde_json::json!({"id": "run_1", "incident_id": "i", "action_id": "a",
            "action_name": "n", "status": "succeeded", "outcome": "success", "http_status": 200,
            "duration_ms": 1, "response_excerpt": "", "requested_by": "admin",
            "started_at": "t", "finished_at": "t"});
        let answer: RunResponse = serde_json::from_value(serde_json::json!({"run": run})).unwrap();
        assert!(answer.outcome_recorded);
        assert_eq!(answer.run.action_revision, None);
    }

    #[test]
    fn a_log_entry_serializes_its_type_under_type() {
        let entry = LogEntry {
            id: "log_1".into(),
            entry_type: LogEntryType::ActionRun,
            created_at: "t".into(),
            agent: "admin".into(),
            summary: "s".into(),
            run: None,
            attempt: None,
        };
        assert_eq!(serde_json::to_value(&entry).unwrap()["type"], "action_run");
    }
}
