//! Binding values to D1 statements, and the conversions D1 needs (it has no 64-bit
//! integers on the JS side, so integers travel as f64, exact below 2^53).

use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use crate::error::ApiResult;

/// One bound parameter.
#[derive(Debug, Clone, Copy)]
pub enum SqlValue<'a> {
    /// TEXT.
    Text(&'a str),
    /// INTEGER (milliseconds, counts, status codes).
    Int(i64),
    /// NULL.
    Null,
}

impl<'a> From<&'a str> for SqlValue<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(text)
    }
}

impl<'a> From<&'a String> for SqlValue<'a> {
    fn from(text: &'a String) -> Self {
        Self::Text(text)
    }
}

impl From<i64> for SqlValue<'_> {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

impl<'a> From<Option<&'a str>> for SqlValue<'a> {
    fn from(text: Option<&'a str>) -> Self {
        text.map_or(Self::Null, Self::Text)
    }
}

impl<'a> From<&'a Option<String>> for SqlValue<'a> {
    fn from(text: &'a Option<String>) -> Self {
        text.as_deref().map_or(Self::Null, Self::Text)
    }
}

impl From<Option<i64>> for SqlValue<'_> {
    fn from(n: Option<i64>) -> Self {
        n.map_or(Self::Null, Self::Int)
    }
}

impl SqlValue<'_> {
    fn to_js(self) -> JsValue {
        match self {
            Self::Text(text) => JsValue::from_str(text),
            #[expect(clippy::cast_precision_loss, reason = "values stay below 2^53")]
            Self::Int(n) => JsValue::from_f64(n as f64),
            Self::Null => JsValue::null(),
        }
    }
}

/// Prepares `sql` with positional parameters `?1..?n`.
pub fn statement(
    db: &D1Database,
    sql: &str,
    args: &[SqlValue<'_>],
) -> ApiResult<D1PreparedStatement> {
    let values: Vec<JsValue> = args.iter().map(|arg| arg.to_js()).collect();
    Ok(db.prepare(sql).bind(&values)?)
}

/// Rows changed by a write, from the statement's metadata.
pub fn changes(result: &worker::D1Result) -> usize {
    result
        .meta()
        .ok()
        .flatten()
        .and_then(|meta| meta.changes)
        .unwrap_or(0)
}
