//! Rate limits: failed sign-ins per client address and runs per user, each counted in a
//! fixed one-minute window (`store/rate_limits.rs` keeps the counters in D1). This module
//! holds the pure parts: which window a moment falls in, how long until it ends (the
//! `Retry-After`), and the client address to count against.

use worker::Request;

use crate::http::header;

/// The length of every rate-limit window.
pub const WINDOW_MS: i64 = 60_000;

/// Default failed sign-ins per minute from one client address.
pub const DEFAULT_SIGN_IN_FAILURES_PER_MINUTE: i64 = 10;
/// Default runs per minute per user.
pub const DEFAULT_RUNS_PER_MINUTE_PER_USER: i64 = 30;

/// Stands in for the client address when `CF-Connecting-IP` is missing. Cloudflare's
/// edge always sets that header in production, overwriting whatever the client sent, so
/// it cannot be forged there. `wrangler dev` (miniflare's entry worker) sets it to the
/// loopback peer's address unless the request already carries one, which is how the e2e
/// tests play several clients. So this fallback only applies to requests that bypass
/// both; counting them all as one client errs on the strict side.
pub const UNKNOWN_CLIENT: &str = "unknown";

/// The fixed window a moment falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// When it began (ms since the epoch, a multiple of `WINDOW_MS`).
    pub start_ms: i64,
    /// Whole seconds until it ends, rounded up and at least 1: the `Retry-After`.
    pub retry_after_secs: i64,
}

impl Window {
    /// The window that contains `now_ms`.
    pub fn at(now_ms: i64) -> Self {
        let start_ms = now_ms - now_ms.rem_euclid(WINDOW_MS);
        let remaining_ms = start_ms + WINDOW_MS - now_ms;
        // Rounded up, so a client that waits that long is in the next window.
        let retry_after_secs = ((remaining_ms + 999) / 1000).max(1);
        Self {
            start_ms,
            retry_after_secs,
        }
    }
}

/// A limit setting (`SIGN_IN_FAILURES_PER_MINUTE`, `RUNS_PER_MINUTE_PER_USER`): a
/// positive integer, else `default`.
pub fn parse_limit(raw: Option<&str>, default: i64) -> i64 {
    raw.and_then(|value| value.trim().parse::<i64>().ok())
        .filter(|limit| *limit > 0)
        .unwrap_or(default)
}

/// Whether the `count`th event of a window is over `limit`.
pub fn exceeds(count: i64, limit: i64) -> bool {
    count > limit
}

/// The client's address as Cloudflare reports it.
pub fn client_ip(req: &Request) -> String {
    client_ip_from(header(req, "CF-Connecting-IP").as_deref())
}

/// `client_ip`, from the header value.
pub fn client_ip_from(value: Option<&str>) -> String {
    value
        .map(str::trim)
        .filter(|ip| !ip.is_empty())
        .map_or_else(|| UNKNOWN_CLIENT.to_owned(), str::to_owned)
}

/// The counter of failed sign-ins from one address.
pub fn sign_in_bucket(ip: &str) -> String {
    format!("sign_in_failures:ip:{ip}")
}

/// What every runs bucket starts with (SQL appends the user id in `store::runs`).
pub const RUNS_BUCKET_PREFIX: &str = "runs:user:";

/// The counter of one user's runs.
pub fn runs_bucket(user_id: &str) -> String {
    format!("{RUNS_BUCKET_PREFIX}{user_id}")
}

/// The Events API throttle of one service: a token bucket that holds `burst` tokens and
/// refills at `per_minute` (`store::intake` keeps it in D1). A token bucket, not a fixed
/// window, so a monitor that sends a storm after a quiet hour gets the whole burst, and
/// a steady sender gets the sustained rate.
///
/// Why not the Workers Rate Limiting binding: its counts are per location and eventually
/// consistent, its period is 10 or 60 s with no burst, and its limit is fixed in the
/// deploy config. Events already make one D1 round trip; the bucket rides in that batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRate {
    /// Tokens added per minute (`EVENTS_PER_MINUTE`).
    pub per_minute: i64,
    /// Tokens the bucket holds at most (`EVENT_BURST`).
    pub burst: i64,
}

impl EventRate {
    /// Whole seconds until a bucket that held `tokens` at `refilled_at` has one token,
    /// rounded up and at least 1: the `Retry-After` of a throttled event.
    pub fn retry_after_secs(self, tokens: f64, refilled_at: i64, now_ms: i64) -> i64 {
        let per_ms = self.per_minute as f64 / 60_000.0;
        let elapsed = (now_ms - refilled_at).max(0) as f64;
        let now_tokens = (tokens + elapsed * per_ms).min(self.burst as f64);
        let wait_ms = ((1.0 - now_tokens).max(0.0) / per_ms).ceil();
        // Bounded by a minute per token, so the conversion cannot overflow.
        ((wait_ms as i64 + 999) / 1000).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: EventRate = EventRate {
        per_minute: 120,
        burst: 240,
    };

    #[test]
    fn an_empty_bucket_at_120_a_minute_has_a_token_again_within_a_second() {
        assert_eq!(EVENTS.retry_after_secs(0.0, 1_000, 1_000), 1);
        assert_eq!(EVENTS.retry_after_secs(0.9, 1_000, 1_000), 1);
    }

    #[test]
    fn a_slow_rate_tells_the_client_to_wait_for_its_next_token() {
        let one_a_minute = EventRate {
            per_minute: 1,
            burst: 3,
        };
        assert_eq!(one_a_minute.retry_after_secs(0.0, 0, 0), 60);
        assert_eq!(one_a_minute.retry_after_secs(0.0, 0, 30_000), 30);
        assert_eq!(one_a_minute.retry_after_secs(0.5, 0, 0), 30);
    }

    #[test]
    fn a_window_starts_on_the_minute() {
        assert_eq!(Window::at(120_000).start_ms, 120_000);
        assert_eq!(Window::at(179_999).start_ms, 120_000);
        assert_eq!(Window::at(180_000).start_ms, 180_000);
    }

    #[test]
    fn retry_after_is_the_rest_of_the_window_rounded_up() {
        assert_eq!(Window::at(120_000).retry_after_secs, 60);
        assert_eq!(Window::at(120_001).retry_after_secs, 60);
        assert_eq!(Window::at(121_000).retry_after_secs, 59);
        assert_eq!(Window::at(178_500).retry_after_secs, 2);
        assert_eq!(Window::at(179_999).retry_after_secs, 1);
    }

    #[test]
    fn waiting_retry_after_lands_in_the_next_window() {
        for now in [120_000, 120_001, 150_123, 179_999] {
            let window = Window::at(now);
            let later = Window::at(now + window.retry_after_secs * 1000);
            assert_eq!(later.start_ms, window.start_ms + WINDOW_MS, "at {now}");
        }
    }

    #[test]
    fn the_nth_event_is_allowed_and_the_next_is_not() {
        assert!(!exceeds(10, 10));
        assert!(exceeds(11, 10));
    }

    #[test]
    fn a_limit_setting_must_be_a_positive_integer() {
        assert_eq!(parse_limit(Some("3"), 10), 3);
        assert_eq!(parse_limit(Some(" 7 "), 10), 7);
        assert_eq!(parse_limit(Some("0"), 10), 10);
        assert_eq!(parse_limit(Some("-1"), 10), 10);
        assert_eq!(parse_limit(Some("many"), 10), 10);
        assert_eq!(parse_limit(None, 30), 30);
    }

    #[test]
    fn a_missing_client_address_counts_as_the_unknown_client() {
        assert_eq!(client_ip_from(Some("203.0.113.7")), "203.0.113.7");
        assert_eq!(client_ip_from(Some("  ")), UNKNOWN_CLIENT);
        assert_eq!(client_ip_from(None), UNKNOWN_CLIENT);
    }

    #[test]
    fn buckets_keep_addresses_and_users_apart() {
        assert_ne!(sign_in_bucket("u1"), runs_bucket("u1"));
        assert_eq!(runs_bucket("usr_1"), "runs:user:usr_1");
    }
}
