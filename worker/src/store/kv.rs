//! The KV namespace, counting round trips like [`super::sql::Db`]. Only action
//! configuration lives here (`store::actions` owns the keys).

use std::rc::Rc;

use serde::Serialize;
use worker::kv::{Key, KvStore};

use super::sql::RoundTrips;
use crate::error::{ApiError, ApiResult};

/// The `CONFIG` namespace.
#[derive(Clone)]
pub struct Kv {
    inner: KvStore,
    trips: Rc<RoundTrips>,
}

/// One page of a key listing.
pub struct KeyPage {
    /// The keys, with their metadata.
    pub keys: Vec<Key>,
    /// Where the next page starts; `None` on the last page.
    pub cursor: Option<String>,
}

impl Kv {
    /// Wraps the binding; `trips` is the request's counter.
    pub fn new(inner: KvStore, trips: Rc<RoundTrips>) -> Self {
        Self { inner, trips }
    }

    /// The value under `key` as text, if it exists here.
    pub async fn get_text(&self, key: &str) -> ApiResult<Option<String>> {
        self.trips.count_kv();
        self.inner
            .get(key)
            .text()
            .await
            .map_err(|e| ApiError::Internal(format!("KV get {key}: {e}")))
    }

    /// Writes `value` under `key` with `metadata` (listed with the key).
    pub async fn put_text<M: Serialize>(
        &self,
        key: &str,
        value: String,
        metadata: M,
    ) -> ApiResult<()> {
        self.trips.count_kv();
        let failed = |e: worker::kv::KvError| ApiError::Internal(format!("KV put {key}: {e}"));
        self.inner
            .put(key, value)
            .map_err(failed)?
            .metadata(metadata)
            .map_err(failed)?
            .execute()
            .await
            .map_err(failed)
    }

    /// Deletes `key` (a missing key is not an error).
    pub async fn delete(&self, key: &str) -> ApiResult<()> {
        self.trips.count_kv();
        self.inner
            .delete(key)
            .await
            .map_err(|e| ApiError::Internal(format!("KV delete {key}: {e}")))
    }

    /// One page of the keys starting with `prefix`.
    pub async fn list(&self, prefix: &str, cursor: Option<String>) -> ApiResult<KeyPage> {
        self.trips.count_kv();
        let mut builder = self.inner.list().prefix(prefix.to_owned());
        if let Some(cursor) = cursor {
            builder = builder.cursor(cursor);
        }
        let page = builder
            .execute()
            .await
            .map_err(|e| ApiError::Internal(format!("KV list {prefix}: {e}")))?;
        Ok(KeyPage {
            keys: page.keys,
            cursor: (!page.list_complete).then_some(page.cursor).flatten(),
        })
    }
}
