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

/// Now (ms since the epoch), refreshed every [`TICK_MS`].
#[derive(Debug, Clone, Copy)]
pub struct Clock(ReadSignal<f64>);

impl Clock {
    /// Starts the clock for the app; call once, at the root.
    pub fn provide() {
        let (now, set_now) = signal(js_sys::Date::now());
        let tick = set_interval_with_handle(
            move || set_now.set(js_sys::Date::now()),
            std::time::Duration::from_millis(u64::from(TICK_MS)),
        );
        if let Ok(tick) = tick {
            on_cleanup(move || tick.clear());
        }
        provide_context(Self(now));
    }

    /// The app's clock.
    pub fn expect() -> Self {
        expect_context()
    }

    /// Now, tracked: a view that reads it is redrawn on every tick.
    pub fn now(self) -> f64 {
        self.0.get()
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
