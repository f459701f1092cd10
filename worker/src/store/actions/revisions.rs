//! The KV side of actions: every revision under a key of its own, written once and never
//! changed; reading the current one (cached per isolate on the run path, since a revision
//! never changes); and the scheduled sweep of values no row points at.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use shared::limits::UNREFERENCED_REVISION_GRACE_SECS;
use worker::console_warn;

use super::record::{ActionRecord, RECORD_FORMAT};
use super::slots::{ActionRow, ROW_COLUMNS};
use super::views::Config;
use crate::error::{ApiError, ApiResult};
use crate::ids::{hex, random_bytes};
use crate::store::kv::Kv;
use crate::store::sql::{changes, statement, Db, SqlValue};

/// Every action key starts with this.
pub const KEY_PREFIX: &str = "action:";

/// The KV key of one revision: unique per write, so concurrent edits of one revision
/// never overwrite each other's value.
pub fn revision_key(action_id: &str, revision: u64) -> String {
    format!(
        "{KEY_PREFIX}{action_id}:r{revision}:{}",
        hex(&random_bytes(6))
    )
}

/// The key of a record from before revisions.
pub fn legacy_key(action_id: &str) -> String {
    format!("{KEY_PREFIX}{action_id}")
}

/// What every revision value carries as KV metadata: when it was written, so the sweep
/// can tell a value still being committed from one nobody will ever point at.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct RevisionMetadata {
    /// Written (ms).
    pub written_at: i64,
}

/// Parses a stored record (of any format); what is wrong with it otherwise.
pub fn parse_record(text: &str, row: &ActionRow) -> Config {
    // One parse on the run path; only a value that does not read is looked at again.
    match ActionRecord::parse(text) {
        Some(record) if record.format > RECORD_FORMAT => newer_format(),
        Some(record) if record.id == row.action_id && record.service_id == row.service_id => {
            Config::Readable(Box::new(record))
        }
        Some(_) => Config::Unreadable(
            "Its stored configuration belongs to another action; delete it and create it again"
                .to_owned(),
        ),
        None if ActionRecord::is_newer_format(text) => newer_format(),
        None => Config::Unreadable(
            "Its stored configuration is damaged; delete it and create it again".to_owned(),
        ),
    }
}

/// A value written by a newer version of this code (after a rollback): whole, just not
/// readable here.
fn newer_format() -> Config {
    Config::Unreadable(
        "Its configuration was saved by a newer version of Incident Actions; deploy that \
         version again (nothing is lost, and it must not be deleted)"
            .to_owned(),
    )
}

/// Reads the current revision of `row`. Never fails: a KV error makes the action
/// unreadable for this request only, so one bad action never takes a page down.
pub async fn read_config(kv: &Kv, row: &ActionRow) -> Config {
    match kv.get_text(&row.config_key()).await {
        Ok(Some(text)) => parse_record(&text, row),
        Ok(None) => Config::Propagating,
        Err(error) => unreadable_now(row, &error),
    }
}

/// Revision values are immutable, so an isolate may keep the ones it has sent: a run
/// from a warm isolate then needs no KV read at all (in production a KV read that misses
/// the location's cache costs far more than the D1 trips). Only the run path uses this;
/// listings and pages read KV, so they show a record's health as stored. Bounded, and
/// emptied when full. What it holds is sealed: it opens only with the keys configured.
const REVISION_CACHE_ENTRIES: usize = 256;

thread_local! {
    static REVISION_CACHE: RefCell<HashMap<String, Rc<str>>> = RefCell::new(HashMap::new());
}

/// [`read_config`] for the run path: a revision this isolate has read before is not read
/// again. Values from before revisions (no `config_key`) are mutable and always read.
pub async fn read_config_for_run(kv: &Kv, row: &ActionRow) -> Config {
    let Some(key) = row.config_key.as_deref() else {
        return read_config(kv, row).await;
    };
    if let Some(text) = REVISION_CACHE.with(|cache| cache.borrow().get(key).cloned()) {
        return parse_record(&text, row);
    }
    let text = match kv.get_text(key).await {
        Ok(Some(text)) => text,
        Ok(None) => return Config::Propagating,
        Err(error) => return unreadable_now(row, &error),
    };
    let config = parse_record(&text, row);
    if matches!(config, Config::Readable(_)) {
        REVISION_CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.len() >= REVISION_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(key.to_owned(), Rc::from(text));
        });
    }
    config
}

fn unreadable_now(row: &ActionRow, error: &ApiError) -> Config {
    console_warn!("reading action {}: {error:?}", row.action_id);
    Config::Unreadable(
        "Its configuration could not be read just now; try again in a moment".to_owned(),
    )
}

/// Writes `record` as a new KV value and returns its key. Nothing points at it yet.
pub async fn write_revision(kv: &Kv, record: &ActionRecord, now_ms: i64) -> ApiResult<String> {
    let key = revision_key(&record.id, record.revision);
    let json = serde_json::to_string(record)?;
    kv.put_text(&key, json, RevisionMetadata { written_at: now_ms })
        .await?;
    Ok(key)
}

/// Removes a value nobody points at, on a best-effort basis: the scheduled handler
/// sweeps whatever is left.
pub async fn discard_revision(kv: &Kv, key: &str) {
    if let Err(error) = kv.delete(key).await {
        console_warn!("discarding {key}: {error:?}; the scheduled sweep will remove it");
    }
}

/// At most this many KV values are deleted per sweep, to stay well inside one
/// invocation's subrequest budget; the next sweep continues.
const MAX_DELETES_PER_SWEEP: usize = 200;

/// What the sweep removed, and what it cost.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// KV values no action points at.
    pub revisions: usize,
    /// Rows whose configuration never arrived.
    pub orphan_rows: usize,
    /// KV `list` calls made (one per page of keys): the free plan allows 1,000 a day.
    pub lists: usize,
}

/// Whether a KV value may be deleted: no row points at it, and it was written longer ago
/// than the grace period (values from before revisions carry no time and are old).
pub fn is_unreferenced(
    key: &str,
    written_at: Option<i64>,
    current: &[String],
    now_ms: i64,
) -> bool {
    let old_enough =
        written_at.is_none_or(|at| at < now_ms - UNREFERENCED_REVISION_GRACE_SECS * 1000);
    old_enough && !current.iter().any(|current| current == key)
}

/// Removes KV values no action points at, and rows whose configuration never arrived,
/// each only once older than the grace period.
pub async fn sweep(db: &Db, kv: &Kv, now_ms: i64) -> ApiResult<Swept> {
    let rows: Vec<ActionRow> = statement(
        db,
        &format!("SELECT {ROW_COLUMNS} FROM action_slots a"),
        &[],
    )?
    .all()
    .await?
    .results()?;
    let current: Vec<String> = rows.iter().map(ActionRow::config_key).collect();
    let mut listed: Vec<String> = Vec::new();
    let mut doomed: Vec<String> = Vec::new();
    let mut cursor = None;
    let mut lists = 0;
    loop {
        let page = kv.list(KEY_PREFIX, cursor).await?;
        lists += 1;
        for key in page.keys {
            let written_at = key
                .metadata
                .and_then(|m| serde_json::from_value::<RevisionMetadata>(m).ok())
                .map(|m| m.written_at);
            if is_unreferenced(&key.name, written_at, &current, now_ms) {
                doomed.push(key.name.clone());
            }
            listed.push(key.name);
        }
        cursor = page.cursor;
        if cursor.is_none() || doomed.len() >= MAX_DELETES_PER_SWEEP {
            break;
        }
    }
    let mut swept = Swept {
        lists,
        ..Swept::default()
    };
    for key in doomed.iter().take(MAX_DELETES_PER_SWEEP) {
        kv.delete(key).await?;
        swept.revisions += 1;
    }
    // A row whose value is not listed after the grace period never got its value here
    // (or lost it): it can never run, so it must not hold one of the three places. Only
    // judged when the listing was complete.
    if cursor.is_none() {
        let grace_start = now_ms - UNREFERENCED_REVISION_GRACE_SECS * 1000;
        for row in rows.iter().filter(|row| {
            row.updated_at.unwrap_or(row.created_at) < grace_start
                && !listed.contains(&row.config_key())
        }) {
            let removed = statement(
                db,
                "DELETE FROM action_slots WHERE action_id = ?1 AND revision = ?2",
                &[(&row.action_id).into(), SqlValue::Int(row.revision)],
            )?
            .run()
            .await?;
            swept.orphan_rows += changes(&removed);
        }
    }
    Ok(swept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_write_gets_a_key_of_its_own() {
        let (a, b) = (revision_key("act_1", 2), revision_key("act_1", 2));
        assert_ne!(a, b);
        assert!(a.starts_with("action:act_1:r2:"));
    }

    #[test]
    fn only_old_values_nobody_points_at_are_swept() {
        let grace_ms = UNREFERENCED_REVISION_GRACE_SECS * 1000;
        let now = 10 * grace_ms;
        let current = vec!["action:a:r2:x".to_owned()];
        assert!(
            !is_unreferenced("action:a:r2:x", Some(0), &current, now),
            "current"
        );
        assert!(
            !is_unreferenced("action:a:r3:y", Some(now - grace_ms + 1), &current, now),
            "too young"
        );
        assert!(is_unreferenced(
            "action:a:r1:z",
            Some(now - grace_ms - 1),
            &current,
            now
        ));
        assert!(
            is_unreferenced("action:old", None, &current, now),
            "pre-revision values carry no time"
        );
    }
}
