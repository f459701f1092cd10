//! Templated requests: what a body template and a templated header value can use.
//!
//! The worker renders templates with minijinja (Jinja2 syntax); this module holds what
//! both sides need to agree on without the engine itself, which stays out of the
//! browser's bundle: which header values are templates, the variables a template sees
//! (the editor lists them, the worker builds exactly these), and sample input values for
//! renders that have no clicker (the check on save, the form's preview).

use serde_json::{Map, Value};

use crate::inputs::{InputDefinition, InputType};

/// Whether a value is rendered as a template. Anything without Jinja markup is sent as
/// written, so plain header values are never touched by the engine.
pub fn is_template(value: &str) -> bool {
    value.contains("{{") || value.contains("{%") || value.contains("{#")
}

/// A variable a template can use, as the editor offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateVariable {
    /// What to insert, e.g. `incident.title`.
    pub path: &'static str,
    /// What it holds.
    pub meaning: &'static str,
}

/// The variables every template sees, besides `inputs.<key>` and `secrets["<header>"]`,
/// which depend on the action.
pub const TEMPLATE_VARIABLES: &[TemplateVariable] = &[
    TemplateVariable {
        path: "incident.id",
        meaning: "The incident's id",
    },
    TemplateVariable {
        path: "incident.number",
        meaning: "Its number",
    },
    TemplateVariable {
        path: "incident.title",
        meaning: "Its title",
    },
    TemplateVariable {
        path: "incident.status",
        meaning: "triggered, acknowledged or resolved",
    },
    TemplateVariable {
        path: "incident.urgency",
        meaning: "high or low",
    },
    TemplateVariable {
        path: "incident.severity",
        meaning: "critical, error, warning or info",
    },
    TemplateVariable {
        path: "incident.source",
        meaning: "The event's source (a host name, say)",
    },
    TemplateVariable {
        path: "incident.custom_details",
        meaning: "The event's custom_details object",
    },
    TemplateVariable {
        path: "incident.service.name",
        meaning: "The service's name",
    },
    TemplateVariable {
        path: "action.name",
        meaning: "This action's name",
    },
    TemplateVariable {
        path: "agent.name",
        meaning: "Who pressed the button",
    },
    TemplateVariable {
        path: "agent.email",
        meaning: "Their e-mail, when known",
    },
    TemplateVariable {
        path: "run.id",
        meaning: "The run's id, also sent as webhook-id",
    },
];

/// The insertable expression for one input's value.
pub fn input_variable(key: &str) -> String {
    format!("inputs.{key}")
}

/// The insertable expression for a secret header's value.
pub fn secret_variable(header_name: &str) -> String {
    format!("secrets[{}]", Value::String(header_name.to_owned()))
}

/// Values for every input when nobody filled the form in: its default, else a value of
/// its type (the first option of a `select`, `min` or 0 for a number, `false`, the key
/// for text). Used to check a template on save and for the form's preview.
pub fn sample_inputs(inputs: &[InputDefinition]) -> Map<String, Value> {
    inputs
        .iter()
        .map(|input| {
            let value = input
                .default
                .clone()
                .unwrap_or_else(|| match input.input_type {
                    InputType::String | InputType::Text => Value::String(input.key.clone()),
                    InputType::Number => input
                        .min
                        .and_then(serde_json::Number::from_f64)
                        .map_or(Value::from(0), Value::Number),
                    InputType::Boolean => Value::Bool(false),
                    InputType::Select => input
                        .options
                        .first()
                        .cloned()
                        .map_or(Value::Null, Value::String),
                });
            (input.key.clone(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_values_with_jinja_markup_are_templates() {
        assert!(!is_template("Bearer abc"));
        assert!(!is_template("{ not: jinja }"));
        assert!(is_template("Bearer {{ secrets[\"X-Token\"] }}"));
        assert!(is_template("{% if x %}y{% endif %}"));
        assert!(is_template("{# comment #}"));
    }

    #[test]
    fn a_secret_variable_quotes_the_header_name() {
        assert_eq!(secret_variable("X-Api-Key"), "secrets[\"X-Api-Key\"]");
        assert_eq!(input_variable("region"), "inputs.region");
    }

    #[test]
    fn sample_inputs_use_defaults_then_a_value_of_each_type() {
        let mut region = InputDefinition::new("region", "Region", InputType::Select);
        region.options = vec!["eu".into(), "us".into()];
        let mut count = InputDefinition::new("count", "Count", InputType::Number);
        count.min = Some(2.0);
        let mut reason = InputDefinition::new("reason", "Reason", InputType::Text);
        reason.default = Some(Value::from("because"));
        let dry = InputDefinition::new("dry_run", "Dry run", InputType::Boolean);
        let name = InputDefinition::new("name", "Name", InputType::String);
        let sample = sample_inputs(&[region, count, reason, dry, name]);
        assert_eq!(
            Value::Object(sample),
            serde_json::json!({"region": "eu", "count": 2.0, "reason": "because",
                               "dry_run": false, "name": "name"})
        );
    }
}
