//! A D1 batch whose results are read by handle, not by position. Pushing a statement gives
//! back a handle that names what its result is read as ([`Read<T>`] rows, [`Written`]
//! changes, [`Span`] for a run of statements another module reads), so a statement pushed
//! only sometimes has a handle only then, and reordering the pushes cannot make a read
//! land on another statement's result.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use worker::D1Result;

use super::sql::{changes, Db, Statement};
use crate::error::{ApiError, ApiResult};

/// Statements to send as one batch (one round trip), each with its handle.
#[derive(Default)]
pub struct Batch {
    statements: Vec<Statement>,
    what: &'static str,
}

/// The handle of a statement whose rows are read as `T`.
#[must_use = "a read whose result is never looked at is a wasted statement"]
pub struct Read<T> {
    index: usize,
    row: PhantomData<fn() -> T>,
}

/// The handle of a statement whose each row is read twice, as `A` and as `B`: one row
/// that two modules each read their part of (an incident joined with one of its actions).
#[must_use = "a read whose result is never looked at is a wasted statement"]
pub struct ReadBoth<A, B> {
    index: usize,
    rows: PhantomData<fn() -> (A, B)>,
}

/// The handle of a write whose count of changed rows is read.
#[derive(Debug, Clone, Copy)]
pub struct Written {
    index: usize,
}

/// The handle of consecutive statements pushed together, read together by the module
/// that made them.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    start: usize,
    len: usize,
}

impl Batch {
    /// An empty batch; `what` names it in an internal error ("run reads").
    pub fn new(what: &'static str) -> Self {
        Self {
            statements: Vec::new(),
            what,
        }
    }

    /// Adds a statement whose rows are read as `T`.
    pub fn read<T: DeserializeOwned>(&mut self, statement: Statement) -> Read<T> {
        let index = self.push(statement);
        Read {
            index,
            row: PhantomData,
        }
    }

    /// Adds a statement whose rows are read both as `A` and as `B`.
    pub fn read_both<A: DeserializeOwned, B: DeserializeOwned>(
        &mut self,
        statement: Statement,
    ) -> ReadBoth<A, B> {
        let index = self.push(statement);
        ReadBoth {
            index,
            rows: PhantomData,
        }
    }

    /// Adds a write whose changes are counted.
    pub fn write(&mut self, statement: Statement) -> Written {
        Written {
            index: self.push(statement),
        }
    }

    /// Adds statements that are read together ([`Answers::span`]).
    pub fn span(&mut self, statements: impl IntoIterator<Item = Statement>) -> Span {
        let start = self.statements.len();
        self.statements.extend(statements);
        Span {
            start,
            len: self.statements.len() - start,
        }
    }

    fn push(&mut self, statement: Statement) -> usize {
        self.statements.push(statement);
        self.statements.len() - 1
    }

    /// Sends the batch: one round trip.
    pub async fn send(self, db: &Db) -> ApiResult<Answers> {
        let results = db.batch(self.statements).await?;
        Ok(Answers::new(results, self.what))
    }

    /// The statements, in order, to send, and the batch's name; read their results as
    /// [`Answers`].
    pub fn into_parts(self) -> (Vec<Statement>, &'static str) {
        (self.statements, self.what)
    }
}

/// The results of a batch, read by the handles its pushes gave.
pub struct Answers {
    results: Vec<D1Result>,
    what: &'static str,
}

impl Answers {
    /// The results of the batch named `what`, in the order its statements were pushed.
    pub fn new(results: Vec<D1Result>, what: &'static str) -> Self {
        Self { results, what }
    }

    fn result(&self, index: usize) -> ApiResult<&D1Result> {
        self.results
            .get(index)
            .ok_or_else(|| ApiError::Internal(format!("{}: no result {index}", self.what)))
    }

    /// Every row of `read`.
    pub fn all<T: DeserializeOwned>(&self, read: &Read<T>) -> ApiResult<Vec<T>> {
        Ok(self.result(read.index)?.results()?)
    }

    /// The first row of `read`, if any.
    pub fn first<T: DeserializeOwned>(&self, read: &Read<T>) -> ApiResult<Option<T>> {
        Ok(self.all(read)?.into_iter().next())
    }

    /// The first row of `read`, as both its shapes, if there is one.
    pub fn first_both<A: DeserializeOwned, B: DeserializeOwned>(
        &self,
        read: &ReadBoth<A, B>,
    ) -> ApiResult<Option<(A, B)>> {
        let result = self.result(read.index)?;
        let first_a = result.results::<A>()?.into_iter().next();
        let first_b = result.results::<B>()?.into_iter().next();
        Ok(first_a.zip(first_b))
    }

    /// How many rows `written` changed.
    pub fn changes(&self, written: Written) -> ApiResult<usize> {
        Ok(changes(self.result(written.index)?))
    }

    /// The results of `span`, in order.
    pub fn span(&self, span: Span) -> ApiResult<&[D1Result]> {
        self.results
            .get(span.start..span.start + span.len)
            .ok_or_else(|| ApiError::Internal(format!("{}: results cut short", self.what)))
    }
}
