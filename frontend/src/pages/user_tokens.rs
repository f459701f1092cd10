//! One user's API tokens (admin and up): make one with a label and see its secret once,
//! revoke one after a confirmation. Only the last four characters are ever shown again.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::api::{ApiToken, CreateTokenRequest};
use shared::roles::Permission;
use shared::FieldError;

use crate::api::{self, ApiError};
use crate::components::{ConfirmStep, ErrorNotice, Loading, OneTimeSecret, TextBox, Time};
use crate::forms::{error_id, field_errors_of, FormErrors};
use crate::permissions::token_mint_denial;
use crate::router::{Page, Router};
use crate::session::Session;

/// A token secret to show once: the token's label and the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ShownToken {
    label: String,
    secret: String,
}

/// `/users/:id/tokens`.
#[component]
pub fn UserTokensPage() -> impl IntoView {
    let session = Session::expect();
    let user_id = Router::expect().id_of(Page::UserTokens);
    view! {
        <div class="page">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href="/users">"Users"</a>
            </nav>
            <h1>"API tokens"</h1>
            {move || match session.denial(Permission::ManageUsers, "Managing tokens") {
                Some(reason) => view! { <p class="notice error" role="alert">{reason}</p> }.into_any(),
                None => view! { <TokenDirectory user_id=user_id.get() /> }.into_any(),
            }}
        </div>
    }
}

/// The user's name, the create form, the one-time secret and the list.
#[component]
fn TokenDirectory(user_id: String) -> impl IntoView {
    let user = LocalResource::new({
        let id = user_id.clone();
        move || {
            let id = id.clone();
            async move { api::get_user(&id).await }
        }
    });
    let tokens = LocalResource::new({
        let id = user_id.clone();
        move || {
            let id = id.clone();
            async move { api::list_tokens(&id).await }
        }
    });
    let shown = RwSignal::new(None::<ShownToken>);
    let notice = RwSignal::new(None::<String>);
    let on_created = Callback::new(move |token: ApiToken| {
        if let Some(secret) = token.secret {
            shown.set(Some(ShownToken {
                label: token.label,
                secret,
            }));
        }
        notice.set(None);
        tokens.refetch();
    });
    let on_revoked = Callback::new(move |label: String| {
        notice.set(Some(format!("Token “{label}” revoked.")));
        tokens.refetch();
    });
    let session = Session::expect();
    // Known once the user has loaded; until then the button waits too.
    let mint_denied = Signal::derive(move || match user.get() {
        Some(Ok(found)) => {
            let for_self = session
                .get()
                .is_some_and(|signed_in| signed_in.session.user_id == found.user.id);
            token_mint_denial(session.role(), for_self, found.user.role)
        }
        _ => None,
    });

    view! {
        <p class="lead">
            {move || match user.get() {
                Some(Ok(found)) => format!(
                    "Tokens of {} ({}). A token signs in as this user, with their role; revoking it ends its sessions at once.",
                    found.user.name, found.user.role
                ),
                _ => String::new(),
            }}
        </p>
        {move || match user.get() {
            Some(Err(error)) => Some(view! { <ErrorNotice error /> }),
            _ => None,
        }}
        {move || shown.get().map(|shown_token| view! {
            <TokenSecret shown=shown_token on_dismiss=Callback::new(move |()| shown.set(None)) />
        })}
        {move || notice.get().map(|text| view! { <p class="notice success" role="status">{text}</p> })}
        <CreateTokenForm user_id=user_id.clone() denied=mint_denied on_created />
        <section aria-labelledby="token-list-heading">
            <h2 id="token-list-heading">"Tokens"</h2>
            {move || match tokens.get() {
                None => view! { <Loading what="Loading tokens…" /> }.into_any(),
                Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                Some(Ok(list)) if list.tokens.is_empty() => view! {
                    <p class="empty">"No tokens yet: this user cannot sign in until you make one."</p>
                }
                .into_any(),
                Some(Ok(list)) => {
                    let id = user_id.clone();
                    view! {
                        <ul class="card-list">
                            {list.tokens.into_iter().map(|token| view! {
                                <TokenCard user_id=id.clone() token on_revoked />
                            }).collect_view()}
                        </ul>
                    }
                    .into_any()
                }
            }}
        </section>
    }
}

/// Make a token: its label. `denied` says why the caller may not, if so.
#[component]
fn CreateTokenForm(
    user_id: String,
    denied: Signal<Option<String>>,
    on_created: Callback<ApiToken>,
) -> impl IntoView {
    let label = RwSignal::new(String::new());
    let server_errors = RwSignal::new(Vec::<FieldError>::new());
    let label_message = FormErrors::server_only(server_errors).signal("label");
    let create = Action::new_local(move |request: &CreateTokenRequest| {
        let (request, id) = (request.clone(), user_id.clone());
        async move {
            let answer = api::create_token(&id, request).await;
            match &answer {
                Ok(created) => {
                    label.set(String::new());
                    on_created.try_run(created.token.clone());
                }
                Err(error) => server_errors.set(field_errors_of(error)),
            }
            answer.map(drop)
        }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        server_errors.set(Vec::new());
        if create.pending().get_untracked() || denied.get_untracked().is_some() {
            return;
        }
        create.dispatch(CreateTokenRequest {
            label: label.get_untracked().trim().to_owned(),
        });
    };
    view! {
        <form class="card form" on:submit=submit novalidate aria-labelledby="new-token-heading">
            <h2 id="new-token-heading">"New token"</h2>
            {TextBox::new("token-label", "Label", label)
                .max_length("80")
                .placeholder("laptop")
                .message(error_id("token", "label"), label_message)
                .view()}
            <div class="form-actions">
                <button
                    type="submit"
                    class="button"
                    disabled=move || create.pending().get() || denied.with(Option::is_some)
                    aria-describedby=move || denied.with(Option::is_some).then_some("token-create-denied")
                >
                    "Create token"
                </button>
                {move || create.pending().get().then(|| view! { <span role="status">"Creating…"</span> })}
                {move || denied.get().map(|reason| view! { <p class="hint denied" id="token-create-denied">{reason}</p> })}
            </div>
            {move || match create.value().get() {
                Some(Err(error)) => Some(view! { <ErrorNotice error=error /> }),
                _ => None,
            }}
        </form>
    }
}

/// The new token's secret, shown once with a copy button.
#[component]
fn TokenSecret(shown: ShownToken, on_dismiss: Callback<()>) -> impl IntoView {
    view! {
        <OneTimeSecret
            heading=format!("Token “{}”", shown.label)
            purpose="It signs in on the sign-in page and works as an Authorization: Bearer token."
            secret=shown.secret
            what="token"
            on_dismiss
        />
    }
}

/// One token: label, last four characters, created; revoke after a confirmation.
#[component]
fn TokenCard(user_id: String, token: ApiToken, on_revoked: Callback<String>) -> impl IntoView {
    let confirm = RwSignal::new(false);
    let (token_id, label) = (token.id.clone(), token.label.clone());
    let revoke = Action::new_local(move |(): &()| {
        let (user_id, token_id, label) = (user_id.clone(), token_id.clone(), label.clone());
        async move {
            api::revoke_token(&user_id, &token_id).await?;
            on_revoked.try_run(label);
            Ok::<(), ApiError>(())
        }
    });
    let busy = move || revoke.pending().get();
    let question = format!("Revoke “{}”?", token.label);
    view! {
        <li class="card token">
            <div class="card-head">
                <h3>{token.label.clone()}</h3>
                <code>{format!("…{}", token.last4)}</code>
            </div>
            <p class="meta">"Created " <Time at=token.created_at.clone() /></p>
            <div class="card-actions">
                <button
                    type="button"
                    class="button small danger"
                    disabled=busy
                    on:click=move |_| confirm.set(true)
                >
                    "Revoke" <span class="visually-hidden">" " {token.label}</span>
                </button>
            </div>
            {move || confirm.get().then(|| view! {
                <ConfirmStep
                    label="Revoke token"
                    question=question.clone()
                    consequence="It stops working, and its sessions end, at once."
                    danger=true
                    busy=Signal::derive(busy)
                    on_confirm=Callback::new(move |()| {
                        revoke.dispatch(());
                    })
                    on_cancel=Callback::new(move |()| confirm.set(false))
                />
            })}
            {move || busy().then(|| view! { <p role="status">"Working…"</p> })}
            {move || match revoke.value().get() {
                Some(Err(error)) => Some(view! { <ErrorNotice error /> }),
                _ => None,
            }}
        </li>
    }
}
