//! One revision of an action as Workers KV stores it: its specification with secrets
//! sealed (`shared::action::ActionSpec<Sealed>`), and what the worker adds (identity,
//! revision, the sealed signing secret, times). Only the run path opens it
//! ([`ActionRecord::open`]); listing, reading and editing copy sealed values as they are.

use serde::{Deserialize, Serialize};
use shared::action::{ActionSpec, Header, Opened, Redacted, Sealed, Submitted};
use shared::FieldError;

use crate::domain::OpenedAction;
use crate::error::{ApiError, ApiResult};
use crate::sealed::{Keyring, SealContext, SealError};

/// The format written into every new record: the specification nested as `spec`.
/// Formats 1 (before revisions: no `format`, no `revision`) and 2 held the
/// specification's fields at the top level; they still read ([`ActionRecord::parse`]).
pub const RECORD_FORMAT: u32 = 3;

/// One revision of an action's configuration, secrets sealed. Immutable: an edit makes
/// a new record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// The record format ([`RECORD_FORMAT`]).
    pub format: u32,
    /// This record's revision (0 for records from before revisions).
    pub revision: u64,
    /// Identifier.
    pub id: String,
    /// Owning service.
    pub service_id: String,
    /// Shown on incidents.
    pub enabled: bool,
    /// The sealed `whsec_…`.
    pub signing_secret: String,
    /// Created (ms).
    pub created_at: i64,
    /// This revision written (ms).
    pub updated_at: i64,
    /// What the manager configured, secret header values sealed.
    pub spec: ActionSpec<Sealed>,
}

/// A record of format 1 or 2: the specification's fields at the top level.
#[derive(Deserialize)]
struct FlatRecord {
    #[serde(default)]
    revision: u64,
    id: String,
    service_id: String,
    enabled: bool,
    signing_secret: String,
    created_at: i64,
    updated_at: i64,
    #[serde(flatten)]
    spec: ActionSpec<Sealed>,
}

impl From<FlatRecord> for ActionRecord {
    fn from(flat: FlatRecord) -> Self {
        Self {
            format: RECORD_FORMAT,
            revision: flat.revision,
            id: flat.id,
            service_id: flat.service_id,
            enabled: flat.enabled,
            signing_secret: flat.signing_secret,
            created_at: flat.created_at,
            updated_at: flat.updated_at,
            spec: flat.spec,
        }
    }
}

/// The field a secret is bound to: the signing secret, or a header by lower-case name
/// (header names are case-insensitive, and renaming a header re-seals its value).
fn header_field(name: &str) -> String {
    format!("header:{}", name.to_ascii_lowercase())
}

const SIGNING_SECRET_FIELD: &str = "signing_secret";

impl ActionRecord {
    /// A stored value read back, in any format; `None` when it is damaged.
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str::<Self>(text).ok().or_else(|| {
            serde_json::from_str::<FlatRecord>(text).ok().map(|flat| {
                let mut record = Self::from(flat);
                record.format =
                    serde_json::from_str::<FormatOnly>(text).map_or(1, |only| only.format);
                record
            })
        })
    }

    /// Whether a stored value was written by a newer version of this code (a format
    /// past [`RECORD_FORMAT`]): it is whole, just not readable here, as after a rollback.
    pub fn is_newer_format(text: &str) -> bool {
        serde_json::from_str::<FormatOnly>(text).is_ok_and(|only| only.format > RECORD_FORMAT)
    }

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
        valid: &ActionSpec<Submitted>,
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
            enabled,
            signing_secret: String::new(),
            created_at: now_ms,
            updated_at: now_ms,
            spec: ActionSpec {
                name: String::new(),
                description: None,
                endpoint_url: String::new(),
                headers: Vec::new(),
                settings: shared::action::RunSettings::default(),
            },
        };
        record.signing_secret = record.seal(keyring, SIGNING_SECRET_FIELD, signing_secret)?;
        record.spec = record.sealed(valid, keyring)?;
        Ok(record)
    }

    /// The next revision with `valid`'s specification. A secret header kept
    /// ([`Submitted::KeepStored`]) keeps the sealed value of this record's secret header
    /// of the same name, copied without being opened.
    pub fn edited(
        &self,
        valid: &ActionSpec<Submitted>,
        enabled: bool,
        now_ms: i64,
        keyring: &Keyring,
    ) -> ApiResult<Self> {
        let mut next = self.successor(now_ms);
        next.enabled = enabled;
        next.spec = self.sealed(valid, keyring)?;
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

    /// `valid` as this action stores it: typed secrets sealed, kept ones copied from
    /// this record. Validation only keeps a secret it saw stored; one that is not (the
    /// record changed under the edit) is a field error, not a silent loss.
    fn sealed(
        &self,
        valid: &ActionSpec<Submitted>,
        keyring: &Keyring,
    ) -> ApiResult<ActionSpec<Sealed>> {
        let mut missing = Vec::new();
        let spec = valid.try_map_headers(|header| -> ApiResult<Sealed> {
            Ok(match (&header.value, header.secret) {
                (Submitted::Typed(value), true) => {
                    Sealed(self.seal(keyring, &header_field(&header.name), value)?)
                }
                (Submitted::Typed(value), false) => Sealed(value.clone()),
                (Submitted::KeepStored, _) => match self.stored_secret(&header.name) {
                    Some(stored) => stored.value.clone(),
                    None => {
                        missing.push(header.name.clone());
                        Sealed(String::new())
                    }
                },
            })
        })?;
        if missing.is_empty() {
            return Ok(spec);
        }
        Err(ApiError::Validation(
            valid
                .headers
                .iter()
                .enumerate()
                .filter(|(_, header)| missing.contains(&header.name))
                .map(|(index, _)| FieldError {
                    field: format!("headers[{index}].value"),
                    message: "Header value is required".to_owned(),
                })
                .collect(),
        ))
    }

    fn stored_secret(&self, name: &str) -> Option<&Header<Sealed>> {
        self.spec
            .headers
            .iter()
            .find(|stored| stored.secret && stored.name.eq_ignore_ascii_case(name))
    }

    /// Opens the secrets for sending.
    pub fn open(&self, keyring: &Keyring) -> Result<OpenedAction, SealError> {
        let spec =
            self.spec
                .try_map_headers(|header| -> Result<Opened, SealError> {
                    Ok(Opened(match header.secret {
                        true => keyring
                            .open(&header.value.0, self.context(&header_field(&header.name)))?,
                        false => header.value.0.clone(),
                    }))
                })?;
        Ok(OpenedAction {
            id: self.id.clone(),
            revision: self.revision,
            spec,
            signing_secret: keyring
                .open(&self.signing_secret, self.context(SIGNING_SECRET_FIELD))?,
        })
    }

    /// This revision as the API and previews show it: secret values hidden, nothing
    /// opened.
    pub fn redacted(&self) -> ActionSpec<Redacted> {
        self.spec.redacted()
    }

    /// What about this record cannot be opened with `keyring`, judged from the key each
    /// sealed value names, without opening any: `None` when everything can.
    pub fn sealing_problem(&self, keyring: &Keyring) -> Option<String> {
        let mut unknown: Vec<String> = self
            .spec
            .headers
            .iter()
            .filter(|header| header.secret && !keyring.knows_key_of(&header.value.0))
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
}

/// Only a record's `format` (absent before revisions: 1).
#[derive(Deserialize)]
struct FormatOnly {
    #[serde(default = "first_format")]
    format: u32,
}

fn first_format() -> u32 {
    1
}

#[cfg(test)]
pub(super) mod tests {
    use base64::Engine;
    use shared::action::{validate_action, EditBase, Submission};
    use shared::api::{CreateActionRequest, HeaderInput};
    use shared::endpoint::EndpointPolicy;

    use super::*;

    pub(in crate::store::actions) fn keyring(byte: u8) -> Keyring {
        Keyring::new(
            &base64::engine::general_purpose::STANDARD.encode([byte; 32]),
            "",
        )
        .unwrap()
    }

    fn valid(headers: &[HeaderInput], stored: &[String]) -> ActionSpec<Submitted> {
        let request = CreateActionRequest {
            name: "Restart".into(),
            endpoint_url: "https://e.com/hook".into(),
            headers: Some(headers.to_vec()),
            ..CreateActionRequest::default()
        };
        let base = EditBase {
            endpoint_url: Some("https://e.com/hook"),
            secrets: stored,
        };
        validate_action(&request, &EndpointPolicy::default(), Submission::Edit(base)).unwrap()
    }

    fn header(name: &str, value: Option<&str>, secret: bool) -> HeaderInput {
        HeaderInput {
            name: name.into(),
            value: value.map(Into::into),
            secret: Some(secret),
        }
    }

    pub(in crate::store::actions) fn created(ring: &Keyring) -> ActionRecord {
        let headers = [
            header("X-Team", Some("sre"), false),
            header("Authorization", Some("Bearer t0p"), true),
        ];
        ActionRecord::create(
            "act_1".into(),
            "svc_1".into(),
            &valid(&headers, &[]),
            true,
            "whsec_abc",
            5,
            ring,
        )
        .unwrap()
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
        assert_eq!(opened.spec.headers[1].value, Opened("Bearer t0p".into()));
        assert_eq!(opened.secret_values(), ["Bearer t0p", "whsec_abc"]);
    }

    #[test]
    fn an_edit_keeps_a_secret_by_copying_its_sealed_value_and_counts_the_revision_up() {
        let ring = keyring(7);
        let first = created(&ring);
        let kept = [header("authorization", None, true)];
        let stored = ["Authorization".to_owned()];
        let second = first
            .edited(&valid(&kept, &stored), false, 9, &ring)
            .unwrap();
        assert_eq!(second.revision, 2);
        assert_eq!(
            second.spec.headers[0].value, first.spec.headers[1].value,
            "copied, not re-sealed"
        );
        assert!(!second.enabled);
        assert_eq!(
            second.open(&ring).unwrap().spec.headers[0].value,
            Opened("Bearer t0p".into())
        );
        let rotated = second.rotated("whsec_new", 10, &ring).unwrap();
        assert_eq!(rotated.revision, 3);
        assert_eq!(rotated.open(&ring).unwrap().signing_secret, "whsec_new");
    }

    #[test]
    fn a_kept_secret_with_no_stored_value_is_a_field_error() {
        let ring = keyring(7);
        let first = created(&ring);
        // Validated against a revision that had X-Other; this one does not.
        let stored = ["X-Other".to_owned()];
        let error = first
            .edited(
                &valid(&[header("X-Other", None, true)], &stored),
                true,
                9,
                &ring,
            )
            .unwrap_err();
        assert!(
            matches!(error, ApiError::Validation(fields) if fields[0].field == "headers[0].value")
        );
    }

    #[test]
    fn a_record_is_written_in_format_3_with_its_specification_nested() {
        let json = serde_json::to_value(created(&keyring(7))).unwrap();
        assert_eq!(json["format"], 3);
        assert_eq!(json["spec"]["name"], "Restart");
        assert_eq!(json["spec"]["headers"][0]["value"], "sre");
        assert!(
            json.get("name").is_none(),
            "nothing of the spec at the top level"
        );
    }

    #[test]
    fn a_format_2_record_reads_as_it_was_written() {
        let ring = keyring(7);
        let written = created(&ring);
        // Format 2 as the worker wrote it: the same fields, the specification flat.
        let mut flat = serde_json::to_value(&written).unwrap();
        let spec = flat["spec"].take();
        let object = flat.as_object_mut().unwrap();
        object.remove("spec");
        object.extend(spec.as_object().unwrap().clone());
        object.insert("format".into(), 2.into());
        let read = ActionRecord::parse(&flat.to_string()).unwrap();
        assert_eq!(read.format, 2);
        assert_eq!(read.spec, written.spec);
        assert_eq!(read.open(&ring).unwrap(), written.open(&ring).unwrap());
    }

    #[test]
    fn a_record_from_before_revisions_reads_as_format_1() {
        let legacy = r#"{"id":"act_1","service_id":"svc_1","name":"Old","description":null,
            "endpoint_url":"https://e.com","enabled":false,"headers":[],
            "signing_secret":"v1.x.y.z","created_at":1,"updated_at":2}"#;
        let record = ActionRecord::parse(legacy).unwrap();
        assert_eq!((record.format, record.revision), (1, 0));
        assert_eq!(record.spec.name, "Old");
        assert!(ActionRecord::parse("{not json").is_none());
    }

    #[test]
    fn a_record_of_a_newer_format_is_told_apart_from_a_damaged_one() {
        let mut json = serde_json::to_value(created(&keyring(7))).unwrap();
        json["format"] = (RECORD_FORMAT + 1).into();
        assert!(ActionRecord::is_newer_format(&json.to_string()));
        assert!(!ActionRecord::is_newer_format("{not json"));
        let current = serde_json::to_string(&created(&keyring(7))).unwrap();
        assert!(!ActionRecord::is_newer_format(&current));
    }

    #[test]
    fn a_field_added_later_does_not_make_a_record_unreadable() {
        let mut json = serde_json::to_value(created(&keyring(7))).unwrap();
        json["added_in_a_later_format"] = serde_json::json!({"x": 1});
        json["spec"]["added_too"] = serde_json::json!(true);
        assert!(ActionRecord::parse(&json.to_string()).is_some());
    }
}
