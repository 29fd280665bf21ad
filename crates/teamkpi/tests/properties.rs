//! Property tests for the scoring rules (bounded case counts keep CI fast).

use proptest::prelude::*;
use rust_decimal::Decimal;
use teamkpi::*;

fn dec() -> impl Strategy<Value = Decimal> {
    // Values with 2 decimal places, 0 to 100 000.
    (0i64..10_000_000).prop_map(|v| Decimal::new(v, 2))
}

fn positive() -> impl Strategy<Value = Decimal> {
    (1i64..10_000_000).prop_map(|v| Decimal::new(v, 2))
}

fn weight() -> impl Strategy<Value = Decimal> {
    (0i64..=10_000).prop_map(|v| Decimal::new(v, 2))
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![
        Just(Direction::HigherBetter),
        Just(Direction::LowerBetter),
        Just(Direction::Exact)
    ]
}

/// The achievements of the smaller and the larger of two actual values.
fn at_lower_and_higher(a: Decimal, b: Decimal, t: Decimal, d: Direction) -> (Decimal, Decimal) {
    let p = AchievementPolicy::default();
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let at = |v| achievement(v, t, d, &p).unwrap();
    (at(lo), at(hi))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn higher_better_is_monotone_up(a in dec(), b in dec(), t in positive()) {
        let (x, y) = at_lower_and_higher(a, b, t, Direction::HigherBetter);
        prop_assert!(x <= y);
    }

    #[test]
    fn lower_better_is_monotone_down(a in positive(), b in positive(), t in positive()) {
        let (x, y) = at_lower_and_higher(a, b, t, Direction::LowerBetter);
        prop_assert!(x >= y);
    }

    #[test]
    fn exact_peaks_at_target(a in dec(), t in positive()) {
        let p = AchievementPolicy::default();
        let x = achievement(a, t, Direction::Exact, &p).unwrap();
        prop_assert!(x >= Decimal::ZERO && x <= Decimal::ONE_HUNDRED);
        prop_assert_eq!(achievement(t, t, Direction::Exact, &p).unwrap(), Decimal::ONE_HUNDRED);
    }

    #[test]
    fn cap_and_floor_bound_every_direction(a in dec(), t in dec(), d in direction(),
                                           floor in 0i64..50, cap in 100i64..200) {
        let p = AchievementPolicy { cap: Some(Decimal::from(cap)), floor: Some(Decimal::from(floor)),
                                    ..AchievementPolicy::default() };
        let x = achievement(a, t, d, &p).unwrap();
        prop_assert!(x >= Decimal::from(floor) && x <= Decimal::from(cap));
    }

    #[test]
    fn overall_is_between_min_and_max(items in prop::collection::vec((weight(), prop::option::of(dec())), 0..12)) {
        let items: Vec<WeightedAchievement> = items.into_iter()
            .map(|(weight, achievement)| WeightedAchievement { weight, achievement }).collect();
        let score = overall_score(&items, &AchievementPolicy::default()).unwrap();
        let included: Vec<Decimal> = items.iter()
            .filter(|i| !i.weight.is_zero())
            .filter_map(|i| i.achievement.map(round2)).collect();
        match score {
            None => prop_assert!(included.is_empty()),
            Some(s) => {
                let min = included.iter().min().copied().unwrap();
                let max = included.iter().max().copied().unwrap();
                prop_assert!(s >= min && s <= max, "{} not in [{}, {}]", s, min, max);
            }
        }
    }

    #[test]
    fn overall_is_invariant_to_scaling_weights(
        items in prop::collection::vec((1i64..=50, prop::option::of(dec())), 1..10),
        factor in 1i64..=2,
    ) {
        let build = |f: i64| -> Vec<WeightedAchievement> {
            items.iter().map(|(w, a)| WeightedAchievement { weight: Decimal::from(*w * f), achievement: *a }).collect()
        };
        let p = AchievementPolicy::default();
        let a = overall_score(&build(1), &p).unwrap();
        let b = overall_score(&build(factor), &p).unwrap();
        // Equal up to the 28-digit precision of the division.
        match (a, b) {
            (Some(a), Some(b)) => prop_assert!((a - b).abs() < Decimal::new(1, 20), "{} vs {}", a, b),
            (a, b) => prop_assert_eq!(a, b),
        }
    }

    #[test]
    fn overall_does_not_depend_on_order(items in prop::collection::vec((weight(), prop::option::of(dec())), 0..10)) {
        let items: Vec<WeightedAchievement> = items.into_iter()
            .map(|(weight, achievement)| WeightedAchievement { weight, achievement }).collect();
        let mut reversed = items.clone();
        reversed.reverse();
        let p = AchievementPolicy::default();
        prop_assert_eq!(overall_score(&items, &p).unwrap(), overall_score(&reversed, &p).unwrap());
    }

    #[test]
    fn performance_score_stays_in_0_100(r in 0i64..=100, h in 0i64..5000, s in 0i64..=100) {
        let inputs = PerformanceInputs {
            resolution_rate: Some(Decimal::new(r, 2)),
            avg_response_hours: Some(Decimal::new(h, 2)),
            sla_compliance_rate: Some(Decimal::new(s, 2)),
        };
        let score = performance_score(&inputs, &PerformanceWeights::default()).unwrap().unwrap();
        prop_assert!(score >= Decimal::ZERO && score <= Decimal::ONE_HUNDRED);
    }

    #[test]
    fn formulas_never_panic(src in "[a-z_0-9+*/()<>=!, .-]{0,60}") {
        // Any text parses or fails with a typed error; evaluation never panics.
        if let Ok(f) = Formula::parse(&src, &MetricCatalog::builtin()) {
            let _ = f.evaluate(&|_: &str| Some(Decimal::from(3)));
            let _ = f.evaluate(&|_: &str| Some(Decimal::ZERO));
        }
    }

    #[test]
    fn day_periods_tile_time(days in 0i64..3000, zone in prop_oneof![
        Just("Europe/Warsaw"), Just("America/New_York"), Just("America/Santiago"), Just("Australia/Lord_Howe")]) {
        let tz = parse_timezone(zone).unwrap();
        let date = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Duration::days(days);
        let p = Period::containing(PeriodKind::Day, date);
        let (start, end) = p.utc_bounds(tz);
        let (next_start, _) = p.next().utc_bounds(tz);
        prop_assert_eq!(end, next_start);
        let hours = (end - start).num_minutes();
        prop_assert!((22 * 60..=26 * 60).contains(&hours));
        prop_assert_eq!(local_date(tz, start), date);
    }
}
