//! Tests only: the README's generated sections (between `<!-- name:start … -->` and
//! `<!-- name:end -->`) and the fixtures under `fixtures/` must equal what the code
//! renders; `UPDATE_FIXTURES=1` rewrites them.

/// Asserts that the README's section `name` is `expected`, or rewrites it under
/// `UPDATE_FIXTURES=1`.
pub fn check_generated_section(name: &str, expected: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let start_marker = format!("<!-- {name}:start");
    let end_marker = format!("<!-- {name}:end -->");
    let start = readme.find(&start_marker).expect("start marker");
    let start = start + readme[start..].find('\n').expect("marker line") + 1;
    let end = readme.find(&end_marker).expect("end marker");
    if std::env::var_os("UPDATE_FIXTURES").is_some() && readme[start..end] != *expected {
        let updated = format!("{}{expected}{}", &readme[..start], &readme[end..]);
        std::fs::write(path, updated).expect("README.md written");
        return;
    }
    assert!(
        readme[start..end] == *expected,
        "README.md's {name} is out of date: run UPDATE_FIXTURES=1 cargo test -p incident-actions-shared"
    );
}

/// Asserts that `fixtures/{file}` holds `value` as pretty JSON, or rewrites it under
/// `UPDATE_FIXTURES=1`.
pub fn check_generated_fixture(file: &str, value: &serde_json::Value) {
    let path = format!("{}/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let expected = format!("{}\n", serde_json::to_string_pretty(value).expect("JSON"));
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, &expected).expect("fixture written");
    }
    let found = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        found == expected,
        "{path} is out of date: run UPDATE_FIXTURES=1 cargo test -p incident-actions-shared"
    );
}
