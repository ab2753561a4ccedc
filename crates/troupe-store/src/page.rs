//! Keyset pagination. Every listed table has a monotonically increasing `seq`; a page is "rows
//! with seq greater than `after`, in seq order". Rows that existed when a listing started are
//! therefore seen exactly once however many rows are inserted meanwhile (no offsets to shift).

/// Which page to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Only rows with `seq` greater than this; `None` for the first page.
    pub after: Option<i64>,
    /// At most this many rows (the caller validates the range).
    pub limit: u32,
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        PageRequest { after: None, limit }
    }

    /// `after` as a bound usable in SQL (`seq > ?`).
    pub fn after_seq(&self) -> i64 {
        self.after.unwrap_or(i64::MIN)
    }

    /// How many rows to fetch: one more than asked, to know whether another page exists.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// One page of rows and, when more rows follow, the `seq` to continue after.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<i64>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in seq order.
    pub fn from_rows(mut rows: Vec<T>, request: PageRequest, seq: impl Fn(&T) -> i64) -> Self {
        let limit = request.limit as usize;
        if rows.len() > limit {
            rows.truncate(limit);
            let next_after = rows.last().map(&seq);
            Page { items: rows, next_after }
        } else {
            Page { items: rows, next_after: None }
        }
    }
}
