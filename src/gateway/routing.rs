//! Who takes a report, and by when: the departments of `[[department]]`, tried in order (the
//! first whose categories and areas both match takes it; an empty list matches everything), and
//! the public promise of `[sla]`, hours to fix by category, counted in the city's working
//! time when it has business hours ([`Calendar`]).

use super::calendar::{Calendar, CalendarError};
use super::catalog::Catalog;
use crate::config::Settings;
use crate::places::Places;
use crate::store::officials::Official;
use std::collections::HashMap;

/// A department as routing sees it.
#[derive(Debug, Clone)]
pub struct Department {
    pub name: String,
    pub email: String,
    /// The official a new report of this department is assigned to, if any.
    pub assignee: Option<i64>,
    categories: Vec<String>,
    areas: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Routing {
    departments: Vec<Department>,
    /// Milliseconds to fix, by service code.
    promise_ms: HashMap<String, i64>,
    /// `None`: promises run around the clock.
    calendar: Option<Calendar>,
}

/// A rule that names what does not exist: the server does not start.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RoutingError {
    #[error("[[department]] {department:?}: no category has the service code {code:?}")]
    UnknownCategory { department: String, code: String },
    #[error("[[department]] {department:?}: no area is named {area:?} in the places loaded")]
    UnknownArea { department: String, area: String },
    #[error("[[department]] number {index}: a department needs a name")]
    NoName { index: usize },
    #[error("[[department]] {0:?} comes twice")]
    Twice(String),
    #[error("[sla] {code:?}: no category has this service code")]
    UnknownPromise { code: String },
    #[error("[sla] {code:?}: {hours} is not a number of hours above zero")]
    BadPromise { code: String, hours: f64 },
    #[error(
        "[[department]] {department:?}: default_assignee {email:?} is not an agent or admin \
         (add them with `civicline user add --email {email} --role agent`)"
    )]
    UnknownAssignee { department: String, email: String },
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

impl RoutingError {
    /// The department and the value this refusal is about, to find its line in the config.
    pub fn names(&self) -> Option<(&str, &str)> {
        match self {
            RoutingError::UnknownCategory { department, code } => Some((department, code)),
            RoutingError::UnknownArea { department, area } => Some((department, area)),
            RoutingError::UnknownAssignee { department, email } => Some((department, email)),
            _ => None,
        }
    }
}

impl Routing {
    /// The routing of `settings`, every name checked against the catalog, the places and the
    /// `officials` who can be a department's default assignee.
    pub fn new(
        settings: &Settings,
        catalog: &Catalog,
        places: &Places,
        officials: &[Official],
    ) -> Result<Routing, RoutingError> {
        let known = |code: &str| catalog.category_by_code(code).is_some();
        let mut departments: Vec<Department> = Vec::new();
        for (index, d) in settings.department.iter().enumerate() {
            let name = d.name.trim().to_owned();
            if name.is_empty() {
                return Err(RoutingError::NoName { index: index + 1 });
            }
            if departments.iter().any(|other| other.name == name) {
                return Err(RoutingError::Twice(name));
            }
            if let Some(code) = d.categories.iter().find(|code| !known(code)) {
                return Err(RoutingError::UnknownCategory {
                    department: name,
                    code: code.clone(),
                });
            }
            if let Some(area) = d.areas.iter().find(|area| !places.has_area(area)) {
                return Err(RoutingError::UnknownArea {
                    department: name,
                    area: area.clone(),
                });
            }
            let assignee = match d.default_assignee.trim() {
                "" => None,
                email => Some(
                    officials
                        .iter()
                        .find(|o| o.email.eq_ignore_ascii_case(email) && o.can_act())
                        .map(|o| o.official_id)
                        .ok_or_else(|| RoutingError::UnknownAssignee {
                            department: name.clone(),
                            email: email.to_owned(),
                        })?,
                ),
            };
            departments.push(Department {
                name,
                email: d.email.trim().to_owned(),
                assignee,
                categories: d.categories.clone(),
                areas: d.areas.clone(),
            });
        }
        let mut promise_ms = HashMap::new();
        for (code, &hours) in &settings.sla.hours {
            if !known(code) {
                return Err(RoutingError::UnknownPromise { code: code.clone() });
            }
            if !(hours.is_finite() && hours > 0.0) {
                return Err(RoutingError::BadPromise {
                    code: code.clone(),
                    hours,
                });
            }
            promise_ms.insert(code.clone(), (hours * 3_600_000.0).round().max(1.0) as i64);
        }
        Ok(Routing {
            departments,
            promise_ms,
            calendar: Calendar::from_settings(&settings.sla)?,
        })
    }

    /// The department that takes a report of `service_code` in `area`, if any.
    pub fn department_for(
        &self,
        service_code: Option<&str>,
        area: Option<&str>,
    ) -> Option<&Department> {
        let has = |list: &[String], value: Option<&str>| {
            list.is_empty() || value.is_some_and(|v| list.iter().any(|item| item == v))
        };
        self.departments
            .iter()
            .find(|d| has(&d.categories, service_code) && has(&d.areas, area))
    }

    /// When a report of `service_code` filed at `created_at` is due, if its category has a
    /// promise: its hours later, or that much working time later with business hours.
    pub fn due_at(&self, service_code: Option<&str>, created_at: i64) -> Option<i64> {
        let ms = *self.promise_ms.get(service_code?)?;
        Some(match &self.calendar {
            Some(calendar) => calendar.add(created_at, ms),
            None => created_at + ms,
        })
    }

    pub fn departments(&self) -> &[Department] {
        &self.departments
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::places::DEMO_CITY;

    fn routing(toml: &str) -> Result<Routing, RoutingError> {
        let mut settings = Settings::from_env_pairs([]).unwrap();
        let parsed: toml::Table = toml::from_str(toml).unwrap();
        if let Some(departments) = parsed.get("department") {
            settings.department = departments.clone().try_into().unwrap();
        }
        if let Some(sla) = parsed.get("sla") {
            settings.sla = sla.clone().try_into().unwrap();
        }
        let places = Places::from_geojson(DEMO_CITY).unwrap();
        let officials = [
            ("ana@city.example", "agent"),
            ("val@city.example", "viewer"),
        ]
        .iter()
        .enumerate()
        .map(|(i, (email, role))| Official {
            official_id: i as i64 + 1,
            email: email.to_string(),
            password_hash: String::new(),
            role: role.to_string(),
            department: None,
        })
        .collect::<Vec<_>>();
        Routing::new(&settings, &Catalog::builtin(), &places, &officials)
    }

    const CITY: &str = r#"
        [[department]]
        name = "Roads North"
        categories = ["pothole"]
        areas = ["Northside"]
        [[department]]
        name = "Roads"
        categories = ["pothole", "streetlight"]
        [[department]]
        name = "Old Town Office"
        areas = ["Old Town"]
        [sla]
        pothole = 72
        streetlight = 0.5
    "#;

    #[test]
    fn the_first_department_whose_rules_match_takes_the_report() {
        let routing = routing(CITY).unwrap();
        let taken = |code, area| routing.department_for(code, area).map(|d| d.name.as_str());
        assert_eq!(
            taken(Some("pothole"), Some("Northside")),
            Some("Roads North")
        );
        assert_eq!(taken(Some("pothole"), Some("Harbor")), Some("Roads"));
        assert_eq!(
            taken(Some("pothole"), None),
            Some("Roads"),
            "no area: the city-wide one"
        );
        assert_eq!(taken(Some("streetlight"), Some("Old Town")), Some("Roads"));
        assert_eq!(
            taken(Some("graffiti"), Some("Old Town")),
            Some("Old Town Office")
        );
        assert_eq!(taken(None, Some("Old Town")), Some("Old Town Office"));
        assert_eq!(taken(Some("graffiti"), Some("Harbor")), None, "Unrouted");
        assert_eq!(taken(None, None), None, "Unrouted");
    }

    #[test]
    fn the_promise_is_hours_by_category() {
        let routing = routing(CITY).unwrap();
        assert_eq!(
            routing.due_at(Some("pothole"), 1_000),
            Some(1_000 + 72 * 3_600_000)
        );
        assert_eq!(routing.due_at(Some("streetlight"), 0), Some(1_800_000));
        assert_eq!(routing.due_at(Some("graffiti"), 0), None);
        assert_eq!(routing.due_at(None, 0), None);
    }

    #[test]
    fn a_department_s_default_assignee_takes_its_new_reports() {
        let routing = routing(
            "[[department]]\nname = \"Parks\"\ndefault_assignee = \"ANA@city.example\"\n\
             [[department]]\nname = \"Roads\"",
        )
        .unwrap();
        assert_eq!(
            routing.departments()[0].assignee,
            Some(1),
            "email case-blind"
        );
        assert_eq!(routing.departments()[1].assignee, None);
    }

    #[test]
    fn with_business_hours_the_promise_counts_working_time() {
        let routing = routing(
            "[sla]\npothole = 2\nbusiness_hours = \"08:00-17:00\"\n\
             business_days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\ntimezone = \"UTC\"",
        )
        .unwrap();
        // Friday 2026-12-04 16:00 UTC: one hour on Friday, one on Monday.
        let friday = 1_796_400_000_000;
        let monday_nine = friday + 3 * 86_400_000 - 7 * 3_600_000;
        assert_eq!(routing.due_at(Some("pothole"), friday), Some(monday_nine));
    }

    #[test]
    fn a_rule_naming_what_does_not_exist_is_refused() {
        let refused = |toml: &str| routing(toml).unwrap_err().to_string();
        let unknown_area = "[[department]]\nname = \"Parks\"\nareas = [\"Uptown\"]";
        assert!(
            refused(unknown_area).contains("\"Uptown\""),
            "{}",
            refused(unknown_area)
        );
        let unknown_code = "[[department]]\nname = \"Parks\"\ncategories = [\"trees\"]";
        assert!(refused(unknown_code).contains("\"trees\""));
        let twice = "[[department]]\nname = \"A\"\n[[department]]\nname = \"A\"";
        assert!(refused(twice).contains("twice"));
        assert!(refused("[sla]\ntrees = 3").contains("\"trees\""));
        let viewer = "[[department]]\nname = \"Parks\"\ndefault_assignee = \"val@city.example\"";
        assert!(refused(viewer).contains("not an agent or admin"));
        let stranger = "[[department]]\nname = \"Parks\"\ndefault_assignee = \"who@x.example\"";
        assert!(refused(stranger).contains("\"who@x.example\""));
        assert!(refused("[sla]\npothole = -1").contains("above zero"));
    }
}
