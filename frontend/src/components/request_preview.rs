//! The request a run would send, asked of the worker as the person types: the action
//! form shows it for the draft, the run dialog for the values filled in.
//!
//! Only the worker has the template engine (it would not fit the browser's bundle), so
//! the preview is its answer, fetched a moment after the last change ([`PREVIEW_DELAY`]);
//! an answer that arrives after a newer question was asked is dropped, so it can never
//! replace a newer one. Everything shown is text: a body or header that holds markup is
//! shown as the characters it is.

use std::time::Duration;

use leptos::prelude::*;
use shared::api::{PreviewRequest, SentHeader, REDACTED};

use crate::api::{self, ApiError, Preview};
use crate::format::readable_body;

/// How long the form must be still before the preview is asked for.
pub const PREVIEW_DELAY: Duration = Duration::from_millis(400);

/// One question to the preview endpoint: where, and the body already written as JSON,
/// so that telling a new question from the last one is comparing two strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewCall {
    /// The endpoint, from [`api::preview_url`].
    pub url: String,
    /// The [`PreviewRequest`] as JSON.
    pub body: String,
}

impl PreviewCall {
    /// The question about `body` for the action `action_id` of `service_id` (`None` for
    /// one not created yet, whose `body.draft` is then set).
    pub fn new(service_id: &str, action_id: Option<&str>, body: &PreviewRequest) -> Self {
        Self {
            url: api::preview_url(service_id, action_id),
            // A body of strings, numbers and maps always serializes.
            body: serde_json::to_string(body).unwrap_or_default(),
        }
    }
}

/// Where the preview stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LivePreview {
    /// Whether there is something to preview (the form has no problems).
    pub ready: bool,
    /// Whether a newer answer is on its way.
    pub loading: bool,
    /// The latest answer, kept on screen while the next one is fetched.
    pub latest: Option<Result<Preview, ApiError>>,
}

impl LivePreview {
    /// The per-field problems of the latest answer, while it is current: a template that
    /// does not render (`body_template`, `headers[i].value`) or input values the worker
    /// refused (`inputs.<key>`).
    pub fn field_errors(&self) -> Vec<shared::FieldError> {
        match (&self.latest, self.ready) {
            (Some(Err(error)), true) => error.fields.clone(),
            (Some(_) | None, _) => Vec::new(),
        }
    }
}

/// Asks for a preview whenever `call` changes and stays put for [`PREVIEW_DELAY`]; `None`
/// means "nothing to preview yet".
pub fn live_preview(call: Memo<Option<PreviewCall>>) -> RwSignal<LivePreview> {
    let state = RwSignal::new(LivePreview::default());
    // Bumped by every change: an answer to an older question is not shown.
    let generation = StoredValue::new(0_u64);
    Effect::new(move |_| {
        let call = call.get();
        let current = generation.get_value().wrapping_add(1);
        generation.set_value(current);
        let Some(call) = call else {
            state.update(|state| {
                state.ready = false;
                state.loading = false;
            });
            return;
        };
        state.update(|state| {
            state.ready = true;
            state.loading = true;
        });
        let ask = move || {
            leptos::task::spawn_local(async move {
                let answer = api::preview_request(&call.url, call.body).await;
                if generation.try_get_value() == Some(current) {
                    state.try_update(|state| {
                        state.loading = false;
                        state.latest = Some(answer);
                    });
                }
            });
        };
        // A change within the delay clears this timer: only the last change is asked.
        if let Ok(timer) = set_timeout_with_handle(ask, PREVIEW_DELAY) {
            on_cleanup(move || timer.clear());
        }
    });
    state
}

/// The preview of `state` (from [`live_preview`]): `waiting` says what to do first while
/// there is nothing to preview; then the method, URL, headers and body of the latest
/// answer, or why it failed.
pub fn request_preview(state: RwSignal<LivePreview>, waiting: &'static str) -> AnyView {
    let ready = move || state.with(|state| state.ready);
    let loading = move || state.with(|state| state.ready && state.loading);
    view! {
        <div class="request-preview">
            <p class="hint" hidden=ready>{waiting}</p>
            <p class="loading" role="status" hidden=move || !loading()>
                <span class="spinner" aria-hidden="true"></span>
                "Rendering the request…"
            </p>
            {move || {
                if !ready() {
                    return None;
                }
                state.with(|state| state.latest.clone()).map(|answer| match answer {
                    Ok(answer) => previewed(answer),
                    Err(error) => failed(error),
                })
            }}
        </div>
    }
    .into_any()
}

/// One answer: the incident used, then the request as text.
fn previewed(answer: Preview) -> AnyView {
    let against = match answer.incident {
        Some(incident) => format!("Rendered against #{} {}", incident.number, incident.title),
        None => "Rendered against a sample incident (the service has none yet)".to_owned(),
    };
    let request = answer.request;
    let target = request
        .url
        .unwrap_or_else(|| "(the endpoint is shown to managers)".to_owned());
    view! {
        <p class="preview-against">{against}</p>
        <p class="preview-line"><code>{request.method} " " {target}</code></p>
        {header_list(request.headers)}
        // Text, never markup: a body is shown as the characters it is.
        <pre class="code preview-body">{readable_body(&request.body)}</pre>
    }
    .into_any()
}

/// A failed preview: the worker's message and each field's problem.
fn failed(error: ApiError) -> AnyView {
    if error.is_unauthorized() {
        return ().into_any();
    }
    view! {
        <div class="notice error preview-error" role="alert">
            <p>{error.message}</p>
            <ul>
                {error.fields.into_iter().map(|field| view! { <li>{field.message}</li> }).collect_view()}
            </ul>
        </div>
    }
    .into_any()
}

/// Request headers as a list of names and values, each as text; a `[redacted]` value is
/// marked so it reads as hidden. Shared by the preview and the run records.
pub fn header_list(headers: Vec<SentHeader>) -> impl IntoView {
    view! {
        <dl class="facts headers">
            {headers.into_iter().map(|header| {
                let class = if header.value == REDACTED { "redacted" } else { "" };
                view! {
                    <dt><code>{header.name}</code></dt>
                    // Text, never markup.
                    <dd class=class><code>{header.value}</code></dd>
                }
            }).collect_view()}
        </dl>
    }
}
