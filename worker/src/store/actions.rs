//! Custom incident actions: configuration in KV (`action:{id}` → JSON), indexed by
//! D1's `action_slots`.
//!
//! In KV the signing secret and secret header values are sealed (`sealed.rs`); `get` and
//! `put` open and seal them, so everything above this module sees plaintext and nothing
//! below it does.
//!
//! KV has no transactions, so the two rules that span actions ("at most three per
//! service", "names unique per service") are enforced by single conditional statements
//! on `action_slots`, which D1 runs one at a time. A slot is claimed before the KV write
//! and released if that write fails, so a limit can never be overshot by a race.

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};
use shared::api::{Action, ActionHeader};
use shared::limits::MAX_ACTIONS_PER_SERVICE;
use shared::time::format_rfc3339;
use worker::{D1Database, KvStore};

use super::sql::{changes, statement};
use crate::error::{ApiError, ApiResult};
use crate::sealed::{Keyring, SealContext};

/// A custom header as stored: the value is kept even when secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredHeader {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: String,
    /// Whether the API hides the value.
    pub secret: bool,
}

/// An action's configuration, secrets in plaintext (sealed only inside KV). Never
/// serialized to a client: the API shape comes from [`StoredAction::to_wire`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAction {
    /// Identifier.
    pub id: String,
    /// Owning service.
    pub service_id: String,
    /// Button label.
    pub name: String,
    /// Help text.
    pub description: Option<String>,
    /// Endpoint.
    pub endpoint_url: String,
    /// Shown on incidents.
    pub enabled: bool,
    /// Custom headers.
    pub headers: Vec<StoredHeader>,
    /// `whsec_…`.
    pub signing_secret: String,
    /// Created (ms).
    pub created_at: i64,
    /// Last changed (ms).
    pub updated_at: i64,
}

impl StoredAction {
    /// The API shape: secret header values hidden; the signing secret only when
    /// `reveal_signing_secret` (the answer to create and rotate).
    pub fn to_wire(&self, reveal_signing_secret: bool) -> Action {
        Action {
            id: self.id.clone(),
            service_id: self.service_id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            endpoint_url: Some(self.endpoint_url.clone()),
            enabled: self.enabled,
            headers: Some(
                self.headers
                    .iter()
                    .map(|h| ActionHeader {
                        name: h.name.clone(),
                        value: (!h.secret).then(|| h.value.clone()),
                        secret: h.secret,
                    })
                    .collect(),
            ),
            signing_secret: reveal_signing_secret.then(|| self.signing_secret.clone()),
            created_at: format_rfc3339(self.created_at),
            updated_at: format_rfc3339(self.updated_at),
        }
    }
}

/// The KV key of an action's configuration.
pub fn config_key(action_id: &str) -> String {
    format!("action:{action_id}")
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
            SlotRefusal::LimitReached => Self::Conflict(
                "action_limit",
                format!(
                    "A service can have at most {MAX_ACTIONS_PER_SERVICE} custom incident actions; \
                     delete one before adding another"
                ),
            ),
            SlotRefusal::NameTaken => Self::Conflict(
                "name_taken",
                "Another action of this service already has this name".to_owned(),
            ),
        }
    }
}

/// Claims one of the service's three slots under `name_key`, atomically.
pub async fn claim_slot(
    db: &D1Database,
    service_id: &str,
    action_id: &str,
    name_key: &str,
    now_ms: i64,
) -> ApiResult<Result<(), SlotRefusal>> {
    let limit = MAX_ACTIONS_PER_SERVICE as i64;
    let result = statement(
        db,
        "INSERT INTO action_slots (action_id, service_id, name_key, created_at) \
         SELECT ?1, ?2, ?3, ?4 \
         WHERE (SELECT COUNT(*) FROM action_slots WHERE service_id = ?2) < ?5 \
           AND NOT EXISTS (SELECT 1 FROM action_slots WHERE service_id = ?2 AND name_key = ?3)",
        &[
            action_id.into(),
            service_id.into(),
            name_key.into(),
            now_ms.into(),
            limit.into(),
        ],
    )?
    .run()
    .await?;
    if changes(&result) == 1 {
        return Ok(Ok(()));
    }
    // Nothing inserted: say why. The name check comes first because renaming is the
    // fix the user can make even when the service is full.
    #[derive(Deserialize)]
    struct Counts {
        total: i64,
        same_name: i64,
    }
    let counts: Option<Counts> = statement(
        db,
        "SELECT COUNT(*) AS total, COALESCE(SUM(name_key = ?2), 0) AS same_name \
         FROM action_slots WHERE service_id = ?1",
        &[service_id.into(), name_key.into()],
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

/// Renames a slot unless another action of the service has the name.
pub async fn rename_slot(
    db: &D1Database,
    service_id: &str,
    action_id: &str,
    name_key: &str,
) -> ApiResult<Result<(), SlotRefusal>> {
    let result = statement(
        db,
        "UPDATE action_slots SET name_key = ?3 WHERE action_id = ?2 AND service_id = ?1 \
         AND NOT EXISTS (SELECT 1 FROM action_slots \
                         WHERE service_id = ?1 AND name_key = ?3 AND action_id != ?2)",
        &[service_id.into(), action_id.into(), name_key.into()],
    )?
    .run()
    .await?;
    Ok(if changes(&result) == 1 {
        Ok(())
    } else {
        Err(SlotRefusal::NameTaken)
    })
}

/// Frees a slot; returns whether it existed.
pub async fn release_slot(db: &D1Database, service_id: &str, action_id: &str) -> ApiResult<bool> {
    let result = statement(
        db,
        "DELETE FROM action_slots WHERE action_id = ?1 AND service_id = ?2",
        &[action_id.into(), service_id.into()],
    )?
    .run()
    .await?;
    Ok(changes(&result) == 1)
}

/// The service's actions in creation order.
pub async fn list_for_service(
    db: &D1Database,
    kv: &KvStore,
    keyring: &Keyring,
    service_id: &str,
) -> ApiResult<Vec<StoredAction>> {
    #[derive(Deserialize)]
    struct Slot {
        action_id: String,
    }
    let slots: Vec<Slot> = statement(
        db,
        "SELECT action_id FROM action_slots WHERE service_id = ?1 ORDER BY created_at, action_id",
        &[service_id.into()],
    )?
    .all()
    .await?
    .results()?;
    let configs = join_all(slots.iter().map(|slot| get(kv, keyring, &slot.action_id))).await;
    let mut actions = Vec::with_capacity(configs.len());
    for config in configs {
        // A slot without configuration is a create still in flight, or one whose KV write
        // failed and is being rolled back: not an action yet.
        if let Some(action) = config? {
            actions.push(action);
        }
    }
    Ok(actions)
}

/// One action's configuration.
pub async fn get(
    kv: &KvStore,
    keyring: &Keyring,
    action_id: &str,
) -> ApiResult<Option<StoredAction>> {
    let record = kv
        .get(&config_key(action_id))
        .json::<StoredAction>()
        .await
        .map_err(|e| ApiError::Internal(format!("KV get action: {e}")))?;
    record
        .map(|sealed| open_secrets(sealed, keyring))
        .transpose()
}

/// The action, if it exists and belongs to `service_id`.
pub async fn get_in_service(
    kv: &KvStore,
    keyring: &Keyring,
    service_id: &str,
    action_id: &str,
) -> ApiResult<Option<StoredAction>> {
    Ok(get(kv, keyring, action_id)
        .await?
        .filter(|action| action.service_id == service_id))
}

/// Writes an action's configuration.
pub async fn put(kv: &KvStore, keyring: &Keyring, action: &StoredAction) -> ApiResult<()> {
    let json = serde_json::to_string(&seal_secrets(action, keyring)?)?;
    kv.put(&config_key(&action.id), json)
        .map_err(|e| ApiError::Internal(format!("KV put action: {e}")))?
        .execute()
        .await
        .map_err(|e| ApiError::Internal(format!("KV put action: {e}")))
}

/// The field a secret is bound to: the signing secret, or a header by lower-case name
/// (header names are case-insensitive, and renaming a header re-seals its value).
fn header_field(name: &str) -> String {
    format!("header:{}", name.to_ascii_lowercase())
}

/// The KV form of an action: the signing secret and secret header values sealed.
fn seal_secrets(action: &StoredAction, keyring: &Keyring) -> ApiResult<StoredAction> {
    let seal = |value: &str, field: &str| {
        let context = SealContext {
            service_id: &action.service_id,
            action_id: &action.id,
            field,
        };
        keyring
            .seal(value, context)
            .map_err(|e| ApiError::Internal(format!("sealing action {}: {e}", action.id)))
    };
    let mut sealed = action.clone();
    sealed.signing_secret = seal(&action.signing_secret, "signing_secret")?;
    for header in sealed.headers.iter_mut().filter(|h| h.secret) {
        header.value = seal(&header.value, &header_field(&header.name))?;
    }
    Ok(sealed)
}

/// The inverse of [`seal_secrets`].
fn open_secrets(mut action: StoredAction, keyring: &Keyring) -> ApiResult<StoredAction> {
    let action_id = action.id.clone();
    let service_id = action.service_id.clone();
    let open = |value: &str, field: &str| {
        let context = SealContext {
            service_id: &service_id,
            action_id: &action_id,
            field,
        };
        keyring
            .open(value, context)
            .map_err(|e| ApiError::Internal(format!("opening action {action_id}: {e}")))
    };
    action.signing_secret = open(&action.signing_secret, "signing_secret")?;
    for header in action.headers.iter_mut().filter(|h| h.secret) {
        header.value = open(&header.value, &header_field(&header.name))?;
    }
    Ok(action)
}

/// Deletes an action's configuration.
pub async fn delete_config(kv: &KvStore, action_id: &str) -> ApiResult<()> {
    kv.delete(&config_key(action_id))
        .await
        .map_err(|e| ApiError::Internal(format!("KV delete action: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> StoredAction {
        StoredAction {
            id: "act_1".into(),
            service_id: "svc_1".into(),
            name: "Restart".into(),
            description: None,
            endpoint_url: "https://e.com".into(),
            enabled: true,
            headers: vec![
                StoredHeader {
                    name: "X-Team".into(),
                    value: "sre".into(),
                    secret: false,
                },
                StoredHeader {
                    name: "Authorization".into(),
                    value: "Bearer t0p".into(),
                    secret: true,
                },
            ],
            signing_secret: "whsec_abc".into(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn secret_header_values_are_null_in_the_api_shape() {
        let wire = stored().to_wire(false);
        let headers = wire.headers.unwrap();
        assert_eq!(headers[0].value.as_deref(), Some("sre"));
        assert_eq!(headers[1].value, None);
        assert!(headers[1].secret);
    }

    #[test]
    fn the_signing_secret_appears_only_when_revealed() {
        assert_eq!(stored().to_wire(false).signing_secret, None);
        assert_eq!(
            stored().to_wire(true).signing_secret.as_deref(),
            Some("whsec_abc")
        );
    }

    #[test]
    fn in_kv_form_no_secret_is_readable_and_it_opens_back() {
        use base64::Engine;
        let keyring = Keyring::new(
            &base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
            "",
        )
        .unwrap();
        let sealed = seal_secrets(&stored(), &keyring).unwrap();
        let json = serde_json::to_string(&sealed).unwrap();
        assert!(!json.contains("Bearer t0p"));
        assert!(!json.contains("whsec_abc"));
        assert!(
            json.contains("sre"),
            "non-secret header values stay readable"
        );
        assert_eq!(open_secrets(sealed, &keyring).unwrap(), stored());
    }

    #[test]
    fn config_keys_are_namespaced() {
        assert_eq!(config_key("act_1"), "action:act_1");
    }

    #[test]
    fn the_limit_message_says_three_per_service() {
        let (status, body) = ApiError::from(SlotRefusal::LimitReached).body();
        assert_eq!(status, 409);
        assert_eq!(body.error.code, "action_limit");
        assert!(body.error.message.contains("at most 3"));
    }
}
