//! Deterministic, seeded data generators shared by the teamkpi benches.

/// A small, fast, seeded generator (SplitMix64), so every run and every machine sees the same
/// data without pulling a random-number crate into the build.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// W1: tickets with agent, priority, created, first response and resolved.
#[derive(Debug, Clone, Default)]
pub struct W1 {
    /// Assignee ids.
    pub agent_id: Vec<u64>,
    /// Priority codes into [`W1_PRIORITIES`].
    pub priority: Vec<u32>,
    /// Creation, Unix seconds.
    pub created_at: Vec<i64>,
    /// First response, Unix seconds or `i64::MIN`.
    pub first_response_at: Vec<i64>,
    /// Resolution, Unix seconds or `i64::MIN`.
    pub resolved_at: Vec<i64>,
}

/// The priority labels of W1.
pub const W1_PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

/// 2025-10-01 00:00:00 UTC, the start of W1's 30 days.
pub const W1_START: i64 = 1_759_276_800;

impl W1 {
    /// `n` tickets over 30 days for `agents` agents: 90 % answered within 0–8 h, 80 % resolved
    /// within 0–3 days. Rows come in creation order (as a database export by id gives them),
    /// with up to a minute of disorder; [`W1::generate_shuffled`] gives random order.
    pub fn generate(n: usize, agents: u64, seed: u64) -> W1 {
        Self::build(n, agents, seed, true)
    }

    /// Like [`W1::generate`], with creation instants in random order.
    pub fn generate_shuffled(n: usize, agents: u64, seed: u64) -> W1 {
        Self::build(n, agents, seed, false)
    }

    fn build(n: usize, agents: u64, seed: u64, ordered: bool) -> W1 {
        let mut rng = SplitMix64::new(seed);
        let mut w = W1 {
            agent_id: Vec::with_capacity(n),
            priority: Vec::with_capacity(n),
            created_at: Vec::with_capacity(n),
            first_response_at: Vec::with_capacity(n),
            resolved_at: Vec::with_capacity(n),
        };
        let span = 30 * 86_400u64;
        for i in 0..n {
            let created = if ordered {
                W1_START + (i as u64 * span / n.max(1) as u64) as i64 + rng.below(60) as i64
            } else {
                W1_START + rng.below(span) as i64
            };
            w.agent_id.push(1 + rng.below(agents));
            w.priority.push(rng.below(4) as u32);
            w.created_at.push(created);
            let fr = if rng.below(10) < 9 {
                created + rng.below(8 * 3600) as i64
            } else {
                i64::MIN
            };
            w.first_response_at.push(fr);
            let res = if rng.below(10) < 8 {
                created + rng.below(3 * 86_400) as i64
            } else {
                i64::MIN
            };
            w.resolved_at.push(res);
        }
        w
    }

    /// Number of tickets.
    pub fn len(&self) -> usize {
        self.created_at.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.created_at.is_empty()
    }
}
