//! A GeoJSON FeatureCollection becomes [`Places`], or is refused whole with the first bad
//! feature's index and the reason: the places in force stay until a file is accepted.
//!
//! Each Feature's `properties`: `name` (text), `kind` (`area` | `street` | `landmark`),
//! optional `aliases` (`{"es": ["..."], "fr": ["..."]}`, languages among [`LANGUAGES`]).
//! Areas are Polygon or MultiPolygon, streets LineString or MultiLineString, landmarks Point,
//! in WGS 84 longitude/latitude (RFC 7946).

use super::words::words;
use super::{Kind, Place, Places, Shape};
use geo::{Geometry, Validation};
use geojson::{Feature, GeoJson, GeometryValue};
use std::collections::HashMap;

/// The languages aliases may be given in: the ones civicline answers in.
pub const LANGUAGES: &[&str] = &["en", "es", "fr"];

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("not a GeoJSON FeatureCollection: {0}")]
    NotAFeatureCollection(String),
    #[error("feature {index}: {reason}")]
    Feature { index: usize, reason: String },
}

impl Places {
    /// Reads a FeatureCollection; see the module's notes.
    pub fn from_geojson(text: &str) -> Result<Places, ImportError> {
        let not = |reason: String| ImportError::NotAFeatureCollection(reason);
        let collection = match text.parse::<GeoJson>() {
            Ok(GeoJson::FeatureCollection(collection)) => collection,
            Ok(_) => return Err(not("a single Feature or Geometry".to_owned())),
            Err(error) => return Err(not(error.to_string())),
        };
        let mut places = Vec::with_capacity(collection.features.len());
        let mut names = Vec::new();
        let mut seen: HashMap<(&'static str, Vec<String>), usize> = HashMap::new();
        for (index, feature) in collection.features.iter().enumerate() {
            let refuse = |reason: String| ImportError::Feature { index, reason };
            let (place, aliases) = feature_place(feature).map_err(refuse)?;
            let kind = place.kind().as_str();
            for name in std::iter::once(&place.name).chain(&aliases) {
                let folded = words(name);
                if folded.is_empty() {
                    return Err(refuse(format!(
                        "the name {name:?} has no word to find it by"
                    )));
                }
                if let Some(first) = seen.insert((kind, folded.clone()), index)
                    && first != index
                {
                    return Err(refuse(format!(
                        "the {kind} name {name:?} is also feature {first}'s"
                    )));
                }
                names.push((places.len(), folded));
            }
            places.push(place);
        }
        Ok(Places::build(places, names))
    }
}

/// A feature's place and its aliases, or why it is not one.
fn feature_place(feature: &Feature) -> Result<(Place, Vec<String>), String> {
    let property = |key: &str| feature.properties.as_ref().and_then(|p| p.get(key));
    let name = match property("name") {
        Some(serde_json::Value::String(name)) if !name.trim().is_empty() => name.trim(),
        _ => return Err("no name (properties.name, a text)".to_owned()),
    };
    if name.chars().count() > 200 {
        return Err("a name longer than 200 characters".to_owned());
    }
    let kind = match property("kind").and_then(|k| k.as_str()) {
        Some("area") => Kind::Area,
        Some("street") => Kind::Street,
        Some("landmark") => Kind::Landmark,
        other => {
            return Err(format!(
                "{name:?}: kind is {other:?}, not \"area\", \"street\" or \"landmark\""
            ));
        }
    };
    let aliases = aliases(property("aliases")).map_err(|reason| format!("{name:?}: {reason}"))?;
    let shape = shape(feature, kind).map_err(|reason| format!("{name:?}: {reason}"))?;
    let place = Place {
        name: name.to_owned(),
        shape,
    };
    Ok((place, aliases))
}

/// `{"es": ["..."], "fr": ["..."]}`, every language one we answer in.
fn aliases(value: Option<&serde_json::Value>) -> Result<Vec<String>, String> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let serde_json::Value::Object(by_language) = value else {
        return Err("aliases is not an object of languages".to_owned());
    };
    let mut all = Vec::new();
    for (language, names) in by_language {
        if !LANGUAGES.contains(&language.as_str()) {
            return Err(format!(
                "aliases in {language:?}, not a language of civicline ({})",
                LANGUAGES.join(", ")
            ));
        }
        let Some(names) = names.as_array() else {
            return Err(format!("aliases.{language} is not a list"));
        };
        for alias in names {
            match alias.as_str().map(str::trim) {
                Some(alias) if !alias.is_empty() && alias.chars().count() <= 200 => {
                    all.push(alias.to_owned());
                }
                _ => return Err(format!("aliases.{language} holds something not a name")),
            }
        }
    }
    Ok(all)
}

/// The feature's geometry, if it is the kind's and valid.
fn shape(feature: &Feature, kind: Kind) -> Result<Shape, String> {
    let Some(geometry) = &feature.geometry else {
        return Err("no geometry".to_owned());
    };
    // geojson's conversion indexes each position's first two numbers: check them first.
    if !positions_are_points(&geometry.value) {
        return Err("a position without both longitude and latitude".to_owned());
    }
    let converted = Geometry::<f64>::try_from(&geometry.value).map_err(|e| e.to_string())?;
    let out_of_range = geo::CoordsIter::coords_iter(&converted)
        .any(|c| !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y));
    if out_of_range {
        return Err("a position outside longitude -180..180, latitude -90..90".to_owned());
    }
    let shape = match (kind, converted) {
        (Kind::Area, Geometry::Polygon(p)) => Shape::Area(p.into()),
        (Kind::Area, Geometry::MultiPolygon(p)) => Shape::Area(p),
        (Kind::Street, Geometry::LineString(l)) => Shape::Street(l.into()),
        (Kind::Street, Geometry::MultiLineString(l)) => Shape::Street(l),
        (Kind::Landmark, Geometry::Point(p)) => Shape::Landmark(p),
        (kind, other) => {
            let expected = match kind {
                Kind::Area => "Polygon or MultiPolygon",
                Kind::Street => "LineString or MultiLineString",
                Kind::Landmark => "Point",
            };
            return Err(format!(
                "an {} is a {expected}, not a {}",
                kind.as_str(),
                geometry_name(&other)
            ));
        }
    };
    let problem = match &shape {
        Shape::Area(p) => p.check_validation().err().map(|e| e.to_string()),
        Shape::Street(l) => l.check_validation().err().map(|e| e.to_string()),
        Shape::Landmark(p) => p.check_validation().err().map(|e| e.to_string()),
    };
    match problem {
        Some(problem) => Err(format!("invalid geometry: {problem}")),
        None => Ok(shape),
    }
}

fn positions_are_points(value: &GeometryValue) -> bool {
    use geojson::Position;
    let ok = |p: &Position| p.len() >= 2;
    match value {
        GeometryValue::Point { coordinates } => ok(coordinates),
        GeometryValue::MultiPoint { coordinates } | GeometryValue::LineString { coordinates } => {
            coordinates.iter().all(ok)
        }
        GeometryValue::MultiLineString { coordinates } | GeometryValue::Polygon { coordinates } => {
            coordinates.iter().flatten().all(ok)
        }
        GeometryValue::MultiPolygon { coordinates } => {
            coordinates.iter().flatten().flatten().all(ok)
        }
        GeometryValue::GeometryCollection { geometries } => {
            geometries.iter().all(|g| positions_are_points(&g.value))
        }
    }
}

fn geometry_name(geometry: &Geometry<f64>) -> &'static str {
    match geometry {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) | Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
    }
}
