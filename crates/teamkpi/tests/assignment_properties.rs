//! The assigner against a brute-force reference.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use teamkpi::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 11, 3, 12, 0, 0).unwrap()
}

const KINDS: [&str; 3] = ["ticket", "dispute", "order"];
const TEAMS: [&str; 2] = ["billing", "tech"];
const SKILLS: [&str; 2] = ["polish", "arabic"];

fn agent() -> impl Strategy<Value = AgentState> {
    (
        0u64..40,
        prop_oneof![
            Just(AgentStatus::Online),
            Just(AgentStatus::Online),
            Just(AgentStatus::Busy),
            Just(AgentStatus::Offline)
        ],
        prop::collection::vec(0i64..4, 3),
        prop::option::of(0i64..8),
        prop::option::of(0i64..3),
        prop::collection::vec(any::<bool>(), 4),
        prop::option::of(0i64..5),
    )
        .prop_map(|(id, status, loads, capacity, dispute_cap, flags, last)| {
            let mut a = AgentState::online(id);
            a.status = status;
            a.open_load = KINDS
                .iter()
                .zip(loads)
                .map(|(k, l)| (k.to_string(), l))
                .collect();
            a.capacity = capacity;
            if let Some(c) = dispute_cap {
                a.capacity_per_kind.insert("dispute".into(), c);
            }
            a.teams = TEAMS
                .iter()
                .zip(&flags[..2])
                .filter(|(_, f)| **f)
                .map(|(t, _)| t.to_string())
                .collect();
            a.skills = SKILLS
                .iter()
                .zip(&flags[2..])
                .filter(|(_, f)| **f)
                .map(|(s, _)| s.to_string())
                .collect();
            a.last_assigned_at = last.map(|h| now() - Duration::hours(h));
            a
        })
}

fn agents() -> impl Strategy<Value = Vec<AgentState>> {
    prop::collection::vec(agent(), 1..25).prop_map(|list| {
        let mut seen = BTreeSet::new();
        list.into_iter().filter(|a| seen.insert(a.id)).collect()
    })
}

fn item() -> impl Strategy<Value = WorkItem> {
    (
        0usize..3,
        prop::option::of(0usize..2),
        prop::option::of(0usize..2),
        0u64..1000,
    )
        .prop_map(|(k, team, skill, id)| WorkItem {
            id,
            kind: KINDS[k].into(),
            priority: None,
            created_at: now(),
            team: team.map(|t| TEAMS[t].into()),
            skills: skill.map(|s| SKILLS[s].to_string()).into_iter().collect(),
        })
}

fn weights() -> BTreeMap<String, Decimal> {
    [("dispute".to_string(), Decimal::from(2))].into()
}

/// The reference: the minimum over eligible agents under the tie-breaks, by a full scan.
fn reference(
    agents: &[AgentState],
    item: &WorkItem,
    round_robin: bool,
    exclude: &[u64],
) -> Option<u64> {
    agents
        .iter()
        .filter(|a| a.status == AgentStatus::Online && !exclude.contains(&a.id))
        .filter(|a| a.capacity.is_none_or(|c| a.total_load() < c))
        .filter(|a| {
            let cap = a.capacity_per_kind.get(&item.kind).copied();
            cap.is_none_or(|c| a.open_load.get(&item.kind).copied().unwrap_or(0) < c)
        })
        .filter(|a| item.skills.is_subset(&a.skills))
        .filter(|a| item.team.as_ref().is_none_or(|t| a.teams.contains(t)))
        .min_by_key(|a| {
            let load: Decimal = if round_robin {
                Decimal::ZERO
            } else {
                a.open_load
                    .iter()
                    .map(|(k, n)| {
                        weights().get(k).copied().unwrap_or(Decimal::ONE) * Decimal::from(*n)
                    })
                    .sum()
            };
            (load, a.last_assigned_at, a.id)
        })
        .map(|a| a.id)
}

fn policy(round_robin: bool) -> AssignmentPolicy {
    AssignmentPolicy {
        strategy: if round_robin {
            StrategyKind::RoundRobin
        } else {
            StrategyKind::LeastBusy
        },
        kind_weights: weights(),
        ..AssignmentPolicy::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn pick_equals_brute_force(list in agents(), it in item(), rr in any::<bool>(), ex in prop::collection::vec(0u64..40, 0..3)) {
        let assigner = Assigner::new(list.clone(), policy(rr)).unwrap();
        prop_assert_eq!(assigner.pick(&it, now(), &ex).ok(), reference(&list, &it, rr, &ex));
    }

    #[test]
    fn assigning_tracks_the_reference_and_never_exceeds_capacity(list in agents(), items in prop::collection::vec(item(), 1..40), rr in any::<bool>()) {
        let mut assigner = Assigner::new(list.clone(), policy(rr)).unwrap();
        let mut mirror = list.clone();
        for (n, it) in items.iter().enumerate() {
            let at = now() + Duration::seconds(n as i64);
            let expected = reference(&mirror, it, rr, &[]);
            let got = assigner.assign(it, at, AssignmentReason::Manual).ok().map(|e| e.to);
            prop_assert_eq!(got, expected);
            if let Some(id) = got {
                let a = mirror.iter_mut().find(|a| a.id == id).unwrap();
                *a.open_load.entry(it.kind.clone()).or_insert(0) += 1;
                a.last_assigned_at = Some(at);
            }
        }
        for a in assigner.agents() {
            let orig = list.iter().find(|o| o.id == a.id).unwrap();
            if let Some(c) = a.capacity {
                prop_assert!(a.total_load() <= c.max(orig.total_load()));
            }
        }
    }

    #[test]
    fn insertion_order_does_not_matter(list in agents(), it in item()) {
        let mut reversed = list.clone();
        reversed.reverse();
        let a = Assigner::new(list, policy(false)).unwrap();
        let b = Assigner::new(reversed, policy(false)).unwrap();
        prop_assert_eq!(a.pick(&it, now(), &[]), b.pick(&it, now(), &[]));
    }
}
