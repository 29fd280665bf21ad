//! Agent ids to accumulator slots: direct indexing for small ids, an open-addressing table
//! otherwise.

/// An agent id → dense index table (open addressing, deterministic hashing).
pub(crate) struct AgentIndex {
    pub(crate) keys: Vec<u64>,
    pub(crate) slots: Vec<u32>,
    pub(crate) mask: usize,
    pub(crate) count: usize,
    /// For small ids (the common case: database serials), a direct id → index table.
    pub(crate) direct: Vec<u32>,
}

/// Ids below this use the direct table (256 KiB at most).
pub(crate) const DIRECT_IDS: u64 = 1 << 16;

pub(crate) const EMPTY: u32 = u32::MAX;

impl AgentIndex {
    pub(crate) fn new() -> Self {
        AgentIndex {
            keys: Vec::new(),
            slots: vec![EMPTY; 1024],
            mask: 1023,
            count: 0,
            direct: Vec::new(),
        }
    }

    #[inline]
    pub(crate) fn hash(k: u64) -> usize {
        (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize
    }

    /// The dense index of `k`, inserting it when new. Small ids take the direct table inline;
    /// the rest go to the (out-of-line) hash table.
    #[inline(always)]
    pub(crate) fn get_or_insert(&mut self, k: u64) -> usize {
        if let Some(slot) = self.direct.get(k as usize) {
            if k < DIRECT_IDS && *slot != EMPTY {
                return *slot as usize;
            }
        }
        self.insert_slow(k)
    }

    #[inline(never)]
    pub(crate) fn insert_slow(&mut self, k: u64) -> usize {
        if k < DIRECT_IDS {
            // Small ids (database serials) index a direct table, grown on demand.
            let at = k as usize;
            if at >= self.direct.len() {
                self.direct.resize((at + 1).next_power_of_two(), EMPTY);
            }
            if let Some(slot) = self.direct.get_mut(at) {
                if *slot == EMPTY {
                    *slot = self.count as u32;
                    self.keys.push(k);
                    self.count += 1;
                }
                return *slot as usize;
            }
        }
        let mut i = Self::hash(k) & self.mask;
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                break;
            }
            if self.keys[s as usize] == k {
                return s as usize;
            }
            i = (i + 1) & self.mask;
        }
        let idx = self.count;
        self.slots[i] = idx as u32;
        self.keys.push(k);
        self.count += 1;
        if self.count * 2 > self.slots.len() {
            self.grow();
        }
        idx
    }

    pub(crate) fn grow(&mut self) {
        let size = self.slots.len() * 2;
        self.slots = vec![EMPTY; size];
        self.mask = size - 1;
        for (idx, k) in self.keys.iter().enumerate() {
            let mut i = Self::hash(*k) & self.mask;
            while self.slots[i] != EMPTY {
                i = (i + 1) & self.mask;
            }
            self.slots[i] = idx as u32;
        }
    }
}

/// `max_id`, the largest agent id of the rows with an assignee, when it is small enough for ids
/// to index the accumulators directly: under [`DIRECT_IDS`], and no more slots than about twice
/// the rows.
pub(crate) fn direct_slots(max_id: u64, buckets: usize, rows: usize) -> Option<u64> {
    if max_id >= DIRECT_IDS {
        return None;
    }
    let slots = (max_id as usize + 2).saturating_mul(buckets);
    (slots <= rows.saturating_mul(2).max(4096)).then_some(max_id)
}
