//! `/pagerduty/*`: PagerDuty's REST API v2 over this product's incidents and services, so
//! a PagerDuty client or a Port self-service action needs only its base URL changed.
//!
//! The shapes and conversions are `shared::pagerduty`; the checks are the `/api` ones
//! (`validate_new_incident`, `validate_note`, the same transitions from
//! `shared::incident`), so both surfaces behave alike. A `PUT` is all or nothing
//! ([`edit`]). Roles come from the same route table; `lib.rs` establishes the caller.

use shared::errors::ErrorCode;
use shared::incident::{
    field_changes, validate_new_incident, validate_note, AskedFields, IncidentStatus, Urgency,
};
use shared::limits::MAX_INCIDENT_TITLE_CHARS;
use shared::pagerduty::{
    self, BulkUpdate, CreateIncidentWrapper, CreateNote, IncidentPage, IncidentWrapper,
    IncidentsWrapper, LogEntriesWrapper, NoteWrapper, NotesWrapper, ServicePage, ServiceWrapper,
    UpdateIncidentWrapper, Urls, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT,
};
use shared::roles::Role;
use shared::validation::required_text;
use shared::view::View;
use shared::FieldError;
use worker::{Request, Response};

use crate::app::{App, Fault};
use crate::domain::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_response, read_json};
use crate::store::incidents::{
    self, ByHand, Edited, IncidentEdit, IncidentFilter, IncidentRow, LogPage,
};
use crate::store::services;

/// The origin the object URLs are built on: the one the request came to.
fn origin(req: &Request) -> ApiResult<String> {
    let url = req.url()?;
    Ok(url.origin().ascii_serialization())
}

/// `GET /pagerduty/incidents`: `statuses[]`, `service_ids[]`, `urgencies[]`,
/// `incident_key`, `limit` (≤ 100), `offset`, `total`, `sort_by=created_at:desc|asc`.
pub async fn list_incidents(req: &Request, app: &App, caller: &Principal) -> ApiResult<Response> {
    let query = PageQuery::parse(&req.url()?)?;
    let db = app.db()?;
    // One more than asked says whether there is a next page.
    let mut rows = incidents::page(&db, &query.filter, query.limit + 1, query.offset).await?;
    let more = rows.len() as i64 > query.limit;
    rows.truncate(usize::try_from(query.limit).unwrap_or_default());
    let total = if query.total {
        Some(incidents::count(&db, &query.filter).await?)
    } else {
        None
    };
    let origin = origin(req)?;
    let urls = Urls { origin: &origin };
    let incidents = rows
        .into_iter()
        .map(|row| Ok(urls.incident(&row.into_wire()?.view(caller.role))))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(json_response(
        &IncidentPage {
            incidents,
            limit: query.limit,
            offset: query.offset,
            total,
            more,
        },
        200,
    )?)
}

/// The query of `GET /pagerduty/incidents`.
#[derive(Debug, Default)]
struct PageQuery {
    filter: IncidentFilter,
    limit: i64,
    offset: i64,
    total: bool,
}

impl PageQuery {
    fn parse(url: &url::Url) -> ApiResult<Self> {
        let invalid = |message: String| ApiError::Refused(ErrorCode::InvalidQuery, message);
        let mut query = Self {
            limit: DEFAULT_PAGE_LIMIT,
            ..Self::default()
        };
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "statuses[]" | "statuses" => query.filter.statuses.push(
                    IncidentStatus::parse(&value)
                        .ok_or_else(|| invalid(format!("statuses[] has no value {value}")))?,
                ),
                "service_ids[]" | "service_ids" => {
                    query.filter.service_ids.push(value.into_owned());
                }
                "urgencies[]" | "urgencies" => query.filter.urgencies.push(
                    Urgency::parse(&value)
                        .ok_or_else(|| invalid(format!("urgencies[] has no value {value}")))?,
                ),
                "incident_key" => query.filter.incident_key = Some(value.into_owned()),
                "limit" => {
                    query.limit = value
                        .parse::<i64>()
                        .ok()
                        .filter(|limit| (1..=MAX_PAGE_LIMIT).contains(limit))
                        .ok_or_else(|| invalid(format!("limit must be 1 to {MAX_PAGE_LIMIT}")))?;
                }
                "offset" => {
                    query.offset = value
                        .parse::<i64>()
                        .ok()
                        .filter(|offset| *offset >= 0)
                        .ok_or_else(|| invalid("offset must be 0 or more".to_owned()))?;
                }
                "total" => query.total = value == "true",
                "sort_by" => {
                    query.filter.oldest_first = match value.as_ref() {
                        "created_at:asc" => true,
                        "created_at:desc" | "created_at" => false,
                        other => {
                            return Err(invalid(format!(
                                "sort_by {other} is not served; use created_at:desc or \
                                 created_at:asc"
                            )))
                        }
                    };
                }
                // Other PagerDuty parameters (date ranges, time zones, includes) are
                // accepted and ignored, as the README's table says.
                _ => {}
            }
        }
        Ok(query)
    }
}

/// `POST /pagerduty/incidents`, Port's "create": 201 `{"incident"}`.
pub async fn create_incident(
    mut req: Request,
    app: &App,
    caller: &Principal,
) -> ApiResult<Response> {
    let body: CreateIncidentWrapper = read_json(&mut req).await?;
    let valid = validate_new_incident(&body.into_request()).map_err(ApiError::Validation)?;
    let row = match incidents::create_by_hand(&app.db()?, &valid, &caller.name, app.now_ms).await? {
        ByHand::Created(row) => row,
        ByHand::Duplicate(incident_id) => return Err(ApiError::DuplicateIncident(incident_id)),
        ByHand::NoSuchService => return Err(ApiError::NotFound("Service")),
    };
    let origin = origin(&req)?;
    let incident = Urls { origin: &origin }.incident(&row.into_wire()?.view(caller.role));
    Ok(json_response(&IncidentWrapper { incident }, 201)?)
}

/// `GET /pagerduty/incidents/{id}`.
pub async fn get_incident(
    req: &Request,
    app: &App,
    caller: &Principal,
    id: &str,
) -> ApiResult<Response> {
    let origin = origin(req)?;
    let incident = current(app, &origin, id, caller.role).await?;
    Ok(json_response(&IncidentWrapper { incident }, 200)?)
}

/// The incident `id` in PagerDuty's shape, as `viewer` may see it.
async fn current(
    app: &App,
    origin: &str,
    id: &str,
    viewer: Role,
) -> ApiResult<pagerduty::PdIncident> {
    let row = incidents::get(&app.db()?, id)
        .await?
        .ok_or(ApiError::NotFound("Incident"))?;
    Ok(Urls { origin }.incident(&row.into_wire()?.view(viewer)))
}

/// `PUT /pagerduty/incidents/{id}`: `status` (acknowledged, resolved), `title`,
/// `urgency`; a `resolution` becomes a note. All of it or nothing: see [`edit`].
pub async fn update_incident(
    mut req: Request,
    app: &App,
    caller: &Principal,
    id: &str,
) -> ApiResult<Response> {
    let caller_trips = app.round_trips().0;
    let body: UpdateIncidentWrapper = read_json(&mut req).await?;
    let change = body.incident;
    let title = change
        .title
        .as_deref()
        .map(|title| required_text(title, "Title", MAX_INCIDENT_TITLE_CHARS))
        .transpose()
        .map_err(|error| ApiError::Validation(vec![FieldError::new("incident.title", &error)]))?;
    let note = change
        .resolution
        .as_deref()
        .map(validate_note)
        .transpose()
        .map_err(|errors| ApiError::Validation(renamed(errors, "incident.resolution")))?;
    let asked = Asked {
        id,
        fields: AskedFields {
            status: change.status,
            title,
            urgency: change.urgency,
        },
        note,
        place: None,
    };
    let row = edit(app, caller, vec![asked])
        .await?
        .pop()
        .ok_or(ApiError::NotFound("Incident"))?;
    let origin = origin(&req)?;
    let incident = Urls { origin: &origin }.incident(&row.into_wire()?.view(caller.role));
    let response = json_response(&IncidentWrapper { incident }, 200)?;
    response.headers().set(
        "Server-Timing",
        &server_timing(caller_trips, app.round_trips().0),
    )?;
    Ok(response)
}

/// `PUT /pagerduty/incidents`: `{"incidents": [{"id", "type", "status"}]}`, 1 to
/// [`MAX_PAGE_LIMIT`] incidents, each once. All of them or none: see [`edit`].
pub async fn update_incidents(
    mut req: Request,
    app: &App,
    caller: &Principal,
) -> ApiResult<Response> {
    let caller_trips = app.round_trips().0;
    let body: BulkUpdate = read_json(&mut req).await?;
    if body.incidents.is_empty() || body.incidents.len() > MAX_PAGE_LIMIT as usize {
        return Err(ApiError::Refused(
            ErrorCode::InvalidInput,
            format!("Send 1 to {MAX_PAGE_LIMIT} incidents"),
        ));
    }
    // One update row per incident: an id listed twice would leave which of its changes
    // applies to the database's choice.
    for (place, item) in body.incidents.iter().enumerate() {
        if body.incidents[..place]
            .iter()
            .any(|earlier| earlier.id == item.id)
        {
            return Err(ApiError::Refused(
                ErrorCode::InvalidInput,
                format!("incidents[{place}]: {} is listed more than once", item.id),
            ));
        }
    }
    let asked = body
        .incidents
        .iter()
        .enumerate()
        .map(|(place, item)| Asked {
            id: &item.id,
            fields: AskedFields {
                status: item.status,
                ..AskedFields::default()
            },
            note: None,
            place: Some(place),
        })
        .collect();
    let rows = edit(app, caller, asked).await?;
    let origin = origin(&req)?;
    let urls = Urls { origin: &origin };
    let incidents = rows
        .into_iter()
        .map(|row| Ok(urls.incident(&row.into_wire()?.view(caller.role))))
        .collect::<ApiResult<Vec<_>>>()?;
    let response = json_response(&IncidentsWrapper { incidents }, 200)?;
    response.headers().set(
        "Server-Timing",
        &server_timing(caller_trips, app.round_trips().0),
    )?;
    Ok(response)
}

/// One incident of a `PUT`, checked as far as no storage is needed.
struct Asked<'a> {
    id: &'a str,
    fields: AskedFields,
    note: Option<String>,
    /// Its place in a bulk `PUT`, which its refusal names.
    place: Option<usize>,
}

/// Applies what a `PUT` asks, all of it or nothing, in at most two D1 round trips
/// whatever the number of incidents: one read of them all; every check (each exists,
/// each status change is one the shared rule allows, as `/api` follows it) against what
/// was read; then one batch of every change, timeline entry and audit record, which also
/// reads the incidents back (`store::incidents::apply_edits`). A request that asks no
/// change makes only the read. Answers the incidents as they now are, in the order asked.
///
/// The batch's update holds only while every incident still has the values its changes
/// were checked against. When one was changed meanwhile the batch writes nothing, and the
/// answer is 409 (PagerDuty's shape): the request was decided on a state that no longer
/// holds, and answering otherwise would need a second read and a second check, past the
/// two round trips. A client sends it again, and it is checked against the new state.
async fn edit(app: &App, caller: &Principal, asked: Vec<Asked<'_>>) -> ApiResult<Vec<IncidentRow>> {
    let ids: Vec<&str> = asked.iter().map(|ask| ask.id).collect();
    let db = app.db()?;
    let read = incidents::get_many(&db, &ids).await?;
    let mut edits = Vec::with_capacity(asked.len());
    for ask in asked {
        let row = read
            .iter()
            .find(|row| row.id() == ask.id)
            .ok_or(ApiError::NotFound("Incident"))?;
        let changes = field_changes(&row.fields()?, &ask.fields).map_err(|refusal| {
            let message = match ask.place {
                Some(place) => format!("incidents[{place}]: {}", refusal.message()),
                None => refusal.message().to_owned(),
            };
            ApiError::Refused(ErrorCode::InvalidTransition, message)
        })?;
        edits.push(IncidentEdit {
            id: ask.id.to_owned(),
            changes,
            note: ask.note,
        });
    }
    edits.retain(|edit| !edit.is_empty());
    if edits.is_empty() {
        return Ok(read);
    }
    if let (true, Some(first)) = (app.fault(Fault::PagerDutyEditRace), ids.first()) {
        incidents::apply_transition(
            &db,
            first,
            IncidentStatus::Resolved,
            "Someone else",
            app.now_ms,
        )
        .await?;
    }
    match incidents::apply_edits(&db, &edits, &ids, caller, app.now_ms).await? {
        Edited::Applied(rows) => Ok(rows),
        Edited::Conflict => Err(ApiError::Refused(
            ErrorCode::EditConflict,
            "An incident was changed by someone else since this request read it; nothing \
             was changed. Send it again to apply it to the incident as it is now"
                .to_owned(),
        )),
    }
}

/// The `Server-Timing` of a `PUT`: the D1 round trips made to establish the caller, and
/// those of the update itself (at most 2, whatever the number of incidents).
fn server_timing(caller_trips: u32, total_trips: u32) -> String {
    format!(
        "d1-caller;desc=\"{caller_trips}\", d1-update;desc=\"{}\"",
        total_trips.saturating_sub(caller_trips)
    )
}

/// Field errors renamed to where PagerDuty's body holds the value.
fn renamed(errors: Vec<FieldError>, field: &str) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|error| FieldError {
            field: field.to_owned(),
            message: error.message,
        })
        .collect()
}

/// `GET /pagerduty/incidents/{id}/notes`, oldest first.
pub async fn list_notes(app: &App, caller: &Principal, id: &str) -> ApiResult<Response> {
    let db = app.db()?;
    incidents::get(&db, id)
        .await?
        .ok_or(ApiError::NotFound("Incident"))?;
    let entries = incidents::latest_notes(&db, id).await?;
    let notes = entries
        .into_iter()
        .filter_map(|entry| pagerduty::note(&entry.view(caller.role)))
        .collect();
    Ok(json_response(&NotesWrapper { notes }, 200)?)
}

/// `POST /pagerduty/incidents/{id}/notes`: 201 `{"note"}`.
pub async fn create_note(
    mut req: Request,
    app: &App,
    caller: &Principal,
    id: &str,
) -> ApiResult<Response> {
    let body: CreateNote = read_json(&mut req).await?;
    let content = validate_note(&body.note.content)
        .map_err(|errors| ApiError::Validation(renamed(errors, "note.content")))?;
    let entry = incidents::add_note(&app.db()?, id, &caller.name, &content, app.now_ms)
        .await?
        .ok_or(ApiError::NotFound("Incident"))?;
    let note = pagerduty::note(&entry.view(caller.role))
        .ok_or_else(|| ApiError::Internal("a note entry is not a note".to_owned()))?;
    Ok(json_response(&NoteWrapper { note }, 201)?)
}

/// `GET /pagerduty/incidents/{id}/log_entries`, newest first, `limit` (≤ 100) and `offset`.
pub async fn list_log_entries(
    req: &Request,
    app: &App,
    caller: &Principal,
    id: &str,
) -> ApiResult<Response> {
    let query = PageQuery::parse(&req.url()?)?;
    let db = app.db()?;
    incidents::get(&db, id)
        .await?
        .ok_or(ApiError::NotFound("Incident"))?;
    let mut entries =
        incidents::log_page(&db, id, LogPage::Offset(query.offset), query.limit + 1).await?;
    let more = entries.len() as i64 > query.limit;
    entries.truncate(usize::try_from(query.limit).unwrap_or_default());
    let log_entries = entries
        .into_iter()
        .map(|(_, entry)| pagerduty::log_entry(&entry.view(caller.role)))
        .collect();
    Ok(json_response(
        &LogEntriesWrapper {
            log_entries,
            limit: query.limit,
            offset: query.offset,
            more,
        },
        200,
    )?)
}

/// `GET /pagerduty/services`.
pub async fn list_services(req: &Request, app: &App, caller: &Principal) -> ApiResult<Response> {
    let origin = origin(req)?;
    let urls = Urls { origin: &origin };
    let services: Vec<_> = services::list(&app.db()?)
        .await?
        .into_iter()
        // PagerDuty's service objects carry no integration key.
        .map(|row| urls.service(&row.into_wire(None).view(caller.role)))
        .collect();
    let count = services.len() as i64;
    Ok(json_response(
        &ServicePage {
            services,
            limit: count,
            offset: 0,
            total: Some(count),
            more: false,
        },
        200,
    )?)
}

/// `GET /pagerduty/services/{id}`.
pub async fn get_service(
    req: &Request,
    app: &App,
    caller: &Principal,
    id: &str,
) -> ApiResult<Response> {
    let row = services::get(&app.db()?, id)
        .await?
        .ok_or(ApiError::NotFound("Service"))?;
    let origin = origin(req)?;
    let service = Urls { origin: &origin }.service(&row.into_wire(None).view(caller.role));
    Ok(json_response(&ServiceWrapper { service }, 200)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> ApiResult<PageQuery> {
        PageQuery::parse(
            &url::Url::parse(&format!("https://a/pagerduty/incidents?{query}")).unwrap(),
        )
    }

    #[test]
    fn filters_repeat_and_pagination_has_defaults() {
        let query =
            parse("statuses[]=triggered&statuses[]=acknowledged&service_ids[]=svc_1&urgencies[]=high&incident_key=k&sort_by=created_at:asc&total=true")
                .unwrap();
        assert_eq!(
            query.filter.statuses,
            [IncidentStatus::Triggered, IncidentStatus::Acknowledged]
        );
        assert_eq!(query.filter.service_ids, ["svc_1"]);
        assert_eq!(query.filter.urgencies, [Urgency::High]);
        assert_eq!(query.filter.incident_key.as_deref(), Some("k"));
        assert!(query.filter.oldest_first && query.total);
        let plain = parse("").unwrap();
        assert_eq!((plain.limit, plain.offset, plain.total), (25, 0, false));
    }

    #[test]
    fn a_put_tells_the_round_trips_of_its_caller_and_of_its_update_apart() {
        assert_eq!(
            server_timing(1, 3),
            "d1-caller;desc=\"1\", d1-update;desc=\"2\""
        );
    }

    #[test]
    fn a_limit_of_1_and_100_is_accepted_and_0_or_101_is_not() {
        assert_eq!(parse("limit=1").unwrap().limit, 1);
        assert_eq!(parse("limit=100").unwrap().limit, 100);
        assert!(parse("limit=0").is_err());
        assert!(parse("limit=101").is_err());
        assert!(parse("offset=-1").is_err());
        assert!(parse("statuses[]=open").is_err());
        assert!(parse("sort_by=urgency").is_err());
    }
}
