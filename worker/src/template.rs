//! Renders an action's templates: the body template and templated header values.
//!
//! minijinja (Jinja2 syntax) with no loader, so `include`, `import` and `extends` find
//! nothing; no filesystem or network; and a fuel limit, so a loop or a huge string stops
//! with an error instead of eating the isolate. The same renderer serves the check on
//! save, the preview and the run, so what a preview shows is what a run sends.
//!
//! Printing in a body template is JSON-aware, so a title with a quote in it cannot break
//! the body: a string prints escaped to sit inside a JSON string (`"{{ incident.title }}"`),
//! numbers, booleans, objects and lists print as JSON, `none` prints nothing, and
//! `| tojson` prints any value as JSON, strings with their quotes. Header values print
//! values as plain text.

use minijinja::value::Kwargs;
use minijinja::{filters, Environment, Error, ErrorKind, Output, State, Value};
use serde::Serialize;
use shared::action::check_header_value;
use shared::limits::{MAX_RENDERED_BODY_BYTES, TEMPLATE_FUEL};

/// Where a template failed and why, fit to show next to the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFailure {
    /// `body_template` or `headers[i].value`.
    pub field: String,
    /// The reason, starting with the line for the body template.
    pub message: String,
}

/// What templates see. Serialized once per render into the engine's values.
#[derive(Debug, Serialize)]
pub struct TemplateContext<'a> {
    /// The incident as the default payload carries it (`event.data`).
    pub incident: &'a serde_json::Value,
    /// The run's input values.
    pub inputs: &'a serde_json::Map<String, serde_json::Value>,
    /// `{id, name}` of the action.
    pub action: NamedRef<'a>,
    /// Who pressed the button.
    pub agent: AgentRef<'a>,
    /// `{id}` of the run.
    pub run: RunRef<'a>,
    /// Secret header values by header name as configured.
    pub secrets: &'a serde_json::Map<String, serde_json::Value>,
}

/// `{id, name}`.
#[derive(Debug, Serialize)]
pub struct NamedRef<'a> {
    /// Identifier.
    pub id: &'a str,
    /// Name.
    pub name: &'a str,
}

/// The clicker.
#[derive(Debug, Serialize)]
pub struct AgentRef<'a> {
    /// User id (`admin` for the `ADMIN_TOKEN` holder).
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// E-mail; `null` for the `ADMIN_TOKEN` holder.
    pub email: Option<&'a str>,
}

/// The run.
#[derive(Debug, Serialize)]
pub struct RunRef<'a> {
    /// `run_…`, also the `webhook-id`.
    pub id: &'a str,
}

/// The two ways a value is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Printing {
    /// Inside a JSON document.
    Json,
    /// In a header value.
    Plain,
}

fn environment(printing: Printing) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(TEMPLATE_FUEL));
    match printing {
        Printing::Json => env.set_formatter(print_for_json),
        Printing::Plain => env.set_formatter(print_plain),
    }
    env
}

/// Strings escaped for a JSON string; everything else as JSON; `none` as nothing.
fn print_for_json(out: &mut Output<'_>, _: &mut State<'_, '_>, value: &Value) -> Result<(), Error> {
    if value.is_undefined() || value.is_none() {
        return Ok(());
    }
    let text = match value.as_str() {
        Some(text) if value.is_safe() => text.to_owned(),
        Some(text) => {
            let quoted = serde_json::to_string(text).map_err(write_error)?;
            quoted[1..quoted.len() - 1].to_owned()
        }
        None => filters::tojson(
            value,
            None,
            Kwargs::from_iter(std::iter::empty::<(&str, Value)>()),
        )?
        .as_str()
        .unwrap_or_default()
        .to_owned(),
    };
    out.write_str(&text).map_err(Error::from)
}

/// Strings as they are, `none` as nothing, anything else as minijinja prints it.
fn print_plain(out: &mut Output<'_>, _: &mut State<'_, '_>, value: &Value) -> Result<(), Error> {
    if value.is_undefined() || value.is_none() {
        return Ok(());
    }
    match value.as_str() {
        Some(text) => out.write_str(text),
        None => out.write_fmt(format_args!("{value}")),
    }
    .map_err(Error::from)
}

fn write_error(error: serde_json::Error) -> Error {
    Error::new(ErrorKind::WriteFailure, error.to_string())
}

/// One sentence for an engine error. `at_line` says whether to lead with the line (a
/// body template has lines; a header value is one).
fn describe(error: &Error, at_line: bool) -> String {
    let reason = match error.kind() {
        ErrorKind::OutOfFuel => format!(
            "the template does too much work (it ran out of its {TEMPLATE_FUEL} units of \
             fuel); make its loops smaller"
        ),
        kind => match error.detail() {
            Some(detail) => format!("{kind}: {detail}"),
            None => kind.to_string(),
        },
    };
    match error.line() {
        Some(line) if at_line => format!("Line {line}: {reason}"),
        _ => reason,
    }
}

fn render(
    printing: Printing,
    source: &str,
    context: &Value,
    at_line: bool,
) -> Result<String, String> {
    let env = environment(printing);
    let template = env
        .template_from_str(source)
        .map_err(|error| describe(&error, at_line))?;
    template
        .render(context)
        .map_err(|error| describe(&error, at_line))
}

/// The engine's view of a context.
pub fn context_value(context: &TemplateContext<'_>) -> Value {
    engine_value(&serde_json::to_value(context).unwrap_or_default())
}

/// A JSON value as the engine's value. Converted by hand rather than through
/// minijinja's `serde` feature, which would add ~100 KB to the worker.
fn engine_value(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::from(()),
        serde_json::Value::Bool(flag) => Value::from(*flag),
        serde_json::Value::Number(number) => match (number.as_i64(), number.as_u64()) {
            (Some(integer), _) => Value::from(integer),
            (None, Some(unsigned)) => Value::from(unsigned),
            (None, None) => Value::from(number.as_f64().unwrap_or_default()),
        },
        serde_json::Value::String(text) => Value::from(text.as_str()),
        serde_json::Value::Array(items) => items.iter().map(engine_value).collect(),
        serde_json::Value::Object(map) => Value::from_pairs(
            map.iter()
                .map(|(key, value)| (key.as_str(), engine_value(value))),
        ),
    }
}

/// Renders a body template: valid JSON of at most 64 KiB, or why not.
pub fn render_body(source: &str, context: &Value) -> Result<String, TemplateFailure> {
    let failure = |message: String| TemplateFailure {
        field: "body_template".to_owned(),
        message,
    };
    let body = render(Printing::Json, source, context, true).map_err(failure)?;
    if body.len() > MAX_RENDERED_BODY_BYTES {
        return Err(failure(format!(
            "The rendered body is {} bytes; at most {MAX_RENDERED_BODY_BYTES} are sent",
            body.len()
        )));
    }
    if let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(&body) {
        return Err(failure(format!(
            "The rendered body is not valid JSON: {error} of the rendered text, near `{}`. \
             Strings print escaped for use inside quotes; use | tojson to print a value as \
             JSON",
            near(&body, error.line(), error.column())
        )));
    }
    Ok(body)
}

/// Up to 30 characters either side of `line`:`column` (1-based) of `text`, on one line.
fn near(text: &str, line: usize, column: usize) -> String {
    const SIDE: usize = 30;
    let Some(row) = text.lines().nth(line.saturating_sub(1)) else {
        return String::new();
    };
    let chars: Vec<char> = row.chars().collect();
    let at = column.saturating_sub(1).min(chars.len());
    chars[at.saturating_sub(SIDE)..(at + SIDE).min(chars.len())]
        .iter()
        .collect()
}

/// Renders header `index`'s value when it is a template, checked by the header rules
/// (no CR, LF or NUL, at most 4096 bytes).
pub fn render_header_value(
    index: usize,
    name: &str,
    source: &str,
    context: &Value,
) -> Result<String, TemplateFailure> {
    let failure = |message: String| TemplateFailure {
        field: format!("headers[{index}].value"),
        message: format!("Header {name}: {message}"),
    };
    let value = render(Printing::Plain, source, context, false).map_err(failure)?;
    check_header_value(&value)
        .map_err(|error| failure(format!("the rendered value is refused: {error}")))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn context() -> Value {
        let incident = json!({
            "id": "inc_1", "number": 7, "title": "Disk \"full\" on db-1", "status": "triggered",
            "urgency": "high", "component": null,
            "custom_details": {"host": "db-1", "disk": "/var", "free_pct": 3}
        });
        let inputs = json!({"region": "eu-west-1", "dry_run": true, "count": 2});
        let secrets = json!({"X-Api-Key": "k3y"});
        context_value(&TemplateContext {
            incident: &incident,
            inputs: inputs.as_object().unwrap(),
            action: NamedRef {
                id: "act_1",
                name: "Restart",
            },
            agent: AgentRef {
                id: "usr_1",
                name: "Ada",
                email: Some("ada@example.com"),
            },
            run: RunRef { id: "run_1" },
            secrets: secrets.as_object().unwrap(),
        })
    }

    fn body(source: &str) -> Result<serde_json::Value, String> {
        render_body(source, &context())
            .map(|text| serde_json::from_str(&text).unwrap())
            .map_err(|failure| failure.message)
    }

    #[test]
    fn every_part_of_the_context_renders() {
        let rendered = body(
            r#"{"title": "{{ incident.title }}", "host": "{{ incident.custom_details.host }}",
                "region": "{{ inputs.region }}", "dry": {{ inputs.dry_run }},
                "count": {{ inputs.count }}, "by": "{{ agent.name }} <{{ agent.email }}>",
                "action": "{{ action.name }}", "run": "{{ run.id }}",
                "key": "{{ secrets["X-Api-Key"] }}", "details": {{ incident.custom_details }}}"#,
        )
        .unwrap();
        assert_eq!(
            rendered,
            json!({"title": "Disk \"full\" on db-1", "host": "db-1", "region": "eu-west-1",
                   "dry": true, "count": 2, "by": "Ada <ada@example.com>", "action": "Restart",
                   "run": "run_1", "key": "k3y",
                   "details": {"host": "db-1", "disk": "/var", "free_pct": 3}})
        );
    }

    #[test]
    fn strings_cannot_break_out_of_their_json_string() {
        let incident = json!({"title": "\"}, \"admin\": true, \"x\": {\"y\": \"\n\\"});
        let context = context_value(&TemplateContext {
            incident: &incident,
            inputs: &serde_json::Map::new(),
            action: NamedRef { id: "a", name: "n" },
            agent: AgentRef {
                id: "u",
                name: "n",
                email: None,
            },
            run: RunRef { id: "r" },
            secrets: &serde_json::Map::new(),
        });
        let text = render_body(r#"{"title": "{{ incident.title }}"}"#, &context).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["title"], incident["title"]);
        assert!(parsed.get("admin").is_none());
    }

    #[test]
    fn tojson_prints_a_value_with_its_quotes_and_none_prints_nothing() {
        let rendered = body(
            r#"{"t": {{ incident.title | tojson }}, "c": {{ incident.component | tojson }},
                "empty": "{{ incident.component }}"}"#,
        )
        .unwrap();
        assert_eq!(
            rendered,
            json!({"t": "Disk \"full\" on db-1", "c": null, "empty": ""})
        );
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let message = body("{\n  \"a\": {{ incident.title | }}\n}").unwrap_err();
        assert!(message.starts_with("Line 2: syntax error"), "{message}");
    }

    #[test]
    fn a_render_error_names_its_line() {
        let message = body("{\n\n\"a\": {{ incident.title | no_such_filter }}}").unwrap_err();
        assert!(message.starts_with("Line 3: "), "{message}");
        assert!(message.contains("no_such_filter"), "{message}");
        let message = body("{\"a\": {{ 1 / 0 }}}").unwrap_err();
        assert!(message.starts_with("Line 1: "), "{message}");
    }

    #[test]
    fn includes_and_imports_find_nothing() {
        for source in [
            r#"{% include "secrets.txt" %}"#,
            r#"{% import "x" as y %}{}"#,
            r#"{% extends "base" %}"#,
        ] {
            let message = body(source).unwrap_err();
            assert!(message.starts_with("Line 1: "), "{source}: {message}");
        }
    }

    #[test]
    fn a_runaway_loop_runs_out_of_fuel() {
        let message = body(
            "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}{}",
        )
        .unwrap_err();
        assert!(
            message.contains("ran out of its 100000 units of fuel"),
            "{message}"
        );
    }

    #[test]
    fn output_that_is_not_json_is_refused() {
        let message = body("{\"title\": {{ incident.title }}}").unwrap_err();
        assert!(message.contains("not valid JSON"), "{message}");
        assert!(message.contains("line 1 column"), "{message}");
        assert!(
            message.contains("near `{\"title\": Disk \\\"full"),
            "{message}"
        );
        assert!(body("not json").unwrap_err().contains("not valid JSON"));
    }

    #[test]
    fn a_body_of_64_kib_is_accepted_and_one_byte_more_is_not() {
        // `"` + n × `a` + `"` is a JSON string of n + 2 bytes.
        let exact = format!("\"{{{{ 'a' * {} }}}}\"", MAX_RENDERED_BODY_BYTES - 2);
        assert_eq!(
            render_body(&exact, &context()).unwrap().len(),
            MAX_RENDERED_BODY_BYTES
        );
        let over = format!("\"{{{{ 'a' * {} }}}}\"", MAX_RENDERED_BODY_BYTES - 1);
        let message = render_body(&over, &context()).unwrap_err().message;
        assert_eq!(
            message,
            "The rendered body is 65537 bytes; at most 65536 are sent"
        );
    }

    #[test]
    fn header_values_render_as_plain_text() {
        let value = render_header_value(
            0,
            "Authorization",
            "Bearer {{ secrets[\"X-Api-Key\"] }} for {{ incident.title }}",
            &context(),
        )
        .unwrap();
        assert_eq!(value, "Bearer k3y for Disk \"full\" on db-1");
    }

    #[test]
    fn a_rendered_header_value_with_a_line_break_is_refused() {
        let failure =
            render_header_value(2, "X-Note", "{{ 'a' ~ '\\r\\n' ~ 'b' }}", &context()).unwrap_err();
        assert_eq!(failure.field, "headers[2].value");
        assert!(failure
            .message
            .starts_with("Header X-Note: the rendered value is refused"));
        assert!(
            failure.message.contains("line breaks"),
            "{}",
            failure.message
        );
        let empty =
            render_header_value(0, "X-Empty", "{{ incident.component }}", &context()).unwrap_err();
        assert!(empty.message.contains("required"), "{}", empty.message);
    }

    #[test]
    fn a_rendered_header_value_of_4096_bytes_is_accepted_and_4097_is_not() {
        let ok = render_header_value(0, "X-Long", "{{ 'v' * 4096 }}", &context()).unwrap();
        assert_eq!(ok.len(), 4096);
        assert!(render_header_value(0, "X-Long", "{{ 'v' * 4097 }}", &context()).is_err());
    }

    #[test]
    fn the_readme_examples_render_to_json() {
        let readme = include_str!("../../README.md");
        let examples: Vec<&str> = readme
            .split("```jinja\n")
            .skip(1)
            .map(|block| block.split("```").next().unwrap_or_default())
            .collect();
        assert_eq!(examples.len(), 3, "one example per demo use case");
        let incident = json!({"id": "inc_1", "number": 7, "title": "Checkout \"slow\"",
            "status": "triggered", "source": "web-3", "custom_details": {"host": "web-3.internal"},
            "recent_changes": [{"summary": "Deployed v41", "source": "github.com/shop/checkout",
                                "custom_details": {"commit": "c0ffee"}}]});
        let inputs = json!({"branch": "main", "component": "Checkout",
            "state": "major_outage", "notify": true});
        let secrets = json!({"X-Git-Token": "t0ken"});
        let context = context_value(&TemplateContext {
            incident: &incident,
            inputs: inputs.as_object().unwrap(),
            action: NamedRef { id: "a", name: "n" },
            agent: AgentRef {
                id: "u",
                name: "Ada",
                email: Some("ada@example.com"),
            },
            run: RunRef { id: "run_1" },
            secrets: secrets.as_object().unwrap(),
        });
        let rendered: Vec<serde_json::Value> = examples
            .iter()
            .map(|source| serde_json::from_str(&render_body(source, &context).unwrap()).unwrap())
            .collect();
        assert_eq!(rendered[0]["host"], "web-3.internal");
        assert_eq!(rendered[1]["token"], "t0ken");
        assert_eq!(rendered[1]["commit"], "c0ffee");
        assert_eq!(
            rendered[2]["incident"]["components"],
            json!({"Checkout": "major_outage"})
        );
        assert_eq!(rendered[2]["incident"]["deliver_notifications"], true);
    }

    #[test]
    fn a_broken_header_template_is_named_without_a_line() {
        let failure = render_header_value(1, "X-Bad", "{{ oops", &context()).unwrap_err();
        assert!(
            failure.message.starts_with("Header X-Bad: syntax error"),
            "{}",
            failure.message
        );
    }
}
