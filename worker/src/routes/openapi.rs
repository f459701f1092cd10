//! `GET /api/openapi.json`: the OpenAPI 3.1 document of `/api`, `/v2` and `/pagerduty`.
//!
//! `shared::openapi` generates it from the route table and the wire types with utoipa,
//! natively: the worker's wasm never compiles utoipa. The generated document is checked in
//! as `worker/openapi.json` and served from here as it is; the test below fails when that
//! file differs from what the code generates.

use worker::Response;

use crate::error::ApiResult;

/// The document, as served.
const DOCUMENT: &str = include_str!("../../openapi.json");

/// The document, cacheable for a few minutes (it changes only with a deploy).
pub fn get_document() -> ApiResult<Response> {
    let response = Response::ok(DOCUMENT)?;
    response
        .headers()
        .set("Content-Type", "application/json; charset=utf-8")?;
    response
        .headers()
        .set("Cache-Control", "public, max-age=300")?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use shared::errors::ErrorCode;
    use shared::routes::Route;

    use super::DOCUMENT;

    #[test]
    fn the_served_document_is_what_the_code_generates() {
        let generated = shared::openapi::document_json();
        if std::env::var_os("UPDATE_FIXTURES").is_some() && generated != DOCUMENT {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
            std::fs::write(path, &generated).expect("openapi.json written");
            return;
        }
        assert!(
            generated == DOCUMENT,
            "worker/openapi.json is out of date: run UPDATE_FIXTURES=1 cargo test -p \
             incident-actions-worker openapi"
        );
    }

    fn document() -> Value {
        serde_json::from_str(DOCUMENT).expect("the document is JSON")
    }

    #[test]
    fn every_reference_in_the_document_names_a_component_it_has() {
        fn references(value: &Value, found: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(target)) = map.get("$ref") {
                        found.push(target.clone());
                    }
                    map.values().for_each(|inner| references(inner, found));
                }
                Value::Array(items) => items.iter().for_each(|inner| references(inner, found)),
                Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
            }
        }
        let document = document();
        let mut found = Vec::new();
        references(&document, &mut found);
        assert!(found.len() > 50, "the walk finds the references");
        for target in found {
            let pointer = target.trim_start_matches('#');
            assert!(
                document.pointer(pointer).is_some(),
                "{target} names nothing in the document"
            );
        }
        assert!(
            document
                .pointer("/components/schemas/RunSettings")
                .is_none(),
            "a flattened type is merged in, not listed on its own"
        );
    }

    #[test]
    fn the_document_is_openapi_3_1_and_describes_every_route_once() {
        let document = document();
        assert_eq!(document["openapi"], "3.1.0");
        let operations: usize = document["paths"]
            .as_object()
            .expect("paths")
            .values()
            .map(|item| item.as_object().expect("a path item").len())
            .sum();
        assert_eq!(operations, Route::ALL.len());
        for &route in Route::ALL {
            let method = route.method().as_str().to_ascii_lowercase();
            let operation = &document["paths"][route.path()][&method];
            assert_eq!(operation["operationId"], format!("{route:?}"), "{route:?}");
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|responses| responses
                        .keys()
                        .any(|status| status.starts_with('2'))),
                "{route:?} has a success answer"
            );
        }
    }

    #[test]
    fn the_document_lists_every_error_code_the_api_answers_with() {
        let document = document();
        for code in ErrorCode::ALL {
            let response =
                &document["components"]["responses"][format!("api_error_{}", code.status())];
            let codes = &response["content"]["application/json"]["schema"]["properties"]["error"]
                ["properties"]["code"]["enum"];
            assert!(
                codes
                    .as_array()
                    .is_some_and(|codes| codes.contains(&code.as_str().into())),
                "{code} is not listed under its status"
            );
        }
    }
}
