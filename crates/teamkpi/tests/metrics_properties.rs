//! Metrics invariants: merging partials from any split equals one pass; merge is associative and
//! commutative; the columnar path equals the row path.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use teamkpi::metrics::*;
use teamkpi::*;

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 20, 0, 0, 0).unwrap()
}

#[derive(Debug, Clone)]
struct Row {
    agent: Option<u64>,
    created: i64,
    fr: Option<i64>,
    res: Option<i64>,
    prio: u32,
    transfer: Option<(i64, u64)>,
}

fn row() -> impl Strategy<Value = Row> {
    (
        // Mostly small ids (database serials, indexed directly by the columnar kernel), some
        // large ones (hashed), u64::MAX included.
        prop::option::weighted(
            0.9,
            prop_oneof![8 => 0u64..6, 1 => (1u64 << 40)..(1u64 << 40) + 2, 1 => Just(u64::MAX)],
        ),
        0i64..(20 * 86_400),
        // Mostly within days; a tail weeks later (the columnar kernel counts those after its
        // first pass, on buckets it appends).
        prop::option::of(prop_oneof![9 => 0i64..(3 * 86_400), 1 => 0i64..(30 * 86_400)]),
        prop::option::of(prop_oneof![9 => 0i64..(6 * 86_400), 1 => 0i64..(60 * 86_400)]),
        0u32..3,
        prop::option::weighted(0.2, (0i64..86_400, 0u64..6)),
    )
        .prop_map(|(agent, created, fr, res, prio, transfer)| Row {
            agent,
            created,
            fr: fr.map(|d| created + d),
            res: res.map(|d| created + d),
            prio,
            transfer,
        })
}

const PRIORITIES: [&str; 3] = ["low", "normal", "urgent"];

fn ticket(i: usize, r: &Row, with_transfers: bool) -> Ticket {
    let at = |s: i64| base() + Duration::seconds(s);
    let mut t = Ticket {
        id: i as u64,
        agent_id: r.agent,
        priority: Some(PRIORITIES[r.prio as usize].into()),
        created_at: at(r.created),
        first_response_at: r.fr.map(at),
        resolved_at: r.res.map(at),
        ..Ticket::default()
    };
    if with_transfers {
        if let (Some((after, to)), Some(from)) = (r.transfer, r.agent) {
            t.transfers = vec![Transfer {
                at: at(r.created + after),
                from: Some(from),
                to,
                id: None,
                reason: None,
            }];
            t.agent_id = Some(to);
        }
    }
    t
}

fn sla() -> SlaPolicy {
    from_json(serde_json::json!({
        "name": "24/7",
        "targets": {"normal": {"first_response": 7200, "resolution": 86400},
                    "urgent": {"first_response": 1800, "resolution": 14400}}
    }))
    .unwrap()
}

fn options(zone: &str, kind: PeriodKind, group_by: GroupBy, quantiles: bool) -> MetricsOptions {
    MetricsOptions {
        tenant: None,
        timezone: parse_timezone(zone).unwrap(),
        bucketing: Bucketing::Period(kind),
        group_by,
        calendar: None,
        sla: Some(sla()),
        as_of: Some(base() + Duration::days(12)),
        quantiles,
    }
}

fn zone() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("UTC"), Just("Europe/Warsaw"), Just("America/New_York")]
}

fn kind() -> impl Strategy<Value = PeriodKind> {
    prop_oneof![
        Just(PeriodKind::Day),
        Just(PeriodKind::Week),
        Just(PeriodKind::Month)
    ]
}

fn group() -> impl Strategy<Value = GroupBy> {
    prop_oneof![
        Just(GroupBy::Agent),
        Just(GroupBy::Team),
        Just(GroupBy::Tenant)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_split_merged_in_any_order_equals_one_pass(
        rows in prop::collection::vec(row(), 0..80),
        cuts in prop::collection::vec(0usize..80, 0..4),
        zone in zone(), kind in kind(),
    ) {
        let tickets: Vec<Ticket> = rows.iter().enumerate().map(|(i, r)| ticket(i, r, true)).collect();
        let opts = options(zone, kind, GroupBy::Agent, true);
        let mut whole = TicketMetricsAggregator::new(opts.clone()).unwrap();
        whole.add_all(&tickets);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(tickets.len())).collect();
        cuts.sort();
        let mut parts = Vec::new();
        let mut prev = 0;
        for c in cuts.into_iter().chain([tickets.len()]) {
            let mut p = TicketMetricsAggregator::new(opts.clone()).unwrap();
            p.add_all(&tickets[prev..c]);
            // Partials travel as JSON between workers.
            let json = serde_json::to_string(p.state()).unwrap();
            parts.push(serde_json::from_str::<TicketMetricsState>(&json).unwrap());
            prev = c;
        }
        parts.reverse();
        let mut merged = TicketMetricsState::default();
        for p in &parts {
            merged.merge(p);
        }
        prop_assert_eq!(rows_of(&merged), rows_of(whole.state()));
    }

    #[test]
    fn merge_is_associative_and_commutative(
        a in prop::collection::vec(row(), 0..30),
        b in prop::collection::vec(row(), 0..30),
        c in prop::collection::vec(row(), 0..30),
    ) {
        let opts = options("Europe/Warsaw", PeriodKind::Day, GroupBy::Agent, true);
        let state = |rows: &[Row]| {
            let mut agg = TicketMetricsAggregator::new(opts.clone()).unwrap();
            let ts: Vec<Ticket> = rows.iter().enumerate().map(|(i, r)| ticket(i, r, true)).collect();
            agg.add_all(&ts);
            agg.into_state()
        };
        let (sa, sb, sc) = (state(&a), state(&b), state(&c));
        let mut left = sa.clone();
        left.merge(&sb);
        left.merge(&sc);
        let mut bc = sb.clone();
        bc.merge(&sc);
        let mut right = sa.clone();
        right.merge(&bc);
        prop_assert_eq!(&left, &right);
        let mut ba = sb.clone();
        ba.merge(&sa);
        let mut ab = sa.clone();
        ab.merge(&sb);
        prop_assert_eq!(ab, ba);
    }

    #[test]
    fn columnar_equals_rows(
        rows in prop::collection::vec(row(), 0..120),
        zone in zone(), kind in kind(), group in group(), quantiles in any::<bool>(),
    ) {
        let tickets: Vec<Ticket> = rows.iter().enumerate().map(|(i, r)| ticket(i, r, false)).collect();
        let opts = options(zone, kind, group, quantiles);
        let mut agg = TicketMetricsAggregator::new(opts.clone()).unwrap();
        agg.add_all(&tickets);
        let expected = agg.finish();

        let ids: Vec<u64> = (0..rows.len() as u64).collect();
        let agent: Vec<u64> = rows.iter().map(|r| r.agent.unwrap_or(0)).collect();
        let valid: Vec<bool> = rows.iter().map(|r| r.agent.is_some()).collect();
        let prio: Vec<u32> = rows.iter().map(|r| r.prio).collect();
        let labels: Vec<String> = PRIORITIES.iter().map(|s| s.to_string()).collect();
        let t0 = base().timestamp();
        let created: Vec<i64> = rows.iter().map(|r| t0 + r.created).collect();
        let fr: Vec<i64> = rows.iter().map(|r| r.fr.map_or(NULL_INSTANT, |x| t0 + x)).collect();
        let res: Vec<i64> = rows.iter().map(|r| r.res.map_or(NULL_INSTANT, |x| t0 + x)).collect();
        let cols = TicketColumns {
            id: Some(&ids), agent_id: &agent, agent_valid: Some(&valid), priority: Some(&prio),
            priority_labels: &labels, created_at: &created, first_response_at: &fr, resolved_at: &res,
        };
        let got = ticket_metrics_columns(&cols, &opts).unwrap();
        prop_assert_eq!(got.rows, expected.rows);
        prop_assert!(got.rejected.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Streaming chunks through `ColumnarAggregator` equals one `ticket_metrics_columns` call,
    /// rejected rows (with their positions) included, whatever the chunk boundaries.
    #[test]
    fn columnar_chunks_equal_one_call(
        rows in prop::collection::vec(row(), 0..150),
        cuts in prop::collection::vec(0usize..150, 0..4),
        bad in prop::collection::vec(0usize..150, 0..3),
        zone in zone(), kind in kind(), group in group(), quantiles in any::<bool>(),
    ) {
        let opts = options(zone, kind, group, quantiles);
        let agent: Vec<u64> = rows.iter().map(|r| r.agent.unwrap_or(0)).collect();
        let valid: Vec<bool> = rows.iter().map(|r| r.agent.is_some()).collect();
        let prio: Vec<u32> = rows.iter().map(|r| r.prio).collect();
        let labels: Vec<String> = PRIORITIES.iter().map(|s| s.to_string()).collect();
        let t0 = base().timestamp();
        let mut created: Vec<i64> = rows.iter().map(|r| t0 + r.created).collect();
        let fr: Vec<i64> = rows.iter().map(|r| r.fr.map_or(NULL_INSTANT, |x| t0 + x)).collect();
        let res: Vec<i64> = rows.iter().map(|r| r.res.map_or(NULL_INSTANT, |x| t0 + x)).collect();
        for b in bad {
            if let Some(c) = created.get_mut(b) {
                *c = NULL_INSTANT;
            }
        }
        let ids: Vec<u64> = (0..rows.len() as u64).map(|i| 1000 + i).collect();
        let cols = TicketColumns {
            id: Some(&ids), agent_id: &agent, agent_valid: Some(&valid), priority: Some(&prio),
            priority_labels: &labels, created_at: &created, first_response_at: &fr, resolved_at: &res,
        };
        let whole = ticket_metrics_columns(&cols, &opts).unwrap();
        let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c.min(rows.len())).collect();
        bounds.push(0);
        bounds.push(rows.len());
        bounds.sort_unstable();
        let mut agg = ColumnarAggregator::new(opts.clone()).unwrap();
        for w in bounds.windows(2) {
            let (a, b) = (w[0], w[1]);
            agg.add(&TicketColumns {
                id: Some(&ids[a..b]), agent_id: &agent[a..b], agent_valid: Some(&valid[a..b]),
                priority: Some(&prio[a..b]), priority_labels: &labels, created_at: &created[a..b],
                first_response_at: &fr[a..b], resolved_at: &res[a..b],
            }).unwrap();
        }
        prop_assert_eq!(agg.rows_seen(), rows.len());
        let streamed = agg.finish();
        prop_assert_eq!(streamed.rows, whole.rows);
        prop_assert_eq!(streamed.rejected, whole.rejected);
    }
}

/// Answers and resolutions weeks after the last creation, across a DST change that the
/// creations' range does not contain, in every period kind and zone: the columnar kernel's
/// appended buckets give what the row path gives.
#[test]
fn late_answers_across_a_dst_change_equal_the_row_path() {
    let t0 = base().timestamp(); // 2025-10-20, before Warsaw's (Oct 26) and New York's (Nov 2) changes
    let day = 86_400;
    let created = [t0 + 3_600, t0 + day + 7_200, t0 + 2 * day];
    let fr = [t0 + 5_000, t0 + 9 * day + 100, NULL_INSTANT];
    let res = [t0 + 21 * day, t0 + 2 * day, t0 + 45 * day + 3_600];
    let agent = [1u64, 2, 1];
    let prio = [1u32, 2, 0];
    let labels: Vec<String> = PRIORITIES.iter().map(|s| s.to_string()).collect();
    let cols = TicketColumns::new(&agent, &created, &fr, &res).with_priority(&prio, &labels);
    let at = |t: i64| (t != NULL_INSTANT).then(|| Utc.timestamp_opt(t, 0).unwrap());
    let tickets: Vec<Ticket> = (0..3)
        .map(|i| Ticket {
            id: i as u64,
            agent_id: Some(agent[i]),
            priority: Some(PRIORITIES[prio[i] as usize].into()),
            created_at: at(created[i]).unwrap(),
            first_response_at: at(fr[i]),
            resolved_at: at(res[i]),
            ..Ticket::default()
        })
        .collect();
    for zone in ["UTC", "Europe/Warsaw", "America/New_York"] {
        for kind in [PeriodKind::Day, PeriodKind::Week, PeriodKind::Month] {
            let mut opts = options(zone, kind, GroupBy::Agent, false);
            opts.as_of = None;
            let mut agg = TicketMetricsAggregator::new(opts.clone()).unwrap();
            agg.add_all(&tickets);
            let expected = agg.finish().rows;
            let got = ticket_metrics_columns(&cols, &opts).unwrap().rows;
            assert_eq!(got, expected, "{zone} {kind:?}");
            // The resolutions 21 and 45 days on are counted in their own periods.
            let resolved: u64 = got.iter().map(|r| r.tickets_resolved).sum();
            assert_eq!(resolved, 3, "{zone} {kind:?}");
        }
    }
}

#[test]
fn columnar_rejects_bad_rows_like_the_row_path() {
    let t0 = base().timestamp();
    let labels = vec!["normal".to_string()];
    let created = [t0, t0, NULL_INSTANT, t0];
    let first = [t0 + 60, t0 - 60, NULL_INSTANT, NULL_INSTANT];
    let cols = TicketColumns::new(&[1, 1, 1, 1], &created, &first, &[NULL_INSTANT; 4])
        .with_priority(&[0, 0, 0, 5], &labels)
        .with_ids(&[10, 11, 12, 13]);
    let mut opts = options("UTC", PeriodKind::Day, GroupBy::Agent, false);
    opts.sla = None;
    let report = ticket_metrics_columns(&cols, &opts).unwrap();
    let rejected: Vec<(u64, &str)> = report
        .rejected
        .iter()
        .map(|r| (r.id, r.code.as_str()))
        .collect();
    assert_eq!(
        rejected,
        vec![
            (11, "invalid_range"),
            (12, "invalid_argument"),
            (13, "invalid_argument")
        ]
    );
    assert_eq!(report.rows.len(), 1);
    assert_eq!(report.rows[0].tickets_assigned, 1);
    let short = TicketColumns {
        created_at: &[t0],
        ..cols
    };
    assert_eq!(
        ticket_metrics_columns(&short, &opts).unwrap_err().code(),
        "invalid_argument"
    );
}
