//! Renders an action's templates: the body template and templated header values.
//!
//! minijinja (Jinja2 syntax) with no loader, so `include`, `import` and `extends` find
//! nothing; no filesystem or network; no `debug()` (it would print every secret); and a
//! fuel budget that minijinja charges per instruction and per byte of data built, so a
//! loop or a huge string stops with an error naming the limit instead of eating the
//! isolate. Output is written into a bounded buffer that stops at the field's limit
//! (64 KiB for a body, 4 KiB for a header value), so nothing larger is ever held. The
//! same renderer serves the check on save, the preview and the run, so what a preview
//! shows is what a run sends.
//!
//! A template that names `secrets` ([`references_secrets`]) can carry a secret in any
//! form a filter gives it (`| reverse`, `| upper`), so its errors never quote what it
//! rendered or the engine's detail, and the caller records its output as `[redacted]`.
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
use shared::limits::{
    MAX_HEADER_VALUE_BYTES, MAX_RENDERED_BODY_BYTES, MAX_TEMPLATE_DATA_BYTES, TEMPLATE_FUEL,
};

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
    // `debug()` prints the whole context, secrets included, past any check of names.
    env.add_function(
        "debug",
        |_: minijinja::value::Rest<Value>| -> Result<Value, Error> {
            Err(Error::new(
                ErrorKind::UnknownFunction,
                "debug() is not available in action templates",
            ))
        },
    );
    match printing {
        Printing::Json => env.set_formatter(print_for_json),
        Printing::Plain => env.set_formatter(print_plain),
    }
    env
}

/// Whether a template names `secrets`, in any expression. A template that does not
/// parse is judged by its text, to err on the side of hiding.
pub fn references_secrets(source: &str) -> bool {
    match Environment::new().template_from_str(source) {
        Ok(template) => template.undeclared_variables(false).contains("secrets"),
        Err(_) => source.contains("secrets"),
    }
}

/// Whether a template's errors may quote what it rendered and the engine's detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// It cannot see a secret: quote freely.
    Allowed,
    /// It names `secrets`: say only what kind of error, and where.
    Withheld,
}

impl Quoting {
    fn of(source: &str) -> Self {
        if references_secrets(source) {
            Self::Withheld
        } else {
            Self::Allowed
        }
    }
}

/// An output buffer that refuses to grow past `limit` bytes, so a template's output is
/// never held larger than the field it fills.
struct BoundedOutput {
    text: Vec<u8>,
    limit: usize,
    overflowed: bool,
}

impl std::io::Write for BoundedOutput {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.text.len() + bytes.len() > self.limit {
            self.overflowed = true;
            return Err(std::io::Error::other("output limit"));
        }
        self.text.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
fn describe(error: &Error, at_line: bool, quoting: Quoting) -> String {
    let reason = match (error.kind(), quoting) {
        (ErrorKind::OutOfFuel, _) => format!(
            "the template does too much work or builds too much data (its budget is \
             {MAX_TEMPLATE_DATA_BYTES} bytes of values, or {TEMPLATE_FUEL} steps); make its \
             loops and strings smaller"
        ),
        (kind, Quoting::Withheld) => {
            format!("{kind} (details are not shown: this template uses secrets)")
        }
        (kind, Quoting::Allowed) => match error.detail() {
            Some(detail) => format!("{kind}: {detail}"),
            None => kind.to_string(),
        },
    };
    match error.line() {
        Some(line) if at_line => format!("Line {line}: {reason}"),
        _ => reason,
    }
}

/// Why a render stopped.
enum RenderError {
    /// The output passed the field's limit; rendering stopped there.
    TooLarge,
    /// Anything else, described.
    Failed(String),
}

fn render(
    printing: Printing,
    source: &str,
    context: &Value,
    at_line: bool,
    limit: usize,
) -> Result<String, RenderError> {
    let env = environment(printing);
    let template = env
        .template_from_str(source)
        .map_err(|error| RenderError::Failed(describe(&error, at_line, Quoting::of(source))))?;
    // The compiled template answers which names it reads: no second parse on the run path.
    let quoting = if template.undeclared_variables(false).contains("secrets") {
        Quoting::Withheld
    } else {
        Quoting::Allowed
    };
    let mut output = BoundedOutput {
        text: Vec::new(),
        limit,
        overflowed: false,
    };
    // Only the output is wanted; the captured state is dropped here, before `env`.
    let rendered = template
        .render_captured_to(context.clone(), &mut output)
        .map(drop);
    match rendered {
        Ok(_) => String::from_utf8(output.text)
            .map_err(|_| RenderError::Failed("the output is not UTF-8".to_owned())),
        Err(_) if output.overflowed => Err(RenderError::TooLarge),
        Err(error) => Err(RenderError::Failed(describe(&error, at_line, quoting))),
    }
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
    let body = render(
        Printing::Json,
        source,
        context,
        true,
        MAX_RENDERED_BODY_BYTES,
    )
    .map_err(|error| match error {
        RenderError::TooLarge => failure(format!(
            "The rendered body is larger than {MAX_RENDERED_BODY_BYTES} bytes, the most a \
             body may be; rendering stopped there"
        )),
        RenderError::Failed(message) => failure(message),
    })?;
    if let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(&body) {
        let near = match Quoting::of(source) {
            Quoting::Allowed => format!(", near `{}`", near(&body, error.line(), error.column())),
            Quoting::Withheld => String::new(),
        };
        return Err(failure(format!(
            "The rendered body is not valid JSON: {error} of the rendered text{near}. \
             Strings print escaped for use inside quotes; use | tojson to print a value as \
             JSON"
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
    let value = render(
        Printing::Plain,
        source,
        context,
        false,
        MAX_HEADER_VALUE_BYTES,
    )
    .map_err(|error| match error {
        RenderError::TooLarge => failure(format!(
            "the rendered value is larger than {MAX_HEADER_VALUE_BYTES} bytes, the most a \
             header value may be; rendering stopped there"
        )),
        RenderError::Failed(message) => failure(message),
    })?;
    check_header_value(&value).map_err(|error| match Quoting::of(source) {
        Quoting::Allowed => failure(format!("the rendered value is refused: {error}")),
        Quoting::Withheld => failure(
            "the rendered value is refused: it is empty or holds characters a header cannot \
             carry (details are not shown: this template uses secrets)"
                .to_owned(),
        ),
    })?;
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
        assert!(message.contains("does too much work"), "{message}");
        assert!(message.contains("1048576 bytes"), "{message}");
    }

    #[test]
    fn a_huge_repeated_string_is_refused_before_it_is_made() {
        let message = body("{\"a\": \"{{ 'a' * 100000000 }}\"}").unwrap_err();
        assert!(message.contains("builds too much data"), "{message}");
    }

    #[test]
    fn a_string_doubled_thirty_times_stops_at_the_data_budget() {
        let doubling = "{% set s = s ~ s %}".repeat(30);
        let source = format!("{{% set s = 'a' %}}{doubling}{{\"n\": {{{{ s | length }}}}}}");
        let message = body(&source).unwrap_err();
        assert!(message.contains("builds too much data"), "{message}");
    }

    #[test]
    fn values_under_the_data_budget_are_built_and_over_it_are_not() {
        // The budget is shared with the steps taken and the output, so a value of most of
        // it, not all of it, can be built.
        let under = body("{% set s = 'a' * 500000 %}{\"n\": {{ s | length }}}").unwrap();
        assert_eq!(under["n"], 500_000);
        let over = body(&format!(
            "{{% set s = 'a' * {} %}}{{\"n\": {{{{ s | length }}}}}}",
            MAX_TEMPLATE_DATA_BYTES + 1
        ))
        .unwrap_err();
        assert!(over.contains("builds too much data"), "{over}");
    }

    #[test]
    fn debug_is_not_available_to_print_the_context() {
        let failure = render_header_value(
            0,
            "X-Dbg",
            "{{ debug() | replace('\\n', ' ') }}",
            &context(),
        )
        .unwrap_err();
        assert!(!failure.message.contains("k3y"), "{}", failure.message);
        assert!(body("{\"d\": \"{{ debug() }}\"}").is_err());
    }

    #[test]
    fn a_template_names_secrets_whatever_it_does_with_them() {
        for source in [
            "{{ secrets[\"X-Api-Key\"] }}",
            "{{ secrets[\"X-Api-Key\"] | reverse }}",
            "{% set s = secrets %}{{ s | tojson }}",
            "{% for k, v in secrets | items %}{{ v }}{% endfor %}",
            "{{ secrets",
        ] {
            assert!(references_secrets(source), "{source}");
        }
        for source in ["{{ incident.title }}", "plain", "{{ 'secrets' }}"] {
            assert!(!references_secrets(source), "{source}");
        }
    }

    #[test]
    fn errors_of_a_template_that_uses_secrets_quote_nothing_it_rendered() {
        // Reversed, the secret is no longer the exact string a redaction would look for.
        let message = body("{\"k\": {{ secrets[\"X-Api-Key\"] | reverse }}}").unwrap_err();
        assert!(message.contains("not valid JSON"), "{message}");
        assert!(!message.contains("y3k"), "{message}");
        assert!(!message.contains("near"), "{message}");
        let message = body("{\"k\": {{ secrets[\"X-Api-Key\"] | int(strict=true) }}}");
        assert!(!format!("{message:?}").contains("k3y"), "{message:?}");
        let failure = render_header_value(
            0,
            "X-Dbg",
            "{{ secrets[\"X-Api-Key\"] | reverse }}\u{7}",
            &context(),
        )
        .unwrap_err();
        assert!(!failure.message.contains("y3k"), "{}", failure.message);
        assert!(
            failure.message.contains("uses secrets"),
            "{}",
            failure.message
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
            "The rendered body is larger than 65536 bytes, the most a body may be; rendering \
             stopped there"
        );
    }

    #[test]
    fn a_body_printed_in_many_small_pieces_stops_at_64_kib() {
        let message =
            body("[{% for i in range(700) %}\"{{ 'a' * 100 }}\",{% endfor %}0]").unwrap_err();
        assert!(message.contains("larger than 65536 bytes"), "{message}");
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
        let over = render_header_value(0, "X-Long", "{{ 'v' * 4097 }}", &context()).unwrap_err();
        assert!(
            over.message.contains("larger than 4096 bytes"),
            "{}",
            over.message
        );
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
