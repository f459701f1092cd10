//! The run dialog's contents as plain data: what each control starts with, and how what
//! was typed becomes the `inputs` of a `RunRequest`.
//!
//! A form control gives text (or a checkbox's state); the worker wants JSON values of the
//! input's type. Kept apart from the component so the rules (a number is parsed, a blank
//! field is left out so its default applies, a checkbox is a bool, the typed name must
//! match) are covered by native tests.

use serde_json::{Map, Value};
use shared::inputs::{validate_values, InputDefinition, InputType};
use shared::FieldError;

use crate::numbers::parse_number;

/// What one control of the dialog holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    /// A text box, text area, select or number box, as typed.
    Text(String),
    /// A checkbox.
    Checked(bool),
    /// A number box whose text the browser cannot read as a number (it then reports an
    /// empty value, which must not pass for "left blank").
    NotANumber,
}

/// What a control shows first: the input's default, else blank (a checkbox unticked).
pub fn initial(input: &InputDefinition) -> Typed {
    match (input.input_type, &input.default) {
        (InputType::Boolean, default) => {
            Typed::Checked(default.as_ref().and_then(Value::as_bool).unwrap_or(false))
        }
        (_, Some(Value::String(text))) => Typed::Text(text.clone()),
        (_, Some(Value::Number(number))) => Typed::Text(number.to_string()),
        _ => Typed::Text(String::new()),
    }
}

/// The field path of an input's problems, as the worker's 422 names it.
pub fn field_of(input: &InputDefinition) -> String {
    format!("inputs.{}", input.key)
}

/// The JSON value of one control: `Ok(None)` when it is left blank (the input's default,
/// if any, then applies), `Err` with the message when the text is not a value of its type.
pub fn value_of(input: &InputDefinition, typed: &Typed) -> Result<Option<Value>, String> {
    let label = input.label.trim();
    match (input.input_type, typed) {
        (_, Typed::Checked(checked)) => Ok(Some(Value::Bool(*checked))),
        (_, Typed::NotANumber) => Err(format!("{label} must be a number")),
        (InputType::Number, Typed::Text(text)) => match text.trim() {
            "" => Ok(None),
            number => parse_number(number)
                .map(Some)
                .ok_or_else(|| format!("{label} must be a number")),
        },
        // One line: the spaces around a pasted value are not part of it.
        (InputType::String, Typed::Text(text)) => Ok(non_blank(text.trim())),
        (InputType::Text, Typed::Text(text)) => {
            Ok((!text.trim().is_empty()).then(|| Value::String(text.clone())))
        }
        (InputType::Select, Typed::Text(choice)) => Ok(non_blank(choice)),
        // A boolean is always drawn as a checkbox; text here means nothing was chosen.
        (InputType::Boolean, Typed::Text(_)) => Ok(None),
    }
}

fn non_blank(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| Value::String(text.to_owned()))
}

/// The `inputs` of the request: each control's value, checked with the worker's own rules
/// (required, type, bounds, options; a default fills a blank). Every problem comes keyed
/// `inputs.<key>`, one per input.
pub fn run_inputs(
    inputs: &[InputDefinition],
    typed: &[Typed],
) -> Result<Map<String, Value>, Vec<FieldError>> {
    let mut values = Map::new();
    let mut errors = Vec::new();
    for (input, typed) in inputs.iter().zip(typed) {
        match value_of(input, typed) {
            Ok(Some(value)) => {
                values.insert(input.key.clone(), value);
            }
            Ok(None) => {}
            Err(message) => errors.push(FieldError {
                field: field_of(input),
                message,
            }),
        }
    }
    match validate_values(inputs, &values) {
        Ok(accepted) if errors.is_empty() => Ok(accepted),
        Ok(_) => Err(errors),
        Err(found) => {
            // Text that is not a number is left out above, so the shared check may also
            // call it missing; the first message is the one that says what is wrong.
            for error in found {
                if !errors.iter().any(|known| known.field == error.field) {
                    errors.push(error);
                }
            }
            Err(errors)
        }
    }
}

/// Whether the text typed to confirm is the action's name: exactly, apart from spaces
/// around it (a phone keyboard's suggestion adds one).
pub fn name_matches(typed: &str, name: &str) -> bool {
    typed.trim() == name.trim()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn input(key: &str, input_type: InputType) -> InputDefinition {
        InputDefinition::new(
            key,
            &(key[..1].to_ascii_uppercase() + &key[1..]),
            input_type,
        )
    }

    fn text(value: &str) -> Typed {
        Typed::Text(value.into())
    }

    #[test]
    fn controls_start_with_the_default() {
        let mut region = input("region", InputType::Select);
        region.default = Some(json!("eu"));
        assert_eq!(initial(&region), text("eu"));
        let mut count = input("count", InputType::Number);
        count.default = Some(json!(3));
        assert_eq!(initial(&count), text("3"));
        let mut dry_run = input("dry_run", InputType::Boolean);
        assert_eq!(initial(&dry_run), Typed::Checked(false));
        dry_run.default = Some(json!(true));
        assert_eq!(initial(&dry_run), Typed::Checked(true));
        assert_eq!(initial(&input("reason", InputType::Text)), text(""));
    }

    #[test]
    fn a_blank_control_is_left_out_so_the_default_applies() {
        let mut region = input("region", InputType::String);
        region.default = Some(json!("eu"));
        assert_eq!(value_of(&region, &text("   ")), Ok(None));
        assert_eq!(
            value_of(&input("count", InputType::Number), &text(" ")),
            Ok(None)
        );
        assert_eq!(
            value_of(&input("r", InputType::Select), &text("")),
            Ok(None)
        );
        let sent = run_inputs(&[region], &[text("")]).unwrap();
        assert_eq!(sent.get("region"), Some(&json!("eu")));
    }

    #[test]
    fn a_checkbox_is_a_bool_ticked_or_not() {
        let dry_run = input("dry_run", InputType::Boolean);
        assert_eq!(
            value_of(&dry_run, &Typed::Checked(false)),
            Ok(Some(json!(false)))
        );
        let sent = run_inputs(&[dry_run], &[Typed::Checked(true)]).unwrap();
        assert_eq!(Value::Object(sent), json!({"dry_run": true}));
    }

    #[test]
    fn one_line_text_is_trimmed_and_several_lines_are_kept_as_typed() {
        assert_eq!(
            value_of(&input("version", InputType::String), &text(" v1.2 ")),
            Ok(Some(json!("v1.2")))
        );
        assert_eq!(
            value_of(
                &input("reason", InputType::Text),
                &text("Bad deploy\n  see #12\n")
            ),
            Ok(Some(json!("Bad deploy\n  see #12\n")))
        );
    }

    #[test]
    fn text_that_is_not_a_number_is_refused_not_dropped() {
        let mut count = input("count", InputType::Number);
        count.default = Some(json!(1));
        count.required = true;
        let errors = run_inputs(&[count.clone()], &[text("twelve")]).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "inputs.count");
        assert_eq!(errors[0].message, "Count must be a number");
        let errors = run_inputs(&[count], &[Typed::NotANumber]).unwrap_err();
        assert_eq!(errors[0].message, "Count must be a number");
    }

    #[test]
    fn the_shared_rules_give_each_field_its_message() {
        let mut region = input("region", InputType::Select);
        region.required = true;
        region.options = vec!["eu".into(), "us".into()];
        let mut count = input("count", InputType::Number);
        count.min = Some(1.0);
        count.max = Some(5.0);
        let inputs = [region, count];
        let errors = run_inputs(&inputs, &[text(""), text("9")]).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["inputs.region", "inputs.count"]);
        assert_eq!(errors[0].message, "Region is required");
        assert!(errors[1].message.starts_with("Count must be at most 5"));
        let sent = run_inputs(&inputs, &[text("us"), text("4")]).unwrap();
        assert_eq!(Value::Object(sent), json!({"region": "us", "count": 4}));
    }

    #[test]
    fn an_optional_input_left_blank_is_not_sent() {
        let sent = run_inputs(&[input("note", InputType::Text)], &[text("")]).unwrap();
        assert!(sent.is_empty());
    }

    #[test]
    fn the_typed_name_must_be_the_action_name() {
        assert!(name_matches("Roll back web", "Roll back web"));
        assert!(name_matches(" Roll back web ", "Roll back web"));
        assert!(!name_matches("roll back web", "Roll back web"));
        assert!(!name_matches("Roll back", "Roll back web"));
        assert!(!name_matches("", "Roll back web"));
    }
}
