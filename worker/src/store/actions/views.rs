//! An action as a request sees it: its row and its current revision's configuration
//! as read at this location, and the shapes the API answers with.

use futures_util::future::join_all;
use shared::api::{Action, ActionSummary, ConfigHealth, EndpointHealth};
use shared::incident::{IncidentStatus, Urgency};
use shared::time::format_rfc3339;

use super::record::ActionRecord;
use super::revisions::read_config;
use super::slots::{row_of, ActionRow};
use crate::error::ApiResult;
use crate::sealed::Keyring;
use crate::store::kv::Kv;
use crate::store::sql::Db;

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
            .or_else(|| self.record().map(|record| record.spec.name.clone()))
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
        let spec = record.map(ActionRecord::redacted);
        let (health, config_problem) = self.health(keyring);
        Action {
            id: self.row.action_id.clone(),
            service_id: self.row.service_id.clone(),
            name: self.name(),
            description: spec.as_ref().and_then(|s| s.description.clone()),
            endpoint_url: spec.as_ref().map(|s| s.endpoint_url.clone()),
            enabled: self.enabled(),
            headers: spec.as_ref().map(|s| s.wire_headers()),
            settings: spec.map(|s| s.settings).unwrap_or_default(),
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
        let spec = self.record().map(|record| &record.spec);
        ActionSummary {
            id: self.row.action_id.clone(),
            name: self.name(),
            description: spec.and_then(|s| s.description.clone()),
            config_health: self.health(keyring).0,
            health: EndpointHealth::default(),
            inputs: spec.map(|s| s.settings.inputs.clone()).unwrap_or_default(),
            confirm: spec.and_then(|s| s.settings.confirm.clone()),
        }
    }

    /// Whether the action applies to an incident in `status` with `urgency`. An action
    /// whose rule cannot be read is shown: its health says why it cannot run.
    pub fn available_for(&self, status: IncidentStatus, urgency: Urgency) -> bool {
        self.record()
            .and_then(|r| r.spec.settings.available_when.as_ref())
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

#[cfg(test)]
mod tests {
    use shared::api::ConfigHealth;

    use super::*;
    use crate::store::actions::record::tests::{created, keyring};
    use crate::store::actions::revisions::parse_record;

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
    fn a_record_of_a_newer_format_says_so_and_is_never_called_damaged() {
        let mut newer = serde_json::to_value(created(&keyring(7))).unwrap();
        newer["format"] = 4.into();
        let Config::Unreadable(why) = parse_record(&newer.to_string(), &row(1)) else {
            panic!("a newer format is not read as this one")
        };
        assert!(why.contains("newer version"), "{why}");
        newer["spec"] = serde_json::json!("reshaped");
        let Config::Unreadable(why) = parse_record(&newer.to_string(), &row(1)) else {
            panic!("unreadable")
        };
        assert!(why.contains("newer version"), "{why}");
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
}
