//! The rules of every paged list: `?limit=` and an opaque `?cursor=`, answered with
//! `"next_cursor": "<opaque>" | null`. Each list has its own default and maximum, and its
//! own cursor prefix, so a cursor of one list is refused by another instead of paging it
//! wrongly. A cursor carries the position (a whole number, newest first) of the last
//! item of the page before; the worker reads `limit + 1` rows to know whether more follow.

use crate::errors::ErrorCode;
use crate::limits::{
    parse_page_limit, DEFAULT_AUDIT_PAGE, DEFAULT_LIST_PAGE, DEFAULT_RUN_HISTORY_PAGE,
    MAX_AUDIT_PAGE, MAX_LIST_PAGE, MAX_RUN_HISTORY_PAGE,
};

/// A list that pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagedList {
    /// `GET /api/services/{id}/actions/{action_id}/runs`.
    RunHistory,
    /// `GET /api/incidents`.
    Incidents,
    /// `GET /api/incidents/{id}/log`.
    Timeline,
    /// `GET /api/incidents/{id}/runs`.
    IncidentRuns,
    /// `GET /api/audit`.
    Audit,
}

impl PagedList {
    /// Items on a page when `limit` is not given.
    pub fn default_limit(self) -> u32 {
        match self {
            Self::RunHistory => DEFAULT_RUN_HISTORY_PAGE,
            Self::Incidents | Self::Timeline | Self::IncidentRuns => DEFAULT_LIST_PAGE,
            Self::Audit => DEFAULT_AUDIT_PAGE,
        }
    }

    /// The largest `limit` accepted.
    pub fn max_limit(self) -> u32 {
        match self {
            Self::RunHistory => MAX_RUN_HISTORY_PAGE,
            Self::Incidents | Self::Timeline | Self::IncidentRuns => MAX_LIST_PAGE,
            Self::Audit => MAX_AUDIT_PAGE,
        }
    }

    fn cursor_prefix(self) -> &'static str {
        match self {
            Self::RunHistory => "rh1.",
            Self::Incidents => "in1.",
            Self::Timeline => "tl1.",
            Self::IncidentRuns => "ir1.",
            Self::Audit => "au1.",
        }
    }

    /// The cursor that continues after the item at `position`.
    pub fn cursor(self, position: i64) -> String {
        format!("{}{position:x}", self.cursor_prefix())
    }

    fn decode(self, cursor: &str) -> Result<i64, PageError> {
        cursor
            .strip_prefix(self.cursor_prefix())
            .filter(|hex| !hex.is_empty() && hex.len() <= 15)
            .and_then(|hex| i64::from_str_radix(hex, 16).ok())
            .filter(|position| *position > 0)
            .ok_or(PageError::Cursor)
    }
}

/// Why a page request is refused: the message for a 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    /// `limit` is not a whole number from 1 to the list's maximum.
    Limit {
        /// The list's maximum.
        max: u32,
    },
    /// `cursor` is not one this list gave out.
    Cursor,
}

impl PageError {
    /// The error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Limit { .. } => ErrorCode::InvalidLimit,
            Self::Cursor => ErrorCode::InvalidCursor,
        }
    }

    /// What is wrong, for people.
    pub fn message(&self) -> String {
        match self {
            Self::Limit { max } => format!("limit must be a whole number from 1 to {max}"),
            Self::Cursor => "cursor is not one this API gave out; start again without it".into(),
        }
    }
}

/// One page request: how many items, and where the previous page ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// The list.
    pub list: PagedList,
    /// Items on the page.
    pub limit: u32,
    /// Only items before this position (`None`: from the newest).
    pub before: Option<i64>,
}

impl PageRequest {
    /// Reads `?limit=` and `?cursor=` for `list`.
    pub fn parse(
        list: PagedList,
        limit: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Self, PageError> {
        let max = list.max_limit();
        let limit = match limit {
            None => list.default_limit(),
            Some(raw) => parse_page_limit(raw, i64::from(max))
                .and_then(|limit| u32::try_from(limit).ok())
                .ok_or(PageError::Limit { max })?,
        };
        let before = cursor.map(|cursor| list.decode(cursor)).transpose()?;
        Ok(Self {
            list,
            limit,
            before,
        })
    }

    /// Rows to read: one more than the page, to know whether another follows.
    pub fn rows_to_read(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Cuts the rows read (newest first, [`Self::rows_to_read`] at most) to the page, and
    /// gives the cursor of the next page when more rows followed.
    pub fn cut<T>(
        &self,
        mut rows: Vec<T>,
        position: impl Fn(&T) -> i64,
    ) -> (Vec<T>, Option<String>) {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        if rows.len() <= limit {
            return (rows, None);
        }
        rows.truncate(limit);
        let next = rows.last().map(|last| self.list.cursor(position(last)));
        (rows, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_history_limits_run_from_1_to_100_and_default_to_25() {
        let parse = |limit| PageRequest::parse(PagedList::RunHistory, limit, None);
        assert_eq!(parse(None).unwrap().limit, 25);
        assert_eq!(parse(Some("1")).unwrap().limit, 1);
        assert_eq!(parse(Some("100")).unwrap().limit, 100);
        for bad in ["0", "101", "-1", "ten", "", "2.5"] {
            assert_eq!(
                parse(Some(bad)),
                Err(PageError::Limit { max: 100 }),
                "{bad}"
            );
        }
    }

    #[test]
    fn incident_timeline_and_incident_run_limits_run_from_1_to_100_and_default_to_50() {
        for list in [
            PagedList::Incidents,
            PagedList::Timeline,
            PagedList::IncidentRuns,
        ] {
            let parse = |limit| PageRequest::parse(list, limit, None);
            assert_eq!(parse(None).unwrap().limit, 50);
            assert_eq!(parse(Some("1")).unwrap().limit, 1);
            assert_eq!(parse(Some("100")).unwrap().limit, 100);
            assert_eq!(parse(Some("101")), Err(PageError::Limit { max: 100 }));
            assert_eq!(parse(Some("0")), Err(PageError::Limit { max: 100 }));
        }
    }

    #[test]
    fn audit_limits_run_from_1_to_500_and_default_to_100() {
        let parse = |limit| PageRequest::parse(PagedList::Audit, limit, None);
        assert_eq!(parse(None).unwrap().limit, 100);
        assert_eq!(parse(Some("1")).unwrap().limit, 1);
        assert_eq!(parse(Some("500")).unwrap().limit, 500);
        assert_eq!(parse(Some("501")), Err(PageError::Limit { max: 500 }));
        assert_eq!(parse(Some("0")), Err(PageError::Limit { max: 500 }));
        let timeline = PagedList::Timeline.cursor(7);
        assert_eq!(
            PageRequest::parse(PagedList::Audit, None, Some(&timeline)),
            Err(PageError::Cursor)
        );
    }

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let cursor = PagedList::RunHistory.cursor(4242);
        assert_eq!(
            PageRequest::parse(PagedList::RunHistory, None, Some(&cursor))
                .unwrap()
                .before,
            Some(4242)
        );
        for bad in [
            "",
            "rh1.",
            "rh1.zz",
            "4242",
            "rh1.-5",
            "rh1.0",
            "rh1.ffffffffffffffff",
        ] {
            assert_eq!(
                PageRequest::parse(PagedList::RunHistory, None, Some(bad)),
                Err(PageError::Cursor),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_cursor_of_one_list_is_refused_by_another() {
        let incidents = PagedList::Incidents.cursor(7);
        assert_eq!(
            PageRequest::parse(PagedList::Timeline, None, Some(&incidents)),
            Err(PageError::Cursor)
        );
        let history = PagedList::RunHistory.cursor(7);
        assert_eq!(
            PageRequest::parse(PagedList::IncidentRuns, None, Some(&history)),
            Err(PageError::Cursor),
            "an action's run history cursor does not page an incident's runs"
        );
    }

    #[test]
    fn a_full_page_plus_one_row_gives_a_cursor_and_a_short_page_does_not() {
        let page = PageRequest::parse(PagedList::Incidents, Some("2"), None).unwrap();
        assert_eq!(page.rows_to_read(), 3);
        let (rows, next) = page.cut(vec![9, 8, 7], |row| *row);
        assert_eq!(rows, vec![9, 8]);
        assert_eq!(next, Some(PagedList::Incidents.cursor(8)));
        assert_eq!(page.cut(vec![9, 8], |row| *row), (vec![9, 8], None));
        assert_eq!(page.cut(Vec::<i64>::new(), |row| *row), (vec![], None));
    }
}
