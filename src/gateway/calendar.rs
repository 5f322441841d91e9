//! Working time: a promise of `[sla]` counted in business hours, on working days, not on the
//! city's holidays, in the city's time zone (`jiff`, which reads the system's time zone
//! database). Without `business_hours` a promise runs around the clock.

use crate::config::SlaSettings;
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use std::collections::BTreeSet;

/// When the city works.
#[derive(Debug, Clone)]
pub struct Calendar {
    zone: TimeZone,
    open: Time,
    close: Time,
    /// Monday first.
    days: [bool; 7],
    holidays: BTreeSet<Date>,
}

/// What the `[sla]` calendar keys got wrong: the server does not start.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CalendarError {
    #[error("[sla] business_hours {0:?}: expected opening and closing times like \"08:00-17:00\"")]
    Hours(String),
    #[error("[sla] business_days {0:?}: expected day names like \"mon\", \"tue\" ... \"sun\"")]
    Day(String),
    #[error("[sla] business_days: at least one working day is needed")]
    NoDays,
    #[error("[sla] holidays {0:?}: expected a date like \"2026-12-25\"")]
    Holiday(String),
    #[error(
        "[sla] timezone {0:?}: not a time zone of the system's database (e.g. \"America/New_York\")"
    )]
    Zone(String),
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The furthest a promise is looked for: ten years of days.
const HORIZON_DAYS: usize = 3_660;

impl Calendar {
    /// The calendar of `[sla]`, or `None` when promises run around the clock (no
    /// `business_hours`).
    pub fn from_settings(sla: &SlaSettings) -> Result<Option<Calendar>, CalendarError> {
        let hours = sla.business_hours.trim();
        if hours.is_empty() {
            return Ok(None);
        }
        let (open, close) = hours
            .split_once('-')
            .and_then(|(open, close)| {
                Some((
                    open.trim().parse::<Time>().ok()?,
                    close.trim().parse::<Time>().ok()?,
                ))
            })
            .filter(|(open, close)| open < close)
            .ok_or_else(|| CalendarError::Hours(hours.to_owned()))?;
        let mut days = [false; 7];
        for day in &sla.business_days {
            let index = DAY_NAMES
                .iter()
                .position(|name| day.trim().to_ascii_lowercase().starts_with(name))
                .ok_or_else(|| CalendarError::Day(day.clone()))?;
            days[index] = true;
        }
        if !days.contains(&true) {
            return Err(CalendarError::NoDays);
        }
        let holidays = sla
            .holidays
            .iter()
            .map(|day| {
                day.trim()
                    .parse::<Date>()
                    .map_err(|_| CalendarError::Holiday(day.clone()))
            })
            .collect::<Result<_, _>>()?;
        let name = sla.timezone.trim();
        let zone = TimeZone::get(name).map_err(|_| CalendarError::Zone(name.to_owned()))?;
        Ok(Some(Calendar {
            zone,
            open,
            close,
            days,
            holidays,
        }))
    }

    fn works(&self, date: Date) -> bool {
        self.days[date.weekday().to_monday_zero_offset() as usize] && !self.holidays.contains(&date)
    }

    /// The instant (ms) at which `work_ms` of working time after `start_ms` has passed: time
    /// outside business hours, on days off and on holidays does not count. A report filed in
    /// the evening starts counting when the city opens.
    pub fn add(&self, start_ms: i64, work_ms: i64) -> i64 {
        let Ok(start) = Timestamp::from_millisecond(start_ms) else {
            return start_ms.saturating_add(work_ms);
        };
        let mut remaining = work_ms.max(0);
        let mut date = start.to_zoned(self.zone.clone()).date();
        for _ in 0..HORIZON_DAYS {
            if self.works(date) {
                let at = |time: Time| {
                    date.to_datetime(time)
                        .to_zoned(self.zone.clone())
                        .map(|zoned| zoned.timestamp().as_millisecond())
                };
                if let (Ok(open), Ok(close)) = (at(self.open), at(self.close)) {
                    let from = open.max(start_ms);
                    if from < close {
                        if remaining <= close - from {
                            return from + remaining;
                        }
                        remaining -= close - from;
                    }
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        start_ms.saturating_add(work_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sla(hours: &str, days: &[&str], holidays: &[&str], zone: &str) -> SlaSettings {
        SlaSettings {
            check_interval_secs: 60,
            business_hours: hours.to_owned(),
            business_days: days.iter().map(|d| d.to_string()).collect(),
            holidays: holidays.iter().map(|d| d.to_string()).collect(),
            timezone: zone.to_owned(),
            hours: Default::default(),
        }
    }

    fn calendar(hours: &str, days: &[&str], holidays: &[&str], zone: &str) -> Calendar {
        Calendar::from_settings(&sla(hours, days, holidays, zone))
            .unwrap()
            .unwrap()
    }

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    const HOUR: i64 = 3_600_000;
    const WEEKDAYS: [&str; 5] = ["mon", "tue", "wed", "thu", "fri"];

    #[test]
    fn working_time_skips_nights_weekends_and_holidays() {
        let city = calendar("08:00-17:00", &WEEKDAYS, &["2026-12-25"], "UTC");
        // (filed at, working hours promised, due at); 2026-12-04 is a Friday.
        let cases = [
            ("2026-12-01T09:00:00Z", 2, "2026-12-01T11:00:00Z"), // inside one day
            ("2026-12-01T16:00:00Z", 2, "2026-12-02T09:00:00Z"), // over the night
            ("2026-12-01T20:00:00Z", 1, "2026-12-02T09:00:00Z"), // filed after closing
            ("2026-12-01T05:00:00Z", 1, "2026-12-01T09:00:00Z"), // filed before opening
            ("2026-12-04T16:00:00Z", 3, "2026-12-07T10:00:00Z"), // over the weekend
            ("2026-12-05T12:00:00Z", 9, "2026-12-07T17:00:00Z"), // filed on Saturday
            ("2026-12-24T16:00:00Z", 2, "2026-12-28T09:00:00Z"), // Christmas, then the weekend
            ("2026-12-01T08:00:00Z", 72, "2026-12-10T17:00:00Z"), // 8 days of 9 h
        ];
        for (filed, hours, due) in cases {
            assert_eq!(
                city.add(ms(filed), hours * HOUR),
                ms(due),
                "filed {filed}, {hours} working hours"
            );
        }
    }

    #[test]
    fn business_hours_are_the_city_s_clock_across_summer_time() {
        let city = calendar("09:00-17:00", &WEEKDAYS, &[], "America/New_York");
        // Friday 2026-03-06 16:00 EST (21:00Z) plus 2 h: Monday 10:00 EDT (14:00Z), after
        // the clocks went forward on Sunday.
        assert_eq!(
            city.add(ms("2026-03-06T21:00:00Z"), 2 * HOUR),
            ms("2026-03-09T14:00:00Z")
        );
    }

    #[test]
    fn a_calendar_that_cannot_be_is_refused_by_name() {
        let refused = |hours: &str, days: &[&str], holidays: &[&str], zone: &str| {
            Calendar::from_settings(&sla(hours, days, holidays, zone)).unwrap_err()
        };
        assert_eq!(
            refused("17:00-08:00", &WEEKDAYS, &[], "UTC"),
            CalendarError::Hours("17:00-08:00".into())
        );
        assert_eq!(
            refused("9 to 5", &WEEKDAYS, &[], "UTC"),
            CalendarError::Hours("9 to 5".into())
        );
        assert_eq!(
            refused("08:00-17:00", &["mon", "funday"], &[], "UTC"),
            CalendarError::Day("funday".into())
        );
        assert_eq!(
            refused("08:00-17:00", &[], &[], "UTC"),
            CalendarError::NoDays
        );
        assert_eq!(
            refused("08:00-17:00", &WEEKDAYS, &["25/12/2026"], "UTC"),
            CalendarError::Holiday("25/12/2026".into())
        );
        assert_eq!(
            refused("08:00-17:00", &WEEKDAYS, &[], "Mars/Olympus_Mons"),
            CalendarError::Zone("Mars/Olympus_Mons".into())
        );
    }
}
