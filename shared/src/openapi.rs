//! The OpenAPI 3.1 document of the worker's three surfaces (`/api`, `/v2`, `/pagerduty`),
//! generated from the route table ([`Route::ALL`]) and the wire types (their `ToSchema`
//! derives, behind this crate's `openapi` feature).
//!
//! Only native code compiles this module. The worker's tests (`worker/src/routes/openapi.rs`)
//! write the document to `worker/openapi.json` under `UPDATE_FIXTURES=1`, and otherwise
//! fail when that file, which the worker serves ([`Route::GetOpenApi`]), differs from what
//! this code generates. What each route takes
//! and answers is one exhaustive match ([`contract`]), so a new route does not compile
//! until it is described.

use std::collections::BTreeMap;

use serde_json::json;
use utoipa::openapi::path::{HttpMethod as DocMethod, Operation, Parameter, ParameterIn};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{
    AdditionalProperties, Array, Components, Object, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, Header, Info, OpenApi, Paths, Ref, RefOr, Required, Server, Tag};
use utoipa::ToSchema;

use crate::api;
use crate::errors::ErrorCode;
use crate::events::{ChangeAccepted, EnqueueAccepted, EnqueueRejected, EventAction};
use crate::incident::{IncidentStatus, Severity, Urgency};
use crate::limits;
use crate::pagerduty;
use crate::paging::PagedList;
use crate::routes::{HttpMethod, Requirement, Route};

/// The document, as the worker serves it: pretty JSON and a final newline.
pub fn document_json() -> String {
    let json = document()
        .to_pretty_json()
        .expect("the document serializes");
    format!("{json}\n")
}

/// The whole document.
pub fn document() -> OpenApi {
    let mut schemas = Schemas::default();
    let mut paths = Paths::new();
    for &route in Route::ALL {
        let operation = operation(route, &mut schemas);
        paths.add_path_operation(route.path(), vec![doc_method(route.method())], operation);
    }
    let mut components = Components::new();
    components.responses = error_responses(&mut schemas).into_iter().collect();
    components.schemas = schemas.0.into_iter().collect();
    for (name, scheme) in security_schemes() {
        components.add_security_scheme(name, scheme);
    }
    let mut info = Info::new("Incident Actions", env!("CARGO_PKG_VERSION"));
    info.description = Some(
        "Custom action buttons for incidents. Three surfaces: `/api` (the app's JSON API: \
         session cookie or `Authorization: Bearer <token>`), `/v2` (PagerDuty Events API \
         v2; the routing key in the body is the credential) and `/pagerduty` (PagerDuty \
         REST API v2 subset; `Authorization: Token token=<token>` or `Bearer <token>`). \
         Every `/api` error is `{\"error\": {\"code\", \"message\", \"fields\"?}}`; each \
         error response below lists the codes it can carry."
            .to_owned(),
    );
    let mut document = OpenApi::new(info, paths);
    document.servers = Some(vec![Server::new("/")]);
    document.components = Some(components);
    document.tags = Some(
        Surface::ALL
            .iter()
            .map(|surface| {
                let mut tag = Tag::new(surface.tag());
                tag.description = Some(surface.description().to_owned());
                tag
            })
            .collect(),
    );
    document
}

/// The three surfaces, which differ in credentials and in the shape of their errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Surface {
    Api,
    Events,
    PagerDuty,
}

impl Surface {
    const ALL: [Self; 3] = [Self::Api, Self::Events, Self::PagerDuty];

    fn of(route: Route) -> Self {
        if route.is_pagerduty() {
            Self::PagerDuty
        } else if route.path().starts_with("/v2/") {
            Self::Events
        } else {
            Self::Api
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Events => "events",
            Self::PagerDuty => "pagerduty",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Self::Api => "The app's JSON API.",
            Self::Events => {
                "PagerDuty Events API v2: send alerts and change events with a service's \
                 routing key. 429 (with `Retry-After`) past the key's rate; PagerDuty's \
                 clients retry it."
            }
            Self::PagerDuty => {
                "A subset of PagerDuty's REST API v2, for tools written against PagerDuty \
                 (Port, scripts). Errors have PagerDuty's shape."
            }
        }
    }
}

/// What one route takes and answers on success.
struct Contract {
    /// The JSON body it reads, and whether the body may be left out.
    request: Option<(RefOr<Schema>, Required)>,
    /// Its success status and JSON body (`None`: no body, as 204).
    success: Vec<(u16, &'static str, Option<RefOr<Schema>>)>,
    /// Query parameters.
    query: Vec<Parameter>,
    /// Request headers it reads, besides credentials.
    headers: Vec<Parameter>,
}

impl Contract {
    fn answers(status: u16, what: &'static str, body: RefOr<Schema>) -> Self {
        Self {
            request: None,
            success: vec![(status, what, Some(body))],
            query: Vec::new(),
            headers: Vec::new(),
        }
    }

    fn no_content() -> Self {
        Self {
            request: None,
            success: vec![(204, "Done; no body.", None)],
            query: Vec::new(),
            headers: Vec::new(),
        }
    }

    fn takes(mut self, body: RefOr<Schema>) -> Self {
        self.request = Some((body, Required::True));
        self
    }

    fn may_take(mut self, body: RefOr<Schema>) -> Self {
        self.request = Some((body, Required::False));
        self
    }

    fn also(mut self, status: u16, what: &'static str, body: RefOr<Schema>) -> Self {
        self.success.push((status, what, Some(body)));
        self
    }

    fn query(mut self, parameters: impl IntoIterator<Item = Parameter>) -> Self {
        self.query.extend(parameters);
        self
    }

    fn header(mut self, name: &str, description: &str, schema: Schema) -> Self {
        self.headers
            .push(parameter(ParameterIn::Header, name, description, schema));
        self
    }
}

/// THE description of each route: its body, its answer, its query and headers.
fn contract(route: Route, s: &mut Schemas) -> Contract {
    use Route as R;
    let pagerduty_from = |contract: Contract| {
        contract.header(
            "From",
            "With the admin token: the e-mail of the user acting (400 when unknown).",
            Schema::Object(Object::with_type(Type::String)),
        )
    };
    match route {
        R::Enqueue => {
            Contract::answers(202, "Accepted.", s.of::<EnqueueAccepted>()).takes(event_request(s))
        }
        R::ChangeEnqueue => Contract::answers(202, "Accepted.", s.of::<ChangeAccepted>())
            .takes(change_event_request()),
        R::SignIn => Contract::answers(
            200,
            "Signed in; sets the session cookie.",
            s.of::<api::SessionResponse>(),
        )
        .takes(s.of::<api::SignInRequest>()),
        R::GetSession => Contract::answers(200, "The session.", s.of::<api::SessionResponse>()),
        R::SignOut => Contract::no_content(),
        R::GetMe => Contract::answers(200, "The caller.", s.of::<api::MeResponse>()),
        R::GetOpenApi => Contract::answers(200, "This document.", free_object()),

        R::ListServices => Contract::answers(200, "The services.", s.of::<api::ServiceList>()),
        R::CreateService => Contract::answers(201, "Created.", s.of::<api::ServiceResponse>())
            .takes(s.of::<api::CreateServiceRequest>()),
        R::GetService => Contract::answers(200, "The service.", s.of::<api::ServiceResponse>()),
        R::UpdateService => Contract::answers(200, "Saved.", s.of::<api::ServiceResponse>())
            .takes(s.of::<api::UpdateServiceRequest>()),
        R::RotateRoutingKey => Contract::answers(
            200,
            "The service with its new routing key; the old one works for the grace period.",
            s.of::<api::ServiceResponse>(),
        )
        .may_take(s.of::<api::RotateRoutingKeyRequest>()),
        R::DeleteService => Contract::no_content(),
        R::ListChanges => Contract::answers(
            200,
            "Change events, newest first.",
            s.of::<api::ChangeList>(),
        )
        .query([limit_parameter(limits::MAX_CHANGES_LIST as u32)]),

        R::ListActions => Contract::answers(200, "The actions.", s.of::<api::ActionList>()),
        R::CreateAction => Contract::answers(201, "Created.", s.of::<api::ActionResponse>())
            .takes(s.of::<api::CreateActionRequest>()),
        R::GetAction => Contract::answers(200, "The action.", s.of::<api::ActionResponse>()),
        R::UpdateAction => Contract::answers(200, "Saved.", s.of::<api::ActionResponse>())
            .takes(s.of::<api::UpdateActionRequest>())
            .header(
                "If-Match",
                "The revision the edit was made on (as `expected_revision`): 409 \
                 `edit_conflict` when the action changed since.",
                Schema::Object(Object::with_type(Type::String)),
            ),
        R::DeleteAction => Contract::no_content(),
        R::RotateSecret => Contract::answers(
            200,
            "The new signing secret, shown once.",
            s.of::<api::RotatedSecret>(),
        )
        .may_take(s.of::<api::RotateSecretRequest>()),
        R::PreviewDraft | R::PreviewAction => Contract::answers(
            200,
            "The request a run would send; nothing is sent.",
            s.of::<api::PreviewResponse>(),
        )
        .may_take(s.of::<api::PreviewRequest>()),
        R::ListActionRuns => Contract::answers(
            200,
            "Runs, newest first, and recent figures.",
            s.of::<api::RunHistory>(),
        )
        .query(page_parameters(PagedList::RunHistory)),

        R::ListIncidents => Contract::answers(
            200,
            "Incidents, newest first, without custom_details.",
            s.of::<api::IncidentList>(),
        )
        .query([
            parameter(
                ParameterIn::Query,
                "service_id",
                "Only this service's.",
                Schema::Object(Object::with_type(Type::String)),
            ),
            parameter(
                ParameterIn::Query,
                "status",
                "Only incidents in this status.",
                enum_of(IncidentStatus::ALL.iter().map(|status| status.as_str())),
            ),
        ])
        .query(page_parameters(PagedList::Incidents)),
        R::CreateIncident => Contract::answers(201, "Opened.", s.of::<api::IncidentResponse>())
            .takes(s.of::<api::CreateIncidentRequest>()),
        R::GetIncident | R::Acknowledge | R::Resolve => {
            Contract::answers(200, "The incident.", s.of::<api::IncidentResponse>())
        }
        R::GetLog => Contract::answers(
            200,
            "The timeline, newest first.",
            s.of::<api::LogEntryList>(),
        )
        .query(page_parameters(PagedList::Timeline)),
        R::AddNote => Contract::answers(
            201,
            "The note as the timeline shows it.",
            s.of::<api::LogEntryResponse>(),
        )
        .takes(s.of::<api::CreateNoteRequest>()),
        R::ListRuns => Contract::answers(
            200,
            "The incident's runs, newest first.",
            s.of::<api::RunList>(),
        )
        .query(page_parameters(PagedList::IncidentRuns)),
        R::RunAction => run_contract(
            [
                "Sent; the outcome is recorded.",
                "An earlier run with this Idempotency-Key.",
            ],
            s.of::<api::RunRequest>(),
            s,
        ),
        R::GetRun => Contract::answers(200, "The run.", s.of::<api::RunResponse>()),
        R::Redeliver => run_contract(
            [
                "Sent again; the outcome is recorded.",
                "The redelivery already made with this Idempotency-Key.",
            ],
            s.of::<api::RedeliverRequest>(),
            s,
        ),

        R::ListAudit => Contract::answers(
            200,
            "The audit log, newest first.",
            s.of::<api::AuditList>(),
        )
        .query(page_parameters(PagedList::Audit)),

        R::PdListIncidents => pagerduty_from(
            Contract::answers(
                200,
                "Incidents, classic pagination.",
                s.of::<pagerduty::IncidentPage>(),
            )
            .query(pagerduty_list_parameters()),
        ),
        R::PdCreateIncident => pagerduty_from(
            Contract::answers(201, "Opened.", s.of::<pagerduty::IncidentWrapper>())
                .takes(s.of::<pagerduty::CreateIncidentWrapper>()),
        ),
        R::PdUpdateIncidents => pagerduty_from(
            Contract::answers(
                200,
                "The incidents as they now are.",
                s.of::<pagerduty::IncidentsWrapper>(),
            )
            .takes(s.of::<pagerduty::BulkUpdate>()),
        ),
        R::PdGetIncident => pagerduty_from(Contract::answers(
            200,
            "The incident.",
            s.of::<pagerduty::IncidentWrapper>(),
        )),
        R::PdUpdateIncident => pagerduty_from(
            Contract::answers(200, "The incident.", s.of::<pagerduty::IncidentWrapper>())
                .takes(s.of::<pagerduty::UpdateIncidentWrapper>()),
        ),
        R::PdListNotes => pagerduty_from(Contract::answers(
            200,
            "The newest notes.",
            s.of::<pagerduty::NotesWrapper>(),
        )),
        R::PdCreateNote => pagerduty_from(
            Contract::answers(201, "The note.", s.of::<pagerduty::NoteWrapper>())
                .takes(s.of::<pagerduty::CreateNote>()),
        ),
        R::PdListLogEntries => pagerduty_from(
            Contract::answers(
                200,
                "Log entries, newest first.",
                s.of::<pagerduty::LogEntriesWrapper>(),
            )
            .query(pagerduty_page_parameters()),
        ),
        R::PdListServices => pagerduty_from(Contract::answers(
            200,
            "The services.",
            s.of::<pagerduty::ServicePage>(),
        )),
        R::PdGetService => pagerduty_from(Contract::answers(
            200,
            "The service.",
            s.of::<pagerduty::ServiceWrapper>(),
        )),

        R::ListUsers => Contract::answers(200, "The users.", s.of::<api::UserList>()),
        R::CreateUser => Contract::answers(201, "Created.", s.of::<api::UserResponse>())
            .takes(s.of::<api::CreateUserRequest>()),
        R::GetUser => Contract::answers(200, "The user.", s.of::<api::UserResponse>()),
        R::UpdateUser => Contract::answers(
            200,
            "Saved; a promotion says which tokens it revoked.",
            s.of::<api::UserResponse>(),
        )
        .takes(s.of::<api::UpdateUserRequest>())
        .header(
            "If-Match",
            USER_IF_MATCH,
            Schema::Object(Object::with_type(Type::String)),
        ),
        R::DeleteUser => Contract::no_content().header(
            "If-Match",
            USER_IF_MATCH,
            Schema::Object(Object::with_type(Type::String)),
        ),
        R::DeleteToken => Contract::no_content(),
        R::ListTokens => Contract::answers(
            200,
            "The user's tokens (never their secrets).",
            s.of::<api::TokenList>(),
        ),
        R::CreateToken => Contract::answers(
            201,
            "The token, with its secret shown once.",
            s.of::<api::TokenResponse>(),
        )
        .takes(s.of::<api::CreateTokenRequest>()),
    }
}

/// What `If-Match` means on a change or delete of a user.
const USER_IF_MATCH: &str = "The user's version the change is made on: 409 `edit_conflict`, with \
     the user as they are now, when they changed since.";

/// A press of a button (a run or a redelivery): 201 once its outcome is recorded, 200 for
/// a repeat of an earlier press with its `Idempotency-Key`, 202 when the endpoint was
/// called but its answer is not recorded yet.
fn run_contract(
    [recorded, repeated]: [&'static str; 2],
    request: RefOr<Schema>,
    s: &mut Schemas,
) -> Contract {
    Contract::answers(201, recorded, s.of::<api::RunResponse>())
        .also(200, repeated, s.of::<api::RunResponse>())
        .also(
            202,
            "Sent; the outcome is still being recorded.",
            s.of::<api::RunResponse>(),
        )
        .may_take(request)
        .header(
            "Idempotency-Key",
            &format!(
                "Makes a retry of the same press return the first answer instead of sending \
                 again (kept for {} hours).",
                limits::IDEMPOTENCY_WINDOW_HOURS
            ),
            string(1, limits::MAX_IDEMPOTENCY_KEY_CHARS),
        )
}

/// The operation of `route`: its contract, its credentials and its error answers.
fn operation(route: Route, schemas: &mut Schemas) -> Operation {
    let surface = Surface::of(route);
    let contract = contract(route, schemas);
    let mut operation = Operation::new();
    operation.operation_id = Some(format!("{route:?}"));
    operation.summary = Some(route_summary(route));
    operation.tags = Some(vec![surface.tag().to_owned()]);
    let mut parameters: Vec<Parameter> = route
        .path()
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let mut id = parameter(
                ParameterIn::Path,
                name,
                "An id this deployment gave out.",
                Schema::Object(Object::with_type(Type::String)),
            );
            id.required = Required::True;
            id
        })
        .collect();
    parameters.extend(contract.query);
    parameters.extend(contract.headers);
    if !parameters.is_empty() {
        operation.parameters = Some(parameters);
    }
    if let Some((body, required)) = contract.request {
        let mut request = RequestBody::new();
        request
            .content
            .insert("application/json".to_owned(), Content::new(Some(body)));
        request.required = Some(required);
        operation.request_body = Some(request);
    }
    for (status, what, body) in contract.success {
        operation
            .responses
            .responses
            .insert(status.to_string(), RefOr::T(json_response(what, body)));
    }
    for status in error_statuses(route, surface) {
        let name = error_response_name(surface, status);
        let reference = Ref::new(format!("#/components/responses/{name}"));
        operation
            .responses
            .responses
            .insert(status.to_string(), RefOr::Ref(reference));
    }
    operation.security = Some(security(route, surface));
    operation
}

fn route_summary(route: Route) -> String {
    match route.requirement() {
        Requirement::Open => format!("{} {} (no sign-in)", route.method().as_str(), route.path()),
        Requirement::SignedIn => format!("{} {} (any role)", route.method().as_str(), route.path()),
        Requirement::Permission(permission) => format!(
            "{} {} (needs {}: {} and up)",
            route.method().as_str(),
            route.path(),
            permission.as_str(),
            permission.minimum_role().as_str()
        ),
    }
}

/// The error answers a route can give, as names of [`error_responses`]: on `/api` one per
/// status (listing the codes of that status; those about a body only where one is read),
/// PagerDuty's shape on `/pagerduty`, the Events API's own on `/v2`. 5xx answers are not
/// described: they are failures, not part of the contract.
fn error_statuses(route: Route, surface: Surface) -> Vec<u16> {
    let reads_body = matches!(
        route.method(),
        HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch
    );
    let mut statuses: Vec<u16> = match surface {
        Surface::Events => EVENTS_ERRORS.iter().map(|(status, _)| *status).collect(),
        // Only a `PUT` changes what it read, so only a `PUT` meets a change made meanwhile.
        Surface::PagerDuty => pagerduty::PdErrorKind::ALL
            .iter()
            .map(|kind| kind.status())
            .filter(|status| route.method() == HttpMethod::Put || *status != 409)
            .collect(),
        Surface::Api => ErrorCode::ALL
            .iter()
            .map(|code| code.status())
            .filter(|status| reads_body || !matches!(status, 413 | 415 | 422 | 428))
            .collect(),
    };
    statuses.retain(|status| *status < 500 && *status != 405);
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

/// The Events API's refusals.
const EVENTS_ERRORS: [(u16, &str); 4] = [
    (
        400,
        "The event is invalid, or its routing key matches no service.",
    ),
    (413, "The body is over the limit."),
    (415, "The body is not JSON."),
    (
        429,
        "Too many events for this routing key; retry after `Retry-After` seconds.",
    ),
];

fn error_response_name(surface: Surface, status: u16) -> String {
    format!("{}_error_{status}", surface.tag())
}

/// Every error answer, named, for `components.responses`.
fn error_responses(s: &mut Schemas) -> BTreeMap<String, RefOr<Response>> {
    let mut responses = BTreeMap::new();
    let mut add = |surface: Surface, status: u16, mut response: Response| {
        if status == 429 {
            response
                .headers
                .insert("Retry-After".to_owned(), retry_after());
        }
        responses.insert(error_response_name(surface, status), RefOr::T(response));
    };
    for (status, what) in EVENTS_ERRORS {
        add(
            Surface::Events,
            status,
            json_response(what, Some(s.of::<EnqueueRejected>())),
        );
    }
    for kind in pagerduty::PdErrorKind::ALL {
        let body = s.of::<pagerduty::PdErrorBody>();
        add(
            Surface::PagerDuty,
            kind.status(),
            json_response(kind.title(), Some(body)),
        );
    }
    let mut by_status: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
    for code in ErrorCode::ALL {
        by_status
            .entry(code.status())
            .or_default()
            .push(code.as_str());
    }
    for (status, codes) in by_status {
        let what = format!("`{}`", codes.join("`, `"));
        add(
            Surface::Api,
            status,
            json_response(&what, Some(error_body(&codes, s))),
        );
    }
    responses
}

/// `{"error": {"code": one of codes, "message", "fields"?}}`; a 409 may carry more (the
/// current action or user on `edit_conflict`, the incident id on `duplicate_incident`).
fn error_body(codes: &[&str], s: &mut Schemas) -> RefOr<Schema> {
    let field_error = s.of::<crate::FieldError>();
    let mut detail = Object::with_type(Type::Object);
    detail
        .properties
        .insert("code".to_owned(), RefOr::T(enum_of(codes.iter().copied())));
    detail.properties.insert(
        "message".to_owned(),
        RefOr::T(Schema::Object(Object::with_type(Type::String))),
    );
    detail.properties.insert(
        "fields".to_owned(),
        RefOr::T(Schema::Array(Array::new(field_error))),
    );
    detail.required = vec!["code".to_owned(), "message".to_owned()];
    let mut body = Object::with_type(Type::Object);
    body.properties
        .insert("error".to_owned(), RefOr::T(Schema::Object(detail)));
    body.required = vec!["error".to_owned()];
    RefOr::T(Schema::Object(body))
}

fn json_response(description: &str, body: Option<RefOr<Schema>>) -> Response {
    let mut response = Response::new(description);
    if let Some(body) = body {
        response
            .content
            .insert("application/json".to_owned(), Content::new(Some(body)));
    }
    response
}

fn retry_after() -> Header {
    let mut header = Header::new(Object::with_type(Type::Integer));
    header.description = Some("Seconds to wait before trying again.".to_owned());
    header
}

/// Who may call: nobody needs to sign in for an open route; `/pagerduty` takes only the
/// `Authorization` header; `/api` also takes the session cookie.
fn security(route: Route, surface: Surface) -> Vec<SecurityRequirement> {
    match (route.requirement(), surface) {
        (Requirement::Open, _) => vec![SecurityRequirement::default()],
        (_, Surface::PagerDuty) => vec![
            SecurityRequirement::new("pagerduty_token", Vec::<String>::new()),
            SecurityRequirement::new("bearer", Vec::<String>::new()),
        ],
        (_, Surface::Api | Surface::Events) => vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ],
    }
}

fn security_schemes() -> [(&'static str, SecurityScheme); 3] {
    let mut bearer = Http::new(HttpAuthScheme::Bearer);
    bearer.description = Some("`ADMIN_TOKEN` or a user's API token (`iat_…`).".to_owned());
    [
        ("bearer", SecurityScheme::Http(bearer)),
        (
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "ia_session",
                "Set by `POST /api/session`; `__Host-ia_session` when served over https. \
                 Changes need a same-origin `Origin`.",
            ))),
        ),
        (
            "pagerduty_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Token token=<token>`, as PagerDuty's clients send it.",
            ))),
        ),
    ]
}

// ---------------------------------------------------------------------------------------
// Query parameters
// ---------------------------------------------------------------------------------------

fn page_parameters(list: PagedList) -> [Parameter; 2] {
    [
        limit_parameter(list.max_limit()),
        parameter(
            ParameterIn::Query,
            "cursor",
            "The `next_cursor` of the page before.",
            Schema::Object(Object::with_type(Type::String)),
        ),
    ]
}

fn limit_parameter(max: u32) -> Parameter {
    let mut limit = Object::with_type(Type::Integer);
    limit.minimum = Some(1.into());
    limit.maximum = Some(max.into());
    parameter(
        ParameterIn::Query,
        "limit",
        "Items on the page.",
        Schema::Object(limit),
    )
}

fn pagerduty_page_parameters() -> [Parameter; 2] {
    let mut offset = Object::with_type(Type::Integer);
    offset.minimum = Some(0.into());
    [
        limit_parameter(pagerduty::MAX_PAGE_LIMIT as u32),
        parameter(
            ParameterIn::Query,
            "offset",
            "Items to skip.",
            Schema::Object(offset),
        ),
    ]
}

fn pagerduty_list_parameters() -> Vec<Parameter> {
    let array_of = |items: Schema| Schema::Array(Array::new(items));
    let mut parameters = vec![
        parameter(
            ParameterIn::Query,
            "statuses[]",
            "Only these statuses.",
            array_of(enum_of(
                IncidentStatus::ALL.iter().map(|status| status.as_str()),
            )),
        ),
        parameter(
            ParameterIn::Query,
            "service_ids[]",
            "Only these services.",
            array_of(Schema::Object(Object::with_type(Type::String))),
        ),
        parameter(
            ParameterIn::Query,
            "urgencies[]",
            "Only these urgencies.",
            array_of(enum_of(Urgency::ALL.iter().map(|urgency| urgency.as_str()))),
        ),
        parameter(
            ParameterIn::Query,
            "incident_key",
            "Only the incident with this dedup key.",
            Schema::Object(Object::with_type(Type::String)),
        ),
        parameter(
            ParameterIn::Query,
            "total",
            "Count all matches (`total`).",
            Schema::Object(Object::with_type(Type::Boolean)),
        ),
        parameter(
            ParameterIn::Query,
            "sort_by",
            "Order by creation.",
            enum_of(["created_at:desc", "created_at:asc", "created_at"]),
        ),
    ];
    parameters.extend(pagerduty_page_parameters());
    parameters
}

fn parameter(location: ParameterIn, name: &str, description: &str, schema: Schema) -> Parameter {
    let mut parameter = Parameter::new(name);
    parameter.parameter_in = location;
    parameter.description = Some(description.to_owned());
    parameter.schema = Some(RefOr::T(schema));
    parameter.required = Required::False;
    parameter
}

// ---------------------------------------------------------------------------------------
// The Events API bodies, which the worker reads field by field (PagerDuty's rules, with
// its error lines) rather than through a type.
// ---------------------------------------------------------------------------------------

fn event_request(s: &mut Schemas) -> RefOr<Schema> {
    let _ = s.of::<EventAction>();
    let mut payload = Object::with_type(Type::Object);
    payload.description = Some("Required on `trigger`.".to_owned());
    payload.properties.insert(
        "summary".to_owned(),
        RefOr::T(string(1, limits::MAX_EVENT_SUMMARY_CHARS)),
    );
    payload.properties.insert(
        "source".to_owned(),
        RefOr::T(string(1, limits::MAX_EVENT_FIELD_CHARS)),
    );
    payload.properties.insert(
        "severity".to_owned(),
        RefOr::T(enum_of(
            Severity::ALL.iter().map(|severity| severity.as_str()),
        )),
    );
    payload
        .properties
        .insert("timestamp".to_owned(), RefOr::T(date_time()));
    for field in ["component", "group", "class"] {
        payload.properties.insert(
            field.to_owned(),
            RefOr::T(string(0, limits::MAX_EVENT_FIELD_CHARS)),
        );
    }
    payload
        .properties
        .insert("custom_details".to_owned(), RefOr::T(custom_details()));
    payload.required = ["summary", "source", "severity"]
        .map(str::to_owned)
        .to_vec();

    let mut event = Object::with_type(Type::Object);
    event
        .properties
        .insert("routing_key".to_owned(), RefOr::T(string(1, 255)));
    event.properties.insert(
        "event_action".to_owned(),
        Ref::from_schema_name(EventAction::name()).into(),
    );
    event.properties.insert(
        "dedup_key".to_owned(),
        RefOr::T(string(1, limits::MAX_DEDUP_KEY_CHARS)),
    );
    event
        .properties
        .insert("payload".to_owned(), RefOr::T(Schema::Object(payload)));
    event.properties.insert(
        "client".to_owned(),
        RefOr::T(Schema::Object(Object::with_type(Type::String))),
    );
    event.properties.insert(
        "client_url".to_owned(),
        RefOr::T(Schema::Object(Object::with_type(Type::String))),
    );
    event
        .properties
        .insert("links".to_owned(), RefOr::T(link_list()));
    event
        .properties
        .insert("images".to_owned(), RefOr::T(free_form_list()));
    event.required = ["routing_key", "event_action"].map(str::to_owned).to_vec();
    event.description = Some(
        "A trigger opens an incident (or adds to the open one with its `dedup_key`); \
         acknowledge and resolve need the `dedup_key`."
            .to_owned(),
    );
    RefOr::T(Schema::Object(event))
}

fn change_event_request() -> RefOr<Schema> {
    let mut payload = Object::with_type(Type::Object);
    payload.properties.insert(
        "summary".to_owned(),
        RefOr::T(string(1, limits::MAX_EVENT_SUMMARY_CHARS)),
    );
    payload.properties.insert(
        "source".to_owned(),
        RefOr::T(string(0, limits::MAX_EVENT_FIELD_CHARS)),
    );
    payload
        .properties
        .insert("timestamp".to_owned(), RefOr::T(date_time()));
    payload
        .properties
        .insert("custom_details".to_owned(), RefOr::T(custom_details()));
    payload.required = vec!["summary".to_owned()];
    let mut event = Object::with_type(Type::Object);
    event
        .properties
        .insert("routing_key".to_owned(), RefOr::T(string(1, 255)));
    event
        .properties
        .insert("payload".to_owned(), RefOr::T(Schema::Object(payload)));
    event
        .properties
        .insert("links".to_owned(), RefOr::T(link_list()));
    event.required = ["routing_key", "payload"].map(str::to_owned).to_vec();
    RefOr::T(Schema::Object(event))
}

fn custom_details() -> Schema {
    let mut details = Object::with_type(SchemaType::AnyValue);
    details.description = Some(format!(
        "Any JSON, at most {} KiB serialized.",
        limits::MAX_CUSTOM_DETAILS_BYTES / 1024
    ));
    Schema::Object(details)
}

/// An event's `links` (`shared::events::EventLink`): other fields of a link are ignored.
fn link_list() -> Schema {
    let mut href = Object::with_type(Type::String);
    href.min_length = Some(1);
    href.max_length = Some(limits::MAX_LINK_HREF_CHARS);
    href.description = Some("An absolute http or https URL, without spaces.".to_owned());
    let mut link = Object::with_type(Type::Object);
    link.properties
        .insert("href".to_owned(), RefOr::T(Schema::Object(href)));
    link.properties.insert(
        "text".to_owned(),
        RefOr::T(string(0, limits::MAX_LINK_TEXT_CHARS)),
    );
    link.required = vec!["href".to_owned()];
    link.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(true)));
    let mut list = Array::new(Schema::Object(link));
    list.max_items = Some(limits::MAX_EVENT_LINKS);
    Schema::Array(list)
}

/// A list of objects taken and not read (an event's `images`).
fn free_form_list() -> Schema {
    let mut item = Object::with_type(Type::Object);
    item.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(true)));
    Schema::Array(Array::new(Schema::Object(item)))
}

// ---------------------------------------------------------------------------------------
// Small schemas
// ---------------------------------------------------------------------------------------

fn string(min: usize, max: usize) -> Schema {
    let mut string = Object::with_type(Type::String);
    string.min_length = (min > 0).then_some(min);
    string.max_length = Some(max);
    Schema::Object(string)
}

fn date_time() -> Schema {
    let mut time = Object::with_type(Type::String);
    time.format = Some(utoipa::openapi::SchemaFormat::KnownFormat(
        utoipa::openapi::KnownFormat::DateTime,
    ));
    Schema::Object(time)
}

fn enum_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Schema {
    let mut choice = Object::with_type(Type::String);
    choice.enum_values = Some(values.into_iter().map(|value| json!(value)).collect());
    Schema::Object(choice)
}

fn free_object() -> RefOr<Schema> {
    RefOr::T(Schema::Object(Object::with_type(Type::Object)))
}

fn doc_method(method: HttpMethod) -> DocMethod {
    match method {
        HttpMethod::Get => DocMethod::Get,
        HttpMethod::Post => DocMethod::Post,
        HttpMethod::Put => DocMethod::Put,
        HttpMethod::Patch => DocMethod::Patch,
        HttpMethod::Delete => DocMethod::Delete,
    }
}

/// The named schemas of the document, collected as operations refer to them. Two types
/// with one name would make one shadow the other, so that refuses to build.
#[derive(Default)]
struct Schemas(BTreeMap<String, RefOr<Schema>>);

impl Schemas {
    /// A reference to `T`'s schema, which is added with the schemas it refers to.
    fn of<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let mut found = vec![(T::name().into_owned(), T::schema())];
        T::schemas(&mut found);
        let (found, merged_in) = merge_flattened(found);
        for (name, schema) in found {
            if merged_in.contains(&name) {
                continue;
            }
            match self.0.get(&name) {
                Some(known) => assert!(known == &schema, "two wire types are named {name}"),
                None => {
                    self.0.insert(name, schema);
                }
            }
        }
        Ref::from_schema_name(T::name()).into()
    }
}

/// utoipa writes a `#[serde(flatten)]` field as `allOf: [{"$ref": …}, {the other
/// fields}]`. On the wire it is one object, and so it is in the document: the referenced
/// schema's properties are merged into the object. Returns the schemas, and the names of
/// those only merged in (they are not listed on their own).
fn merge_flattened(
    found: Vec<(String, RefOr<Schema>)>,
) -> (Vec<(String, RefOr<Schema>)>, Vec<String>) {
    let objects: BTreeMap<String, Object> = found
        .iter()
        .filter_map(|(name, schema)| match schema {
            RefOr::T(Schema::Object(object)) => Some((name.clone(), object.clone())),
            RefOr::T(_) | RefOr::Ref(_) => None,
        })
        .collect();
    let mut merged_in = Vec::new();
    let schemas = found
        .into_iter()
        .map(|(name, schema)| {
            let RefOr::T(Schema::AllOf(all_of)) = &schema else {
                return (name, schema);
            };
            let mut object = ObjectBuilder::new().build();
            let mut flattened = Vec::new();
            for item in &all_of.items {
                match item {
                    RefOr::Ref(reference) => {
                        let source = reference.ref_location.rsplit('/').next().unwrap_or("");
                        let Some(source_object) = objects.get(source) else {
                            return (name, schema);
                        };
                        flattened.push((source.to_owned(), source_object.clone()));
                    }
                    RefOr::T(Schema::Object(own)) => object = own.clone(),
                    RefOr::T(_) => return (name, schema),
                }
            }
            // Only now, with every item understood, is a source known to be merged in.
            for (source, source_object) in flattened {
                object.properties.extend(source_object.properties);
                object.required.extend(source_object.required);
                merged_in.push(source);
            }
            if object.description.is_none() {
                object.description.clone_from(&all_of.description);
            }
            (name, RefOr::T(Schema::Object(object)))
        })
        .collect();
    (schemas, merged_in)
}
