//! Client-side navigation: which page the address shows, links that change it without a
//! reload, and the back and forward buttons.
//!
//! The app has a fixed handful of routes, at most one `:id` each, so a router of its own
//! replaces `leptos_router`, whose general machinery (nested route tuples, matching,
//! transitions) was a tenth of the bundle. It keeps what the app relied on: a same-origin
//! `<a href>` click navigates in place (not with a modifier key or another mouse button,
//! nor for a link with a `target`, `download` or `rel="external"`, which the browser
//! handles); back and forward show the page of the address; a new address starts at the
//! top of the page (or at its `#fragment`); a link to a fragment of the page on show is the
//! browser's own jump (the skip link moves focus that way); the navigation marks the
//! current section with `aria-current="page"`.
//!
//! The address is read from `window.location` each time it changes, so the browser stays
//! the one source of truth; matching and query parsing are plain functions with tests.

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

/// The pages, without their `:id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `/sign-in`.
    SignIn,
    /// `/` and `/incidents`.
    Incidents,
    /// `/incidents/:id`.
    Incident,
    /// `/services`.
    Services,
    /// `/services/:id/actions`.
    Actions,
    /// `/users`.
    Users,
    /// `/users/:id/tokens`.
    UserTokens,
    /// `/audit`.
    Audit,
    /// Anything else.
    NotFound,
}

impl Page {
    /// Whether the page is drawn inside the signed-in frame (header, session check).
    pub fn in_shell(self) -> bool {
        !matches!(self, Self::SignIn | Self::NotFound)
    }
}

/// The page a path shows and its `:id`, percent-decoded. One trailing slash is forgiven.
pub fn match_path(path: &str) -> (Page, Option<String>) {
    let path = match path.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() => trimmed,
        _ => path,
    };
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let id = |segment: &str| Some(percent_decode(segment, false));
    match segments.as_slice() {
        [""] | ["incidents"] => (Page::Incidents, None),
        ["sign-in"] => (Page::SignIn, None),
        ["incidents", id_segment] if !id_segment.is_empty() => (Page::Incident, id(id_segment)),
        ["services"] => (Page::Services, None),
        ["services", id_segment, "actions"] if !id_segment.is_empty() => {
            (Page::Actions, id(id_segment))
        }
        ["users"] => (Page::Users, None),
        ["users", id_segment, "tokens"] if !id_segment.is_empty() => {
            (Page::UserTokens, id(id_segment))
        }
        ["audit"] => (Page::Audit, None),
        _ => (Page::NotFound, None),
    }
}

/// Undoes percent-encoding (and, in a query, `+` for a space) as a browser's
/// `URLSearchParams` does; a malformed escape is kept as written.
pub fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        let hex = |at: usize| bytes.get(at).and_then(|b| char::from(*b).to_digit(16));
        match (byte, hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                // Two hex digits are at most 0xFF: the cast cannot truncate.
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
            (b'+', _, _) if plus_is_space => out.push(b' '),
            _ => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first value of `key` in a query string (`?a=1&b=2`, with or without the `?`).
pub fn query_value(search: &str, key: &str) -> Option<String> {
    search
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .find(|(name, _)| percent_decode(name, true) == key)
        .map(|(_, value)| percent_decode(value, true))
}

/// Whether a navigation link to `href` is for the section `path` is in: the address
/// itself or one below it (`/incidents` for `/incidents/inc_1`).
pub fn is_current(href: &str, path: &str) -> bool {
    path.strip_prefix(href)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The address as the app reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Address {
    /// `/incidents`.
    path: String,
    /// `?status=triggered`, or empty.
    search: String,
}

impl Address {
    fn current() -> Self {
        let location = window().location();
        Self {
            path: location.pathname().unwrap_or_default(),
            search: location.search().unwrap_or_default(),
        }
    }
}

/// The app's router, shared by every component through context.
#[derive(Debug, Clone, Copy)]
pub struct Router {
    address: RwSignal<Address>,
    matched: Memo<(Page, Option<String>)>,
    page: Memo<Page>,
}

impl Router {
    /// Reads the address, starts following link clicks and history moves, and makes the
    /// router available to every component below.
    pub fn provide() -> Self {
        let address = RwSignal::new(Address::current());
        let matched = Memo::new(move |_| address.with(|address| match_path(&address.path)));
        // Only a change of page draws a new page; a new `:id` or query is the same page
        // reading new values.
        let page = Memo::new(move |_| matched.with(|matched| matched.0));
        let router = Self {
            address,
            matched,
            page,
        };
        let clicks = window_event_listener(ev::click, move |ev| router.follow_link(&ev));
        let moves = window_event_listener(ev::popstate, move |_| router.sync());
        on_cleanup(move || {
            clicks.remove();
            moves.remove();
        });
        provide_context(router);
        router
    }

    /// The app's router.
    pub fn expect() -> Self {
        expect_context()
    }

    /// The page the address shows; tracked.
    pub fn page(self) -> Memo<Page> {
        self.page
    }

    /// The `:id` of `page` while it is shown. Leaving the page keeps the last one, so a
    /// page on its way out never loads with the next page's id (or none).
    pub fn id_of(self, page: Page) -> Memo<String> {
        let matched = self.matched;
        Memo::new(move |last: Option<&String>| {
            matched.with(|(shown, id)| match id {
                Some(id) if *shown == page => id.clone(),
                _ => last.cloned().unwrap_or_default(),
            })
        })
    }

    /// The first value of `key` in the query string while `page` is shown, or empty; like
    /// [`Self::id_of`], leaving the page keeps the last value.
    pub fn query_of(self, page: Page, key: &'static str) -> Memo<String> {
        let (matched, address) = (self.matched, self.address);
        Memo::new(move |last: Option<&String>| {
            if matched.with(|matched| matched.0 == page) {
                address
                    .with(|address| query_value(&address.search, key))
                    .unwrap_or_default()
            } else {
                last.cloned().unwrap_or_default()
            }
        })
    }

    /// The first value of `key` in the query string, read once.
    pub fn query_now(self, key: &str) -> Option<String> {
        self.address
            .with_untracked(|address| query_value(&address.search, key))
    }

    /// Goes to `to` (a path on this site, with any query and fragment), as a new history
    /// entry, and starts at the top of the page (or at the fragment).
    pub fn navigate(self, to: &str) {
        let window = window();
        let location = window.location();
        let here = [location.pathname(), location.search(), location.hash()]
            .map(Result::unwrap_or_default)
            .concat();
        // Going where it already is (its own link in the navigation) adds no entry to go
        // back to.
        if here != to {
            if let Ok(history) = window.history() {
                let _ = history.push_state_with_url(&JsValue::NULL, "", Some(to));
            }
        }
        self.sync();
        scroll_to_fragment_or_top();
    }

    /// Takes the address from the browser, telling the pages only when it changed (a jump
    /// to a fragment of the page on show changes neither path nor query).
    fn sync(self) {
        let now = Address::current();
        if self.address.with_untracked(|shown| *shown != now) {
            self.address.set(now);
        }
    }

    /// A click on a link to a page of this app: navigate in place rather than reload.
    fn follow_link(self, ev: &ev::MouseEvent) {
        if ev.default_prevented()
            || ev.button() != 0
            || ev.meta_key()
            || ev.alt_key()
            || ev.ctrl_key()
            || ev.shift_key()
        {
            return;
        }
        let Some(link) = ev
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .and_then(|element| element.closest("a[href]").ok().flatten())
            .and_then(|element| element.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        else {
            return;
        };
        let external = link
            .get_attribute("rel")
            .is_some_and(|rel| rel.split_ascii_whitespace().any(|word| word == "external"));
        if !link.target().is_empty() || link.has_attribute("download") || external {
            return;
        }
        let here = window().location();
        if here.origin().ok() != Some(link.origin()) {
            return;
        }
        let (path, search, hash) = (link.pathname(), link.search(), link.hash());
        let same_page = here.pathname().ok() == Some(path.clone())
            && here.search().ok() == Some(search.clone());
        // A fragment of the page on show (the skip link): the browser's own jump, which
        // also moves the keyboard there.
        if same_page && !hash.is_empty() {
            return;
        }
        ev.prevent_default();
        self.navigate(&format!("{path}{search}{hash}"));
    }
}

fn scroll_to_fragment_or_top() {
    let window = window();
    let hash = window.location().hash().unwrap_or_default();
    let target = hash
        .strip_prefix('#')
        .filter(|id| !id.is_empty())
        .and_then(|id| document().get_element_by_id(&percent_decode(id, false)));
    match target {
        Some(element) => element.scroll_into_view(),
        None => window.scroll_to_with_x_and_y(0.0, 0.0),
    }
}

/// A link in the site's navigation: `aria-current="page"` while the address is in its
/// section.
#[component]
pub fn NavLink(
    /// Where it goes.
    href: &'static str,
    /// Its text.
    children: Children,
) -> impl IntoView {
    let router = Router::expect();
    view! {
        <a
            href=href
            aria-current=move || router.address.with(|address| is_current(href, &address.path)).then_some("page")
        >
            {children()}
        </a>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_is_matched_with_its_id() {
        assert_eq!(match_path("/"), (Page::Incidents, None));
        assert_eq!(match_path("/incidents"), (Page::Incidents, None));
        assert_eq!(match_path("/incidents/"), (Page::Incidents, None));
        assert_eq!(
            match_path("/incidents/inc_1"),
            (Page::Incident, Some("inc_1".into()))
        );
        assert_eq!(match_path("/services"), (Page::Services, None));
        assert_eq!(
            match_path("/services/svc_1/actions"),
            (Page::Actions, Some("svc_1".into()))
        );
        assert_eq!(match_path("/users"), (Page::Users, None));
        assert_eq!(
            match_path("/users/usr_1/tokens/"),
            (Page::UserTokens, Some("usr_1".into()))
        );
        assert_eq!(match_path("/audit"), (Page::Audit, None));
        assert_eq!(match_path("/sign-in"), (Page::SignIn, None));
    }

    #[test]
    fn anything_else_is_not_found() {
        for path in [
            "/nope",
            "/incidents/inc_1/more",
            "/services/svc_1",
            "/services//actions",
            "/users/usr_1",
            "//incidents",
            "",
        ] {
            assert_eq!(match_path(path).0, Page::NotFound, "{path}");
        }
    }

    #[test]
    fn only_the_sign_in_and_not_found_pages_are_outside_the_frame() {
        assert!(!Page::SignIn.in_shell());
        assert!(!Page::NotFound.in_shell());
        assert!(Page::Incident.in_shell());
        assert!(Page::Audit.in_shell());
    }

    #[test]
    fn an_id_is_percent_decoded() {
        assert_eq!(match_path("/incidents/inc%201").1.as_deref(), Some("inc 1"));
        assert_eq!(match_path("/incidents/a+b").1.as_deref(), Some("a+b"));
    }

    #[test]
    fn query_values_are_decoded_as_a_browser_does() {
        let search = "?service_id=svc%201&status=triggered&next=%2Fservices%3Fa%3D1&q=a+b";
        assert_eq!(query_value(search, "service_id").as_deref(), Some("svc 1"));
        assert_eq!(query_value(search, "status").as_deref(), Some("triggered"));
        assert_eq!(
            query_value(search, "next").as_deref(),
            Some("/services?a=1")
        );
        assert_eq!(query_value(search, "q").as_deref(), Some("a b"));
        assert_eq!(query_value(search, "missing"), None);
        assert_eq!(query_value("", "status"), None);
        assert_eq!(query_value("?flag&x=1", "flag").as_deref(), Some(""));
        assert_eq!(query_value("?x=1&x=2", "x").as_deref(), Some("1"));
    }

    #[test]
    fn a_malformed_escape_is_kept_and_utf_8_is_decoded() {
        assert_eq!(percent_decode("100%", false), "100%");
        assert_eq!(percent_decode("%zz", false), "%zz");
        assert_eq!(percent_decode("%C3%A9", false), "é");
    }

    #[test]
    fn a_navigation_link_is_current_in_its_whole_section() {
        assert!(is_current("/incidents", "/incidents"));
        assert!(is_current("/incidents", "/incidents/inc_1"));
        assert!(!is_current("/incidents", "/"));
        assert!(!is_current("/users", "/users-old"));
        assert!(!is_current("/audit", "/incidents"));
    }
}
