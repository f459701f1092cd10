//! The audit log: who changed which service, action or secret, when, and what it looked
//! like before and after (as the API shows it: secret values never appear).

use leptos::prelude::*;
use shared::api::AuditEntry;

use crate::api;
use crate::components::{ErrorNotice, Loading, PageButtons, Time};
use crate::format::{audit_event_label, pretty_details};

/// `/audit`.
#[component]
pub fn AuditPage() -> impl IntoView {
    // The page shown: `None` for the newest, else the cursor "Older changes" gave.
    let cursor = RwSignal::new(None::<String>);
    let entries = LocalResource::new(move || {
        let cursor = cursor.get();
        async move { api::list_audit(cursor.as_deref()).await }
    });
    view! {
        <div class="page">
            <h1>"Audit log"</h1>
            <p class="lede">
                "Every change to services, custom actions, signing secrets, users and API tokens, newest first. "
                "Secret values are never recorded: a new secret header value shows as changed, by name."
            </p>
            {move || match entries.get() {
                None => view! { <Loading what="Loading the audit log…" /> }.into_any(),
                Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                Some(Ok(list)) if list.audit_entries.is_empty() => view! {
                    <div class="empty card"><p>"No changes recorded yet."</p></div>
                }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="incident-list">
                        {list.audit_entries.into_iter().map(|entry| view! { <AuditRow entry /> }).collect_view()}
                    </ul>
                    <PageButtons cursor next=list.next_cursor older="Older changes" newest="Newest changes" />
                }.into_any(),
            }}
        </div>
    }
}

/// One recorded change.
#[component]
fn AuditRow(entry: AuditEntry) -> impl IntoView {
    let before = pretty_details(&entry.before);
    let after = pretty_details(&entry.after);
    let has_states = before.is_some() || after.is_some();
    view! {
        <li class="card incident-row">
            <div>
                <strong>{audit_event_label(&entry.event)}</strong>
                " · "
                <code>{entry.target_id}</code>
            </div>
            <div class="meta">
                <span>{format!("By {}", entry.actor.name)}</span>
                <Time at=entry.created_at.clone() />
            </div>
            {has_states.then(|| view! {
                <details>
                    <summary>"Before and after"</summary>
                    {before.map(|text| view! { <h3>"Before"</h3><pre class="excerpt">{text}</pre> })}
                    {after.map(|text| view! { <h3>"After"</h3><pre class="excerpt">{text}</pre> })}
                </details>
            })}
        </li>
    }
}
