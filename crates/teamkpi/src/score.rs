//! Achievement percentages, the overall KPI score, the support automation's performance score and score bands.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::choice::string_enum;
use crate::error::{Error, Result};
use crate::kpi::{validate_weight, Direction, KpiAssignment};
use crate::num::{round2, serde_number, serde_number_opt};

string_enum! {
    /// What achievement a target of zero gives.
    #[derive(Default)]
    pub enum ZeroTarget ("zero_target") {
        /// 0 % whatever the actual value (the KPI tables' behaviour; the default).
        #[default]
        Zero = "zero",
        /// 100 % when the actual value meets a zero target (higher_better: always; lower_better and
        /// exact: actual ≤ 0 / actual = 0), else 0 %.
        MetOrNot = "met_or_not",
    }
}

/// Optional cap and floor on achievement, and the rule for a zero target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AchievementPolicy {
    /// Upper bound in percent, e.g. 120.
    #[serde(default, with = "serde_number_opt")]
    pub cap: Option<Decimal>,
    /// Lower bound in percent, e.g. 0.
    #[serde(default, with = "serde_number_opt")]
    pub floor: Option<Decimal>,
    /// What a zero target gives.
    #[serde(default)]
    pub zero_target: ZeroTarget,
}

impl AchievementPolicy {
    /// A policy with a cap only.
    pub fn capped(cap: Decimal) -> Self {
        AchievementPolicy {
            cap: Some(cap),
            ..Self::default()
        }
    }

    /// Checks floor ≤ cap.
    pub fn validate(&self) -> Result<()> {
        if let (Some(cap), Some(floor)) = (self.cap, self.floor) {
            if floor > cap {
                return Err(Error::InvalidPolicy(format!(
                    "floor {floor} is above cap {cap}"
                )));
            }
        }
        Ok(())
    }

    /// Applies cap and floor to an achievement.
    pub fn clamp(&self, achievement: Decimal) -> Decimal {
        let mut a = achievement;
        if let Some(cap) = self.cap {
            a = a.min(cap);
        }
        if let Some(floor) = self.floor {
            a = a.max(floor);
        }
        a
    }
}

/// Achievement in percent of `actual` against `target`, exactly as the KPI tables computes it, then
/// clamped by the policy. The value is exact (not rounded).
///
/// - higher_better: actual / target × 100
/// - lower_better: target / actual × 100; actual ≤ 0 gives 100
/// - exact: max(0, 100 − |actual − target| / target × 100)
/// - target = 0 gives 0 unless the policy says otherwise
///
/// ```
/// use teamkpi::{achievement, AchievementPolicy, Direction};
/// use rust_decimal::Decimal;
/// let a = achievement(Decimal::from(2), Decimal::from(3), Direction::LowerBetter,
///                     &AchievementPolicy::default()).unwrap();
/// assert_eq!(a, Decimal::from(150));
/// ```
pub fn achievement(
    actual: Decimal,
    target: Decimal,
    direction: Direction,
    policy: &AchievementPolicy,
) -> Result<Decimal> {
    if target < Decimal::ZERO {
        return Err(Error::NegativeTarget(target.to_string()));
    }
    policy.validate()?;
    let overflow = || Error::ArithmeticOverflow("achievement".into());
    let hundred = Decimal::ONE_HUNDRED;
    let raw = if target.is_zero() {
        match policy.zero_target {
            ZeroTarget::Zero => Decimal::ZERO,
            ZeroTarget::MetOrNot => {
                let met = match direction {
                    Direction::HigherBetter => true,
                    Direction::LowerBetter => actual <= Decimal::ZERO,
                    Direction::Exact => actual.is_zero(),
                };
                if met {
                    hundred
                } else {
                    Decimal::ZERO
                }
            }
        }
    } else {
        match direction {
            Direction::HigherBetter => actual
                .checked_div(target)
                .and_then(|r| r.checked_mul(hundred))
                .ok_or_else(overflow)?,
            Direction::LowerBetter => {
                if actual <= Decimal::ZERO {
                    hundred
                } else {
                    target
                        .checked_div(actual)
                        .and_then(|r| r.checked_mul(hundred))
                        .ok_or_else(overflow)?
                }
            }
            Direction::Exact => {
                let diff = actual.checked_sub(target).ok_or_else(overflow)?.abs();
                let off = diff
                    .checked_div(target)
                    .and_then(|r| r.checked_mul(hundred))
                    .ok_or_else(overflow)?;
                // A huge miss saturates at 0 rather than overflowing.
                hundred
                    .checked_sub(off)
                    .unwrap_or(Decimal::MIN)
                    .max(Decimal::ZERO)
            }
        }
    };
    Ok(policy.clamp(raw).normalize())
}

/// One assignment's contribution to an overall score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightedAchievement {
    /// Weight in percent, 0–100.
    #[serde(with = "serde_number")]
    pub weight: Decimal,
    /// Achievement in percent; `None` when the assignment has no measurement (left out).
    #[serde(default, with = "serde_number_opt")]
    pub achievement: Option<Decimal>,
}

/// The overall KPI score (the support desk's `overall_kpi_score`): the weight-averaged achievement of an
/// agent's assignments for a period.
///
/// Achievements are clamped by the policy, then rounded to 2 places (as stored); assignments with
/// no measurement are left out and the remaining weights renormalised. No measurement at all, or
/// included weights that sum to 0, give `None` — "no score", not 0. The result is exact.
///
/// ```
/// use teamkpi::{overall_score, AchievementPolicy, WeightedAchievement};
/// use rust_decimal::Decimal;
/// let items = [
///     WeightedAchievement { weight: Decimal::from(60), achievement: Some(Decimal::from(100)) },
///     WeightedAchievement { weight: Decimal::from(40), achievement: Some(Decimal::from(50)) },
///     WeightedAchievement { weight: Decimal::from(10), achievement: None },
/// ];
/// let s = overall_score(&items, &AchievementPolicy::default()).unwrap();
/// assert_eq!(s, Some(Decimal::from(80)));
/// ```
pub fn overall_score(
    items: &[WeightedAchievement],
    policy: &AchievementPolicy,
) -> Result<Option<Decimal>> {
    policy.validate()?;
    let overflow = || Error::ArithmeticOverflow("overall score".into());
    let mut weight_sum = Decimal::ZERO;
    let mut weighted = Decimal::ZERO;
    for item in items {
        validate_weight(item.weight)?;
        let Some(a) = item.achievement else { continue };
        let a = round2(policy.clamp(a));
        weight_sum += item.weight;
        weighted = weighted
            .checked_add(item.weight.checked_mul(a).ok_or_else(overflow)?)
            .ok_or_else(overflow)?;
    }
    if weight_sum.is_zero() {
        return Ok(None);
    }
    Ok(Some(
        weighted
            .checked_div(weight_sum)
            .ok_or_else(overflow)?
            .normalize(),
    ))
}

/// A group of assignments whose weights do not sum to 100.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightIssue {
    /// The company.
    pub tenant: Option<String>,
    /// The agent.
    pub agent_id: u64,
    /// The sum of the weights of the agent's assignments that apply.
    #[serde(with = "serde_number")]
    pub total: Decimal,
    /// Ids of the assignments summed.
    pub assignment_ids: Vec<u64>,
}

/// Reports, per (tenant, agent), the active assignments applying on `on` whose weights do not sum
/// to 100. The report is ordered by tenant then agent.
pub fn validate_weights(assignments: &[KpiAssignment], on: chrono::NaiveDate) -> Vec<WeightIssue> {
    type Group = (Decimal, Vec<u64>);
    let mut groups: BTreeMap<(Option<&str>, u64), Group> = BTreeMap::new();
    for a in assignments.iter().filter(|a| a.applies_between(on, on)) {
        let entry = groups
            .entry((a.tenant.as_deref(), a.agent_id))
            .or_insert((Decimal::ZERO, Vec::new()));
        entry.0 += a.weight;
        entry.1.push(a.id);
    }
    groups
        .into_iter()
        .filter(|(_, (total, _))| *total != Decimal::ONE_HUNDRED)
        .map(|((tenant, agent_id), (total, mut ids))| {
            ids.sort_unstable();
            WeightIssue {
                tenant: tenant.map(str::to_owned),
                agent_id,
                total: total.normalize(),
                assignment_ids: ids,
            }
        })
        .collect()
}

/// Weights and horizon of the support automation's performance score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerformanceWeights {
    /// Weight of the resolution rate (default 0.4).
    #[serde(with = "serde_number")]
    pub resolution_rate: Decimal,
    /// Weight of the response score (default 0.3).
    #[serde(with = "serde_number")]
    pub response: Decimal,
    /// Weight of SLA compliance (default 0.3).
    #[serde(with = "serde_number")]
    pub sla_compliance: Decimal,
    /// Average first-response hours at which the response score reaches 0 (default 24).
    #[serde(with = "serde_number")]
    pub horizon_hours: Decimal,
}

impl Default for PerformanceWeights {
    fn default() -> Self {
        PerformanceWeights {
            resolution_rate: Decimal::new(4, 1),
            response: Decimal::new(3, 1),
            sla_compliance: Decimal::new(3, 1),
            horizon_hours: Decimal::from(24),
        }
    }
}

/// Inputs of the support automation's performance score; `None` means the component has no data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerformanceInputs {
    /// Share of handled tickets resolved, a fraction 0–1.
    #[serde(default, with = "serde_number_opt")]
    pub resolution_rate: Option<Decimal>,
    /// Average first-response time in hours.
    #[serde(default, with = "serde_number_opt")]
    pub avg_response_hours: Option<Decimal>,
    /// Share of SLA tasks met, a fraction 0–1.
    #[serde(default, with = "serde_number_opt")]
    pub sla_compliance_rate: Option<Decimal>,
}

fn check_rate(field: &str, value: Option<Decimal>) -> Result<()> {
    if let Some(v) = value {
        if v < Decimal::ZERO || v > Decimal::ONE {
            return Err(Error::RateOutOfRange {
                field: field.to_owned(),
                value: v.to_string(),
            });
        }
    }
    Ok(())
}

/// The support automation's performance score on 0–100: resolution rate 40 %, response score 30 %
/// (1 − avg first-response hours / 24, floored at 0), SLA compliance 30 %.
///
/// Components with no data are left out and the other weights renormalised; no component at all
/// gives `None`. Rates are fractions 0–1 (above 1 is `rate_out_of_range`).
///
/// ```
/// use teamkpi::{performance_score, PerformanceInputs, PerformanceWeights};
/// use rust_decimal::Decimal;
/// let inputs = PerformanceInputs {
///     resolution_rate: Some(Decimal::new(8, 1)),          // 0.8
///     avg_response_hours: Some(Decimal::new(12, 1)),      // 1.2 h → response score 0.95
///     sla_compliance_rate: Some(Decimal::new(955, 3)),    // 0.955
/// };
/// let s = performance_score(&inputs, &PerformanceWeights::default()).unwrap().unwrap();
/// assert_eq!(s.to_string(), "89.15");
/// ```
pub fn performance_score(
    inputs: &PerformanceInputs,
    weights: &PerformanceWeights,
) -> Result<Option<Decimal>> {
    check_rate("resolution_rate", inputs.resolution_rate)?;
    check_rate("sla_compliance_rate", inputs.sla_compliance_rate)?;
    for (field, w) in [
        ("weights.resolution_rate", weights.resolution_rate),
        ("weights.response", weights.response),
        ("weights.sla_compliance", weights.sla_compliance),
    ] {
        if w < Decimal::ZERO {
            return Err(Error::argument(
                field,
                format!("must not be negative, got {w}"),
            ));
        }
    }
    if weights.horizon_hours <= Decimal::ZERO {
        return Err(Error::argument(
            "horizon_hours",
            format!("must be positive, got {}", weights.horizon_hours),
        ));
    }
    let overflow = || Error::ArithmeticOverflow("performance score".into());
    let response = match inputs.avg_response_hours {
        Some(h) if h < Decimal::ZERO => {
            return Err(Error::NegativeDuration {
                field: "avg_response_hours".into(),
                value: h.to_string(),
            })
        }
        Some(h) => {
            let ratio = h.checked_div(weights.horizon_hours).ok_or_else(overflow)?;
            Some((Decimal::ONE - ratio.min(Decimal::ONE)).max(Decimal::ZERO))
        }
        None => None,
    };
    let parts = [
        (weights.resolution_rate, inputs.resolution_rate),
        (weights.response, response),
        (weights.sla_compliance, inputs.sla_compliance_rate),
    ];
    let mut weight_sum = Decimal::ZERO;
    let mut total = Decimal::ZERO;
    for (w, value) in parts {
        if let Some(v) = value {
            weight_sum += w;
            total += w.checked_mul(v).ok_or_else(overflow)?;
        }
    }
    if weight_sum.is_zero() {
        return Ok(None);
    }
    let score = total
        .checked_div(weight_sum)
        .and_then(|s| s.checked_mul(Decimal::ONE_HUNDRED))
        .ok_or_else(overflow)?;
    Ok(Some(score.normalize()))
}

/// One band: scores at or above `min` (and below the next band's `min`) get `label`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    /// Lowest score of the band, inclusive.
    #[serde(with = "serde_number")]
    pub min: Decimal,
    /// The label, e.g. `excellent`.
    pub label: String,
}

/// Thresholds mapping a score to a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Band>", into = "Vec<Band>")]
pub struct ScoreBands {
    /// Bands sorted by `min`, highest first.
    bands: Vec<Band>,
}

impl ScoreBands {
    /// Builds bands from (min, label) pairs in any order. Thresholds must be distinct and labels
    /// non-empty; at least one band is required.
    pub fn new(bands: Vec<Band>) -> Result<Self> {
        if bands.is_empty() {
            return Err(Error::InvalidBands("at least one band is required".into()));
        }
        let mut bands = bands;
        bands.sort_by_key(|b| std::cmp::Reverse(b.min));
        for pair in bands.windows(2) {
            if let [a, b] = pair {
                if a.min == b.min {
                    return Err(Error::InvalidBands(format!(
                        "threshold {} appears twice",
                        a.min
                    )));
                }
            }
        }
        if let Some(b) = bands.iter().find(|b| b.label.trim().is_empty()) {
            return Err(Error::InvalidBands(format!(
                "band at {} has an empty label",
                b.min
            )));
        }
        Ok(ScoreBands { bands })
    }

    /// The label for `score`, or `None` when it is below every threshold.
    pub fn label(&self, score: Decimal) -> Option<&str> {
        self.bands
            .iter()
            .find(|b| score >= b.min)
            .map(|b| b.label.as_str())
    }

    /// The bands, highest first.
    pub fn bands(&self) -> &[Band] {
        &self.bands
    }
}

impl Default for ScoreBands {
    /// excellent ≥ 90, good ≥ 75, fair ≥ 60, needs_improvement ≥ 0.
    fn default() -> Self {
        let band = |min: i64, label: &str| Band {
            min: Decimal::from(min),
            label: label.to_owned(),
        };
        ScoreBands {
            bands: vec![
                band(90, "excellent"),
                band(75, "good"),
                band(60, "fair"),
                band(0, "needs_improvement"),
            ],
        }
    }
}

impl TryFrom<Vec<Band>> for ScoreBands {
    type Error = crate::error::Coded;
    fn try_from(bands: Vec<Band>) -> std::result::Result<Self, Self::Error> {
        ScoreBands::new(bands).map_err(crate::error::Coded)
    }
}

impl From<ScoreBands> for Vec<Band> {
    fn from(b: ScoreBands) -> Self {
        b.bands
    }
}
