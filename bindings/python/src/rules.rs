//! KPI rules: achievement, scores, weights, bands, formulas, units, periods.

use std::collections::BTreeMap;

use crate::convert::{PyObj, PyOut};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rust_decimal::Decimal;
use teamkpi::{
    Band, Direction, Formula, KpiAssignment, KpiDefinition, KpiSource, MetricCatalog,
    PerformanceInputs, PerformanceWeights, PeriodKind, ScoreBands, Unit, WeightedAchievement,
    ZeroTarget,
};

use crate::convert::{
    date, date_to_py, dec_to_py, decimal, from_py, instant, opt_dec_to_py, opt_decimal, timezone,
    to_json,
};
use crate::errors::raise;
use crate::pyser::{to_py, Shape};

/// Achievement cap, floor and zero-target rule from keyword arguments.
pub fn policy(
    cap: Option<&PyObj<'_>>,
    floor: Option<&PyObj<'_>>,
    zero_target: &str,
) -> PyResult<teamkpi::AchievementPolicy> {
    let policy = teamkpi::AchievementPolicy {
        cap: opt_decimal(cap, "cap")?,
        floor: opt_decimal(floor, "floor")?,
        zero_target: match zero_target {
            "zero" => ZeroTarget::Zero,
            "met_or_not" => ZeroTarget::MetOrNot,
            other => {
                return Err(raise(teamkpi::Error::InvalidChoice {
                    field: "zero_target".into(),
                    value: other.into(),
                    expected: "zero met_or_not".into(),
                }))
            }
        },
    };
    policy.validate().map_err(raise)?;
    Ok(policy)
}

/// achievement(actual, target, direction, *, cap=None, floor=None, zero_target="zero") -> Decimal
#[pyfunction]
#[pyo3(signature = (actual, target, direction, *, cap=None, floor=None, zero_target="zero"))]
pub fn achievement<'py>(
    py: Python<'py>,
    actual: &PyObj<'py>,
    target: &PyObj<'py>,
    #[pyo3(from_py_with = crate::convert::text)] direction: &str,
    cap: Option<&PyObj<'py>>,
    floor: Option<&PyObj<'py>>,
    #[pyo3(from_py_with = crate::convert::text)] zero_target: &str,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let actual = decimal(actual, "actual")?;
        let target = decimal(target, "target")?;
        let direction = Direction::parse(direction).map_err(raise)?;
        let policy = policy(cap, floor, zero_target)?;
        dec_to_py(
            py,
            teamkpi::achievement(actual, target, direction, &policy).map_err(raise)?,
        )
    })
}

/// overall_score(items, *, cap=None, floor=None) -> Decimal | None
///
/// `items` are `(weight, achievement)` pairs or dicts with those keys; an achievement of `None`
/// is left out and the rest renormalised.
#[pyfunction]
#[pyo3(signature = (items, *, cap=None, floor=None))]
pub fn overall_score<'py>(
    py: Python<'py>,
    items: &PyObj<'py>,
    cap: Option<&PyObj<'py>>,
    floor: Option<&PyObj<'py>>,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let mut list = Vec::new();
        for item in items.try_iter()? {
            let item = item?;
            let (w, a) = if let Ok(d) = item.cast::<PyDict>() {
                (
                    d.get_item("weight")?.ok_or_else(|| {
                        raise(teamkpi::Error::argument_error("weight", "missing"))
                    })?,
                    d.get_item("achievement")?,
                )
            } else {
                let (w, a): (PyObj<'py>, PyObj<'py>) = item.extract()?;
                (w, Some(a))
            };
            list.push(WeightedAchievement {
                weight: decimal(&w, "weight")?,
                achievement: opt_decimal(a.as_ref(), "achievement")?,
            });
        }
        let policy = policy(cap, floor, "zero")?;
        opt_dec_to_py(py, teamkpi::overall_score(&list, &policy).map_err(raise)?)
    })
}

/// performance_score(resolution_rate, avg_response_hours, sla_compliance_rate, *, weights=None,
/// horizon_hours=24) -> Decimal | None
#[pyfunction]
#[pyo3(signature = (resolution_rate, avg_response_hours, sla_compliance_rate, *, weights=None, horizon_hours=None))]
pub fn performance_score<'py>(
    py: Python<'py>,
    resolution_rate: Option<&PyObj<'py>>,
    avg_response_hours: Option<&PyObj<'py>>,
    sla_compliance_rate: Option<&PyObj<'py>>,
    weights: Option<&Bound<'py, PyDict>>,
    horizon_hours: Option<&PyObj<'py>>,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let inputs = PerformanceInputs {
            resolution_rate: opt_decimal(resolution_rate, "resolution_rate")?,
            avg_response_hours: opt_decimal(avg_response_hours, "avg_response_hours")?,
            sla_compliance_rate: opt_decimal(sla_compliance_rate, "sla_compliance_rate")?,
        };
        let mut w = PerformanceWeights::default();
        if let Some(weights) = weights {
            for (k, v) in weights.iter() {
                let key: String = k.extract()?;
                let value = decimal(&v, &key)?;
                match key.as_str() {
                    "resolution_rate" => w.resolution_rate = value,
                    "response" => w.response = value,
                    "sla_compliance" => w.sla_compliance = value,
                    other => {
                        return Err(raise(teamkpi::Error::InvalidChoice {
                            field: "weights".into(),
                            value: other.into(),
                            expected: "resolution_rate response sla_compliance".into(),
                        }))
                    }
                }
            }
        }
        if let Some(h) = opt_decimal(horizon_hours, "horizon_hours")? {
            w.horizon_hours = h;
        }
        opt_dec_to_py(py, teamkpi::performance_score(&inputs, &w).map_err(raise)?)
    })
}

/// validate_weights(assignments, on) -> list[dict]: agents whose active weights do not sum to 100.
#[pyfunction]
pub fn validate_weights<'py>(
    py: Python<'py>,
    assignments: &PyObj<'py>,
    on: &PyObj<'py>,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let list: Vec<KpiAssignment> = from_py(assignments)?;
        let on = date(on, "on")?;
        to_py(py, &teamkpi::validate_weights(&list, on), Shape::Native)
    })
}

/// score_band(score, bands=None) -> str | None: the label of the band a score falls in.
#[pyfunction]
#[pyo3(signature = (score, bands=None))]
pub fn score_band(score: &PyObj<'_>, bands: Option<&PyObj<'_>>) -> PyResult<Option<String>> {
    crate::errors::guard(|| {
        let score = decimal(score, "score")?;
        let bands = match bands {
            None => ScoreBands::default(),
            Some(b) if b.is_none() => ScoreBands::default(),
            Some(b) => {
                let list: Vec<Band> = from_py(b)?;
                ScoreBands::new(list).map_err(raise)?
            }
        };
        Ok(bands.label(score).map(str::to_owned))
    })
}

/// evaluate_formula(expression, values) -> Decimal | None
#[pyfunction]
pub fn evaluate_formula<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = crate::convert::text)] expression: &str,
    values: &Bound<'py, PyDict>,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let catalog = MetricCatalog::builtin();
        let f = Formula::parse(expression, &catalog).map_err(raise)?;
        let mut map: BTreeMap<String, Decimal> = BTreeMap::new();
        for (k, v) in values.iter() {
            let key: String = k.extract()?;
            if !v.is_none() {
                let d = decimal(&v, &key)?;
                map.insert(key, d);
            }
        }
        opt_dec_to_py(
            py,
            f.evaluate(&|name: &str| map.get(name).copied())
                .map_err(raise)?,
        )
    })
}

/// check_formula(expression) -> list[str]: the metric names a formula uses (raises when invalid).
#[pyfunction]
pub fn check_formula(
    #[pyo3(from_py_with = crate::convert::text)] expression: &str,
) -> PyResult<Vec<String>> {
    crate::errors::guard(|| {
        let catalog = MetricCatalog::builtin();
        let f = Formula::parse(expression, &catalog).map_err(raise)?;
        Ok(f.metrics().into_iter().map(str::to_owned).collect())
    })
}

/// convert_unit(value, from_unit, to_unit) -> Decimal
#[pyfunction]
pub fn convert_unit<'py>(
    py: Python<'py>,
    value: &PyObj<'py>,
    #[pyo3(from_py_with = crate::convert::text)] from_unit: &str,
    #[pyo3(from_py_with = crate::convert::text)] to_unit: &str,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let from = Unit::parse(from_unit).map_err(raise)?;
        let to = Unit::parse(to_unit).map_err(raise)?;
        dec_to_py(
            py,
            from.convert(decimal(value, "value")?, to).map_err(raise)?,
        )
    })
}

/// kpi_source(calculation_type, config) -> dict: the KPI tables' calculation type and config as a
/// typed source (`metric`, `formula`, `manual`, `external`).
#[pyfunction]
pub fn kpi_source<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = crate::convert::text)] calculation_type: &str,
    config: &PyObj<'py>,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let src =
            KpiSource::from_calculation_type(calculation_type, &to_json(config)?).map_err(raise)?;
        to_py(py, &src, Shape::Json)
    })
}

/// validate_definition(definition) -> dict: the definition, normalised (aliases resolved).
#[pyfunction]
pub fn validate_definition<'py>(py: Python<'py>, definition: &PyObj<'py>) -> PyOut<'py> {
    crate::errors::guard(|| {
        let def: KpiDefinition = from_py(definition)?;
        def.validate(&MetricCatalog::builtin()).map_err(raise)?;
        to_py(py, &def, Shape::Native)
    })
}

/// metric_catalog() -> list[dict]: the built-in metrics with their units.
#[pyfunction]
pub fn metric_catalog<'py>(py: Python<'py>) -> PyOut<'py> {
    crate::errors::guard(|| {
        let catalog = MetricCatalog::builtin();
        to_py(py, &catalog.iter().collect::<Vec<_>>(), Shape::Json)
    })
}

fn range_dict<'py>(
    py: Python<'py>,
    start: chrono::NaiveDate,
    end: chrono::NaiveDate,
) -> PyOut<'py> {
    let d = PyDict::new(py);
    d.set_item("start", date_to_py(py, start)?)?;
    d.set_item("end", date_to_py(py, end)?)?;
    Ok(d.into_any())
}

/// period_bounds(kind, day, timezone="UTC") -> dict: the day, ISO week or month containing `day`,
/// with its first and last dates and its UTC instants `[utc_start, utc_end)`.
#[pyfunction]
#[pyo3(signature = (kind, day, timezone=None))]
pub fn period_bounds<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = crate::convert::text)] kind: &str,
    day: &PyObj<'py>,
    timezone: Option<&PyObj<'py>>,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let kind = PeriodKind::parse(kind).map_err(raise)?;
        let tz = zone(timezone)?;
        let p = teamkpi::Period::containing(kind, date(day, "day")?);
        let (a, b) = p.utc_bounds(tz);
        let d = range_dict(py, p.start, p.end)?;
        d.set_item("utc_start", crate::convert::instant_to_py(py, a)?)?;
        d.set_item("utc_end", crate::convert::instant_to_py(py, b)?)?;
        Ok(d)
    })
}

pub fn zone(obj: Option<&PyObj<'_>>) -> PyResult<chrono_tz::Tz> {
    match obj {
        None => Ok(chrono_tz::UTC),
        Some(o) if o.is_none() => Ok(chrono_tz::UTC),
        Some(o) => timezone(o),
    }
}

/// periods(kind, start, end) -> list[dict]: the natural periods covering a date range.
#[pyfunction]
pub fn periods<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = crate::convert::text)] kind: &str,
    start: &PyObj<'py>,
    end: &PyObj<'py>,
) -> PyResult<Bound<'py, PyList>> {
    crate::errors::guard(|| {
        let range =
            teamkpi::DateRange::new(date(start, "start")?, date(end, "end")?).map_err(raise)?;
        let kind = PeriodKind::parse(kind).map_err(raise)?;
        let out = PyList::empty(py);
        for p in range.periods(kind) {
            out.append(range_dict(py, p.start, p.end)?)?;
        }
        Ok(out)
    })
}

/// date_range(helper, now, timezone="UTC", days=None) -> dict with start and end dates for
/// `today`, `last_n_days` (needs `days`), `last_full_week` and `last_month`.
#[pyfunction]
#[pyo3(signature = (helper, now, timezone=None, days=None))]
pub fn date_range<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = crate::convert::text)] helper: &str,
    now: &PyObj<'py>,
    timezone: Option<&PyObj<'py>>,
    #[pyo3(from_py_with = crate::convert::opt_count)] days: Option<u32>,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let tz = zone(timezone)?;
        let now = instant(now, "now")?;
        let r = teamkpi::period::date_helper(helper, now, tz, days).map_err(raise)?;
        range_dict(py, r.start, r.end)
    })
}
