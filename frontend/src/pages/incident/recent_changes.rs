//! "Changes in the 24 h before this incident": the service's change events (deploys,
//! config pushes) that the worker lists with the incident (at most 10, newest first), so a
//! responder sees at once what changed and a "Revert last commit" action has its commit.
//! Everything shown is text; a change's link becomes an anchor only for an `http(s)` URL.

use leptos::prelude::*;
use serde_json::Value;
use shared::api::ChangeEvent;

use crate::components::Time;
use crate::format::pretty_details;

/// The list, or a line saying there were none.
pub fn recent_changes(changes: Vec<ChangeEvent>) -> AnyView {
    if changes.is_empty() {
        return view! { <p class="empty">"No changes were reported in the 24 hours before it."</p> }
            .into_any();
    }
    view! {
        <ol class="change-list">
            {changes.into_iter().map(change_item).collect_view()}
        </ol>
    }
    .into_any()
}

fn change_item(change: ChangeEvent) -> impl IntoView {
    let details = pretty_details(&change.custom_details);
    view! {
        <li class="change">
            <p class="change-summary">{change.summary}</p>
            <p class="meta">
                <Time at=change.timestamp.clone() />
                {change.source.map(|source| format!(" · {source}"))}
            </p>
            {details.map(|text| view! { <pre class="code">{text}</pre> })}
            {web_links(&change.links)}
        </li>
    }
}

/// The anchors of [`links`], one line each.
pub fn web_links(value: &Value) -> impl IntoView {
    links(value)
        .into_iter()
        .map(|(href, text)| {
            view! {
                <p class="change-link">
                    <a href=href rel="noopener noreferrer" target="_blank">{text}</a>
                </p>
            }
        })
        .collect_view()
}

/// A change's or an incident's `links` (`[{"href", "text"}]`, as the Events APIs take them
/// and as replies attach them) that are `http(s)` URLs, with the text to show (the URL
/// itself when no text was sent).
fn links(links: &Value) -> Vec<(String, String)> {
    let Some(list) = links.as_array() else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|link| {
            let href = link.get("href")?.as_str()?;
            let lower = href.to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://")) {
                return None;
            }
            let text = link
                .get("text")
                .and_then(Value::as_str)
                .filter(|text| !text.trim().is_empty())
                .unwrap_or(href);
            Some((href.to_owned(), text.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_links_become_anchors_and_a_link_without_text_shows_its_url() {
        let sent = serde_json::json!([
            {"href": "https://github.com/acme/shop/commit/abc", "text": "Commit abc"},
            {"href": "javascript:alert(1)", "text": "Click"},
            {"href": "HTTP://ci.example/run/7"},
            {"text": "no href"},
            "not an object",
        ]);
        assert_eq!(
            links(&sent),
            vec![
                (
                    "https://github.com/acme/shop/commit/abc".to_owned(),
                    "Commit abc".to_owned()
                ),
                (
                    "HTTP://ci.example/run/7".to_owned(),
                    "HTTP://ci.example/run/7".to_owned()
                ),
            ]
        );
        assert!(links(&Value::Null).is_empty());
    }
}
