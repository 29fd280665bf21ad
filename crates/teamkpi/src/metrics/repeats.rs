//! Second copies of a record id in one batch. They are found before anything counts, so the
//! row aggregator, the dense kernel and every parallel split agree on which copy counts (the
//! first) and which are reported (the others, as `duplicate_record`).

use std::collections::HashSet;

use crate::error::Error;
use crate::hashing::FastBuild;
use crate::metrics::batch::RejectedRecord;
use crate::metrics::columnar::TicketColumns;

/// Positions of the second and later copies of each id, ascending.
///
/// Ids from a database come sorted or nearly dense, so the common cases cost one pass: strictly
/// increasing ids cannot repeat, and ids within a span of 64 per row are marked in a bitmap (at
/// most 8 bytes a row). Anything else goes through a hash set.
pub(crate) fn repeated_positions(ids: &[u64]) -> Vec<usize> {
    if strictly_increasing(ids) {
        return Vec::new();
    }
    let (min, max) = ids
        .iter()
        .fold((u64::MAX, 0u64), |(lo, hi), &id| (lo.min(id), hi.max(id)));
    let span = max - min; // ids is not empty here: an empty slice is increasing
    let mut out = Vec::new();
    if span / 64 <= ids.len() as u64 {
        let mut bits = vec![0u64; (span / 64) as usize + 1];
        for (i, &id) in ids.iter().enumerate() {
            let off = id - min;
            let (word, bit) = ((off / 64) as usize, 1u64 << (off % 64));
            if bits[word] & bit != 0 {
                out.push(i);
            }
            bits[word] |= bit;
        }
    } else {
        let mut seen: HashSet<u64, FastBuild> =
            HashSet::with_capacity_and_hasher(ids.len(), FastBuild::default());
        for (i, &id) in ids.iter().enumerate() {
            if !seen.insert(id) {
                out.push(i);
            }
        }
    }
    out
}

/// Whether each id is above the one before. Blocks of 1 024 are folded without an early exit, so
/// the compiler vectorises the comparisons (the check runs on every id column).
fn strictly_increasing(ids: &[u64]) -> bool {
    let mut last: Option<u64> = None;
    for block in ids.chunks(1024) {
        let inside = block.windows(2).fold(true, |ok, w| ok & (w[0] < w[1]));
        if !inside || last.is_some_and(|l| l >= block[0]) {
            return false;
        }
        last = block.last().copied();
    }
    true
}

/// The report entry of a repeated ticket.
pub(crate) fn repeated_ticket(id: u64, index: usize) -> RejectedRecord {
    let e = Error::DuplicateRecord {
        what: "ticket".into(),
        id,
    };
    RejectedRecord {
        id,
        index,
        code: e.code().to_owned(),
        reason: e.to_string(),
    }
}

/// Some rows of a set of columns, copied out (the priority labels stay the original's).
pub(crate) struct RowCopy {
    id: Option<Vec<u64>>,
    agent_id: Vec<u64>,
    agent_valid: Option<Vec<bool>>,
    priority: Option<Vec<u32>>,
    created_at: Vec<i64>,
    first_response_at: Vec<i64>,
    resolved_at: Vec<i64>,
}

impl RowCopy {
    /// Rows `rows` of `c`, with their ids when `with_ids` (else numbered by position).
    pub(crate) fn gather(c: &TicketColumns<'_>, rows: &[usize], with_ids: bool) -> Self {
        fn pick<T: Copy + Default>(col: &[T], rows: &[usize]) -> Vec<T> {
            rows.iter()
                .map(|i| col.get(*i).copied().unwrap_or_default())
                .collect()
        }
        RowCopy {
            id: c.id.filter(|_| with_ids).map(|v| pick(v, rows)),
            agent_id: pick(c.agent_id, rows),
            agent_valid: c.agent_valid.map(|v| pick(v, rows)),
            priority: c.priority.map(|p| pick(p, rows)),
            created_at: pick(c.created_at, rows),
            first_response_at: pick(c.first_response_at, rows),
            resolved_at: pick(c.resolved_at, rows),
        }
    }

    /// The copy as columns.
    pub(crate) fn columns<'a>(&'a self, priority_labels: &'a [String]) -> TicketColumns<'a> {
        TicketColumns {
            id: self.id.as_deref(),
            agent_id: &self.agent_id,
            agent_valid: self.agent_valid.as_deref(),
            priority: self.priority.as_deref(),
            priority_labels,
            created_at: &self.created_at,
            first_response_at: &self.first_response_at,
            resolved_at: &self.resolved_at,
        }
    }
}

/// A copy of some columns without the repeated rows, and where each kept row came from.
pub(crate) struct KeptRows {
    rows: RowCopy,
    /// Original position of each kept row.
    origin: Vec<usize>,
    /// The repeated rows, as reported.
    repeats: Vec<RejectedRecord>,
}

impl KeptRows {
    /// The rows of `columns` that are not repeats; `None` when nothing repeats (the common case
    /// copies nothing).
    pub(crate) fn of(columns: &TicketColumns<'_>) -> Option<KeptRows> {
        let ids = columns.id?;
        let repeated = repeated_positions(ids);
        if repeated.is_empty() {
            return None;
        }
        let mut skip = repeated.iter().copied().peekable();
        let origin: Vec<usize> = (0..ids.len())
            .filter(|i| {
                if skip.peek() == Some(i) {
                    skip.next();
                    false
                } else {
                    true
                }
            })
            .collect();
        Some(KeptRows {
            rows: RowCopy::gather(columns, &origin, true),
            repeats: repeated
                .into_iter()
                .map(|i| repeated_ticket(ids[i], i))
                .collect(),
            origin,
        })
    }

    /// The kept rows as columns.
    pub(crate) fn columns<'a>(&'a self, like: &TicketColumns<'a>) -> TicketColumns<'a> {
        self.rows.columns(like.priority_labels)
    }

    /// Maps rejections of the kept rows back to original positions and adds the repeats, in
    /// position order.
    pub(crate) fn restore(self, rejected: &mut Vec<RejectedRecord>) {
        for r in rejected.iter_mut() {
            r.index = self.origin[r.index];
        }
        rejected.extend(self.repeats);
        rejected.sort_by_key(|r| r.index);
    }
}

#[cfg(test)]
mod tests {
    use super::repeated_positions;

    #[test]
    fn finds_later_copies_in_every_layout() {
        assert!(repeated_positions(&[]).is_empty());
        assert!(repeated_positions(&[1, 2, 9]).is_empty());
        // Dense (bitmap) and sparse (hash set) spans give the same answer.
        assert_eq!(repeated_positions(&[5, 3, 5, 5, 3]), vec![2, 3, 4]);
        let sparse = [u64::MAX, 0, u64::MAX, 1 << 40];
        assert_eq!(repeated_positions(&sparse), vec![2]);
        assert!(repeated_positions(&[3, 1, 2]).is_empty());
        // Across the increasing check's blocks.
        let mut long: Vec<u64> = (0..5000).collect();
        assert!(repeated_positions(&long).is_empty());
        long[2048] = 2047;
        assert_eq!(repeated_positions(&long), vec![2048]);
        long[2048] = 2048;
        long[1024] = 1023;
        assert_eq!(repeated_positions(&long), vec![1024]);
    }
}
