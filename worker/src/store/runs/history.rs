//! An action's runs over time: its history, page by page, and the figures and health of
//! its latest finished runs.

use serde::Deserialize;
use shared::api::{RunOutcome, RunStatus};
use shared::limits::RUN_STATS_WINDOW;
use shared::run_history::FinishedRun;

use super::rows::{page_of, RunsOf};
use crate::error::ApiResult;
use crate::store::sql::{statement, Db, Statement};

/// The read of one page of an action's runs, newest first: `limit + 1` rows, so the
/// caller knows whether another page follows.
pub fn history_page(
    db: &Db,
    action_id: &str,
    before: Option<i64>,
    limit: u32,
) -> ApiResult<Statement> {
    page_of(db, RunsOf::Action, action_id, before, limit)
}

/// A finished run as the figures read it.
#[derive(Debug, Clone, Deserialize)]
pub struct FinishedRow {
    /// The action.
    pub action_id: String,
    status: RunStatus,
    outcome: Option<RunOutcome>,
    http_status: Option<u16>,
    duration_ms: Option<u64>,
    finished_at: i64,
}

impl FinishedRow {
    /// As [`shared::run_history`] reads it.
    pub fn finished(&self) -> Option<FinishedRun> {
        Some(FinishedRun {
            status: self.status,
            outcome: self.outcome,
            http_status: self.http_status,
            duration_ms: self.duration_ms,
            finished_at: self.finished_at,
        })
    }
}

/// The columns of a [`FinishedRow`], of `action_runs r`.
const FINISHED_COLUMNS: &str =
    "r.action_id, r.status, r.outcome, r.http_status, r.duration_ms, r.finished_at";

/// The read of the newest [`RUN_STATS_WINDOW`] finished runs of each action of a
/// service (`service` is `?1`'s SQL: the service's id, or the one of an incident's),
/// newest first within each action.
fn recent_finished(db: &Db, service: &str, id: &str) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "SELECT {FINISHED_COLUMNS} FROM action_slots a JOIN action_runs r \
                 ON r.rowid IN (SELECT rowid FROM action_runs \
                     WHERE action_id = a.action_id AND finished_at IS NOT NULL \
                     ORDER BY finished_at DESC, rowid DESC LIMIT {RUN_STATS_WINDOW}) \
             WHERE a.service_id = {service} \
             ORDER BY r.action_id, r.finished_at DESC, r.rowid DESC"
        ),
        &[id.into()],
    )
}

/// [`recent_finished`] for a service.
pub fn recent_finished_of_service(db: &Db, service_id: &str) -> ApiResult<Statement> {
    recent_finished(db, "?1", service_id)
}

/// [`recent_finished`] for an incident's service.
pub fn recent_finished_of_incident(db: &Db, incident_id: &str) -> ApiResult<Statement> {
    recent_finished(
        db,
        "(SELECT service_id FROM incidents WHERE id = ?1)",
        incident_id,
    )
}

/// The newest [`RUN_STATS_WINDOW`] finished runs of one action, newest first.
pub fn recent_finished_of_action(db: &Db, action_id: &str) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "SELECT {FINISHED_COLUMNS} FROM action_runs r \
             WHERE r.action_id = ?1 AND r.finished_at IS NOT NULL \
             ORDER BY r.finished_at DESC, r.rowid DESC LIMIT {RUN_STATS_WINDOW}"
        ),
        &[action_id.into()],
    )
}

/// One action's endpoint health from its newest finished runs (newest first).
pub fn health(rows: &[FinishedRow]) -> shared::api::EndpointHealth {
    let runs: Vec<FinishedRun> = rows.iter().filter_map(FinishedRow::finished).collect();
    shared::run_history::endpoint_health(&runs)
}

/// The health of each action in rows read by [`recent_finished`], by action id.
pub fn health_by_action(
    rows: &[FinishedRow],
) -> std::collections::HashMap<String, shared::api::EndpointHealth> {
    let mut by_action: std::collections::HashMap<String, Vec<FinishedRun>> = Default::default();
    for row in rows {
        if let Some(run) = row.finished() {
            by_action
                .entry(row.action_id.clone())
                .or_default()
                .push(run);
        }
    }
    by_action
        .into_iter()
        .map(|(action, runs)| (action, shared::run_history::endpoint_health(&runs)))
        .collect()
}
