//! Entry point of the browser bundle: install the panic hook and mount the app.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(incident_actions_frontend::App);
}
