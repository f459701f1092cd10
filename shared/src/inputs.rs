//! Typed inputs: what an action asks the clicker for (a region, a version to roll back
//! to, a reason), and the one check of the values a run brings.
//!
//! Both sides use these functions: the action form validates the definitions before
//! saving, the run dialog validates the values before sending, and the worker checks both
//! again, so the words are the same everywhere.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::limits::{
    MAX_INPUTS_PER_ACTION, MAX_INPUT_HELP_CHARS, MAX_INPUT_KEY_CHARS, MAX_INPUT_LABEL_CHARS,
    MAX_SELECT_OPTIONS, MAX_SELECT_OPTION_CHARS, MAX_STRING_INPUT_CHARS, MAX_TEXT_INPUT_CHARS,
};
use crate::validation::required_name;
use crate::FieldError;

crate::spelled_enum! {
    /// The kind of value an input takes.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum InputType {
        /// One line of text, at most 200 characters.
        String = "string",
        /// Several lines, at most 2000 characters.
        Text = "text",
        /// A JSON number, optionally within `min`/`max`.
        Number = "number",
        /// true or false.
        Boolean = "boolean",
        /// One of `options`.
        Select = "select",
    }
}

/// One input an action asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InputDefinition {
    /// `^[a-z][a-z0-9_]{0,31}$`, unique within the action: the name in `event.inputs`.
    pub key: String,
    /// What the form calls it, 1–60 characters.
    pub label: String,
    /// The kind of value.
    #[serde(rename = "type")]
    pub input_type: InputType,
    /// Whether a run must give it (a default counts).
    #[serde(default)]
    pub required: bool,
    /// Filled in for the clicker; used when a run leaves the input out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// For `select`: 1–20 distinct choices of at most 100 characters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// For `number`: the smallest value allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// For `number`: the largest value allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// A hint shown under the field, at most 200 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl InputDefinition {
    /// An optional input with no default, options, bounds or help: the start of every
    /// input a form adds.
    pub fn new(key: &str, label: &str, input_type: InputType) -> Self {
        Self {
            key: key.to_owned(),
            label: label.to_owned(),
            input_type,
            required: false,
            default: None,
            options: Vec::new(),
            min: None,
            max: None,
            help: None,
        }
    }
}

/// Whether `key` is a valid input key.
pub fn is_valid_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes.next().is_some_and(|first| first.is_ascii_lowercase())
        && key.len() <= MAX_INPUT_KEY_CHARS
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks an action's input definitions; every problem, keyed `inputs[i].<field>`.
pub fn validate_definitions(inputs: &[InputDefinition]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if inputs.len() > MAX_INPUTS_PER_ACTION {
        errors.push(field_error(
            "inputs",
            format!("An action asks for at most {MAX_INPUTS_PER_ACTION} inputs"),
        ));
        return errors;
    }
    let mut seen: Vec<&str> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let at = |field: &str| format!("inputs[{i}].{field}");
        if !is_valid_key(&input.key) {
            errors.push(field_error(
                at("key"),
                format!(
                    "Key must start with a lower-case letter and hold only a-z, 0-9 and _, \
                     at most {MAX_INPUT_KEY_CHARS} characters"
                ),
            ));
        } else if seen.contains(&input.key.as_str()) {
            errors.push(field_error(
                at("key"),
                format!("Key {} is used twice", input.key),
            ));
        } else {
            seen.push(&input.key);
        }
        let label = input.label.trim().chars().count();
        if label == 0 || label > MAX_INPUT_LABEL_CHARS {
            errors.push(field_error(
                at("label"),
                format!("Label must be 1 to {MAX_INPUT_LABEL_CHARS} characters"),
            ));
        } else if let Err(error) = required_name(&input.label, "Label", MAX_INPUT_LABEL_CHARS) {
            errors.push(field_error(at("label"), error.to_string()));
        }
        if input
            .help
            .as_deref()
            .is_some_and(|help| help.chars().count() > MAX_INPUT_HELP_CHARS)
        {
            errors.push(field_error(
                at("help"),
                format!("Help must be at most {MAX_INPUT_HELP_CHARS} characters"),
            ));
        }
        errors.extend(type_rules(input, &at));
        if let Some(default) = &input.default {
            if let Err(problem) = check_value(input, default) {
                errors.push(field_error(at("default"), format!("Default: {problem}")));
            }
        }
    }
    errors
}

/// The rules a definition's own type sets (options for a select, bounds for a number).
fn type_rules(input: &InputDefinition, at: &dyn Fn(&str) -> String) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match input.input_type {
        InputType::Select => {
            let count = input.options.len();
            if count == 0 || count > MAX_SELECT_OPTIONS {
                errors.push(field_error(
                    at("options"),
                    format!("A select needs 1 to {MAX_SELECT_OPTIONS} options"),
                ));
            }
            for (j, option) in input.options.iter().enumerate() {
                let chars = option.chars().count();
                if chars == 0 || chars > MAX_SELECT_OPTION_CHARS {
                    errors.push(field_error(
                        format!("{}[{j}]", at("options")),
                        format!("An option must be 1 to {MAX_SELECT_OPTION_CHARS} characters"),
                    ));
                } else if input.options[..j].contains(option) {
                    errors.push(field_error(
                        format!("{}[{j}]", at("options")),
                        format!("Option {option} appears twice"),
                    ));
                }
            }
        }
        InputType::Number => {
            if let (Some(min), Some(max)) = (input.min, input.max) {
                if min > max {
                    errors.push(field_error(
                        at("max"),
                        "Max must not be below min".to_owned(),
                    ));
                }
            }
        }
        InputType::String | InputType::Text | InputType::Boolean => {}
    }
    let bounds_without_number =
        input.input_type != InputType::Number && (input.min.is_some() || input.max.is_some());
    let options_without_select = input.input_type != InputType::Select && !input.options.is_empty();
    if bounds_without_number {
        errors.push(field_error(
            at("min"),
            "Only a number has min and max".to_owned(),
        ));
    }
    if options_without_select {
        errors.push(field_error(
            at("options"),
            "Only a select has options".to_owned(),
        ));
    }
    errors
}

/// Whether `value` fits `input`, and if not, why (in words for the clicker).
pub fn check_value(input: &InputDefinition, value: &Value) -> Result<(), String> {
    match (input.input_type, value) {
        (InputType::String, Value::String(text)) => {
            if text.contains(['\n', '\r']) {
                Err("must be one line".to_owned())
            } else {
                at_most(text, MAX_STRING_INPUT_CHARS)
            }
        }
        (InputType::Text, Value::String(text)) => at_most(text, MAX_TEXT_INPUT_CHARS),
        (InputType::Number, Value::Number(number)) => {
            let n = number.as_f64().unwrap_or(f64::NAN);
            match (input.min, input.max) {
                (Some(min), _) if n < min => {
                    Err(format!("must be at least {}", written_bound(min)))
                }
                (_, Some(max)) if n > max => Err(format!("must be at most {}", written_bound(max))),
                _ => Ok(()),
            }
        }
        (InputType::Boolean, Value::Bool(_)) => Ok(()),
        (InputType::Select, Value::String(choice)) => {
            if input.options.contains(choice) {
                Ok(())
            } else {
                Err(format!("must be one of {}", input.options.join(", ")))
            }
        }
        (InputType::String | InputType::Text | InputType::Select, _) => {
            Err("must be text".to_owned())
        }
        (InputType::Number, _) => Err("must be a number".to_owned()),
        (InputType::Boolean, _) => Err("must be true or false".to_owned()),
    }
}

/// A bound as JSON writes it (`1`, `2.5`), through the number formatting `serde_json`
/// already carries, so the frontend needs no float formatting of its own.
fn written_bound(bound: f64) -> String {
    if bound.fract() == 0.0 && bound.abs() < 9.0e15 {
        #[expect(clippy::cast_possible_truncation, reason = "whole and within i64")]
        let whole = bound as i64;
        return serde_json::Number::from(whole).to_string();
    }
    serde_json::Number::from_f64(bound).map_or_else(String::new, |n| n.to_string())
}

fn at_most(text: &str, max: usize) -> Result<(), String> {
    if text.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else {
        Ok(())
    }
}

/// The values of a run, checked against the action's inputs: unknown keys, missing
/// required values and wrong types are each a field error (`inputs.<key>`). A value left
/// out takes the default; a blank string counts as left out. The answer holds the inputs
/// that have a value, by key.
pub fn validate_values(
    inputs: &[InputDefinition],
    values: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<FieldError>> {
    let mut errors: Vec<FieldError> = values
        .keys()
        .filter(|key| !inputs.iter().any(|input| &input.key == *key))
        .map(|key| {
            field_error(
                format!("inputs.{key}"),
                format!("This action has no input {key}"),
            )
        })
        .collect();
    let mut accepted = Map::new();
    for input in inputs {
        let given = values
            .get(&input.key)
            .filter(|value| !value.is_null() && value.as_str() != Some(""));
        match given.or(input.default.as_ref()) {
            Some(value) => match check_value(input, value) {
                Ok(()) => {
                    accepted.insert(input.key.clone(), value.clone());
                }
                Err(problem) => errors.push(field_error(
                    format!("inputs.{}", input.key),
                    format!("{} {problem}", input.label.trim()),
                )),
            },
            None if input.required => errors.push(field_error(
                format!("inputs.{}", input.key),
                format!("{} is required", input.label.trim()),
            )),
            None => {}
        }
    }
    if errors.is_empty() {
        Ok(accepted)
    } else {
        Err(errors)
    }
}

fn field_error(field: impl Into<String>, message: String) -> FieldError {
    FieldError {
        field: field.into(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn input(key: &str, input_type: InputType) -> InputDefinition {
        InputDefinition::new(key, "Region", input_type)
    }

    fn select(options: &[&str]) -> InputDefinition {
        InputDefinition {
            options: options.iter().map(|o| (*o).to_owned()).collect(),
            ..input("region", InputType::Select)
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    fn values(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn keys_are_a_lower_case_letter_then_up_to_31_of_a_z_0_9_and_underscore() {
        assert!(is_valid_key("r"));
        assert!(is_valid_key(&format!("a{}", &"b_9".repeat(11)[..31])));
        assert!(!is_valid_key(&format!("a{}", "b".repeat(32))));
        for bad in ["", "1a", "_a", "Region", "re-gion", "ré"] {
            assert!(!is_valid_key(bad), "{bad}");
        }
    }

    #[test]
    fn eight_inputs_are_accepted_and_nine_are_not() {
        let eight: Vec<_> = (0..8)
            .map(|i| input(&format!("k{i}"), InputType::String))
            .collect();
        assert!(validate_definitions(&eight).is_empty());
        let nine: Vec<_> = (0..9)
            .map(|i| input(&format!("k{i}"), InputType::String))
            .collect();
        assert_eq!(fields(&validate_definitions(&nine)), ["inputs"]);
    }

    #[test]
    fn a_key_used_twice_is_refused_at_its_second_place() {
        let twice = [
            input("region", InputType::String),
            input("region", InputType::Text),
        ];
        assert_eq!(fields(&validate_definitions(&twice)), ["inputs[1].key"]);
    }

    #[test]
    fn labels_are_1_to_60_characters_and_help_at_most_200() {
        let mut long = input("a", InputType::String);
        long.label = "l".repeat(60);
        long.help = Some("h".repeat(200));
        assert!(validate_definitions(&[long.clone()]).is_empty());
        long.label = "l".repeat(61);
        long.help = Some("h".repeat(201));
        assert_eq!(
            fields(&validate_definitions(&[long.clone()])),
            ["inputs[0].label", "inputs[0].help"]
        );
        long.label = "  ".into();
        long.help = None;
        assert_eq!(fields(&validate_definitions(&[long])), ["inputs[0].label"]);
    }

    #[test]
    fn a_select_has_1_to_20_distinct_options_of_at_most_100_characters() {
        let twenty: Vec<String> = (0..20).map(|i| format!("o{i}")).collect();
        let refs: Vec<&str> = twenty.iter().map(String::as_str).collect();
        assert!(validate_definitions(&[select(&refs)]).is_empty());
        let mut more = refs.clone();
        more.push("o20");
        assert_eq!(
            fields(&validate_definitions(&[select(&more)])),
            ["inputs[0].options"]
        );
        assert_eq!(
            fields(&validate_definitions(&[select(&[])])),
            ["inputs[0].options"]
        );
        let long = "x".repeat(101);
        assert_eq!(
            fields(&validate_definitions(&[select(&["a", &long])])),
            ["inputs[0].options[1]"]
        );
        assert!(validate_definitions(&[select(&["a", &"x".repeat(100)])]).is_empty());
        assert_eq!(
            fields(&validate_definitions(&[select(&["eu", "us", "eu"])])),
            ["inputs[0].options[2]"]
        );
    }

    #[test]
    fn a_default_must_fit_its_input() {
        let mut region = select(&["eu", "us"]);
        region.default = Some(json!("eu"));
        assert!(validate_definitions(&[region.clone()]).is_empty());
        region.default = Some(json!("asia"));
        assert_eq!(
            fields(&validate_definitions(&[region])),
            ["inputs[0].default"]
        );
        let mut count = input("count", InputType::Number);
        count.min = Some(1.0);
        count.max = Some(3.0);
        count.default = Some(json!(4));
        assert_eq!(
            fields(&validate_definitions(&[count])),
            ["inputs[0].default"]
        );
    }

    #[test]
    fn bounds_belong_to_numbers_and_options_to_selects() {
        let mut text = input("a", InputType::Text);
        text.min = Some(1.0);
        text.options = vec!["x".into()];
        assert_eq!(
            fields(&validate_definitions(&[text])),
            ["inputs[0].min", "inputs[0].options"]
        );
        let mut number = input("n", InputType::Number);
        number.min = Some(5.0);
        number.max = Some(4.0);
        assert_eq!(fields(&validate_definitions(&[number])), ["inputs[0].max"]);
    }

    #[test]
    fn a_string_is_one_line_of_at_most_200_characters_and_a_text_at_most_2000() {
        let string = input("s", InputType::String);
        assert!(check_value(&string, &json!("x".repeat(200))).is_ok());
        assert!(check_value(&string, &json!("x".repeat(201))).is_err());
        assert!(check_value(&string, &json!("a\nb")).is_err());
        let text = input("t", InputType::Text);
        assert!(check_value(&text, &json!(format!("{}\n", "x".repeat(1999)))).is_ok());
        assert!(check_value(&text, &json!("x".repeat(2001))).is_err());
        assert_eq!(check_value(&text, &json!(5)).unwrap_err(), "must be text");
    }

    #[test]
    fn a_number_is_a_json_number_within_its_bounds() {
        let mut n = input("n", InputType::Number);
        n.min = Some(1.0);
        n.max = Some(10.0);
        assert!(check_value(&n, &json!(1)).is_ok());
        assert!(check_value(&n, &json!(10.0)).is_ok());
        assert_eq!(
            check_value(&n, &json!(0.5)).unwrap_err(),
            "must be at least 1"
        );
        assert_eq!(
            check_value(&n, &json!(11)).unwrap_err(),
            "must be at most 10"
        );
        assert_eq!(
            check_value(&n, &json!("5")).unwrap_err(),
            "must be a number"
        );
    }

    #[test]
    fn a_boolean_is_true_or_false_and_a_select_one_of_its_options() {
        let b = input("b", InputType::Boolean);
        assert!(check_value(&b, &json!(false)).is_ok());
        assert!(check_value(&b, &json!("true")).is_err());
        let s = select(&["eu", "us"]);
        assert!(check_value(&s, &json!("us")).is_ok());
        assert_eq!(
            check_value(&s, &json!("EU")).unwrap_err(),
            "must be one of eu, us"
        );
    }

    #[test]
    fn run_values_refuse_unknown_keys_missing_required_values_and_wrong_types_each_by_field() {
        let mut region = select(&["eu", "us"]);
        region.required = true;
        let mut dry_run = input("dry_run", InputType::Boolean);
        dry_run.label = "Dry run".into();
        let errors = validate_values(
            &[region.clone(), dry_run.clone()],
            &values(json!({"dry_run": "yes", "extra": 1})),
        )
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            ["inputs.extra", "inputs.region", "inputs.dry_run"]
        );
        assert_eq!(errors[1].message, "Region is required");
        assert_eq!(errors[2].message, "Dry run must be true or false");
        let accepted =
            validate_values(&[region, dry_run], &values(json!({"region": "us"}))).unwrap();
        assert_eq!(Value::Object(accepted), json!({"region": "us"}));
    }

    #[test]
    fn a_left_out_or_blank_value_takes_the_default() {
        let mut region = select(&["eu", "us"]);
        region.required = true;
        region.default = Some(json!("eu"));
        for given in [json!({}), json!({"region": ""}), json!({"region": null})] {
            let accepted = validate_values(&[region.clone()], &values(given)).unwrap();
            assert_eq!(accepted["region"], "eu");
        }
    }
}
