//! The incident list, newest first, filtered by service and status through the address
//! bar (so a filtered view can be bookmarked and the back button undoes a filter).

use leptos::prelude::*;
use shared::api::{Incident, ServiceList};
use shared::incident::IncidentStatus;
use shared::roles::Permission;
use shared::view::Viewed;

use crate::api::{self, encode_component, incidents_query};
use crate::components::{ErrorNotice, Loading, NewIncidentForm, PageButtons, StatusBadge, Time};
use crate::router::{Page, Router};
use crate::session::Session;

const STATUSES: [IncidentStatus; 3] = [
    IncidentStatus::Triggered,
    IncidentStatus::Acknowledged,
    IncidentStatus::Resolved,
];

/// `/incidents` (and `/`).
#[component]
pub fn IncidentsPage() -> impl IntoView {
    let router = Router::expect();
    let service_filter = router.query_of(Page::Incidents, "service_id");
    let status_filter = router.query_of(Page::Incidents, "status");

    // The page shown: `None` for the newest, else the cursor "Older incidents" gave.
    let cursor = RwSignal::new(None::<String>);
    let incidents = LocalResource::new(move || {
        let (service, status, cursor) = (service_filter.get(), status_filter.get(), cursor.get());
        async move { api::list_incidents(&service, &status, cursor.as_deref()).await }
    });
    // A stakeholder may not list services: the filter then offers "All services" only.
    let session = Session::expect();
    let services = LocalResource::new(move || {
        let may = session.may(Permission::ReadServices);
        async move {
            if may {
                api::list_services().await
            } else {
                Ok(ServiceList {
                    services: Vec::new(),
                })
            }
        }
    });

    let apply = move |service: String, status: String| {
        cursor.set(None);
        router.navigate(&format!("/incidents{}", incidents_query(&service, &status)));
    };
    let on_service = move |ev| apply(event_target_value(&ev), status_filter.get_untracked());
    let on_status = move |ev| apply(service_filter.get_untracked(), event_target_value(&ev));

    view! {
        <div class="page">
            <h1>"Incidents"</h1>
            {move || services.get().and_then(Result::ok).filter(|list| !list.services.is_empty()).map(|list| view! {
                <details class="card new-incident">
                    <summary>"New incident"</summary>
                    <NewIncidentForm
                        form_id="new-incident".to_owned()
                        services=list.services.into_iter().map(Viewed::into_inner).map(|service| (service.id, service.name)).collect()
                    />
                </details>
            })}
            <form class="filters" aria-label="Filter incidents" on:submit=|ev| ev.prevent_default()>
                <div class="field">
                    <label for="filter-service">"Service"</label>
                    <select id="filter-service" on:change=on_service>
                        <option value="" selected=move || service_filter.with(String::is_empty)>
                            "All services"
                        </option>
                        {move || services.get().and_then(Result::ok).map(|list| {
                            list.services.into_iter().map(Viewed::into_inner).map(|service| {
                                let id = service.id.clone();
                                view! {
                                    <option
                                        value=service.id
                                        selected=move || service_filter.with(|chosen| *chosen == id)
                                    >
                                        {service.name}
                                    </option>
                                }
                            }).collect_view()
                        })}
                    </select>
                </div>
                <div class="field">
                    <label for="filter-status">"Status"</label>
                    <select id="filter-status" on:change=on_status>
                        <option value="" selected=move || status_filter.with(String::is_empty)>
                            "Any status"
                        </option>
                        {STATUSES.into_iter().map(|status| view! {
                            <option
                                value=status.as_str()
                                selected=move || status_filter.with(|chosen| chosen == status.as_str())
                            >
                                {crate::format::status_label(status)}
                            </option>
                        }).collect_view()}
                    </select>
                </div>
            </form>
            {move || match incidents.get() {
                None => view! { <Loading what="Loading incidents…" /> }.into_any(),
                Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                Some(Ok(list)) if list.incidents.is_empty() => {
                    let filtered = !service_filter.get().is_empty() || !status_filter.get().is_empty();
                    view! {
                        <div class="empty card">
                            {if filtered {
                                view! { <p>"No incidents match these filters."</p> }.into_any()
                            } else {
                                view! {
                                    <p>
                                        "No incidents yet. Open one by hand with New incident above, or send one through the Events API: each "
                                        <a href="/services">"service"</a>
                                        " shows its routing key and can send a test event."
                                    </p>
                                }.into_any()
                            }}
                        </div>
                    }.into_any()
                }
                Some(Ok(list)) => view! {
                    <ul class="incident-list">
                        {list.incidents.iter().map(|incident| incident_row(incident)).collect_view()}
                    </ul>
                    <PageButtons cursor next=list.next_cursor older="Older incidents" newest="Newest incidents" />
                }.into_any(),
            }}
        </div>
    }
}

/// One line of the list. Borrows, so a redraw copies only what it shows.
fn incident_row(incident: &Incident) -> impl IntoView {
    let href = format!("/incidents/{}", encode_component(&incident.id));
    let status = incident.status;
    view! {
        <li class="card incident-row">
            <a class="incident-link" href=href>
                <span class="number">{format!("#{}", incident.number)}</span>
                " "
                <span class="title">{incident.title.clone()}</span>
            </a>
            <div class="meta">
                <StatusBadge status=status />
                <span class=format!("urgency urgency-{}", incident.urgency.as_str())>
                    {format!("{} urgency", incident.urgency.as_str())}
                </span>
                <span>{incident.service.name.clone()}</span>
                <Time at=incident.created_at.clone() />
            </div>
        </li>
    }
}
