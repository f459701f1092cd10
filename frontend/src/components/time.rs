//! Times as people read them at 3 a.m.: recent ones relative ("4 minutes ago"), older ones
//! in the viewer's own zone and locale, the exact UTC time in the tooltip and in
//! `<time datetime>`. The words come from the browser's `Intl.RelativeTimeFormat` and
//! `Intl.DateTimeFormat` (`format::relative_time`, `format::display_time`).
//!
//! One [`Clock`] for the whole app ticks every 30 seconds, so every relative time on
//! screen stays current while a page is open.

use leptos::prelude::*;

use crate::format::{display_time, relative_time, utc_time};

/// How often relative times are brought up to date.
const TICK_MS: u32 = 30_000;

/// Now, as a tracked read: a view that reads [`Clock::now`] is redrawn on every tick
/// ([`TICK_MS`]). A trigger, not a signal of a number: it carries no value, only "time
/// moved on", and costs the bundle nothing per type.
#[derive(Debug, Clone, Copy)]
pub struct Clock(Trigger);

impl Clock {
    /// Starts the clock for the app; call once, at the root.
    pub fn provide() {
        let tick = Trigger::new();
        let ticking = set_interval_with_handle(
            move || tick.notify(),
            std::time::Duration::from_millis(u64::from(TICK_MS)),
        );
        if let Ok(ticking) = ticking {
            on_cleanup(move || ticking.clear());
        }
        provide_context(Self(tick));
    }

    /// The app's clock.
    pub fn expect() -> Self {
        expect_context()
    }

    /// Now (ms since the epoch), tracked.
    pub fn now(self) -> f64 {
        self.0.track();
        js_sys::Date::now()
    }
}

/// An RFC 3339 time: relative when recent, else local; exact UTC on hover.
#[component]
pub fn Time(
    /// RFC 3339, as the API answers.
    #[prop(into)]
    at: String,
) -> impl IntoView {
    let clock = Clock::expect();
    let title = utc_time(&at);
    let shown = at.clone();
    view! {
        <time datetime=at title=title>
            {move || relative_time(&shown, clock.now()).unwrap_or_else(|| display_time(&shown))}
        </time>
    }
}
