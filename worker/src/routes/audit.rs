//! `GET /api/audit`: the record of every change to services, actions, secrets, users and
//! tokens, and of the incident fields changed through PagerDuty's `PUT`.

use shared::api::AuditList;
use worker::Response;

use crate::app::App;
use crate::error::ApiResult;
use crate::http::json_response;
use crate::store::audit;

/// `GET /api/audit`, newest first.
pub async fn list_audit(app: &App) -> ApiResult<Response> {
    let audit_entries = audit::list(&app.db()?).await?;
    Ok(json_response(&AuditList { audit_entries }, 200)?)
}
