// Starts the app. Trunk would put this in an inline <script>, which the
// Content-Security-Policy (script-src 'self', no inline script) forbids, so Trunk.toml's
// pattern_script loads this file instead. The names are stable (filehash = false).
import init from './incident-actions-frontend.js';

await init({ module_or_path: new URL('./incident-actions-frontend_bg.wasm', import.meta.url) });
