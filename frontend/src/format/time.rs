//! Times and durations as the viewer reads them: in their own zone and language.

/// A time as the viewer reads it: in the browser, in their own time zone and locale
/// (`Intl.DateTimeFormat`, e.g. `2 Dec 2026, 07:12:01`); where no browser is at hand
/// (native tests), [`utc_time`].
pub fn display_time(rfc3339: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    if let Some(local) = local_time(rfc3339) {
        return local;
    }
    utc_time(rfc3339)
}

/// The viewer's locale and zone, through the browser's `Intl.DateTimeFormat` (made once);
/// `None` for text that is not a time.
#[cfg(target_arch = "wasm32")]
fn local_time(rfc3339: &str) -> Option<String> {
    use wasm_bindgen::JsValue;
    thread_local! {
        static FORMAT: js_sys::Intl::DateTimeFormat = {
            let options = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
            let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"medium".into());
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &options)
        };
    }
    let date = js_sys::Date::new(&JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return None;
    }
    FORMAT.with(|format| format.format().call1(format, &date).ok()?.as_string())
}

/// A recent time relative to `now_ms`, in the viewer's language ("4 minutes ago", "now")
/// through the browser's `Intl.RelativeTimeFormat`; `None` for a time a day or more away,
/// which reads better as a date ([`display_time`]), or text that is not a time.
pub fn relative_time(rfc3339: &str, now_ms: f64) -> Option<String> {
    let at = shared::time::parse_rfc3339(rfc3339)?;
    #[allow(clippy::cast_possible_truncation)]
    let (value, unit) = relative_unit(at - now_ms as i64)?;
    #[cfg(target_arch = "wasm32")]
    {
        thread_local! {
            static FORMAT: js_sys::Intl::RelativeTimeFormat = {
                let options = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&options, &"numeric".into(), &"auto".into());
                js_sys::Intl::RelativeTimeFormat::new(&js_sys::Array::new(), &options)
            };
        }
        #[allow(clippy::cast_precision_loss)]
        FORMAT.with(|format| format.format(value as f64, unit).as_string())
    }
    #[cfg(not(target_arch = "wasm32"))]
    Some(match value {
        0 => "now".to_owned(),
        past if past < 0 => format!("{} {unit}s ago", -past),
        future => format!("in {future} {unit}s"),
    })
}

/// How far `delta_ms` (the time minus now) reads best: whole seconds under a minute,
/// minutes under an hour, hours under a day; `None` from a day on. Negative is past.
pub fn relative_unit(delta_ms: i64) -> Option<(i64, &'static str)> {
    let seconds = delta_ms as f64 / 1000.0;
    #[allow(clippy::cast_possible_truncation)]
    let round = |value: f64| value.round() as i64;
    match seconds.abs() {
        s if s < 60.0 => Some((round(seconds), "second")),
        s if s < 3_600.0 => Some((round(seconds / 60.0), "minute")),
        s if s < 86_400.0 => Some((round(seconds / 3_600.0), "hour")),
        _ => None,
    }
}

/// `2026-11-22T17:36:01.123Z` as `2026-11-22 17:36:01 UTC`; anything else unchanged.
pub fn utc_time(rfc3339: &str) -> String {
    let utc = rfc3339.ends_with('Z') || rfc3339.ends_with('z');
    match (rfc3339.get(..10), rfc3339.get(11..19)) {
        (Some(date), Some(time)) if utc && rfc3339.as_bytes()[10] == b'T' => {
            format!("{date} {time} UTC")
        }
        _ => rfc3339.to_owned(),
    }
}

/// `850 ms`, `1.2 s`, `16 s`.
pub fn display_duration(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 10_000 {
        format!("{}.{} s", ms / 1000, ms % 1000 / 100)
    } else {
        format!("{} s", ms / 1000)
    }
}
