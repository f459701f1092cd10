//! `GET /api/audit`: the record of every change to services, actions, secrets, users and
//! tokens, and of the incident fields changed through PagerDuty's `PUT`.

use shared::api::AuditList;
use shared::paging::PagedList;
use worker::{Request, Response};

use crate::app::App;
use crate::error::ApiResult;
use crate::http::{json_response, page_request};
use crate::store::audit;

/// `GET /api/audit?limit=&cursor=`, newest first, a page at a time.
pub async fn list_audit(req: &Request, app: &App) -> ApiResult<Response> {
    let page = page_request(req, PagedList::Audit)?;
    let entries = audit::page(&app.db()?, page.before, page.rows_to_read()).await?;
    let (entries, next_cursor) = page.cut(entries, |(position, _)| *position);
    let audit_entries = entries.into_iter().map(|(_, entry)| entry).collect();
    Ok(json_response(
        &AuditList {
            audit_entries,
            next_cursor,
        },
        200,
    )?)
}
