//! How an action runs: everything a manager sets on an action besides its name,
//! description, endpoint and headers (what a run asks first, when the action applies,
//! what it sends and how the answer is taken).
//!
//! [`RunSettings`] is declared once and flattened into every shape that carries it: the
//! create request, the wire `Action`, the stored specification (`super::spec`). Its PATCH
//! twin [`RunSettingsPatch`] sits beside it, with the merge. Adding a setting is a field
//! here, its line in the patch and the merge, its check in [`RunSettings::checked`], and
//! whatever uses it.

use serde::{Deserialize, Deserializer, Serialize};

use crate::inputs::{validate_definitions, InputDefinition};
use crate::limits::{MAX_ACTION_TIMEOUT_MS, MAX_BODY_TEMPLATE_CHARS, MIN_ACTION_TIMEOUT_MS};
use crate::run_rules::{AvailableWhen, Confirm};
use crate::{FieldError, ValidationError};

/// How an action runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunSettings {
    /// What a run asks the clicker for, in order, at most 8.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub inputs: Vec<InputDefinition>,
    /// The confirmation asked before each run, if any.
    #[serde(default)]
    pub confirm: Option<Confirm>,
    /// The incidents the action applies to (`null`: all).
    #[serde(default)]
    pub available_when: Option<AvailableWhen>,
    /// A minijinja template for the request body (`null` or blank: the default payload);
    /// left out, like `endpoint_url`, for roles below `manager`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_template: Option<String>,
    /// Whether the endpoint's 2xx JSON answer may write back a note, links and a summary
    /// (`shared::reply`); off by default.
    #[serde(default)]
    pub accept_reply: bool,
    /// How long a run waits for the endpoint's answer, in milliseconds: 1000 to 16000,
    /// 16000 by default. Past it the run fails as a timeout and says so.
    #[serde(default = "longest_timeout", deserialize_with = "null_as_longest")]
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 1000, maximum = 16000, default = 16000)
    )]
    pub timeout_ms: u32,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            inputs: Vec::new(),
            confirm: None,
            available_when: None,
            body_template: None,
            accept_reply: false,
            timeout_ms: MAX_ACTION_TIMEOUT_MS,
        }
    }
}

fn longest_timeout() -> u32 {
    MAX_ACTION_TIMEOUT_MS
}

/// A deadline sent as `null` is the longest, as one left out is.
fn null_as_longest<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    Option::<u32>::deserialize(deserializer).map(|sent| sent.unwrap_or(MAX_ACTION_TIMEOUT_MS))
}

/// A list that may be sent as `null`, read as empty.
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<Vec<T>>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// A field of a PATCH that can be left out (unchanged), `null` (cleared) or set.
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl RunSettings {
    /// The settings as they are kept, and every problem with them, keyed by field path:
    /// a blank template is none.
    pub fn checked(&self, errors: &mut Vec<FieldError>) -> Self {
        errors.extend(validate_definitions(&self.inputs));
        errors.extend(
            self.confirm
                .as_ref()
                .and_then(|confirm| confirm.validate().err()),
        );
        errors.extend(
            self.available_when
                .as_ref()
                .map(AvailableWhen::validate)
                .unwrap_or_default(),
        );
        let body_template = check_body_template(self.body_template.as_deref())
            .map_err(|e| errors.push(FieldError::new("body_template", &e)))
            .ok()
            .flatten();
        if !(MIN_ACTION_TIMEOUT_MS..=MAX_ACTION_TIMEOUT_MS).contains(&self.timeout_ms) {
            errors.push(FieldError::new(
                "timeout_ms",
                &ValidationError::Invalid(format!(
                    "The deadline must be {} to {} seconds ({MIN_ACTION_TIMEOUT_MS} to \
                     {MAX_ACTION_TIMEOUT_MS} ms)",
                    MIN_ACTION_TIMEOUT_MS / 1000,
                    MAX_ACTION_TIMEOUT_MS / 1000
                )),
            ));
        }
        Self {
            body_template,
            ..self.clone()
        }
    }
}

/// A body template's size (at most 16 KiB characters); blank means no template. Whether
/// it compiles and renders is the worker's check, which has the engine.
pub fn check_body_template(raw: Option<&str>) -> Result<Option<String>, ValidationError> {
    match raw {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) if text.chars().count() > MAX_BODY_TEMPLATE_CHARS => {
            Err(ValidationError::TooLong {
                what: "Body template",
                max: MAX_BODY_TEMPLATE_CHARS,
                unit: "characters",
            })
        }
        Some(text) => Ok(Some(text.to_owned())),
    }
}

/// The settings a PATCH changes: each field left out stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunSettingsPatch {
    /// New input list (replaces the whole list).
    #[serde(default)]
    pub inputs: Option<Vec<InputDefinition>>,
    /// New confirmation; `null` removes it.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub confirm: Option<Option<Confirm>>,
    /// New availability rule; `null` removes it.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub available_when: Option<Option<AvailableWhen>>,
    /// New body template; `null` (or blank) returns to the default payload.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub body_template: Option<Option<String>>,
    /// Turns the reply contract on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_reply: Option<bool>,
    /// A new deadline, in milliseconds (1000 to 16000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1000, maximum = 16000))]
    pub timeout_ms: Option<u32>,
}

impl RunSettingsPatch {
    /// Every setting sent, each one sent replacing the current one.
    pub fn all(settings: RunSettings) -> Self {
        Self {
            inputs: Some(settings.inputs),
            confirm: Some(settings.confirm),
            available_when: Some(settings.available_when),
            body_template: Some(settings.body_template),
            accept_reply: Some(settings.accept_reply),
            timeout_ms: Some(settings.timeout_ms),
        }
    }

    /// `current` with what this patch sends.
    pub fn applied_to(&self, current: &RunSettings) -> RunSettings {
        fn or<T: Clone>(sent: &Option<T>, current: &T) -> T {
            sent.as_ref().unwrap_or(current).clone()
        }
        RunSettings {
            inputs: or(&self.inputs, &current.inputs),
            confirm: or(&self.confirm, &current.confirm),
            available_when: or(&self.available_when, &current.available_when),
            body_template: or(&self.body_template, &current.body_template),
            accept_reply: or(&self.accept_reply, &current.accept_reply),
            timeout_ms: or(&self.timeout_ms, &current.timeout_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_of_1000_to_16000_ms_is_accepted_and_one_past_either_end_is_not() {
        let problems = |timeout_ms| {
            let mut errors = Vec::new();
            RunSettings {
                timeout_ms,
                ..RunSettings::default()
            }
            .checked(&mut errors);
            errors
        };
        assert!(problems(MIN_ACTION_TIMEOUT_MS).is_empty());
        assert!(problems(MAX_ACTION_TIMEOUT_MS).is_empty());
        for outside in [MIN_ACTION_TIMEOUT_MS - 1, MAX_ACTION_TIMEOUT_MS + 1, 0] {
            let refused = problems(outside);
            assert_eq!(refused.len(), 1, "{outside}");
            assert_eq!(refused[0].field, "timeout_ms");
            assert_eq!(
                refused[0].message,
                "The deadline must be 1 to 16 seconds (1000 to 16000 ms)"
            );
        }
    }

    #[test]
    fn a_deadline_left_out_is_the_longest() {
        let settings: RunSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(settings.timeout_ms, MAX_ACTION_TIMEOUT_MS);
        let sent_null: RunSettings = serde_json::from_str(r#"{"timeout_ms": null}"#).unwrap();
        assert_eq!(
            sent_null.timeout_ms, MAX_ACTION_TIMEOUT_MS,
            "null as left out"
        );
        assert_eq!(RunSettings::default().timeout_ms, 16_000);
    }

    #[test]
    fn inputs_sent_as_null_read_as_none() {
        let settings: RunSettings = serde_json::from_str(r#"{"inputs": null}"#).unwrap();
        assert!(settings.inputs.is_empty());
    }

    #[test]
    fn a_patch_changes_what_it_sends_and_a_null_clears() {
        let current = RunSettings {
            confirm: Some(Confirm {
                message: "Sure?".into(),
                type_to_confirm: false,
            }),
            body_template: Some("{}".into()),
            accept_reply: true,
            ..RunSettings::default()
        };
        let patch: RunSettingsPatch =
            serde_json::from_str(r#"{"confirm": null, "accept_reply": false}"#).unwrap();
        let applied = patch.applied_to(&current);
        assert_eq!(applied.confirm, None);
        assert!(!applied.accept_reply);
        assert_eq!(
            applied.body_template.as_deref(),
            Some("{}"),
            "left out: kept"
        );
        assert_eq!(
            RunSettingsPatch::all(current.clone()).applied_to(&RunSettings::default()),
            current
        );
    }
}
