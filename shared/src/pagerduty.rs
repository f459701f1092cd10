//! The PagerDuty REST API v2 shapes served under `/pagerduty`, so a PagerDuty client or a
//! Port action needs only its base URL changed: the incident, service, note and log entry
//! objects with their wrapper objects, the request bodies, and PagerDuty's error body.
//!
//! The conversions from this product's own types are pure and tested here; the worker
//! only reads, writes and answers.

use serde::{Deserialize, Serialize};

use crate::api::{CreateIncidentRequest, Incident, LogEntry, LogEntryType, Service};
use crate::incident::{IncidentStatus, Urgency};
use crate::view::Viewed;

/// Where the surface lives, under the worker's own origin.
pub const BASE_PATH: &str = "/pagerduty";

/// Items on a page of a `/pagerduty` list when `limit` is not given.
pub const DEFAULT_PAGE_LIMIT: i64 = 25;

/// The largest `limit` of a `/pagerduty` list, and the most incidents a bulk `PUT` takes.
pub const MAX_PAGE_LIMIT: i64 = 100;

/// A reference to a service, as PagerDuty nests it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceReference {
    /// `svc_…`.
    pub id: String,
    /// `service_reference`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The service's name.
    pub summary: String,
    /// Its URL on this surface.
    #[serde(rename = "self")]
    pub self_url: String,
    /// Its page in the app.
    pub html_url: String,
}

/// `body` of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentBody {
    /// `incident_body`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The details, as text.
    pub details: Option<String>,
}

/// PagerDuty's incident object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PdIncident {
    /// `inc_…`.
    pub id: String,
    /// `incident`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `[#12] Disk full`.
    pub summary: String,
    /// Its URL on this surface.
    #[serde(rename = "self")]
    pub self_url: String,
    /// Its page in the app.
    pub html_url: String,
    /// Its number.
    pub incident_number: i64,
    /// Its title.
    pub title: String,
    /// `triggered`, `acknowledged` or `resolved`.
    pub status: IncidentStatus,
    /// `high` or `low`.
    pub urgency: Urgency,
    /// The dedup key.
    pub incident_key: String,
    /// The service.
    pub service: ServiceReference,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// RFC 3339: the last change (this product does not keep status changes apart).
    pub last_status_change_at: String,
    /// The details typed when it was opened by hand, or the monitor's `custom_details`
    /// as JSON text.
    pub body: IncidentBody,
}

/// PagerDuty's service object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PdService {
    /// `svc_…`.
    pub id: String,
    /// `service`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its name.
    pub summary: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Always `active`.
    pub status: String,
    /// Its URL on this surface.
    #[serde(rename = "self")]
    pub self_url: String,
    /// Its page in the app.
    pub html_url: String,
    /// RFC 3339.
    pub created_at: String,
}

/// Who wrote a note or did what a log entry says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentReference {
    /// `user_reference` for people, `service_reference` for monitors.
    #[serde(rename = "type")]
    pub kind: String,
    /// The name.
    pub summary: String,
}

/// PagerDuty's note object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PdNote {
    /// `log_…`.
    pub id: String,
    /// Who wrote it.
    pub user: AgentReference,
    /// The text.
    pub content: String,
    /// RFC 3339.
    pub created_at: String,
}

/// PagerDuty's log entry object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PdLogEntry {
    /// `log_…`.
    pub id: String,
    /// `trigger_log_entry`, `acknowledge_log_entry`, `resolve_log_entry`,
    /// `annotate_log_entry` (a note), `custom_action_log_entry` (an action run),
    /// `urgency_change_log_entry` or `field_value_change_log_entry` (a new title).
    #[serde(rename = "type")]
    pub kind: String,
    /// One line.
    pub summary: String,
    /// RFC 3339.
    pub created_at: String,
    /// Who or what.
    pub agent: AgentReference,
}

/// `{"incident": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentWrapper {
    /// The incident.
    pub incident: PdIncident,
}

/// `GET /incidents`: classic pagination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentPage {
    /// This page.
    pub incidents: Vec<PdIncident>,
    /// The limit applied.
    pub limit: i64,
    /// The offset applied.
    pub offset: i64,
    /// All matches, when asked for with `total=true`; else `null`, as PagerDuty does.
    pub total: Option<i64>,
    /// Whether a later page has more.
    pub more: bool,
}

/// `{"incidents": […]}`, the answer to a bulk update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentsWrapper {
    /// The incidents, as they are now.
    pub incidents: Vec<PdIncident>,
}

/// `GET /services`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServicePage {
    /// Every service.
    pub services: Vec<PdService>,
    /// The number of services.
    pub limit: i64,
    /// Always 0.
    pub offset: i64,
    /// The number of services.
    pub total: Option<i64>,
    /// Always false.
    pub more: bool,
}

/// `{"service": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceWrapper {
    /// The service.
    pub service: PdService,
}

/// `{"note": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoteWrapper {
    /// The note.
    pub note: PdNote,
}

/// `{"notes": […]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotesWrapper {
    /// Oldest first.
    pub notes: Vec<PdNote>,
}

/// `{"log_entries": […]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogEntriesWrapper {
    /// Newest first, as PagerDuty lists them.
    pub log_entries: Vec<PdLogEntry>,
    /// The number of entries.
    pub limit: i64,
    /// Always 0.
    pub offset: i64,
    /// Always false.
    pub more: bool,
}

/// A reference sent in a request body: `{"id", "type"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reference {
    /// The id.
    #[serde(default)]
    pub id: String,
    /// e.g. `service_reference`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// `body` in a request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BodyInput {
    /// `incident_body`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The details.
    #[serde(default)]
    pub details: Option<String>,
}

/// `POST /incidents`, as Port's guide sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateIncident {
    /// `incident`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The title.
    #[serde(default)]
    pub title: String,
    /// The service.
    #[serde(default)]
    pub service: Reference,
    /// `high` or `low`.
    #[serde(default)]
    pub urgency: Option<Urgency>,
    /// The details.
    #[serde(default)]
    pub body: Option<BodyInput>,
    /// The dedup key.
    #[serde(default)]
    pub incident_key: Option<String>,
}

/// `{"incident": …}` in a request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateIncidentWrapper {
    /// The incident to open.
    #[serde(default)]
    pub incident: CreateIncident,
}

impl CreateIncidentWrapper {
    /// The same request in this product's own terms.
    pub fn into_request(self) -> CreateIncidentRequest {
        let incident = self.incident;
        CreateIncidentRequest {
            service_id: incident.service.id,
            title: incident.title,
            urgency: incident.urgency,
            details: incident.body.and_then(|body| body.details),
            dedup_key: incident.incident_key,
        }
    }
}

/// `PUT /incidents/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateIncident {
    /// `incident`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// `acknowledged` or `resolved`.
    #[serde(default)]
    pub status: Option<IncidentStatus>,
    /// A new title.
    #[serde(default)]
    pub title: Option<String>,
    /// A new urgency.
    #[serde(default)]
    pub urgency: Option<Urgency>,
    /// Why it was resolved; becomes a note.
    #[serde(default)]
    pub resolution: Option<String>,
}

/// `{"incident": …}` of a `PUT`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateIncidentWrapper {
    /// The change.
    #[serde(default)]
    pub incident: UpdateIncident,
}

/// One incident of a bulk `PUT /incidents`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkItem {
    /// The incident.
    #[serde(default)]
    pub id: String,
    /// `incident_reference`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// `acknowledged` or `resolved`.
    #[serde(default)]
    pub status: Option<IncidentStatus>,
}

/// `PUT /incidents`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkUpdate {
    /// The incidents and their new status.
    #[serde(default)]
    pub incidents: Vec<BulkItem>,
}

/// `{"note": {"content"}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoteInput {
    /// The text.
    #[serde(default)]
    pub content: String,
}

/// `POST /incidents/{id}/notes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateNote {
    /// The note.
    #[serde(default)]
    pub note: NoteInput,
}

/// PagerDuty's error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PdErrorBody {
    /// The error.
    pub error: PdError,
}

/// PagerDuty's error object: a message, a numeric code, and details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PdError {
    /// e.g. `Invalid Input Provided`.
    pub message: String,
    /// e.g. 2001.
    pub code: u32,
    /// One line per problem.
    #[serde(default)]
    pub errors: Vec<String>,
}

/// PagerDuty's error codes used here, with their status and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PdErrorKind {
    /// 400, 2001.
    InvalidInput,
    /// 401, 2006.
    Unauthorized,
    /// 403, 2010.
    AccessDenied,
    /// 404, 2100.
    NotFound,
    /// 405 (no PagerDuty code of its own), 2000.
    MethodNotAllowed,
    /// 409 (no PagerDuty code of its own), 2000: a change made meanwhile by someone else
    /// stopped this one, which changed nothing.
    Conflict,
    /// 429, 2020.
    Throttled,
    /// 500, 2000 (anything else).
    Internal,
}

impl PdErrorKind {
    /// Every kind.
    pub const ALL: [Self; 8] = [
        Self::InvalidInput,
        Self::Unauthorized,
        Self::AccessDenied,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::Conflict,
        Self::Throttled,
        Self::Internal,
    ];

    /// Its HTTP status.
    pub fn status(self) -> u16 {
        self.status_code_message().0
    }

    /// PagerDuty's message for it.
    pub fn title(self) -> &'static str {
        self.status_code_message().2
    }

    /// The HTTP status, PagerDuty code and message.
    pub fn status_code_message(self) -> (u16, u32, &'static str) {
        match self {
            Self::InvalidInput => (400, 2001, "Invalid Input Provided"),
            Self::Unauthorized => (401, 2006, "Authentication failed"),
            Self::AccessDenied => (403, 2010, "Access Denied"),
            Self::NotFound => (404, 2100, "Not Found"),
            Self::MethodNotAllowed => (405, 2000, "Method Not Allowed"),
            Self::Conflict => (409, 2000, "Conflict"),
            Self::Throttled => (429, 2020, "Rate Limit Exceeded"),
            Self::Internal => (500, 2000, "An unexpected error occurred"),
        }
    }

    /// The body for this kind with `errors`.
    pub fn body(self, errors: Vec<String>) -> (u16, PdErrorBody) {
        let (status, code, message) = self.status_code_message();
        (
            status,
            PdErrorBody {
                error: PdError {
                    message: message.to_owned(),
                    code,
                    errors,
                },
            },
        )
    }
}

/// URLs of the objects: this surface's and the app's, under `origin`
/// (`https://actions.example.com`).
#[derive(Debug, Clone, Copy)]
pub struct Urls<'a> {
    /// The worker's origin.
    pub origin: &'a str,
}

impl Urls<'_> {
    fn api(&self, path: &str) -> String {
        format!("{}{BASE_PATH}{path}", self.origin)
    }

    fn app(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// An incident in PagerDuty's shape, as its viewer may see it.
    pub fn incident(&self, incident: &Viewed<Incident>) -> PdIncident {
        let details = incident.details.clone().or_else(|| {
            incident
                .custom_details
                .as_ref()
                .filter(|details| !details.is_null())
                .map(ToString::to_string)
        });
        PdIncident {
            id: incident.id.clone(),
            kind: "incident".to_owned(),
            summary: format!("[#{}] {}", incident.number, incident.title),
            self_url: self.api(&format!("/incidents/{}", incident.id)),
            html_url: self.app(&format!("/incidents/{}", incident.id)),
            incident_number: incident.number,
            title: incident.title.clone(),
            status: incident.status,
            urgency: incident.urgency,
            incident_key: incident.dedup_key.clone(),
            service: ServiceReference {
                id: incident.service.id.clone(),
                kind: "service_reference".to_owned(),
                summary: incident.service.name.clone(),
                self_url: self.api(&format!("/services/{}", incident.service.id)),
                html_url: self.app(&format!("/services/{}/actions", incident.service.id)),
            },
            created_at: incident.created_at.clone(),
            updated_at: incident.updated_at.clone(),
            last_status_change_at: incident.updated_at.clone(),
            body: IncidentBody {
                kind: "incident_body".to_owned(),
                details,
            },
        }
    }

    /// A service in PagerDuty's shape (no routing key: it is not part of it), as its
    /// viewer may see it.
    pub fn service(&self, service: &Viewed<Service>) -> PdService {
        PdService {
            id: service.id.clone(),
            kind: "service".to_owned(),
            summary: service.name.clone(),
            name: service.name.clone(),
            description: service.description.clone(),
            status: "active".to_owned(),
            self_url: self.api(&format!("/services/{}", service.id)),
            html_url: self.app(&format!("/services/{}/actions", service.id)),
            created_at: service.created_at.clone(),
        }
    }
}

/// A timeline entry in PagerDuty's shape, as its viewer may see it (a run's line below
/// responder names the action and its status only).
pub fn log_entry(entry: &Viewed<LogEntry>) -> PdLogEntry {
    let kind = match entry.entry_type {
        LogEntryType::Trigger | LogEntryType::Alert => "trigger_log_entry",
        LogEntryType::Acknowledge => "acknowledge_log_entry",
        LogEntryType::Resolve => "resolve_log_entry",
        LogEntryType::Note => "annotate_log_entry",
        LogEntryType::ActionRun => "custom_action_log_entry",
        LogEntryType::UrgencyChange => "urgency_change_log_entry",
        // PagerDuty has no entry of its own for a new title; this is its entry for a
        // field of the incident that changed.
        LogEntryType::TitleChange => "field_value_change_log_entry",
    };
    PdLogEntry {
        id: entry.id.clone(),
        kind: kind.to_owned(),
        summary: entry.summary.clone(),
        created_at: entry.created_at.clone(),
        agent: agent(&entry.agent),
    }
}

/// A note (a `note` timeline entry) in PagerDuty's shape; `None` for other entries.
pub fn note(entry: &Viewed<LogEntry>) -> Option<PdNote> {
    (entry.entry_type == LogEntryType::Note).then(|| PdNote {
        id: entry.id.clone(),
        user: agent(&entry.agent),
        content: entry.summary.clone(),
        created_at: entry.created_at.clone(),
    })
}

fn agent(name: &str) -> AgentReference {
    AgentReference {
        kind: if name.starts_with("Events API") {
            "service_reference"
        } else {
            "user_reference"
        }
        .to_owned(),
        summary: name.to_owned(),
    }
}

/// The value of PagerDuty's `Authorization: Token token=<key>` (or `Bearer <key>`).
pub fn token_of(authorization: &str) -> Option<&str> {
    let value = authorization.trim();
    let token = value
        .strip_prefix("Token token=")
        .or_else(|| value.strip_prefix("Bearer "))?
        .trim()
        .trim_matches('"');
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::roles::Role;
    use crate::view::View;

    fn our_incident() -> Incident {
        serde_json::from_value(json!({
            "id": "inc_1", "number": 12, "title": "Checkout down", "status": "triggered",
            "urgency": "high", "severity": "critical", "source": "manual", "component": null,
            "group": null, "class": null, "custom_details": null, "details": "Since 03:00",
            "links": [], "dedup_key": "k1", "event_count": 1,
            "service": {"id": "svc_1", "name": "Checkout"},
            "created_at": "2026-12-02T03:00:00.000Z", "updated_at": "2026-12-02T03:05:00.000Z"
        }))
        .unwrap()
    }

    #[test]
    fn an_incident_carries_pagerdutys_fields_and_urls() {
        let urls = Urls {
            origin: "https://actions.example.com",
        };
        let shown = serde_json::to_value(urls.incident(&our_incident().view(Role::Owner))).unwrap();
        assert_eq!(shown["type"], "incident");
        assert_eq!(shown["summary"], "[#12] Checkout down");
        assert_eq!(
            shown["self"],
            "https://actions.example.com/pagerduty/incidents/inc_1"
        );
        assert_eq!(
            shown["html_url"],
            "https://actions.example.com/incidents/inc_1"
        );
        assert_eq!(shown["incident_number"], 12);
        assert_eq!(shown["incident_key"], "k1");
        assert_eq!(shown["service"]["type"], "service_reference");
        assert_eq!(shown["service"]["summary"], "Checkout");
        assert_eq!(
            shown["body"],
            json!({"type": "incident_body", "details": "Since 03:00"})
        );
        assert_eq!(shown["last_status_change_at"], "2026-12-02T03:05:00.000Z");
    }

    #[test]
    fn an_incident_from_a_monitor_shows_its_custom_details_as_body_details() {
        let mut incident = our_incident();
        incident.details = None;
        incident.custom_details = Some(json!({"disk": "/var"}));
        let urls = Urls {
            origin: "https://a",
        };
        assert_eq!(
            urls.incident(&incident.view(Role::Owner))
                .body
                .details
                .as_deref(),
            Some(r#"{"disk":"/var"}"#)
        );
    }

    #[test]
    fn ports_create_body_becomes_our_request() {
        let port: CreateIncidentWrapper = serde_json::from_value(json!({
            "incident": {"type": "incident", "title": "Checkout down",
                "service": {"id": "svc_1", "type": "service_reference"}, "urgency": "low",
                "body": {"type": "incident_body", "details": "Created from Port"}}
        }))
        .unwrap();
        let request = port.into_request();
        assert_eq!(request.service_id, "svc_1");
        assert_eq!(request.title, "Checkout down");
        assert_eq!(request.urgency, Some(Urgency::Low));
        assert_eq!(request.details.as_deref(), Some("Created from Port"));
        assert_eq!(request.dedup_key, None);
    }

    #[test]
    fn log_entries_take_pagerdutys_types() {
        let entry = |entry_type, agent: &str| LogEntry {
            id: "log_1".into(),
            entry_type,
            created_at: "t".into(),
            agent: agent.into(),
            summary: "s".into(),
            run: None,
            attempt: None,
        };
        let viewed = |entry_type, agent: &str| entry(entry_type, agent).view(Role::Owner);
        assert_eq!(
            log_entry(&viewed(LogEntryType::Trigger, "Events API (db-1)")).kind,
            "trigger_log_entry"
        );
        assert_eq!(
            log_entry(&viewed(LogEntryType::Trigger, "Events API (db-1)"))
                .agent
                .kind,
            "service_reference"
        );
        assert_eq!(
            log_entry(&viewed(LogEntryType::Note, "Ada")).kind,
            "annotate_log_entry"
        );
        assert_eq!(
            log_entry(&viewed(LogEntryType::ActionRun, "Ada")).kind,
            "custom_action_log_entry"
        );
        assert_eq!(
            log_entry(&viewed(LogEntryType::UrgencyChange, "Ada")).kind,
            "urgency_change_log_entry"
        );
        assert_eq!(
            log_entry(&viewed(LogEntryType::TitleChange, "Ada")).kind,
            "field_value_change_log_entry"
        );
        assert!(note(&viewed(LogEntryType::TitleChange, "Ada")).is_none());
        assert!(note(&viewed(LogEntryType::Resolve, "Ada")).is_none());
        assert_eq!(
            note(&viewed(LogEntryType::Note, "Ada"))
                .unwrap()
                .user
                .summary,
            "Ada"
        );
    }

    #[test]
    fn tokens_are_read_from_pagerdutys_header_and_bearer() {
        assert_eq!(token_of("Token token=iat_abc"), Some("iat_abc"));
        assert_eq!(token_of("Token token=\"iat_abc\""), Some("iat_abc"));
        assert_eq!(token_of("Bearer iat_abc"), Some("iat_abc"));
        assert_eq!(token_of("Token token="), None);
        assert_eq!(token_of("Basic abc"), None);
    }

    #[test]
    fn errors_use_pagerdutys_codes() {
        let (status, body) = PdErrorKind::AccessDenied.body(vec!["needs responder".into()]);
        assert_eq!(status, 403);
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            json!({"error": {"message": "Access Denied", "code": 2010, "errors": ["needs responder"]}})
        );
        assert_eq!(
            PdErrorKind::NotFound.status_code_message(),
            (404, 2100, "Not Found")
        );
    }
}
