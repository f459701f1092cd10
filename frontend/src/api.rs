//! The client for `/api/*`: one function per endpoint, and the one error type they share.
//! Every method and path comes from the route table in `shared::routes` ([`request`]).
//!
//! Every call is same-origin, so the browser sends the `HttpOnly` session cookie itself and
//! the token never passes through this code after sign-in. A 401 from any call except the
//! session endpoints hands control to the hook the app installs (it goes to the sign-in
//! page), so no page has to remember to.
//!
//! The worker refuses a cookie-authenticated POST, PATCH or DELETE that does not declare
//! `Content-Type: application/json` (a cross-site form cannot send that), so the calls
//! without a body declare it too: `bodiless` below.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use gloo_net::http::{Method, Request, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde::Serialize;
use serde_json::Value;
use shared::api::{
    Action as CustomAction, ActionList, ActionResponse, AuditList, CreateActionRequest,
    CreateServiceRequest, EditConflictBody, IncidentList, IncidentResponse, LogEntryList,
    PreviewIncident, PreviewedRequest, RedeliverRequest, RotateSecretRequest, RotatedSecret,
    RunHistory, RunRequest, RunResponse, SentHeader, ServiceList, ServiceResponse, SessionResponse,
    SignInRequest, TokenList, TokenResponse, UpdateActionRequest, UpdateUserRequest, UserList,
    UserResponse,
};
use shared::api::{
    CreateIncidentRequest, CreateNoteRequest, CreateTokenRequest, CreateUserRequest,
    LogEntryResponse, RotateRoutingKeyRequest,
};
use shared::errors::ErrorCode;
use shared::routes::{HttpMethod, Route};
use shared::FieldError;

/// Why a call failed, in words fit to show the user.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status; 0 when the server could not be reached at all.
    pub status: u16,
    /// Why: the API's code, or what went wrong on the way.
    pub code: Failure,
    /// What to tell the user.
    pub message: String,
    /// Per-field problems of a `validation_failed`, `endpoint_not_allowed` or
    /// `secrets_must_be_reentered` answer.
    pub fields: Vec<FieldError>,
    /// For an `edit_conflict`: the action as it stands now, so the form can show it and the
    /// next save carries its revision.
    pub current_action: Option<Box<CustomAction>>,
    /// For a `duplicate_incident`: the open incident that already has the dedup key.
    pub existing_incident: Option<String>,
}

impl ApiError {
    /// Builds the error for a non-2xx answer from its status and body text. A body that is
    /// not the API's error shape (a proxy's HTML page, say) still gives a readable message.
    pub fn from_response(status: u16, body: &str) -> Self {
        let answer = serde_json::from_str::<ErrorAnswer>(body).unwrap_or_default();
        let Some(error) = answer.error else {
            // The Events API answers a bad event in PagerDuty's shape (`errors`, one line
            // per problem): its lines are the message, and each lands on the field its
            // quoted name names.
            if let Some(lines) = answer.errors {
                return Self {
                    code: Failure::InvalidEvent,
                    message: lines.join("; "),
                    fields: lines
                        .iter()
                        .filter_map(|line| event_field_error(line))
                        .collect(),
                    ..Self::plain(status)
                };
            }
            return Self {
                code: Failure::UnexpectedResponse,
                message: format!("The server answered with an unexpected error (HTTP {status})."),
                ..Self::plain(status)
            };
        };
        // Only a conflict carries the current action; a conflict body without one (which
        // the contract rules out) still reads as the error it is.
        let code = Failure::of_code(&error.code);
        let current_action = (code == Failure::Api(ErrorCode::EditConflict))
            .then(|| serde_json::from_str::<EditConflictBody>(body).ok())
            .flatten()
            .map(|conflict| Box::new(conflict.action));
        let existing_incident = answer
            .incident_id
            .filter(|_| code == Failure::Api(ErrorCode::DuplicateIncident));
        Self {
            status,
            code,
            message: error.message,
            fields: error.fields,
            current_action,
            existing_incident,
        }
    }

    /// An error with only its status; the callers fill in the rest.
    fn plain(status: u16) -> Self {
        Self {
            status,
            code: Failure::UnexpectedResponse,
            message: String::new(),
            fields: Vec::new(),
            current_action: None,
            existing_incident: None,
        }
    }

    /// The error for a request that never got an answer.
    pub fn network() -> Self {
        Self {
            code: Failure::Network,
            message: "Could not reach the server. Check your connection and try again.".to_owned(),
            ..Self::plain(0)
        }
    }

    /// The error for a 2xx answer whose body is not what the contract says.
    fn unreadable(status: u16) -> Self {
        Self {
            code: Failure::UnexpectedResponse,
            message: "The server's answer could not be read. Reload the page and try again."
                .to_owned(),
            ..Self::plain(status)
        }
    }

    /// Whether the session is missing or expired.
    pub fn is_unauthorized(&self) -> bool {
        self.status == 401
    }

    /// The current action, when someone else changed it since it was loaded (409
    /// `edit_conflict`): the edit or rotation was not applied.
    pub fn conflicting_action(&self) -> Option<&CustomAction> {
        self.current_action.as_deref()
    }
}

/// Every error shape the app meets, read in one pass: `/api`'s `ErrorBody` (`error`), with
/// the open incident of a `DuplicateIncidentBody` (`incident_id`), and the Events API's
/// `EnqueueRejected` (`errors`). An edit conflict's action is read apart, only for that
/// code ([`EditConflictBody`]).
#[derive(Default, Deserialize)]
struct ErrorAnswer {
    error: Option<AnswerDetail>,
    incident_id: Option<String>,
    errors: Option<Vec<String>>,
}

/// An Events API problem line as the error of the field it starts by naming
/// (`'payload.summary' is missing`); `None` for a line that names none.
fn event_field_error(line: &str) -> Option<FieldError> {
    let (field, _) = line.strip_prefix('\'')?.split_once('\'')?;
    Some(FieldError {
        field: field.to_owned(),
        message: line.to_owned(),
    })
}

/// `{"code", "message", "fields"}` as read here: the code as a string first, so that a
/// code this app does not know (a newer worker's) still brings its message.
#[derive(Default, Deserialize)]
struct AnswerDetail {
    code: String,
    message: String,
    #[serde(default)]
    fields: Vec<FieldError>,
}

/// Why a call failed: a code the API answered with (`shared::errors`), or what went
/// wrong on the way, which the API never says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The API's code.
    Api(ErrorCode),
    /// A code this app does not know (a newer worker's); its message still says what.
    UnknownCode(String),
    /// The Events API refused an event (its answer is PagerDuty's shape, without a code).
    InvalidEvent,
    /// No answer at all: the network, or the server is down.
    Network,
    /// An answer that is not the API's shape (a proxy's page, a broken body).
    UnexpectedResponse,
}

impl Failure {
    /// The failure an API answer's `code` names.
    fn of_code(code: &str) -> Self {
        ErrorCode::parse(code).map_or_else(|| Self::UnknownCode(code.to_owned()), Self::Api)
    }
}

thread_local! {
    static ON_UNAUTHORIZED: RefCell<Option<Rc<dyn Fn()>>> = const { RefCell::new(None) };
}

/// Installs what to do when a call answers 401 (the app goes to the sign-in page).
pub fn set_unauthorized_hook(hook: impl Fn() + 'static) {
    ON_UNAUTHORIZED.with(|slot| *slot.borrow_mut() = Some(Rc::new(hook)));
}

fn notify_unauthorized() {
    // Clone out of the cell first: the hook navigates, which may run code that calls back
    // into this module.
    let hook = ON_UNAUTHORIZED.with(|slot| slot.borrow().clone());
    if let Some(hook) = hook {
        hook();
    }
}

/// Whether a 401 on this call means "go and sign in" rather than an answer the caller
/// handles itself (the session endpoints are how the app finds out, so they don't redirect).
#[derive(Clone, Copy, PartialEq, Eq)]
enum On401 {
    Redirect,
    Return,
}

/// What every call awaits: boxed, so the network path is compiled once rather than into
/// each endpoint's future.
type Pending<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// Sends a request and reads its whole answer as text: the one path every call takes. A
/// non-2xx answer becomes an [`ApiError`] here; only the decoding of a 2xx body differs by
/// endpoint ([`decode`]).
fn fetch_text(request: Result<Request, gloo_net::Error>, on_401: On401) -> Pending<(u16, String)> {
    Box::pin(async move {
        let request = request.map_err(|_| ApiError::network())?;
        let response = request.send().await.map_err(|_| ApiError::network())?;
        let status = response.status();
        let body = response.text().await;
        if !response.ok() {
            let error = ApiError::from_response(status, &body.unwrap_or_default());
            if error.is_unauthorized() && on_401 == On401::Redirect {
                notify_unauthorized();
            }
            return Err(error);
        }
        Ok((status, body.map_err(|_| ApiError::unreadable(status))?))
    })
}

/// A 2xx answer's body as the contract's type.
fn decode<T: DeserializeOwned>((status, body): (u16, String)) -> Result<T, ApiError> {
    serde_json::from_str(&body).map_err(|_| ApiError::unreadable(status))
}

/// Sends a request and decodes its answer.
async fn call<T: DeserializeOwned>(
    request: Result<Request, gloo_net::Error>,
    on_401: On401,
) -> Result<T, ApiError> {
    decode(fetch_text(request, on_401).await?)
}

/// A request for `route` with `ids` in its path, by the method the route table gives.
fn request(route: Route, ids: &[&str]) -> RequestBuilder {
    request_to(route.method(), &route_url(route, ids))
}

fn request_to(method: HttpMethod, url: &str) -> RequestBuilder {
    let method = match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Delete => Method::DELETE,
    };
    RequestBuilder::new(url).method(method)
}

/// The path of `route` with `ids` in its placeholders, in order, each percent-encoded so
/// that an id taken from the address bar cannot reach another endpoint.
pub fn route_url(route: Route, ids: &[&str]) -> String {
    let encoded: Vec<String> = ids.iter().map(|id| encode_component(id)).collect();
    let encoded: Vec<&str> = encoded.iter().map(String::as_str).collect();
    route.url(&encoded)
}

async fn get_json<T: DeserializeOwned>(route: Route, ids: &[&str]) -> Result<T, ApiError> {
    call(request(route, ids).build(), On401::Redirect).await
}

/// A request carrying `body` as JSON, with the `Content-Type: application/json` the API
/// requires.
fn with_json<B: Serialize>(builder: RequestBuilder, body: &B) -> Result<Request, gloo_net::Error> {
    json_request(builder, serde_json::to_string(body)?)
}

fn json_request(builder: RequestBuilder, body: String) -> Result<Request, gloo_net::Error> {
    builder
        .header("Content-Type", "application/json")
        .body(body)
}

async fn send_json<B: Serialize, T: DeserializeOwned>(
    builder: RequestBuilder,
    body: &B,
) -> Result<T, ApiError> {
    call(with_json(builder, body), On401::Redirect).await
}

/// A POST or DELETE without a body, declaring JSON as the worker's CSRF rule requires of
/// every cookie-authenticated change.
fn bodiless(builder: RequestBuilder) -> Result<Request, gloo_net::Error> {
    builder.header("Content-Type", "application/json").build()
}

/// A POST that carries no body (acknowledge, resolve).
async fn post_empty<T: DeserializeOwned>(route: Route, ids: &[&str]) -> Result<T, ApiError> {
    call(bodiless(request(route, ids)), On401::Redirect).await
}

async fn delete(route: Route, ids: &[&str]) -> Result<(), ApiError> {
    fetch_text(bodiless(request(route, ids)), On401::Redirect)
        .await
        .map(drop)
}

/// Percent-encodes one path segment or query value, so an id taken from the address bar
/// cannot reach another endpoint.
pub fn encode_component(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The query string of the incident list for the chosen filters (empty means no filter).
pub fn incidents_query(service_id: &str, status: &str) -> String {
    let pairs: Vec<String> = [("service_id", service_id), ("status", status)]
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{key}={}", encode_component(value)))
        .collect();
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

/// `url` with `cursor=` added to its query, when there is a cursor (a paged list's next
/// page).
fn with_cursor(url: String, cursor: Option<&str>) -> String {
    match cursor {
        None => url,
        Some(cursor) => {
            let joint = if url.contains('?') { '&' } else { '?' };
            format!("{url}{joint}cursor={}", encode_component(cursor))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------------------

/// `GET /api/session`: who is signed in, or a 401 error.
pub async fn get_session() -> Result<SessionResponse, ApiError> {
    call(request(Route::GetSession, &[]).build(), On401::Return).await
}

/// `POST /api/session`: exchanges the token for the session cookie.
pub async fn sign_in(token: String) -> Result<SessionResponse, ApiError> {
    let sign_in = with_json(request(Route::SignIn, &[]), &SignInRequest { token });
    call(sign_in, On401::Return).await
}

/// `DELETE /api/session`.
pub async fn sign_out() -> Result<(), ApiError> {
    fetch_text(bodiless(request(Route::SignOut, &[])), On401::Return)
        .await
        .map(drop)
}

// ---------------------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------------------

/// `GET /api/services`.
pub async fn list_services() -> Result<ServiceList, ApiError> {
    get_json(Route::ListServices, &[]).await
}

/// `GET /api/services/{id}`.
pub async fn get_service(service_id: &str) -> Result<ServiceResponse, ApiError> {
    get_json(Route::GetService, &[service_id]).await
}

/// `POST /api/services`.
pub async fn create_service(body: CreateServiceRequest) -> Result<ServiceResponse, ApiError> {
    send_json(request(Route::CreateService, &[]), &body).await
}

// ---------------------------------------------------------------------------------------
// Users and tokens
// ---------------------------------------------------------------------------------------

/// `GET /api/users`, by name.
pub async fn list_users() -> Result<UserList, ApiError> {
    get_json(Route::ListUsers, &[]).await
}

/// `GET /api/users/{id}`.
pub async fn get_user(user_id: &str) -> Result<UserResponse, ApiError> {
    get_json(Route::GetUser, &[user_id]).await
}

/// `POST /api/users`.
pub async fn create_user(body: CreateUserRequest) -> Result<UserResponse, ApiError> {
    send_json(request(Route::CreateUser, &[]), &body).await
}

/// `PATCH /api/users/{id}`.
pub async fn update_user(user_id: &str, body: UpdateUserRequest) -> Result<UserResponse, ApiError> {
    send_json(request(Route::UpdateUser, &[user_id]), &body).await
}

/// `DELETE /api/users/{id}`: their tokens and sessions go with them.
pub async fn delete_user(user_id: &str) -> Result<(), ApiError> {
    delete(Route::DeleteUser, &[user_id]).await
}

/// `GET /api/users/{id}/tokens`, oldest first, without secrets.
pub async fn list_tokens(user_id: &str) -> Result<TokenList, ApiError> {
    get_json(Route::ListTokens, &[user_id]).await
}

/// `POST /api/users/{id}/tokens`; the answer carries the secret, once.
pub async fn create_token(
    user_id: &str,
    body: CreateTokenRequest,
) -> Result<TokenResponse, ApiError> {
    send_json(request(Route::CreateToken, &[user_id]), &body).await
}

/// `DELETE /api/users/{id}/tokens/{token_id}`: the token stops working at once.
pub async fn revoke_token(user_id: &str, token_id: &str) -> Result<(), ApiError> {
    delete(Route::DeleteToken, &[user_id, token_id]).await
}

// ---------------------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------------------

/// `GET /api/audit?cursor=`: the newest page, or the one after `cursor`.
pub async fn list_audit(cursor: Option<&str>) -> Result<AuditList, ApiError> {
    let route = Route::ListAudit;
    let url = with_cursor(route_url(route, &[]), cursor);
    call(request_to(route.method(), &url).build(), On401::Redirect).await
}

// ---------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------

/// `GET /api/services/{id}/actions`.
pub async fn list_actions(service_id: &str) -> Result<ActionList, ApiError> {
    get_json(Route::ListActions, &[service_id]).await
}

/// `POST /api/services/{id}/actions`; the answer carries the signing secret, once.
pub async fn create_action(
    service_id: &str,
    body: CreateActionRequest,
) -> Result<ActionResponse, ApiError> {
    send_json(request(Route::CreateAction, &[service_id]), &body).await
}

/// `PATCH /api/services/{id}/actions/{action_id}`. `body.revision` names the revision
/// being edited: if someone changed the action since, the answer is an `edit_conflict`
/// error carrying the current action (see [`ApiError::conflicting_action`]).
pub async fn update_action(
    service_id: &str,
    action_id: &str,
    body: UpdateActionRequest,
) -> Result<ActionResponse, ApiError> {
    send_json(
        request(Route::UpdateAction, &[service_id, action_id]),
        &body,
    )
    .await
}

/// `DELETE /api/services/{id}/actions/{action_id}`.
pub async fn delete_action(service_id: &str, action_id: &str) -> Result<(), ApiError> {
    delete(Route::DeleteAction, &[service_id, action_id]).await
}

/// `POST /api/services/{id}/actions/{action_id}/rotate_secret` of the action at
/// `revision`; a stale revision answers `edit_conflict`, as an edit does.
pub async fn rotate_secret(
    service_id: &str,
    action_id: &str,
    revision: u64,
) -> Result<RotatedSecret, ApiError> {
    let body = RotateSecretRequest {
        revision: Some(revision),
    };
    send_json(
        request(Route::RotateSecret, &[service_id, action_id]),
        &body,
    )
    .await
}

/// `POST /api/services/{id}/actions/{action_id}/preview`, or for an action not created
/// yet (`action_id` `None`) `POST /api/services/{id}/actions/preview`.
pub fn preview_url(service_id: &str, action_id: Option<&str>) -> String {
    match action_id {
        Some(action_id) => route_url(Route::PreviewAction, &[service_id, action_id]),
        None => route_url(Route::PreviewDraft, &[service_id]),
    }
}

/// A preview ([`preview_url`]) of `body`, a [`PreviewRequest`] as JSON (for an action not
/// created yet, `draft` is required): the request a run would send, with secrets as
/// `[redacted]`. Nothing is sent. A template that fails answers 422 `invalid_template`
/// with fields `body_template` or `headers[i].value`, each message starting `Line N:`.
pub async fn preview_request(url: &str, body: String) -> Result<Preview, ApiError> {
    let answer: Value = call(json_request(Request::post(url), body), On401::Redirect).await?;
    preview_of(&answer).ok_or_else(|| ApiError::unreadable(200))
}

/// A preview answer (`shared::api::PreviewResponse`) as the app holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// The request, as the worker showed it to this viewer.
    pub request: PreviewedRequest,
    /// The incident used; `None` for a sample.
    pub incident: Option<PreviewIncident>,
}

/// A preview answer, read from its JSON by hand: the bundle already carries the parser to
/// `Value`, and a derived deserializer for these types would add a few kilobytes to it.
fn preview_of(answer: &Value) -> Option<Preview> {
    let text = |value: &Value, key: &str| value.get(key)?.as_str().map(str::to_owned);
    let request = answer.get("request")?;
    let headers = request
        .get("headers")?
        .as_array()?
        .iter()
        .map(|header| {
            Some(SentHeader {
                name: text(header, "name")?,
                value: text(header, "value")?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let incident = match answer.get("incident") {
        None | Some(Value::Null) => None,
        Some(incident) => Some(PreviewIncident {
            id: text(incident, "id")?,
            number: incident.get("number")?.as_i64()?,
            title: text(incident, "title")?,
        }),
    };
    Some(Preview {
        request: PreviewedRequest {
            method: text(request, "method")?,
            url: text(request, "url"),
            headers,
            body: text(request, "body")?,
        },
        incident,
    })
}

// ---------------------------------------------------------------------------------------
// Incidents
// ---------------------------------------------------------------------------------------

/// `GET /api/incidents?service_id=&status=&cursor=`: the newest page, or the one after
/// `cursor`.
pub async fn list_incidents(
    service_id: &str,
    status: &str,
    cursor: Option<&str>,
) -> Result<IncidentList, ApiError> {
    let route = Route::ListIncidents;
    let url = format!(
        "{}{}",
        route_url(route, &[]),
        incidents_query(service_id, status)
    );
    let url = with_cursor(url, cursor);
    call(request_to(route.method(), &url).build(), On401::Redirect).await
}

/// `POST /api/incidents`: opens an incident by hand. A dedup key already used by an open
/// incident of the service answers `duplicate_incident`, naming it
/// ([`ApiError::existing_incident`]).
pub async fn create_incident(body: CreateIncidentRequest) -> Result<IncidentResponse, ApiError> {
    send_json(request(Route::CreateIncident, &[]), &body).await
}

/// `POST /api/services/{id}/rotate_routing_key`: a new routing key at once; the old one
/// keeps working for `grace_hours`.
pub async fn rotate_routing_key(
    service_id: &str,
    grace_hours: u32,
) -> Result<ServiceResponse, ApiError> {
    let body = RotateRoutingKeyRequest {
        grace_hours: Some(grace_hours.into()),
    };
    send_json(request(Route::RotateRoutingKey, &[service_id]), &body).await
}

/// `POST /v2/enqueue`: an Events API v2 event, sent as a monitor sends it (the routing key
/// in `event` is the credential; no session is involved). Answers the dedup key the event
/// was filed under. A rejected event's lines are the error's message.
pub async fn send_event(event: &Value) -> Result<String, ApiError> {
    // Read by hand, as `preview_of` is: the answer has one field worth a look.
    let answer: Value = call(
        with_json(request(Route::Enqueue, &[]), event),
        On401::Return,
    )
    .await?;
    answer
        .get("dedup_key")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::unreadable(202))
}

/// `GET /api/incidents/{id}`.
pub async fn get_incident(incident_id: &str) -> Result<IncidentResponse, ApiError> {
    get_json(Route::GetIncident, &[incident_id]).await
}

/// `POST /api/incidents/{id}/acknowledge`.
pub async fn acknowledge_incident(incident_id: &str) -> Result<IncidentResponse, ApiError> {
    post_empty(Route::Acknowledge, &[incident_id]).await
}

/// `POST /api/incidents/{id}/resolve`.
pub async fn resolve_incident(incident_id: &str) -> Result<IncidentResponse, ApiError> {
    post_empty(Route::Resolve, &[incident_id]).await
}

/// `GET /api/incidents/{id}/log?cursor=`: the newest entries, or those before `cursor`;
/// newest first.
pub async fn incident_log(
    incident_id: &str,
    cursor: Option<&str>,
) -> Result<LogEntryList, ApiError> {
    let route = Route::GetLog;
    let url = with_cursor(route_url(route, &[incident_id]), cursor);
    call(request_to(route.method(), &url).build(), On401::Redirect).await
}

/// `POST /api/incidents/{id}/notes`.
pub async fn add_note(
    incident_id: &str,
    body: CreateNoteRequest,
) -> Result<LogEntryResponse, ApiError> {
    send_json(request(Route::AddNote, &[incident_id]), &body).await
}

/// `POST /api/incidents/{id}/actions/{action_id}/runs` with the input values and the
/// confirmation. Answers once the endpoint has (up to 16 s). `idempotency_key` is fresh per
/// click, so a retried request runs once.
///
/// A 202 is an answer like a 200 (every 2xx passes): the endpoint was called but the
/// worker could not record its answer, and the body says so with
/// `outcome_recorded: false`. The worker refuses bad values with 422 `invalid_inputs`
/// (fields `inputs.<key>`), a missing confirmation with 428 `confirmation_required`, and
/// an action that does not apply to the incident now with 409 `action_not_available`.
pub async fn run_action(
    incident_id: &str,
    action_id: &str,
    idempotency_key: &str,
    run: &RunRequest,
) -> Result<RunResponse, ApiError> {
    let builder = request(Route::RunAction, &[incident_id, action_id])
        .header("Idempotency-Key", idempotency_key);
    send_json(builder, run).await
}

/// `GET /api/services/{id}/actions/{action_id}/runs?limit=`: the action's newest runs and
/// its figures.
pub async fn action_runs(
    service_id: &str,
    action_id: &str,
    limit: u32,
) -> Result<RunHistory, ApiError> {
    let route = Route::ListActionRuns;
    let url = format!(
        "{}?limit={limit}",
        route_url(route, &[service_id, action_id])
    );
    call(request_to(route.method(), &url).build(), On401::Redirect).await
}

/// `POST /api/runs/{id}/redeliver`: the run's kept body again, as its next attempt. Sent
/// after the clicker confirmed, so it says so; its own `Idempotency-Key` keeps a retried
/// request from sending twice.
pub async fn redeliver(run_id: &str, idempotency_key: &str) -> Result<RunResponse, ApiError> {
    let builder = request(Route::Redeliver, &[run_id]).header("Idempotency-Key", idempotency_key);
    send_json(builder, &RedeliverRequest { confirmed: true }).await
}

#[cfg(test)]
mod tests {
    use shared::api::PreviewResponse;
    use shared::roles::Role;
    use shared::view::View;

    use super::*;

    #[test]
    fn an_api_error_body_gives_its_code_message_and_fields() {
        let body = r#"{"error":{"code":"validation_failed","message":"Check the fields",
            "fields":[{"field":"headers[1].value","message":"Header value is required"}]}}"#;
        let error = ApiError::from_response(422, body);
        assert_eq!(error.code, Failure::Api(ErrorCode::ValidationFailed));
        assert_eq!(error.message, "Check the fields");
        assert_eq!(error.fields[0].field, "headers[1].value");
    }

    #[test]
    fn an_edit_conflict_carries_the_current_action() {
        let body = r#"{"error":{"code":"edit_conflict","message":"Changed meanwhile"},
            "action":{"id":"act_1","service_id":"svc_1","name":"Restart","description":null,
            "endpoint_url":"https://e.com/hook","enabled":true,"headers":[],"revision":4,
            "config_health":"ok","created_at":"t","updated_at":"u"}}"#;
        let error = ApiError::from_response(409, body);
        assert_eq!(error.code, Failure::Api(ErrorCode::EditConflict));
        assert_eq!(error.message, "Changed meanwhile");
        let current = error.conflicting_action().unwrap();
        assert_eq!(current.revision, 4);
        assert_eq!(current.endpoint_url.as_deref(), Some("https://e.com/hook"));
    }

    #[test]
    fn a_duplicate_incident_names_the_open_one() {
        let body = r#"{"error":{"code":"duplicate_incident","message":"Already open"},
            "incident_id":"inc_7"}"#;
        let error = ApiError::from_response(409, body);
        assert_eq!(error.code, Failure::Api(ErrorCode::DuplicateIncident));
        assert_eq!(error.existing_incident.as_deref(), Some("inc_7"));
        let other = r#"{"error":{"code":"name_taken","message":"Taken"},"incident_id":"inc_7"}"#;
        assert_eq!(ApiError::from_response(409, other).existing_incident, None);
    }

    #[test]
    fn a_rejected_event_reads_as_its_lines() {
        let body = r#"{"status":"invalid event","message":"Event object is invalid",
            "errors":["'payload.summary' is missing","'payload.source' is missing"]}"#;
        let error = ApiError::from_response(400, body);
        assert_eq!(error.code, Failure::InvalidEvent);
        assert_eq!(
            error.message,
            "'payload.summary' is missing; 'payload.source' is missing"
        );
        assert_eq!(error.fields[1].field, "payload.source");
        assert_eq!(error.fields[1].message, "'payload.source' is missing");
        let unnamed = r#"{"status":"invalid event","message":"Event object is invalid",
            "errors":["Event must be a JSON object"]}"#;
        assert!(ApiError::from_response(400, unnamed).fields.is_empty());
    }

    #[test]
    fn only_an_edit_conflict_carries_an_action() {
        let body = r#"{"error":{"code":"name_taken","message":"Taken"},
            "action":{"id":"act_1","service_id":"svc_1","name":"Restart","description":null,
            "enabled":true,"revision":4,"created_at":"t","updated_at":"u"}}"#;
        assert!(ApiError::from_response(409, body)
            .conflicting_action()
            .is_none());
        let bare = r#"{"error":{"code":"edit_conflict","message":"Changed meanwhile"}}"#;
        let error = ApiError::from_response(409, bare);
        assert_eq!(error.code, Failure::Api(ErrorCode::EditConflict));
        assert!(error.conflicting_action().is_none());
    }

    #[test]
    fn a_run_answer_says_whether_its_outcome_was_recorded() {
        let body = r#"{"run":{"id":"run_1","incident_id":"inc_1","action_id":"act_1",
            "action_name":"Restart","status":"succeeded","outcome":"success","http_status":200,
            "duration_ms":85,"response_excerpt":"ok","requested_by":"admin",
            "action_revision":3,"started_at":"t","finished_at":"u"},"outcome_recorded":false}"#;
        let answer: RunResponse = serde_json::from_str(body).unwrap();
        assert!(!answer.outcome_recorded);
        assert_eq!(answer.run.action_revision, Some(3));
        let recorded = body.replace(r#","outcome_recorded":false"#, "");
        let answer: RunResponse = serde_json::from_str(&recorded).unwrap();
        assert!(answer.outcome_recorded, "absent means recorded");
    }

    #[test]
    fn a_run_answer_carries_the_inputs_it_sent() {
        let body = r#"{"run":{"id":"run_1","incident_id":"inc_1","action_id":"act_1",
            "action_name":"Roll back","status":"succeeded","outcome":"success",
            "http_status":200,"duration_ms":85,"requested_by":"admin",
            "inputs":{"region":"eu-west","dry_run":false},"started_at":"t"}}"#;
        let answer: RunResponse = decode((200, body.to_owned())).unwrap();
        let inputs = answer.run.into_inner().inputs.unwrap();
        assert_eq!(inputs["region"], "eu-west");
        assert_eq!(inputs["dry_run"], false);
    }

    #[test]
    fn invalid_inputs_come_back_keyed_by_input() {
        let body = r#"{"error":{"code":"invalid_inputs","message":"Check the inputs",
            "fields":[{"field":"inputs.region","message":"Region is required"}]}}"#;
        let error = ApiError::from_response(422, body);
        assert_eq!(error.code, Failure::Api(ErrorCode::InvalidInputs));
        assert_eq!(error.fields[0].field, "inputs.region");
    }

    #[test]
    fn a_run_request_says_what_was_typed_and_whether_it_was_confirmed() {
        let mut request = RunRequest {
            confirmed: true,
            ..RunRequest::default()
        };
        request.inputs.insert("region".into(), "eu".into());
        assert_eq!(
            serde_json::to_string(&request).unwrap(),
            r#"{"inputs":{"region":"eu"},"confirmed":true}"#
        );
    }

    #[test]
    fn an_unreadable_success_body_is_an_error_not_a_panic() {
        let error = decode::<RunResponse>((200, "<html>".to_owned())).unwrap_err();
        assert_eq!(error.code, Failure::UnexpectedResponse);
        assert_eq!(error.status, 200);
    }

    #[test]
    fn a_body_that_is_not_the_error_shape_still_gives_a_readable_message() {
        let error = ApiError::from_response(502, "<html>Bad gateway</html>");
        assert_eq!(error.status, 502);
        assert!(error.message.contains("HTTP 502"));
        assert!(!error.message.contains("<html>"));
    }

    #[test]
    fn only_a_401_counts_as_signed_out() {
        assert!(ApiError::from_response(401, "").is_unauthorized());
        assert!(!ApiError::from_response(403, "").is_unauthorized());
        assert!(!ApiError::network().is_unauthorized());
    }

    #[test]
    fn path_segments_cannot_escape_their_endpoint() {
        assert_eq!(encode_component("svc_1-a.b~c"), "svc_1-a.b~c");
        assert_eq!(encode_component("../session"), "..%2Fsession");
        assert_eq!(encode_component("a b?c=d&e"), "a%20b%3Fc%3Dd%26e");
        assert_eq!(encode_component("é"), "%C3%A9");
    }

    #[test]
    fn the_incident_query_leaves_out_empty_filters() {
        assert_eq!(incidents_query("", ""), "");
        assert_eq!(incidents_query("svc_1", ""), "?service_id=svc_1");
        assert_eq!(incidents_query("", "resolved"), "?status=resolved");
        assert_eq!(
            incidents_query("svc 1", "triggered"),
            "?service_id=svc%201&status=triggered"
        );
    }

    #[test]
    fn urls_come_from_the_route_table_with_each_id_encoded() {
        assert_eq!(
            route_url(Route::UpdateAction, &["svc_1", "act_2"]),
            "/api/services/svc_1/actions/act_2"
        );
        assert_eq!(
            route_url(Route::GetIncident, &["../session"]),
            "/api/incidents/..%2Fsession"
        );
        assert_eq!(
            route_url(Route::ListChanges, &["svc_1"]),
            "/api/services/svc_1/changes"
        );
    }

    #[test]
    fn a_preview_answer_reads_as_its_contract_says() {
        let request = PreviewedRequest {
            method: "POST".into(),
            url: None,
            headers: vec![SentHeader {
                name: "X-Api-Key".into(),
                value: "[redacted]".into(),
            }],
            body: "{\"a\":1}".into(),
        };
        let incident = PreviewIncident {
            id: "inc_1".into(),
            number: 12,
            title: "Disk full".into(),
        };
        let answer = |incident: Option<PreviewIncident>| PreviewResponse {
            request: request.clone().view(Role::Manager),
            incident,
        };
        let json = serde_json::to_value(answer(Some(incident.clone()))).unwrap();
        assert_eq!(
            preview_of(&json),
            Some(Preview {
                request: request.clone(),
                incident: Some(incident),
            })
        );
        assert_eq!(
            preview_of(&serde_json::to_value(answer(None)).unwrap()),
            Some(Preview {
                request: request.clone(),
                incident: None,
            })
        );
        assert_eq!(
            preview_of(&serde_json::json!({"request": {"method": 1}})),
            None
        );
    }
}
