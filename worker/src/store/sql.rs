//! Binding values to D1 statements, the conversions D1 needs (it has no 64-bit integers
//! on the JS side, so integers travel as f64, exact below 2^53), and the count of round
//! trips each request makes.
//!
//! Every statement goes through [`Db`] and [`Statement`], which count each trip to D1 in
//! the request's [`RoundTrips`]: in production each sequential trip from an edge location
//! costs tens of milliseconds, so hot paths are measured, not guessed (`scripts/bench`
//! reads the counts from the run answer's `Server-Timing`).

use std::cell::Cell;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

use crate::error::ApiResult;

/// Storage round trips made so far by one request (or one scheduled event).
#[derive(Debug, Default)]
pub struct RoundTrips {
    d1: Cell<u32>,
    kv: Cell<u32>,
}

impl RoundTrips {
    /// Counts one trip to D1 (a statement or a batch).
    pub fn count_d1(&self) {
        self.d1.set(self.d1.get() + 1);
    }

    /// Counts one trip to KV.
    pub fn count_kv(&self) {
        self.kv.set(self.kv.get() + 1);
    }

    /// `(d1, kv)` so far.
    pub fn snapshot(&self) -> (u32, u32) {
        (self.d1.get(), self.kv.get())
    }
}

/// The D1 database, counting round trips.
pub struct Db {
    inner: D1Database,
    trips: Rc<RoundTrips>,
}

impl Db {
    /// Wraps the binding; `trips` is the request's counter.
    pub fn new(inner: D1Database, trips: Rc<RoundTrips>) -> Self {
        Self { inner, trips }
    }

    /// Runs statements as one transaction in one round trip.
    pub async fn batch(&self, statements: Vec<Statement>) -> ApiResult<Vec<D1Result>> {
        self.trips.count_d1();
        let prepared = statements.into_iter().map(|s| s.inner).collect();
        Ok(self.inner.batch(prepared).await?)
    }
}

/// A prepared statement of a [`Db`]; executing it is one round trip. A clone is the same
/// bound statement, to run again.
#[derive(Clone)]
pub struct Statement {
    inner: D1PreparedStatement,
    trips: Rc<RoundTrips>,
}

impl Statement {
    /// Executes a write.
    pub async fn run(self) -> ApiResult<D1Result> {
        self.trips.count_d1();
        Ok(self.inner.run().await?)
    }

    /// The first row, if any.
    pub async fn first<T: DeserializeOwned>(self, column: Option<&str>) -> ApiResult<Option<T>> {
        self.trips.count_d1();
        Ok(self.inner.first(column).await?)
    }

    /// Every row.
    pub async fn all(self) -> ApiResult<D1Result> {
        self.trips.count_d1();
        Ok(self.inner.all().await?)
    }
}

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

/// An owned parameter, for SQL fragments built before the statement they go into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlArg {
    /// TEXT.
    Text(String),
    /// INTEGER.
    Int(i64),
}

impl SqlArg {
    /// The parameter, borrowed.
    pub fn value(&self) -> SqlValue<'_> {
        match self {
            Self::Text(text) => SqlValue::Text(text),
            Self::Int(n) => SqlValue::Int(*n),
        }
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
pub fn statement(db: &Db, sql: &str, args: &[SqlValue<'_>]) -> ApiResult<Statement> {
    let values: Vec<JsValue> = args.iter().map(|arg| arg.to_js()).collect();
    Ok(Statement {
        inner: db.inner.prepare(sql).bind(&values)?,
        trips: Rc::clone(&db.trips),
    })
}

/// The first row of a result, if there is a result and a row.
pub fn first_of<T: DeserializeOwned>(result: Option<&D1Result>) -> ApiResult<Option<T>> {
    match result {
        Some(result) => Ok(result.results::<T>()?.into_iter().next()),
        None => Ok(None),
    }
}

/// Rows changed by a write, from the statement's metadata.
pub fn changes(result: &D1Result) -> usize {
    result
        .meta()
        .ok()
        .flatten()
        .and_then(|meta| meta.changes)
        .unwrap_or(0)
}
