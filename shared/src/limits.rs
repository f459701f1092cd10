//! Every limit the product promises, in one place, so the docs, the checks and the
//! boundary tests all point at the same numbers.

/// Custom incident actions one service may hold.
pub const MAX_ACTIONS_PER_SERVICE: usize = 3;
/// Characters in an action's button label, after trimming.
pub const MAX_ACTION_NAME_CHARS: usize = 40;
/// Characters in an action or service description.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// Characters in a service name, after trimming.
pub const MAX_SERVICE_NAME_CHARS: usize = 80;
/// Characters in an endpoint URL.
pub const MAX_ENDPOINT_URL_CHARS: usize = 2048;
/// Custom headers one action may send.
pub const MAX_HEADERS_PER_ACTION: usize = 10;
/// Bytes in one custom header value.
pub const MAX_HEADER_VALUE_BYTES: usize = 4096;
/// Bytes in a header name.
pub const MAX_HEADER_NAME_BYTES: usize = 256;

/// Characters in an incident's title (an event's summary, or typed), after trimming.
pub const MAX_INCIDENT_TITLE_CHARS: usize = 1024;
/// Characters in an incident's details typed by hand (shown as text).
pub const MAX_INCIDENT_DETAILS_CHARS: usize = 10_000;

/// Characters in a note on an incident's timeline, after trimming.
pub const MAX_NOTE_CHARS: usize = 2000;

/// Characters in a reply's `note` (the reply contract: `shared::reply`).
pub const MAX_REPLY_NOTE_CHARS: usize = 2000;
/// Links one reply may attach to the incident.
pub const MAX_REPLY_LINKS: usize = 5;
/// Characters in a reply link's `href`.
pub const MAX_REPLY_LINK_HREF_CHARS: usize = 2048;
/// Characters in a reply link's `text`.
pub const MAX_REPLY_LINK_TEXT_CHARS: usize = 100;
/// Characters in a reply's `summary`, the run's one-line result.
pub const MAX_REPLY_SUMMARY_CHARS: usize = 140;

/// Bytes in an Events API v2 request body (PagerDuty's limit).
pub const MAX_EVENT_BODY_BYTES: usize = 512 * 1024;
/// Characters in an event's `payload.summary`.
pub const MAX_EVENT_SUMMARY_CHARS: usize = 1024;
/// Characters in an event's `payload.source`, `component`, `group` and `class`.
pub const MAX_EVENT_FIELD_CHARS: usize = 255;
/// Bytes in an event's `payload.custom_details`, serialized as compact JSON.
pub const MAX_CUSTOM_DETAILS_BYTES: usize = 64 * 1024;
/// Events per minute one service's routing key may send, sustained (`EVENTS_PER_MINUTE`).
pub const DEFAULT_EVENTS_PER_MINUTE: i64 = 120;
/// Events one service's routing key may send at once before the sustained rate applies
/// (`EVENT_BURST`).
pub const DEFAULT_EVENT_BURST: i64 = 240;
/// Incidents one service keeps; past this the scheduled handler prunes the oldest
/// resolved ones (`MAX_INCIDENTS_PER_SERVICE`).
pub const DEFAULT_MAX_INCIDENTS_PER_SERVICE: i64 = 100_000;
/// Hours an old routing key keeps working after a rotation, when not said.
pub const DEFAULT_ROUTING_KEY_GRACE_HOURS: u32 = 24;
/// The longest grace period of an old routing key, in hours (a week).
pub const MAX_ROUTING_KEY_GRACE_HOURS: u32 = 168;
/// Characters in an event's `dedup_key`.
pub const MAX_DEDUP_KEY_CHARS: usize = 255;
/// Seconds during which further triggers merged into an open incident are counted on one
/// timeline row ("20 more trigger events were merged…") instead of a row each.
pub const MERGED_TRIGGERS_ROW_SECS: i64 = 60;
/// Links one event or change event may carry (`links`); more is a 400, so what a monitor
/// sends cannot grow a row without bound.
pub const MAX_EVENT_LINKS: usize = 10;
/// Characters in an event link's `href`.
pub const MAX_LINK_HREF_CHARS: usize = 2048;
/// Characters in an event link's `text`, after trimming.
pub const MAX_LINK_TEXT_CHARS: usize = 1024;
/// Links one incident keeps, from its triggers and its runs' replies together, each `href`
/// once: past it, further links are not added (the incident is read whole on every run).
pub const MAX_INCIDENT_LINKS: usize = 50;
/// Hours before an incident whose change events it shows (and its payloads carry).
pub const RECENT_CHANGES_HOURS: i64 = 24;
/// Change events an incident shows at most.
pub const MAX_RECENT_CHANGES: i64 = 10;
/// Days a change event is kept after it happened (its `timestamp`); the scheduled handler
/// removes older ones. An incident shows only those of the day before it opened.
pub const CHANGE_EVENT_KEPT_DAYS: i64 = 7;
/// Change events one service keeps; past this the hourly cron removes its oldest ones
/// (`MAX_CHANGE_EVENTS_PER_SERVICE`).
pub const DEFAULT_MAX_CHANGE_EVENTS_PER_SERVICE: i64 = 10_000;
/// Change events `GET /api/services/{id}/changes` answers at most (`?limit=`), and by default.
pub const MAX_CHANGES_LIST: i64 = 100;
/// See [`MAX_CHANGES_LIST`].
pub const DEFAULT_CHANGES_LIST: i64 = 25;
/// Bytes in an `/api/*` request body.
pub const MAX_API_BODY_BYTES: usize = 64 * 1024;

/// Seconds the worker waits for a customer endpoint at most (PagerDuty's deadline for
/// custom actions), and by default: an action may set a shorter one (`timeout_ms`).
pub const RUN_DEADLINE_SECS: u64 = 16;
/// The shortest deadline an action may set (`timeout_ms`).
pub const MIN_ACTION_TIMEOUT_MS: u32 = 1_000;
/// The longest deadline an action may set, and its default: [`RUN_DEADLINE_SECS`].
pub const MAX_ACTION_TIMEOUT_MS: u32 = RUN_DEADLINE_SECS as u32 * 1_000;
/// Bytes of an endpoint's answer the worker reads before it stops listening.
pub const MAX_RESPONSE_READ_BYTES: usize = 64 * 1024;
/// Bytes of the answer kept on the run as the excerpt shown to responders.
pub const MAX_RESPONSE_EXCERPT_BYTES: usize = 4 * 1024;
/// Hours during which a repeated `Idempotency-Key` returns the first run.
pub const IDEMPOTENCY_WINDOW_HOURS: i64 = 24;
/// Characters in an `Idempotency-Key` header.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// Days a run's request body is kept (sealed) so that it can be redelivered; after that
/// a redelivery answers 410 `body_expired`.
pub const RUN_BODY_KEPT_DAYS: i64 = 30;
/// Bytes of the payload a run sends without a body template: past this, the oldest of the
/// incident's `recent_changes` are left out until it fits, and the payload says so
/// (`recent_changes_truncated`).
pub const MAX_DEFAULT_PAYLOAD_BYTES: usize = 256 * 1024;
/// Runs in one page of an action's history when `limit` is not given.
pub const DEFAULT_RUN_HISTORY_PAGE: u32 = 25;
/// The most runs one page of an action's history holds.
pub const MAX_RUN_HISTORY_PAGE: u32 = 100;
/// Incidents, timeline entries, or an incident's runs, on one page when `limit` is not
/// given.
pub const DEFAULT_LIST_PAGE: u32 = 50;
/// The most incidents, timeline entries, or runs of an incident, one page holds.
pub const MAX_LIST_PAGE: u32 = 100;
/// Audit entries on one page when `limit` is not given.
pub const DEFAULT_AUDIT_PAGE: u32 = 100;
/// The most audit entries one page holds.
pub const MAX_AUDIT_PAGE: u32 = 500;
/// Finished runs an action's success rate and median duration are taken over.
pub const RUN_STATS_WINDOW: usize = 50;
/// Failed runs in a row after which an action's card and buttons warn.
pub const FAILURES_BEFORE_WARNING: u32 = 3;
/// Runs an action card lists.
pub const RUNS_ON_ACTION_CARD: u32 = 10;

/// Seconds past a run's deadline after which the scheduled handler stops waiting for its
/// record and marks it `failed` with outcome `unknown`.
pub const RUN_UNKNOWN_GRACE_SECS: u64 = 60;
/// Seconds an action revision that no action points at is kept in KV before the
/// scheduled handler removes it: long enough for a run that resolved it to read it, and
/// for an edit in flight to finish.
pub const UNREFERENCED_REVISION_GRACE_SECS: i64 = 5 * 60;
/// The revision sweep lists KV at most once in this many seconds: the free plan allows
/// 1,000 KV lists a day, and a sweep every minute would use 1,440 of them alone.
pub const KV_SWEEP_INTERVAL_SECS: i64 = 60 * 60;
/// How long a run waits, in all, for an action revision that has not reached this
/// location yet before answering 503 `config_propagating`.
pub const CONFIG_PROPAGATION_WAIT_MS: u64 = 1_500;
/// The `Retry-After` of a 503 `config_propagating`: Workers KV reaches every location
/// within about a minute, most much sooner.
pub const CONFIG_PROPAGATION_RETRY_AFTER_SECS: i64 = 10;

/// Inputs one action may ask for.
pub const MAX_INPUTS_PER_ACTION: usize = 8;
/// Characters in an input key (`^[a-z][a-z0-9_]{0,31}$`).
pub const MAX_INPUT_KEY_CHARS: usize = 32;
/// Characters in an input label.
pub const MAX_INPUT_LABEL_CHARS: usize = 60;
/// Characters in an input's help text.
pub const MAX_INPUT_HELP_CHARS: usize = 200;
/// Characters in a `string` input's value (one line).
pub const MAX_STRING_INPUT_CHARS: usize = 200;
/// Characters in a `text` input's value.
pub const MAX_TEXT_INPUT_CHARS: usize = 2000;
/// Options of a `select` input.
pub const MAX_SELECT_OPTIONS: usize = 20;
/// Characters in one option of a `select` input.
pub const MAX_SELECT_OPTION_CHARS: usize = 100;
/// Characters in an action's confirmation message.
pub const MAX_CONFIRM_MESSAGE_CHARS: usize = 200;

/// Characters in an action's body template.
pub const MAX_BODY_TEMPLATE_CHARS: usize = 16 * 1024;
/// Bytes of a run's kept request (its body, origin and secrets digest, before sealing):
/// a larger body is sent but not kept, and that run cannot be redelivered. Well under
/// D1's row limit, so a kept body never makes a run's record fail.
pub const MAX_KEPT_REQUEST_BYTES: usize = 512 * 1024;
/// Bytes in a rendered body (the default payload is not limited by this). Rendering
/// stops as soon as its output passes this.
pub const MAX_RENDERED_BODY_BYTES: usize = 64 * 1024;
/// Bytes of data one template render may build along the way: strings and lists made by
/// operators, filters and literals, and the output. No single value can be larger.
pub const MAX_TEMPLATE_DATA_BYTES: usize = 1024 * 1024;
/// The fuel one template render may burn. minijinja charges one fuel per 64 bytes of data
/// it builds (checked before a value of known size is made, so `'a' * 100000000` is
/// refused before allocating) and one per instruction, so this budget bounds both the
/// memory a render takes, to [`MAX_TEMPLATE_DATA_BYTES`], and its time.
pub const TEMPLATE_FUEL: u64 = (MAX_TEMPLATE_DATA_BYTES / 64) as u64;

/// A list's `?limit=` as given: a whole number in 1..=`max`, else `None`. Every paged
/// list reads its limit with this.
pub fn parse_page_limit(raw: &str, max: i64) -> Option<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|limit| (1..=max).contains(limit))
}

#[cfg(test)]
mod tests {
    use super::parse_page_limit;

    #[test]
    fn a_limit_of_1_and_of_the_maximum_is_accepted_and_0_or_one_more_is_not() {
        assert_eq!(parse_page_limit("1", 100), Some(1));
        assert_eq!(parse_page_limit("100", 100), Some(100));
        assert_eq!(parse_page_limit("0", 100), None);
        assert_eq!(parse_page_limit("101", 100), None);
        assert_eq!(parse_page_limit("ten", 100), None);
    }
}
