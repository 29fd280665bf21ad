//! A runnable tour of the teamkpi core: the KPI tables' two KPIs assigned to a small team, weekly
//! measurements, overall scores, the support automation's performance score and a formula KPI.
//!
//! Run with `cargo run -p teamkpi-examples`.

use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use teamkpi::*;

fn main() -> Result<()> {
    let store = InMemoryStore::new();
    let catalog = MetricCatalog::builtin();
    // The KPI tables' definitions, as its SQL inserts them (calculation_type `query` + query_key).
    let definitions = [
        serde_json::json!({
            "key": "avg_resolution", "name": "Average Resolution Time",
            "description": "Average time taken to resolve customer support cases",
            "category": "customer_support", "unit": "hours", "target_type": "lower_better",
            "aggregation_period": "weekly", "source": {"type": "query", "query_key": "avg_resolution_time"}
        }),
        serde_json::json!({
            "key": "cases_resolved", "name": "Cases Resolved", "category": "customer_support",
            "unit": "count", "target_type": "higher_better", "aggregation_period": "weekly",
            "source": {"type": "query", "query_key": "cases_resolved_count"}
        }),
    ];
    for d in definitions {
        let def: KpiDefinition = from_json(d)?;
        def.validate(&catalog)?;
        store.upsert_definition(&def)?;
    }
    let start = parse_date("start", "2025-10-01")?;
    for agent in 1..=3u64 {
        for (key, target, weight) in [("avg_resolution", 3, 60), ("cases_resolved", 40, 40)] {
            let (target, weight) = (Decimal::from(target), Decimal::from(weight));
            store.insert_assignment(NewKpiAssignment::new(agent, key, target, weight, start))?;
        }
    }

    // Last full ISO week at a Monday-morning job run, in the team's zone.
    let tz = parse_timezone("Europe/Warsaw")?;
    let now = Utc
        .with_ymd_and_hms(2025, 11, 3, 1, 0, 0)
        .single()
        .ok_or_else(|| Error::argument_error("now", "not a valid instant"))?;
    let week = last_full_week(now, tz);
    println!("Week {} – {} ({})", week.start, week.end, tz);

    // Metric values per agent for the week: average resolution seconds, resolved count.
    let metric_values: BTreeMap<u64, (i64, i64)> = BTreeMap::from([
        (1, (2 * 3600, 46)),
        (2, (4 * 3600 + 1800, 31)),
        (3, (3 * 3600, 40)),
    ]);
    let policy = AchievementPolicy::capped(Decimal::from(120));
    let bands = ScoreBands::default();
    println!(
        "{:<6} {:<24} {:>10} {:>8} {:>12}",
        "agent", "kpi", "actual", "target", "achievement"
    );
    for (agent, (avg_seconds, resolved)) in &metric_values {
        let mut items = Vec::new();
        for a in store.assignments(&AssignmentFilter {
            agent_id: Some(*agent),
            ..Default::default()
        })? {
            let def = store
                .definition(None, &a.definition)?
                .ok_or_else(|| Error::UnknownDefinition(a.definition.clone()))?;
            let (metric_unit, raw) = match &def.source {
                KpiSource::Metric { metric }
                    if catalog.canonical(metric)? == "avg_resolution_time" =>
                {
                    (Unit::Seconds, Decimal::from(*avg_seconds))
                }
                _ => (Unit::Count, Decimal::from(*resolved)),
            };
            let actual = metric_unit.convert(raw, def.unit)?;
            let ach = achievement(actual, a.target, def.direction, &policy)?;
            store.upsert_measurement(&Measurement {
                assignment_id: a.id,
                tenant: None,
                agent_id: *agent,
                definition: def.key.clone(),
                period_start: week.start,
                period_end: week.end,
                complete: week.is_complete(now, tz),
                actual,
                target: a.target,
                achievement: ach,
                metadata: BTreeMap::new(),
                calculated_at: now,
                ad_hoc: false,
            })?;
            println!(
                "{:<6} {:<24} {:>10.2} {:>8} {:>11.2}%",
                agent,
                def.name,
                round2(actual),
                a.target,
                round2(ach)
            );
            items.push(WeightedAchievement {
                weight: a.weight,
                achievement: Some(ach),
            });
        }
        if let Some(score) = overall_score(&items, &policy)? {
            let label = bands.label(score).unwrap_or("-");
            println!(
                "{:<6} {:<24} {:>32.2}% {}",
                agent,
                "overall KPI score",
                round2(score),
                label
            );
        }
    }

    // The support automation's performance score for one agent: 80 % resolved, 1.2 h first response, 95.5 % SLA.
    let perf = performance_score(
        &PerformanceInputs {
            resolution_rate: Some(Decimal::new(80, 2)),
            avg_response_hours: Some(Decimal::new(12, 1)),
            sla_compliance_rate: Some(Decimal::new(955, 3)),
        },
        &PerformanceWeights::default(),
    )?;
    println!(
        "performance score (the support automation weights): {}",
        perf.map(round2).unwrap_or_default()
    );

    // A formula KPI: resolution rate with a guard for agents with no tickets.
    let formula = Formula::parse(
        "if(tickets_assigned > 0, tickets_resolved / tickets_assigned * 100, 0)",
        &catalog,
    )?;
    let value = formula.evaluate(&|m: &str| match m {
        "tickets_assigned" => Some(Decimal::from(50)),
        "tickets_resolved" => Some(Decimal::from(46)),
        _ => None,
    })?;
    println!(
        "formula `{}` = {}",
        formula.source(),
        value.map(round2).unwrap_or_default()
    );
    Ok(())
}
