//! The few browser facilities the app uses directly: the clipboard, randomness for
//! idempotency keys, and this page's origin.

use wasm_bindgen_futures::JsFuture;

use crate::format::hex_key;

/// Copies `text` to the clipboard; false if the browser refused (no permission, or not a
/// secure context, where `navigator.clipboard` does not exist).
pub async fn copy_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = window.navigator().clipboard();
    // Outside a secure context the property is undefined, and calling a method on it would
    // throw through the wasm boundary.
    if clipboard.is_undefined() {
        return false;
    }
    JsFuture::from(clipboard.write_text(text)).await.is_ok()
}

/// A fresh random `Idempotency-Key`: 128 bits from `crypto.getRandomValues`, falling back
/// to `Math.random` where the Web Crypto API is missing.
pub fn idempotency_key() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|window| window.crypto().ok())
        .is_some_and(|crypto| crypto.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for byte in &mut bytes {
            // Truncation is the point: one random byte from a float in [0, 1).
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    hex_key(&bytes)
}

/// `https://host[:port]` of this page, for examples that name the server.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|window| window.location().origin().ok())
        .unwrap_or_default()
}

/// The current path and query, to come back to after signing in.
pub fn current_path() -> String {
    web_sys::window()
        .map(|window| {
            let location = window.location();
            format!(
                "{}{}",
                location.pathname().unwrap_or_default(),
                location.search().unwrap_or_default()
            )
        })
        .unwrap_or_default()
}
