//! A company's settings as stores keep them — time zone, assignment settings, SLA policy,
//! business calendar — and a change to them, validated the same way from every surface.

use serde::{Deserialize, Serialize};

use crate::assignment::AssignmentSettings;
use crate::calendar::BusinessCalendar;
use crate::error::Result;
use crate::sla::SlaPolicy;

/// A company's settings. Without a stored row a company has [`CompanySettings::default`]: UTC,
/// the default assignment settings, no SLA policy, no calendar.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompanySettings {
    /// The IANA time zone of its days, weeks and months.
    pub timezone: String,
    /// The CRM assignment's settings.
    pub assignment: AssignmentSettings,
    /// The SLA policy, if any.
    pub sla: Option<SlaPolicy>,
    /// The business calendar of business-time metrics, if any.
    pub calendar: Option<BusinessCalendar>,
}

impl Default for CompanySettings {
    fn default() -> Self {
        CompanySettings {
            timezone: "UTC".into(),
            assignment: AssignmentSettings::default(),
            sla: None,
            calendar: None,
        }
    }
}

/// A change to a company's settings: what is given replaces, the rest stays; `clear_sla` and
/// `clear_calendar` remove them. Python's keywords, Node's options object and the CLI's flags
/// decode into it.
///
/// ```
/// use teamkpi::settings::{CompanySettings, SettingsChange};
/// let change: SettingsChange =
///     serde_json::from_value(serde_json::json!({"timezone": "Europe/Warsaw"})).unwrap();
/// let next = change.apply(CompanySettings::default()).unwrap();
/// assert_eq!((next.timezone.as_str(), next.sla.is_none()), ("Europe/Warsaw", true));
/// let bad: SettingsChange = serde_json::from_value(serde_json::json!({"timezone": "Mars/Base"})).unwrap();
/// assert_eq!(bad.apply(CompanySettings::default()).unwrap_err().code(), "unknown_timezone");
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SettingsChange {
    /// A new IANA time zone.
    pub timezone: Option<String>,
    /// New assignment settings.
    pub assignment: Option<AssignmentSettings>,
    /// A new SLA policy.
    pub sla: Option<SlaPolicy>,
    /// Remove the SLA policy (with no `sla`).
    pub clear_sla: bool,
    /// A new business calendar.
    pub calendar: Option<BusinessCalendar>,
    /// Remove the business calendar (with no `calendar`).
    pub clear_calendar: bool,
}

impl SettingsChange {
    /// The settings after the change; a zone that is not an IANA name is `unknown_timezone`,
    /// a policy given with `clear_sla` (or a calendar with `clear_calendar`) `invalid_argument`.
    pub fn apply(self, mut current: CompanySettings) -> Result<CompanySettings> {
        if self.clear_sla && self.sla.is_some() {
            return Err(crate::Error::argument_error(
                "clear_sla",
                "cannot both set and clear the SLA policy",
            ));
        }
        if self.clear_calendar && self.calendar.is_some() {
            return Err(crate::Error::argument_error(
                "clear_calendar",
                "cannot both set and clear the calendar",
            ));
        }
        if let Some(z) = self.timezone {
            crate::parse_timezone(&z)?;
            current.timezone = z;
        }
        if let Some(a) = self.assignment {
            current.assignment = a;
        }
        if self.clear_sla {
            current.sla = None;
        } else if let Some(p) = self.sla {
            current.sla = Some(p);
        }
        if self.clear_calendar {
            current.calendar = None;
        } else if let Some(c) = self.calendar {
            current.calendar = Some(c);
        }
        Ok(current)
    }
}
