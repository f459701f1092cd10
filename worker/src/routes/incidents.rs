//! `/api/incidents`: list, read, open by hand, acknowledge, resolve, the timeline, and
//! notes on it.

use shared::api::{
    CreateIncidentRequest, CreateNoteRequest, Incident, IncidentList, IncidentResponse,
    LogEntryList, LogEntryResponse,
};
use shared::errors::ErrorCode;
use shared::incident::{validate_new_incident, validate_note, IncidentStatus, StatusChange};
use shared::paging::PagedList;
use shared::roles::Permission;
use shared::view::View;
use worker::{Request, Response};

use crate::app::App;
use crate::auth::{batch_with_lookup, Credential};
use crate::domain::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_response, page_request, read_json};
use crate::sealed;
use crate::store::actions::{self, ActionRow};
use crate::store::batch::{Answers, Batch, Read};
use crate::store::changes::{self, ChangeRow};
use crate::store::incidents::{self, ByHand, IncidentRow, LogPage};
use crate::store::runs::{self, FinishedRow};
use crate::store::sql::Db;

/// `GET /api/incidents?service_id=&status=&limit=&cursor=`, newest first, a page at a
/// time, without `custom_details`.
pub async fn list_incidents(req: &Request, app: &App, caller: &Principal) -> ApiResult<Response> {
    let url = req.url()?;
    let mut service_id = None;
    let mut status = None;
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "service_id" if !value.is_empty() => service_id = Some(value.into_owned()),
            "status" if !value.is_empty() => {
                status = Some(IncidentStatus::parse(&value).ok_or_else(|| {
                    ApiError::Refused(
                        ErrorCode::InvalidQuery,
                        "status must be one of triggered, acknowledged, resolved".to_owned(),
                    )
                })?);
            }
            _ => {}
        }
    }
    let page = page_request(req, PagedList::Incidents)?;
    let rows = incidents::list(&app.db()?, service_id.as_deref(), status, &page).await?;
    let (rows, next_cursor) = page.cut(rows, IncidentRow::number);
    let incidents = rows
        .into_iter()
        .map(|row| Ok(row.into_wire()?.view(caller.role)))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(json_response(
        &IncidentList {
            incidents,
            next_cursor,
        },
        200,
    )?)
}

/// `POST /api/incidents`: opens an incident by hand, its timeline starting "Created by
/// <name>". One D1 round trip.
pub async fn create_incident(
    mut req: Request,
    app: &App,
    caller: &Principal,
) -> ApiResult<Response> {
    let body: CreateIncidentRequest = read_json(&mut req).await?;
    let valid = validate_new_incident(&body).map_err(ApiError::Validation)?;
    match incidents::create_by_hand(&app.db()?, &valid, &caller.name, app.now_ms).await? {
        ByHand::Created(row) => {
            let incident = row.into_wire()?.view(caller.role);
            Ok(json_response(&IncidentResponse { incident }, 201)?)
        }
        ByHand::Duplicate(incident_id) => Err(ApiError::DuplicateIncident(incident_id)),
        ByHand::NoSuchService => Err(ApiError::NotFound("Service")),
    }
}

/// `GET /api/incidents/{id}`, with the service's enabled actions: one D1 round trip
/// (the caller's credential, the incident and its service's action rows in one batch),
/// then the actions' KV records in parallel. Nothing is decrypted.
pub async fn get_incident(
    app: &App,
    credential: Credential,
    permission: Permission,
    id: &str,
) -> ApiResult<Response> {
    let db = app.db()?;
    let mut batch = Batch::new("incident");
    let reads = IncidentReads::push(&mut batch, &db, id)?;
    let (caller, answers) = batch_with_lookup(credential, app, &db, batch).await?;
    let caller = caller.principal;
    caller.require(permission)?;
    let incident = with_actions(app, reads, &answers).await?;
    let incident = incident.view(caller.role);
    Ok(json_response(&IncidentResponse { incident }, 200)?)
}

/// `POST /api/incidents/{id}/acknowledge` and `/resolve`.
pub async fn transition_incident(
    app: &App,
    caller: &Principal,
    id: &str,
    to: IncidentStatus,
) -> ApiResult<Response> {
    let db = app.db()?;
    let transition = incidents::apply_transition(&db, id, to, &caller.name, app.now_ms).await?;
    if !transition.target_known {
        return Err(ApiError::NotFound("Incident"));
    }
    let incident = load_with_actions(app, id).await?;
    // Nothing moved: the status it has now says whether that was asking again (no error)
    // or a change the shared rule refuses.
    if !transition.changed {
        match incident.status.change_to(to) {
            StatusChange::Refused(refusal) => {
                return Err(ApiError::Refused(
                    ErrorCode::InvalidTransition,
                    refusal.message().to_owned(),
                ))
            }
            StatusChange::Moves | StatusChange::AlreadyThere => {}
        }
    }
    let incident = incident.view(caller.role);
    Ok(json_response(&IncidentResponse { incident }, 200)?)
}

/// `GET /api/incidents/{id}/log?limit=&cursor=`, newest first, a page at a time.
pub async fn get_log(
    req: &Request,
    app: &App,
    caller: &Principal,
    id: &str,
) -> ApiResult<Response> {
    let page = page_request(req, PagedList::Timeline)?;
    let db = app.db()?;
    incidents::get(&db, id)
        .await?
        .ok_or(ApiError::NotFound("Incident"))?;
    let entries =
        incidents::log_page(&db, id, LogPage::Before(page.before), page.rows_to_read()).await?;
    let (entries, next_cursor) = page.cut(entries, |(position, _)| *position);
    let log_entries = entries
        .into_iter()
        .map(|(_, entry)| entry.view(caller.role))
        .collect();
    Ok(json_response(
        &LogEntryList {
            log_entries,
            next_cursor,
        },
        200,
    )?)
}

/// `POST /api/incidents/{id}/notes` `{"content"}`: 201 with the new timeline entry.
pub async fn add_note(
    mut req: Request,
    app: &App,
    caller: &Principal,
    id: &str,
) -> ApiResult<Response> {
    let body: CreateNoteRequest = read_json(&mut req).await?;
    let content = validate_note(&body.content).map_err(ApiError::Validation)?;
    let log_entry = incidents::add_note(&app.db()?, id, &caller.name, &content, app.now_ms)
        .await?
        .ok_or(ApiError::NotFound("Incident"))?;
    Ok(json_response(
        &LogEntryResponse {
            log_entry: log_entry.view(caller.role),
        },
        201,
    )?)
}

/// The reads of an incident page, in one batch: the incident, its service's action rows,
/// its recent changes, and the latest finished runs of those actions (their health).
struct IncidentReads {
    incident: Read<IncidentRow>,
    actions: Read<ActionRow>,
    recent_changes: Read<ChangeRow>,
    health: Read<FinishedRow>,
}

impl IncidentReads {
    fn push(batch: &mut Batch, db: &Db, id: &str) -> ApiResult<Self> {
        Ok(Self {
            incident: batch.read(incidents::get_statement(db, id)?),
            actions: batch.read(actions::rows_of_incident(db, id)?),
            recent_changes: batch.read(changes::recent_for_incident(db, id)?),
            health: batch.read(runs::recent_finished_of_incident(db, id)?),
        })
    }
}

/// The incident of [`IncidentReads`]' answers, with its recent changes and the enabled
/// actions that apply to it (`available_when`), whose KV records are read in parallel
/// for their descriptions, inputs and health. An unreadable action is listed as such and
/// never fails the page.
async fn with_actions(app: &App, reads: IncidentReads, answers: &Answers) -> ApiResult<Incident> {
    let row = answers
        .first(&reads.incident)?
        .ok_or(ApiError::NotFound("Incident"))?;
    let views = actions::views(&app.kv()?, answers.all(&reads.actions)?).await;
    let keyring = sealed::keyring(app)?;
    let mut incident = row.into_wire()?;
    incident.recent_changes = Some(changes::wire(answers.all(&reads.recent_changes)?)?);
    let mut health = runs::health_by_action(&answers.all(&reads.health)?);
    let (status, urgency) = (incident.status, incident.urgency);
    incident.actions = Some(
        views
            .iter()
            .filter(|view| view.enabled() && view.available_for(status, urgency))
            .map(|view| {
                let mut summary = view.summary(&keyring);
                summary.health = health.remove(&summary.id).unwrap_or_default();
                summary
            })
            .collect(),
    );
    Ok(incident)
}

async fn load_with_actions(app: &App, id: &str) -> ApiResult<Incident> {
    let db = app.db()?;
    let mut batch = Batch::new("incident");
    let reads = IncidentReads::push(&mut batch, &db, id)?;
    let answers = batch.send(&db).await?;
    with_actions(app, reads, &answers).await
}
