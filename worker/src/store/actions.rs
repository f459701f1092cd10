//! Custom incident actions: configuration in Workers KV as immutable revisions, indexed by
//! one D1 row per action (`action_slots`) that names the current revision.
//!
//! Why this shape:
//! - KV is eventually consistent across locations (about 60 s) and has no transactions, so
//!   it is never read-modified-written. Every create, edit and rotation writes a new value
//!   under a key of its own (`action:{id}:r{revision}:{nonce}`); nothing is overwritten.
//! - D1 is strongly consistent. The row names the current key and moves only by a
//!   statement conditional on the revision the editor read: the compare-and-swap point.
//!   Listing, counting, naming, enabling and running all go through it, so a deleted
//!   action can never run, and of two edits of one revision exactly one lands.
//! - The KV value is written before the row points at it, so a row never names a value
//!   that was not written. Values no row points at (a refused create, the loser of a race,
//!   superseded revisions) are removed by the scheduled handler after a grace period,
//!   which also lets a run that resolved a revision just before an edit still read it.
//!
//! Secrets stay sealed (`sealed.rs`) inside records. Listing, reading and editing copy
//! sealed values as they are; only the run path opens them ([`ActionRecord::open`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};
use shared::action::ValidAction;
use shared::api::{Action, ActionHeader, ActionSummary, ConfigHealth, EndpointHealth, REDACTED};
use shared::errors::ErrorCode;
use shared::incident::{IncidentStatus, Urgency};
use shared::inputs::InputDefinition;
use shared::limits::{MAX_ACTIONS_PER_SERVICE, UNREFERENCED_REVISION_GRACE_SECS};
use shared::run_rules::{AvailableWhen, Confirm};
use shared::time::format_rfc3339;
use shared::FieldError;
use worker::console_warn;

use super::audit::{self, Change};
use super::batch::Batch;
use super::kv::Kv;
use super::sql::{changes, statement, Db, SqlValue, Statement};
use crate::error::{ApiError, ApiResult};
use crate::ids::{hex, random_bytes};
use crate::sealed::{Keyring, SealContext, SealError};

/// The format written into every new record. Format 1 (before revisions) lacks
/// `format` and `revision`; every field added since has a default, so older records
/// stay readable.
pub const RECORD_FORMAT: u32 = 2;

/// Every action key starts with this.
pub const KEY_PREFIX: &str = "action:";

fn legacy_format() -> u32 {
    1
}

/// A custom header as stored: a secret value is sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredHeader {
    /// Header name.
    pub name: String,
    /// The value; sealed when `secret`.
    pub value: String,
    /// Whether the API hides the value.
    pub secret: bool,
}

/// One revision of an action's configuration as KV holds it, secrets sealed. Immutable:
/// an edit makes a new record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// The record format ([`RECORD_FORMAT`]).
    #[serde(default = "legacy_format")]
    pub format: u32,
    /// This record's revision (0 for records from before revisions).
    #[serde(default)]
    pub revision: u64,
    /// Identifier.
    pub id: String,
    /// Owning service.
    pub service_id: String,
    /// Button label.
    pub name: String,
    /// Help text.
    #[serde(default)]
    pub description: Option<String>,
    /// Endpoint.
    pub endpoint_url: String,
    /// Shown on incidents.
    pub enabled: bool,
    /// Custom headers.
    #[serde(default)]
    pub headers: Vec<StoredHeader>,
    /// The sealed `whsec_…`.
    pub signing_secret: String,
    /// What a run asks the clicker for.
    #[serde(default)]
    pub inputs: Vec<InputDefinition>,
    /// The confirmation asked before each run.
    #[serde(default)]
    pub confirm: Option<Confirm>,
    /// The incidents the action applies to.
    #[serde(default)]
    pub available_when: Option<AvailableWhen>,
    /// The body template; `None` sends the default payload.
    #[serde(default)]
    pub body_template: Option<String>,
    /// Whether the endpoint's answer may write back (`shared::reply`); records written
    /// before the reply contract read as off.
    #[serde(default)]
    pub accept_reply: bool,
    /// Created (ms).
    pub created_at: i64,
    /// This revision written (ms).
    pub updated_at: i64,
}

/// A custom header with its value opened, for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedHeader {
    /// Header name.
    pub name: String,
    /// The value, in clear.
    pub value: String,
    /// Whether the value is a secret (never recorded or shown).
    pub secret: bool,
}

/// An action ready to send: its secrets opened. Exists only on the run path, never
/// stored, serialized or answered.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedAction {
    /// Identifier.
    pub id: String,
    /// Button label.
    pub name: String,
    /// Endpoint.
    pub endpoint_url: String,
    /// The revision being sent.
    pub revision: u64,
    /// Custom headers.
    pub headers: Vec<OpenedHeader>,
    /// `whsec_…`.
    pub signing_secret: String,
    /// What a run asks the clicker for.
    pub inputs: Vec<InputDefinition>,
    /// The confirmation asked before each run.
    pub confirm: Option<Confirm>,
    /// The incidents the action applies to.
    pub available_when: Option<AvailableWhen>,
    /// The body template; `None` sends the default payload.
    pub body_template: Option<String>,
    /// Whether the endpoint's answer may write back.
    pub accept_reply: bool,
}

impl OpenedAction {
    /// An action as a preview shows it, from fields that passed validation: every secret
    /// value (typed, or kept from the stored revision) reads `[redacted]`, and there is no
    /// signing secret, so nothing needs opening.
    pub fn redacted(id: &str, revision: u64, valid: &ValidAction) -> Self {
        Self {
            id: id.to_owned(),
            name: valid.name.as_str().to_owned(),
            endpoint_url: valid.endpoint_url.as_str().to_owned(),
            revision,
            headers: valid
                .headers
                .iter()
                .map(|header| OpenedHeader {
                    name: header.name.as_str().to_owned(),
                    value: match (&header.value, header.secret) {
                        (Some(value), false) => value.clone(),
                        (_, true) | (None, false) => REDACTED.to_owned(),
                    },
                    secret: header.secret,
                })
                .collect(),
            signing_secret: String::new(),
            inputs: valid.inputs.clone(),
            confirm: valid.confirm.clone(),
            available_when: valid.available_when.clone(),
            body_template: valid.body_template.clone(),
            accept_reply: valid.accept_reply,
        }
    }

    /// Every secret value this action holds (secret header values and the signing
    /// secret): what must never appear in anything recorded.
    pub fn secret_values(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|header| header.secret)
            .map(|header| header.value.as_str())
            .chain(std::iter::once(self.signing_secret.as_str()))
            .collect()
    }
}

/// The field a secret is bound to: the signing secret, or a header by lower-case name
/// (header names are case-insensitive, and renaming a header re-seals its value).
fn header_field(name: &str) -> String {
    format!("header:{}", name.to_ascii_lowercase())
}

const SIGNING_SECRET_FIELD: &str = "signing_secret";

impl ActionRecord {
    fn context<'a>(&'a self, field: &'a str) -> SealContext<'a> {
        SealContext {
            service_id: &self.service_id,
            action_id: &self.id,
            field,
        }
    }

    fn seal(&self, keyring: &Keyring, field: &str, value: &str) -> ApiResult<String> {
        keyring
            .seal(value, self.context(field))
            .map_err(|e| ApiError::Internal(format!("sealing action {}: {e}", self.id)))
    }

    /// The first revision of a new action.
    pub fn create(
        id: String,
        service_id: String,
        valid: &ValidAction,
        enabled: bool,
        signing_secret: &str,
        now_ms: i64,
        keyring: &Keyring,
    ) -> ApiResult<Self> {
        let mut record = Self {
            format: RECORD_FORMAT,
            revision: 1,
            id,
            service_id,
            name: String::new(),
            description: None,
            endpoint_url: String::new(),
            enabled,
            headers: Vec::new(),
            signing_secret: String::new(),
            inputs: Vec::new(),
            confirm: None,
            available_when: None,
            body_template: None,
            accept_reply: false,
            created_at: now_ms,
            updated_at: now_ms,
        };
        record.signing_secret = record.seal(keyring, SIGNING_SECRET_FIELD, signing_secret)?;
        record.apply(valid, keyring, &[])?;
        Ok(record)
    }

    /// The next revision with `valid`'s fields. A secret header without a new value
    /// keeps the sealed value of this record's secret header of the same name, copied
    /// without being opened.
    pub fn edited(
        &self,
        valid: &ValidAction,
        enabled: bool,
        now_ms: i64,
        keyring: &Keyring,
    ) -> ApiResult<Self> {
        let mut next = self.successor(now_ms);
        next.enabled = enabled;
        next.apply(valid, keyring, &self.headers)?;
        Ok(next)
    }

    /// The next revision with a new signing secret.
    pub fn rotated(&self, signing_secret: &str, now_ms: i64, keyring: &Keyring) -> ApiResult<Self> {
        let mut next = self.successor(now_ms);
        next.signing_secret = next.seal(keyring, SIGNING_SECRET_FIELD, signing_secret)?;
        Ok(next)
    }

    fn successor(&self, now_ms: i64) -> Self {
        Self {
            format: RECORD_FORMAT,
            revision: self.revision + 1,
            updated_at: now_ms,
            ..self.clone()
        }
    }

    fn apply(
        &mut self,
        valid: &ValidAction,
        keyring: &Keyring,
        previous: &[StoredHeader],
    ) -> ApiResult<()> {
        self.name = valid.name.as_str().to_owned();
        self.description.clone_from(&valid.description);
        self.endpoint_url = valid.endpoint_url.as_str().to_owned();
        self.inputs.clone_from(&valid.inputs);
        self.confirm.clone_from(&valid.confirm);
        self.available_when.clone_from(&valid.available_when);
        self.body_template.clone_from(&valid.body_template);
        self.accept_reply = valid.accept_reply;
        let mut errors = Vec::new();
        let mut headers = Vec::with_capacity(valid.headers.len());
        for (index, header) in valid.headers.iter().enumerate() {
            let name = header.name.as_str();
            let value = match (&header.value, header.secret) {
                (Some(value), true) => self.seal(keyring, &header_field(name), value)?,
                (Some(value), false) => value.clone(),
                (None, _) => match previous
                    .iter()
                    .find(|old| old.secret && old.name.eq_ignore_ascii_case(name))
                {
                    Some(old) => old.value.clone(),
                    None => {
                        errors.push(FieldError {
                            field: format!("headers[{index}].value"),
                            message: "Header value is required".to_owned(),
                        });
                        continue;
                    }
                },
            };
            headers.push(StoredHeader {
                name: name.to_owned(),
                value,
                secret: header.secret,
            });
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        self.headers = headers;
        Ok(())
    }

    /// Opens the secrets for sending.
    pub fn open(&self, keyring: &Keyring) -> Result<OpenedAction, SealError> {
        let headers = self
            .headers
            .iter()
            .map(|header| {
                let value = if header.secret {
                    keyring.open(&header.value, self.context(&header_field(&header.name)))?
                } else {
                    header.value.clone()
                };
                Ok(OpenedHeader {
                    name: header.name.clone(),
                    value,
                    secret: header.secret,
                })
            })
            .collect::<Result<_, SealError>>()?;
        Ok(OpenedAction {
            id: self.id.clone(),
            name: self.name.clone(),
            endpoint_url: self.endpoint_url.clone(),
            revision: self.revision,
            headers,
            signing_secret: keyring
                .open(&self.signing_secret, self.context(SIGNING_SECRET_FIELD))?,
            inputs: self.inputs.clone(),
            confirm: self.confirm.clone(),
            available_when: self.available_when.clone(),
            body_template: self.body_template.clone(),
            accept_reply: self.accept_reply,
        })
    }

    /// This revision as a preview shows it: secret values `[redacted]`, nothing opened.
    pub fn redacted(&self) -> OpenedAction {
        OpenedAction {
            id: self.id.clone(),
            name: self.name.clone(),
            endpoint_url: self.endpoint_url.clone(),
            revision: self.revision,
            headers: self
                .headers
                .iter()
                .map(|header| OpenedHeader {
                    name: header.name.clone(),
                    value: if header.secret {
                        REDACTED.to_owned()
                    } else {
                        header.value.clone()
                    },
                    secret: header.secret,
                })
                .collect(),
            signing_secret: String::new(),
            inputs: self.inputs.clone(),
            confirm: self.confirm.clone(),
            available_when: self.available_when.clone(),
            body_template: self.body_template.clone(),
            accept_reply: self.accept_reply,
        }
    }

    /// What about this record cannot be opened with `keyring`, judged from the key each
    /// sealed value names, without opening any: `None` when everything can.
    pub fn sealing_problem(&self, keyring: &Keyring) -> Option<String> {
        let mut unknown: Vec<String> = self
            .headers
            .iter()
            .filter(|header| header.secret && !keyring.knows_key_of(&header.value))
            .map(|header| format!("header {}", header.name))
            .collect();
        if !keyring.knows_key_of(&self.signing_secret) {
            unknown.push("the signing secret".to_owned());
        }
        (!unknown.is_empty()).then(|| {
            format!(
                "its secrets ({}) were sealed with an encryption key that is no longer \
                 configured. Restore that key in ENCRYPTION_KEYS_PREVIOUS, or re-enter the \
                 secret header values (Edit) and rotate the signing secret, or delete the action",
                unknown.join(", ")
            )
        })
    }

    /// The secret headers' names: what an edit to another origin must re-enter.
    pub fn headers_for_edit(&self) -> Vec<shared::api::HeaderInput> {
        self.headers
            .iter()
            .map(|header| shared::api::HeaderInput {
                name: header.name.clone(),
                value: (!header.secret).then(|| header.value.clone()),
                secret: Some(header.secret),
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// The index row
// ---------------------------------------------------------------------------------------

/// An `action_slots` row: the action as D1 knows it.
#[derive(Debug, Clone, Deserialize)]
pub struct ActionRow {
    /// Identifier.
    pub action_id: String,
    /// Owning service.
    pub service_id: String,
    /// Button label (`NULL` for rows from before revisions: the record's stands).
    pub name: Option<String>,
    /// 1 when shown on incidents.
    pub enabled: i64,
    /// The current revision (0: from before revisions).
    pub revision: i64,
    /// KV key of the current revision (`NULL`: [`legacy_key`]).
    pub config_key: Option<String>,
    /// Created (ms).
    pub created_at: i64,
    /// Current revision written (ms).
    pub updated_at: Option<i64>,
}

/// The columns of [`ActionRow`], for queries that select it (alias `a`).
pub const ROW_COLUMNS: &str = "a.action_id, a.service_id, a.name, a.enabled, a.revision, \
     a.config_key, a.created_at, a.updated_at";

/// An `action_slots` row (alias `a`) as one JSON value, so that another table's read can
/// carry it in one column (`action_row`, read with [`WithActionRow`]).
pub const ROW_AS_JSON: &str = "json_object('action_id', a.action_id, 'service_id', \
     a.service_id, 'name', a.name, 'enabled', a.enabled, 'revision', a.revision, \
     'config_key', a.config_key, 'created_at', a.created_at, 'updated_at', a.updated_at)";

/// The `action_row` column of a read that carries an action's row as [`ROW_AS_JSON`]
/// (`null` when there is no such action).
#[derive(Debug, Deserialize)]
pub struct WithActionRow {
    action_row: Option<String>,
}

impl WithActionRow {
    /// The action's row, if there is one.
    pub fn action(&self) -> ApiResult<Option<ActionRow>> {
        row_from_json(self.action_row.as_deref())
    }
}

/// An `action_row` column ([`ROW_AS_JSON`]) read back: the row, or `None` for `null`.
pub fn row_from_json(action_row: Option<&str>) -> ApiResult<Option<ActionRow>> {
    action_row
        .map(serde_json::from_str)
        .transpose()
        .map_err(Into::into)
}

impl ActionRow {
    /// The KV key of the current revision.
    pub fn config_key(&self) -> String {
        self.config_key
            .clone()
            .unwrap_or_else(|| legacy_key(&self.action_id))
    }

    /// The current revision.
    pub fn revision(&self) -> u64 {
        u64::try_from(self.revision).unwrap_or_default()
    }
}

/// The service's action rows, in creation order.
pub fn rows_of_service(db: &Db, service_id: &str) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "SELECT {ROW_COLUMNS} FROM action_slots a WHERE a.service_id = ?1 \
             ORDER BY a.created_at, a.action_id"
        ),
        &[service_id.into()],
    )
}

/// The action rows of an incident's service, to batch with the incident's own read.
pub fn rows_of_incident(db: &Db, incident_id: &str) -> ApiResult<Statement> {
    statement(
        db,
        &format!(
            "SELECT {ROW_COLUMNS} FROM action_slots a \
             WHERE a.service_id = (SELECT service_id FROM incidents WHERE id = ?1) \
             ORDER BY a.created_at, a.action_id"
        ),
        &[incident_id.into()],
    )
}

/// One action's row.
pub fn row_of(db: &Db, action_id: &str) -> ApiResult<Statement> {
    statement(
        db,
        &format!("SELECT {ROW_COLUMNS} FROM action_slots a WHERE a.action_id = ?1"),
        &[action_id.into()],
    )
}

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/// The current revision's configuration as this location sees it.
#[derive(Debug, Clone)]
pub enum Config {
    /// Read and parsed.
    Readable(Box<ActionRecord>),
    /// Not here yet: KV has not brought the revision to this location.
    Propagating,
    /// Present but unusable; says why.
    Unreadable(String),
}

/// An action: its row, and its configuration as read.
#[derive(Debug, Clone)]
pub struct ActionView {
    /// The index row.
    pub row: ActionRow,
    /// The configuration of `row`'s revision.
    pub config: Config,
}

impl ActionView {
    fn record(&self) -> Option<&ActionRecord> {
        match &self.config {
            Config::Readable(record) => Some(record.as_ref()),
            Config::Propagating | Config::Unreadable(_) => None,
        }
    }

    /// Button label.
    pub fn name(&self) -> String {
        self.row
            .name
            .clone()
            .or_else(|| self.record().map(|record| record.name.clone()))
            .unwrap_or_else(|| format!("Action {}", self.row.action_id))
    }

    /// Whether incidents show it. Rows from before revisions take the record's word.
    pub fn enabled(&self) -> bool {
        if self.row.revision == 0 {
            return self.record().is_some_and(|record| record.enabled);
        }
        self.row.enabled != 0
    }

    /// Whether the configuration can be used, and if not why, without opening a secret.
    pub fn health(&self, keyring: &Keyring) -> (ConfigHealth, Option<String>) {
        match &self.config {
            Config::Readable(record) => match record.sealing_problem(keyring) {
                None => (ConfigHealth::Ok, None),
                Some(problem) => (ConfigHealth::Unreadable, Some(capitalized(&problem))),
            },
            Config::Propagating => (
                ConfigHealth::Propagating,
                Some("Its newest revision has not reached this location yet; it will within a minute".to_owned()),
            ),
            Config::Unreadable(why) => (ConfigHealth::Unreadable, Some(why.clone())),
        }
    }

    /// The API shape: secret values never, the configuration when readable.
    pub fn to_wire(&self, keyring: &Keyring) -> Action {
        let record = self.record();
        let (health, config_problem) = self.health(keyring);
        Action {
            id: self.row.action_id.clone(),
            service_id: self.row.service_id.clone(),
            name: self.name(),
            description: record.and_then(|r| r.description.clone()),
            endpoint_url: record.map(|r| r.endpoint_url.clone()),
            enabled: self.enabled(),
            headers: record.map(|r| {
                r.headers
                    .iter()
                    .map(|h| ActionHeader {
                        name: h.name.clone(),
                        value: (!h.secret).then(|| h.value.clone()),
                        secret: h.secret,
                    })
                    .collect()
            }),
            inputs: record.map(|r| r.inputs.clone()).unwrap_or_default(),
            confirm: record.and_then(|r| r.confirm.clone()),
            available_when: record.and_then(|r| r.available_when.clone()),
            body_template: record.and_then(|r| r.body_template.clone()),
            accept_reply: record.is_some_and(|r| r.accept_reply),
            signing_secret: None,
            revision: self.row.revision(),
            config_health: health,
            config_problem,
            health: EndpointHealth::default(),
            created_at: format_rfc3339(self.row.created_at),
            updated_at: format_rfc3339(
                self.row
                    .updated_at
                    .or(record.map(|r| r.updated_at))
                    .unwrap_or(self.row.created_at),
            ),
        }
    }

    /// The button an incident shows.
    pub fn summary(&self, keyring: &Keyring) -> ActionSummary {
        ActionSummary {
            id: self.row.action_id.clone(),
            name: self.name(),
            description: self.record().and_then(|r| r.description.clone()),
            config_health: self.health(keyring).0,
            health: EndpointHealth::default(),
            inputs: self.record().map(|r| r.inputs.clone()).unwrap_or_default(),
            confirm: self.record().and_then(|r| r.confirm.clone()),
        }
    }

    /// Whether the action applies to an incident in `status` with `urgency`. An action
    /// whose rule cannot be read is shown: its health says why it cannot run.
    pub fn available_for(&self, status: IncidentStatus, urgency: Urgency) -> bool {
        self.record()
            .and_then(|r| r.available_when.as_ref())
            .is_none_or(|rule| rule.allows(status, urgency).is_ok())
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Parses a stored record; what is wrong with it otherwise.
pub fn parse_record(text: &str, row: &ActionRow) -> Config {
    match serde_json::from_str::<ActionRecord>(text) {
        Ok(record) if record.id == row.action_id && record.service_id == row.service_id => {
            Config::Readable(Box::new(record))
        }
        Ok(_) => Config::Unreadable(
            "Its stored configuration belongs to another action; delete it and create it again"
                .to_owned(),
        ),
        Err(_) => Config::Unreadable(
            "Its stored configuration is damaged; delete it and create it again".to_owned(),
        ),
    }
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

/// The rows with their configurations, read in parallel.
pub async fn views(kv: &Kv, rows: Vec<ActionRow>) -> Vec<ActionView> {
    let configs = join_all(rows.iter().map(|row| read_config(kv, row))).await;
    rows.into_iter()
        .zip(configs)
        .map(|(row, config)| ActionView { row, config })
        .collect()
}

/// One action of a service, if it exists.
pub async fn view(
    db: &Db,
    kv: &Kv,
    service_id: &str,
    action_id: &str,
) -> ApiResult<Option<ActionView>> {
    let row: Option<ActionRow> = row_of(db, action_id)?.first(None).await?;
    let Some(row) = row.filter(|row| row.service_id == service_id) else {
        return Ok(None);
    };
    Ok(Some(view_of_row(kv, row).await))
}

/// An action whose row was read already (in a caller's batch), with its configuration.
pub async fn view_of_row(kv: &Kv, row: ActionRow) -> ActionView {
    let config = read_config(kv, &row).await;
    ActionView { row, config }
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

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

/// Why a slot could not be claimed or renamed.
#[derive(Debug, PartialEq, Eq)]
pub enum SlotRefusal {
    /// The service already has three actions.
    LimitReached,
    /// Another action of the service has this name.
    NameTaken,
}

impl From<SlotRefusal> for ApiError {
    fn from(refusal: SlotRefusal) -> Self {
        match refusal {
            SlotRefusal::LimitReached => Self::Refused(
                ErrorCode::ActionLimit,
                format!(
                    "A service can have at most {MAX_ACTIONS_PER_SERVICE} custom incident actions; \
                     delete one before adding another"
                ),
            ),
            SlotRefusal::NameTaken => Self::Refused(
                ErrorCode::NameTaken,
                "Another action of this service already has this name".to_owned(),
            ),
        }
    }
}

/// The unique form of a name: names are unique per service after NFKC normalization and
/// case folding (`shared::validation::name_key`).
pub fn name_key(name: &str) -> String {
    shared::validation::name_key(name)
}

/// Adds the index row of a new action pointing at `key`, with its audit record, unless
/// the service is full or the name is taken: one conditional statement, which D1 runs
/// alone, so five concurrent creates leave exactly three actions.
pub async fn insert(
    db: &Db,
    record: &ActionRecord,
    key: &str,
    audit: &Change<'_>,
) -> ApiResult<Result<(), SlotRefusal>> {
    let limit = MAX_ACTIONS_PER_SERVICE as i64;
    let name_key = name_key(&record.name);
    let revision = record.revision as i64;
    let insert = statement(
        db,
        "INSERT INTO action_slots (action_id, service_id, name_key, created_at, revision, \
             config_key, name, enabled, updated_at) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?4 \
         WHERE (SELECT COUNT(*) FROM action_slots WHERE service_id = ?2) < ?9 \
           AND NOT EXISTS (SELECT 1 FROM action_slots WHERE service_id = ?2 AND name_key = ?3)",
        &[
            (&record.id).into(),
            (&record.service_id).into(),
            (&name_key).into(),
            record.created_at.into(),
            revision.into(),
            key.into(),
            (&record.name).into(),
            i64::from(record.enabled).into(),
            limit.into(),
        ],
    )?;
    let audit = audit_if_pointing_at(db, audit, key)?;
    let mut batch = Batch::new("action insert");
    let inserted = batch.write(insert);
    batch.write(audit);
    if batch.send(db).await?.changes(inserted)? == 1 {
        return Ok(Ok(()));
    }
    // Nothing inserted: say why. The name check comes first because renaming is the fix
    // the user can make even when the service is full.
    #[derive(Deserialize)]
    struct Counts {
        total: i64,
        same_name: i64,
    }
    let counts: Option<Counts> = statement(
        db,
        "SELECT COUNT(*) AS total, COALESCE(SUM(name_key = ?2), 0) AS same_name \
         FROM action_slots WHERE service_id = ?1",
        &[(&record.service_id).into(), (&name_key).into()],
    )?
    .first(None)
    .await?;
    Ok(Err(match counts {
        Some(counts) if counts.same_name > 0 => SlotRefusal::NameTaken,
        Some(counts) if counts.total >= limit => SlotRefusal::LimitReached,
        // The conflicting slot went away between the two statements; calling it a name
        // clash is the accurate past tense, and a retry will succeed.
        _ => SlotRefusal::NameTaken,
    }))
}

/// The audit record of a change that made a row point at `key`, written only if it did
/// (each write has a key of its own, so this is exactly "the change landed").
fn audit_if_pointing_at(db: &Db, audit: &Change<'_>, key: &str) -> ApiResult<Statement> {
    audit::insert_when(
        db,
        audit,
        "EXISTS (SELECT 1 FROM action_slots WHERE config_key = ?11)",
        &[key.into()],
    )
}

/// What [`advance`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advance {
    /// The row now points at the new revision.
    Done,
    /// The action no longer exists.
    Gone,
    /// Another edit moved the action past the revision read.
    Moved,
    /// Another action of the service has the new name.
    NameTaken,
}

/// Moves the row from `from_revision` to `record` (stored under `key`), with its audit
/// record, in one batch: the compare-and-swap every edit and rotation goes through.
pub async fn advance(
    db: &Db,
    record: &ActionRecord,
    key: &str,
    from_revision: u64,
    audit: &Change<'_>,
) -> ApiResult<Advance> {
    let name_key = name_key(&record.name);
    let update = statement(
        db,
        "UPDATE action_slots SET revision = ?3, config_key = ?4, name = ?5, name_key = ?6, \
             enabled = ?7, updated_at = ?8 \
         WHERE action_id = ?1 AND service_id = ?2 AND revision = ?9 \
           AND NOT EXISTS (SELECT 1 FROM action_slots \
                           WHERE service_id = ?2 AND name_key = ?6 AND action_id != ?1)",
        &[
            (&record.id).into(),
            (&record.service_id).into(),
            (record.revision as i64).into(),
            key.into(),
            (&record.name).into(),
            (&name_key).into(),
            i64::from(record.enabled).into(),
            record.updated_at.into(),
            (from_revision as i64).into(),
        ],
    )?;
    let audit = audit_if_pointing_at(db, audit, key)?;
    #[derive(Deserialize)]
    struct Now {
        revision: i64,
        advanced: Option<i64>,
    }
    let mut batch = Batch::new("advance action");
    batch.write(update);
    batch.write(audit);
    let now = batch.read::<Now>(statement(
        db,
        "SELECT revision, config_key = ?2 AS advanced FROM action_slots WHERE action_id = ?1",
        &[(&record.id).into(), key.into()],
    )?);
    let now = batch.send(db).await?.first(&now)?;
    Ok(match now {
        None => Advance::Gone,
        Some(now) if now.advanced == Some(1) => Advance::Done,
        Some(now) if now.revision != from_revision as i64 => Advance::Moved,
        Some(_) => Advance::NameTaken,
    })
}

/// Deletes the row, and with it the action, with its audit record. From this statement
/// on, the action is neither listed nor run. Returns whether it existed.
pub async fn remove(
    db: &Db,
    service_id: &str,
    action_id: &str,
    audit: &Change<'_>,
) -> ApiResult<bool> {
    // The record goes first, on the condition that the row is there: the batch is one
    // transaction, so the delete that follows is certain to remove it.
    let audit = audit::insert_when(
        db,
        audit,
        "EXISTS (SELECT 1 FROM action_slots WHERE action_id = ?11 AND service_id = ?12)",
        &[action_id.into(), service_id.into()],
    )?;
    let delete = statement(
        db,
        "DELETE FROM action_slots WHERE action_id = ?1 AND service_id = ?2",
        &[action_id.into(), service_id.into()],
    )?;
    let mut batch = Batch::new("action delete");
    batch.write(audit);
    let deleted = batch.write(delete);
    Ok(batch.send(db).await?.changes(deleted)? == 1)
}

// ---------------------------------------------------------------------------------------
// The scheduled sweep
// ---------------------------------------------------------------------------------------

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
    use base64::Engine;
    use shared::action::{validate_action, ActionFields};
    use shared::api::HeaderInput;
    use shared::endpoint::EndpointPolicy;

    use super::*;

    fn keyring(byte: u8) -> Keyring {
        Keyring::new(
            &base64::engine::general_purpose::STANDARD.encode([byte; 32]),
            "",
        )
        .unwrap()
    }

    fn valid(headers: &[HeaderInput]) -> ValidAction {
        let fields = ActionFields {
            name: "Restart",
            description: None,
            endpoint_url: "https://e.com/hook",
            headers,
            inputs: &[],
            confirm: None,
            available_when: None,
            body_template: None,
            accept_reply: false,
        };
        validate_action(fields, &EndpointPolicy::default(), true).unwrap()
    }

    fn header(name: &str, value: Option<&str>, secret: bool) -> HeaderInput {
        HeaderInput {
            name: name.into(),
            value: value.map(Into::into),
            secret: Some(secret),
        }
    }

    fn created(ring: &Keyring) -> ActionRecord {
        let headers = [
            header("X-Team", Some("sre"), false),
            header("Authorization", Some("Bearer t0p"), true),
        ];
        ActionRecord::create(
            "act_1".into(),
            "svc_1".into(),
            &valid(&headers),
            true,
            "whsec_abc",
            5,
            ring,
        )
        .unwrap()
    }

    fn row(revision: i64) -> ActionRow {
        ActionRow {
            action_id: "act_1".into(),
            service_id: "svc_1".into(),
            name: Some("Restart".into()),
            enabled: 1,
            revision,
            config_key: Some("action:act_1:r1:abc".into()),
            created_at: 5,
            updated_at: Some(5),
        }
    }

    #[test]
    fn a_stored_record_holds_no_secret_in_clear_and_opens_back() {
        let ring = keyring(7);
        let record = created(&ring);
        let json = serde_json::to_string(&record).unwrap();
        assert!(!json.contains("Bearer t0p"));
        assert!(!json.contains("whsec_abc"));
        assert!(
            json.contains("sre"),
            "non-secret header values stay readable"
        );
        let opened = record.open(&ring).unwrap();
        assert_eq!(opened.signing_secret, "whsec_abc");
        assert_eq!(opened.headers[1].value, "Bearer t0p");
        assert_eq!(opened.secret_values(), ["Bearer t0p", "whsec_abc"]);
    }

    #[test]
    fn an_edit_keeps_a_secret_by_copying_its_sealed_value_and_counts_the_revision_up() {
        let ring = keyring(7);
        let first = created(&ring);
        let kept = [header("authorization", None, true)];
        let second = first.edited(&valid(&kept), false, 9, &ring).unwrap();
        assert_eq!(second.revision, 2);
        assert_eq!(
            second.headers[0].value, first.headers[1].value,
            "copied, not re-sealed"
        );
        assert!(!second.enabled);
        assert_eq!(second.open(&ring).unwrap().headers[0].value, "Bearer t0p");
        let rotated = second.rotated("whsec_new", 10, &ring).unwrap();
        assert_eq!(rotated.revision, 3);
        assert_eq!(rotated.open(&ring).unwrap().signing_secret, "whsec_new");
    }

    #[test]
    fn a_kept_secret_with_no_stored_value_is_a_field_error() {
        let ring = keyring(7);
        let first = created(&ring);
        let error = first
            .edited(&valid(&[header("X-Other", None, true)]), true, 9, &ring)
            .unwrap_err();
        assert!(
            matches!(error, ApiError::Validation(fields) if fields[0].field == "headers[0].value")
        );
    }

    #[test]
    fn a_record_sealed_under_a_key_no_longer_configured_is_unreadable_without_opening_it() {
        let record = created(&keyring(7));
        let view = ActionView {
            row: row(1),
            config: Config::Readable(Box::new(record)),
        };
        assert_eq!(view.health(&keyring(7)), (ConfigHealth::Ok, None));
        let (health, problem) = view.health(&keyring(8));
        assert_eq!(health, ConfigHealth::Unreadable);
        let problem = problem.unwrap();
        assert!(
            problem.contains("header Authorization") && problem.contains("signing secret"),
            "{problem}"
        );
        // The wire shape still lists it, with what is readable.
        let wire = view.to_wire(&keyring(8));
        assert_eq!(wire.config_health, ConfigHealth::Unreadable);
        assert_eq!(wire.endpoint_url.as_deref(), Some("https://e.com/hook"));
        assert_eq!(wire.revision, 1);
    }

    #[test]
    fn a_damaged_record_is_unreadable_and_still_listed_by_its_row() {
        let view = ActionView {
            row: row(3),
            config: parse_record("{not json", &row(3)),
        };
        let wire = view.to_wire(&keyring(7));
        assert_eq!(wire.config_health, ConfigHealth::Unreadable);
        assert!(wire.config_problem.unwrap().contains("damaged"));
        assert_eq!(
            (wire.name.as_str(), wire.revision, wire.endpoint_url),
            ("Restart", 3, None)
        );
    }

    #[test]
    fn a_record_of_another_action_is_not_taken_for_this_one() {
        let mut other = created(&keyring(7));
        other.id = "act_2".into();
        let config = parse_record(&serde_json::to_string(&other).unwrap(), &row(1));
        assert!(matches!(config, Config::Unreadable(_)));
    }

    #[test]
    fn a_record_from_before_revisions_still_reads_and_its_own_name_and_state_stand() {
        let legacy = r#"{"id":"act_1","service_id":"svc_1","name":"Old","description":null,
            "endpoint_url":"https://e.com","enabled":false,"headers":[],
            "signing_secret":"v1.x.y.z","created_at":1,"updated_at":2}"#;
        let mut legacy_row = row(0);
        legacy_row.name = None;
        legacy_row.config_key = None;
        let view = ActionView {
            config: parse_record(legacy, &legacy_row),
            row: legacy_row,
        };
        let Config::Readable(record) = &view.config else {
            panic!("unreadable")
        };
        assert_eq!((record.format, record.revision), (1, 0));
        assert_eq!(view.name(), "Old");
        assert!(!view.enabled());
        assert_eq!(view.row.config_key(), "action:act_1");
    }

    #[test]
    fn a_field_added_later_does_not_make_a_record_unreadable() {
        let mut json = serde_json::to_value(created(&keyring(7))).unwrap();
        json["added_in_a_later_format"] = serde_json::json!({"x": 1});
        assert!(serde_json::from_value::<ActionRecord>(json).is_ok());
    }

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

    #[test]
    fn the_limit_message_says_three_per_service() {
        let (status, body) = ApiError::from(SlotRefusal::LimitReached).body();
        assert_eq!(status, 409);
        assert_eq!(body.error.code, ErrorCode::ActionLimit);
        assert!(body.error.message.contains("at most 3"));
    }
}
