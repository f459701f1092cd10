//! The users page (admin and up): who may sign in and with which role; invite someone by
//! creating their user, change a role, delete a user after a confirmation.
//!
//! The role choices come from `shared::user::grantable_roles`, so an admin is never offered
//! `admin` or `owner`; the worker refuses them anyway and its message is shown.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::api::{CreateUserRequest, UpdateUserRequest, User};
use shared::roles::{Permission, Role};
use shared::FieldError;

use crate::api::{self, encode_component};
use crate::components::{
    ConfirmStep, ErrorNotice, Field, FieldAria, Loading, TextBox, TextKind, Time,
};
use crate::forms::{error_id, field_errors_of, FormErrors};
use crate::permissions::user_change_denial;
use crate::session::Session;
use shared::user::grantable_roles;

/// `/users`.
#[component]
pub fn UsersPage() -> impl IntoView {
    let session = Session::expect();
    view! {
        <div class="page">
            <h1>"Users"</h1>
            <p class="lead">
                "Everyone who may sign in, and what their role lets them do. Each user signs in with an API token made on their tokens page."
            </p>
            {move || match session.denial(Permission::ManageUsers, "Managing users") {
                Some(reason) => view! { <p class="notice error" role="alert">{reason}</p> }.into_any(),
                None => view! { <UserDirectory /> }.into_any(),
            }}
        </div>
    }
}

/// The create form and the list, for a caller who may manage users.
#[component]
fn UserDirectory() -> impl IntoView {
    let users = LocalResource::new(api::list_users);
    let notice = RwSignal::new(None::<String>);
    let on_created = Callback::new(move |user: User| {
        notice.set(Some(format!(
            "User “{}” created. Make them a token so they can sign in.",
            user.name
        )));
        users.refetch();
    });
    let on_changed = Callback::new(move |message: String| {
        notice.set(Some(message));
        users.refetch();
    });
    view! {
        <CreateUserForm on_created />
        {move || notice.get().map(|text| view! { <p class="notice success" role="status">{text}</p> })}
        <section aria-labelledby="user-list-heading">
            <h2 id="user-list-heading">"People"</h2>
            {move || match users.get() {
                None => view! { <Loading what="Loading users…" /> }.into_any(),
                Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                Some(Ok(list)) if list.users.is_empty() => view! {
                    <p class="empty">"No users yet: only the ADMIN_TOKEN can sign in. Create one above."</p>
                }
                .into_any(),
                Some(Ok(list)) => view! {
                    <ul class="card-list">
                        {list.users.into_iter().map(|user| view! { <UserCard user on_changed /> }).collect_view()}
                    </ul>
                }
                .into_any(),
            }}
        </section>
    }
}

/// A `<select>` of the roles the signed-in caller may grant, plus `current` if it is not
/// one of them (so the select shows the truth).
fn role_options(caller: Role, current: Role) -> Vec<Role> {
    let mut roles = grantable_roles(caller);
    if !roles.contains(&current) {
        roles.push(current);
        roles.sort();
    }
    roles
}

/// Invite someone: name, e-mail and role.
#[component]
fn CreateUserForm(on_created: Callback<User>) -> impl IntoView {
    let session = Session::expect();
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Observer.as_str().to_owned());
    let server_errors = RwSignal::new(Vec::<FieldError>::new());
    let errors = FormErrors::server_only(server_errors);

    let create = Action::new_local(move |request: &CreateUserRequest| {
        let request = request.clone();
        async move {
            let answer = api::create_user(request).await;
            match &answer {
                Ok(created) => {
                    name.set(String::new());
                    email.set(String::new());
                    on_created.try_run(created.user.clone());
                }
                Err(error) => server_errors.set(field_errors_of(error)),
            }
            answer.map(drop)
        }
    });

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        server_errors.set(Vec::new());
        if create.pending().get_untracked() {
            return;
        }
        create.dispatch(CreateUserRequest {
            name: name.get_untracked().trim().to_owned(),
            email: email.get_untracked().trim().to_owned(),
            role: role.get_untracked(),
        });
    };

    let (name_message, email_message, role_message) = (
        errors.signal("name"),
        errors.signal("email"),
        errors.signal("role"),
    );
    view! {
        <form class="card form" on:submit=submit novalidate aria-labelledby="new-user-heading">
            <h2 id="new-user-heading">"New user"</h2>
            {TextBox::new("user-name", "Name", name)
                .max_length("80")
                .message(error_id("user", "name"), name_message)
                .view()}
            {TextBox::new("user-email", "E-mail", email)
                .kind(TextKind::Email)
                .message(error_id("user", "email"), email_message)
                .view()}
            <Field
                id="user-role"
                label="Role"
                hint=Signal::derive(move || if session.role() == Role::Owner {
                    "You may grant any role.".to_owned()
                } else {
                    "Only an owner grants admin or owner.".to_owned()
                })
                error_id=error_id("user", "role")
                message=role_message
                let(aria: FieldAria)
            >
                <select
                    id="user-role"
                    on:change=move |ev| role.set(event_target_value(&ev))
                    prop:value=move || role.get()
                    aria-invalid=aria.invalid
                    aria-describedby=aria.described_by
                >
                    {move || grantable_roles(session.role()).into_iter().map(|option| view! {
                        <option value=option.as_str() selected=move || role.get() == option.as_str()>
                            {option.as_str()}
                        </option>
                    }).collect_view()}
                </select>
            </Field>
            <div class="form-actions">
                <button type="submit" class="button" disabled=move || create.pending().get()>
                    "Create user"
                </button>
                {move || create.pending().get().then(|| view! { <span role="status">"Creating…"</span> })}
            </div>
            {move || match create.value().get() {
                Some(Err(error)) => Some(view! { <ErrorNotice error=error /> }),
                _ => None,
            }}
        </form>
    }
}

/// What a user card asks the API to do.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    Role(String),
    Delete,
}

/// One user: facts, role change, tokens link, delete after a confirmation.
#[component]
fn UserCard(user: User, on_changed: Callback<String>) -> impl IntoView {
    let session = Session::expect();
    let target = user.role;
    let denied = move || user_change_denial(session.role(), target);
    let chosen = RwSignal::new(user.role.as_str().to_owned());
    let confirm_delete = RwSignal::new(false);
    let stored = StoredValue::new(user.clone());

    let change = Action::new_local(move |change: &Change| {
        let change = change.clone();
        let user = stored.get_value();
        async move {
            match change {
                Change::Role(role) => {
                    let request = UpdateUserRequest {
                        role: Some(role.clone()),
                        ..UpdateUserRequest::default()
                    };
                    let answer = api::update_user(&user.id, request).await?;
                    // A promotion may revoke tokens someone else minted: say so.
                    let notice = answer
                        .notice
                        .map_or(String::new(), |notice| format!(" {notice}."));
                    on_changed.try_run(format!("{} is now {role}.{notice}", user.name));
                }
                Change::Delete => {
                    api::delete_user(&user.id).await?;
                    on_changed.try_run(format!("User “{}” deleted.", user.name));
                }
            }
            Ok::<(), api::ApiError>(())
        }
    });
    let busy = move || change.pending().get();
    let off = move || busy() || denied().is_some();

    let role_id = format!("role-{}", user.id);
    let denied_id = format!("user-{}-denied", user.id);
    let described_by = {
        let denied_id = denied_id.clone();
        move || denied().map(|_| denied_id.clone())
    };
    let tokens_href = format!("/users/{}/tokens", encode_component(&user.id));
    let name = user.name.clone();
    view! {
        <li class="card user">
            <div class="card-head">
                <h3>{user.name.clone()}</h3>
                <span class="badge">{user.role.as_str()}</span>
            </div>
            <dl class="facts">
                <dt>"E-mail"</dt>
                <dd>{user.email.clone()}</dd>
                <dt>"Created"</dt>
                <dd><Time at=user.created_at /></dd>
            </dl>
            <div class="card-actions">
                <label for=role_id.clone()>"Role"</label>
                <select
                    id=role_id
                    disabled=off
                    aria-describedby=described_by.clone()
                    on:change=move |ev| chosen.set(event_target_value(&ev))
                    prop:value=move || chosen.get()
                >
                    {move || role_options(session.role(), target).into_iter().map(|option| view! {
                        <option value=option.as_str() selected=move || chosen.get() == option.as_str()>
                            {option.as_str()}
                        </option>
                    }).collect_view()}
                </select>
                <button
                    type="button"
                    class="button small secondary"
                    disabled=move || off() || chosen.get() == target.as_str()
                    aria-describedby=described_by.clone()
                    on:click=move |_| {
                        change.dispatch(Change::Role(chosen.get_untracked()));
                    }
                >
                    "Save role" <span class="visually-hidden">" of " {name.clone()}</span>
                </button>
                <a class="button small secondary" href=tokens_href>
                    "Tokens" <span class="visually-hidden">" of " {name.clone()}</span>
                </a>
                <button
                    type="button"
                    class="button small danger"
                    disabled=off
                    aria-describedby=described_by
                    on:click=move |_| confirm_delete.set(true)
                >
                    "Delete" <span class="visually-hidden">" " {name}</span>
                </button>
            </div>
            {move || denied().map(|reason| view! { <p class="hint denied" id=denied_id.clone()>{reason}</p> })}
            {move || confirm_delete.get().then(|| view! {
                <ConfirmStep
                    label="Delete user"
                    question=format!("Delete “{}”?", stored.with_value(|u| u.name.clone()))
                    consequence="Their tokens stop working and their sessions end at once."
                    danger=true
                    busy=Signal::derive(busy)
                    on_confirm=Callback::new(move |()| {
                        change.dispatch(Change::Delete);
                    })
                    on_cancel=Callback::new(move |()| confirm_delete.set(false))
                />
            })}
            {move || busy().then(|| view! { <p role="status">"Working…"</p> })}
            {move || match change.value().get() {
                Some(Err(error)) => Some(view! { <ErrorNotice error /> }),
                _ => None,
            }}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_admin_sees_an_owner_s_role_among_the_choices_without_being_offered_it() {
        let options = role_options(Role::Admin, Role::Owner);
        assert_eq!(options.last(), Some(&Role::Owner));
        assert!(!options.contains(&Role::Admin));
    }

    #[test]
    fn an_owner_is_offered_every_role_once() {
        assert_eq!(role_options(Role::Owner, Role::Admin), Role::ALL.to_vec());
    }
}
