//! The city's geography, as the operator loads it (a GeoJSON FeatureCollection of areas,
//! streets and landmarks, names and aliases per language), and where a report's words put it:
//! [`Places::locate`]. Everything here is in memory and offline: no geocoder, no map service.
//!
//! A name is found as whole words, case- and accent-insensitive, street types ("St", "calle",
//! "rue") and joining words ("&", "and", "y", "et") left out, one typo per word of four letters
//! or more tolerated ([`words`]). Two streets make an intersection, a landmark a point; the area
//! is the one named, or the one the point lies in.
//!
//! The index: every name's first word, exactly and with each one of its letters left out (a
//! word one typo from another shares one of those with it), so a message's words find their
//! candidates with a few hash lookups each, whatever the number of places (BENCHMARKS.md).

mod import;
mod words;

pub use import::{ImportError, LANGUAGES};

use geo::{Contains, Line, LineString, MultiLineString, MultiPolygon, Point};
use std::collections::HashMap;

/// The made-up city shipped for trying civicline and for its tests (README: "Places").
pub const DEMO_CITY: &str = include_str!("../../config/places/demo.geojson");

/// What a place is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Area,
    Street,
    Landmark,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Area => "area",
            Kind::Street => "street",
            Kind::Landmark => "landmark",
        }
    }
}

#[derive(Debug, Clone)]
enum Shape {
    Area(MultiPolygon<f64>),
    Street(MultiLineString<f64>),
    Landmark(Point<f64>),
}

/// One place: its name (as the operator wrote it, the one shown) and its shape.
#[derive(Debug, Clone)]
struct Place {
    name: String,
    shape: Shape,
}

/// A name of a place (its own or an alias), as words.
struct Name {
    place: usize,
    words: Vec<String>,
}

/// The loaded places and their index.
#[derive(Default)]
pub struct Places {
    places: Vec<Place>,
    names: Vec<Name>,
    /// A name's first word -> the names starting with it.
    by_first: HashMap<String, Vec<usize>>,
    /// A first word with one letter left out (and the word itself) -> those first words.
    by_deletion: HashMap<String, Vec<String>>,
    /// By place: the area a street lies in whole, found once at load (a containment test of
    /// a line in a polygon costs more than all the rest of a lookup).
    street_area: Vec<Option<String>>,
}

/// Where a report is, as far as its words tell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Located {
    /// The area's name.
    pub area: Option<String>,
    /// (longitude, latitude) in WGS 84.
    pub point: Option<(f64, f64)>,
    /// The places found, as a person writes them: "Main St & 5th Ave", "City Hall".
    pub address: Option<String>,
}

impl std::fmt::Debug for Places {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (areas, streets, landmarks) = self.counts();
        write!(
            f,
            "Places({areas} areas, {streets} streets, {landmarks} landmarks)"
        )
    }
}

impl Places {
    /// No places: nothing is ever located.
    pub fn none() -> Places {
        Places::default()
    }

    /// How many places, by kind: (areas, streets, landmarks).
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |kind| self.places.iter().filter(|p| p.kind() == kind).count();
        (
            count(Kind::Area),
            count(Kind::Street),
            count(Kind::Landmark),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// The areas' names and shapes (the dashboard's map).
    pub fn areas(&self) -> impl Iterator<Item = (&str, &MultiPolygon<f64>)> {
        self.places.iter().filter_map(|p| match &p.shape {
            Shape::Area(shape) => Some((p.name.as_str(), shape)),
            _ => None,
        })
    }

    /// Whether an area of this name (as the operator wrote it) is loaded.
    pub fn has_area(&self, name: &str) -> bool {
        self.areas().any(|(area, _)| area == name)
    }

    fn build(places: Vec<Place>, names: Vec<(usize, Vec<String>)>) -> Places {
        let mut by_first: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_deletion: HashMap<String, Vec<String>> = HashMap::new();
        let mut all = Vec::with_capacity(names.len());
        for (place, words) in names {
            let Some(first) = words.first() else { continue };
            let entry = by_first.entry(first.clone()).or_default();
            if entry.is_empty() {
                for key in deletions(first) {
                    by_deletion.entry(key).or_default().push(first.clone());
                }
            }
            entry.push(all.len());
            all.push(Name { place, words });
        }
        let mut built = Places {
            places,
            names: all,
            by_first,
            by_deletion,
            street_area: Vec::new(),
        };
        built.street_area = built
            .places
            .iter()
            .map(|p| match &p.shape {
                Shape::Street(lines) => built.area_holding(lines),
                _ => None,
            })
            .collect();
        built
    }

    /// Where `text` puts a report: see the module's notes. Nothing found is `Located::default()`.
    pub fn locate(&self, text: &str) -> Located {
        if self.places.is_empty() {
            return Located::default();
        }
        let said = words::words(text);
        let mut found: Vec<usize> = Vec::new();
        let mut at = 0;
        // Left to right, the longest name at each word; a found name's words are used up.
        while at < said.len() {
            match self.longest_at(&said, at) {
                Some((place, length)) => {
                    if !found.contains(&place) {
                        found.push(place);
                    }
                    at += length;
                }
                None => at += 1,
            }
        }
        self.located(&found)
    }

    /// The place whose name is longest among those starting at `said[at]`, and its length.
    fn longest_at(&self, said: &[String], at: usize) -> Option<(usize, usize)> {
        let word = &said[at];
        let mut best: Option<(usize, usize)> = None;
        for first in self.first_words_near(word) {
            for &n in &self.by_first[first] {
                let name = &self.names[n];
                let rest = &said[at..];
                let matches = name.words.len() <= rest.len()
                    && name
                        .words
                        .iter()
                        .zip(rest)
                        .all(|(name_word, said_word)| words::close(said_word, name_word));
                if matches && best.is_none_or(|(_, length)| name.words.len() > length) {
                    best = Some((name.place, name.words.len()));
                }
            }
        }
        best
    }

    /// The names' first words that `word` may stand for (itself, or one typo away).
    fn first_words_near<'a>(&'a self, word: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        let exact = self.by_first.get_key_value(word).map(|(key, _)| key);
        let near = deletions(word)
            .filter_map(|key| self.by_deletion.get(&key))
            .flatten()
            .filter(move |first| *first != word && words::close(word, first));
        let mut seen: Vec<&String> = Vec::new();
        exact.into_iter().chain(near).filter(move |first| {
            let new = !seen.contains(first);
            if new {
                seen.push(first);
            }
            new
        })
    }

    fn located(&self, found: &[usize]) -> Located {
        let of = |kind: Kind| -> Vec<&Place> {
            found
                .iter()
                .map(|&i| &self.places[i])
                .filter(|p| p.kind() == kind)
                .collect()
        };
        let (areas, streets, landmarks) = (of(Kind::Area), of(Kind::Street), of(Kind::Landmark));
        let mut located = Located::default();
        let mut at: Option<Point<f64>> = None;
        if let [a, b, ..] = streets.as_slice() {
            at = crossing(a, b);
            located.address = Some(format!("{} & {}", a.name, b.name));
        }
        if at.is_none()
            && let Some(landmark) = landmarks.first()
        {
            if let Shape::Landmark(point) = landmark.shape {
                at = Some(point);
            }
            located.address = Some(match streets.first() {
                Some(street) => format!("{}, {}", landmark.name, street.name),
                None => landmark.name.clone(),
            });
        }
        if located.address.is_none()
            && let Some(street) = streets.first()
        {
            located.address = Some(street.name.clone());
        }
        let first_street = found
            .iter()
            .find(|&&i| self.places[i].kind() == Kind::Street);
        located.area = match (areas.first(), at, first_street) {
            (Some(area), _, _) => Some(area.name.clone()),
            (None, Some(point), _) => self.area_holding(&point),
            // A street alone says its area only when it lies in one.
            (None, None, Some(&street)) => self.street_area[street].clone(),
            (None, None, None) => None,
        };
        located.point = at.map(|p| (p.x(), p.y()));
        located
    }

    /// The first area that holds `shape` whole.
    fn area_holding<G>(&self, shape: &G) -> Option<String>
    where
        MultiPolygon<f64>: Contains<G>,
    {
        self.areas()
            .find(|(_, area)| area.contains(shape))
            .map(|(name, _)| name.to_owned())
    }
}

impl Place {
    fn kind(&self) -> Kind {
        match self.shape {
            Shape::Area(_) => Kind::Area,
            Shape::Street(_) => Kind::Street,
            Shape::Landmark(_) => Kind::Landmark,
        }
    }
}

/// Where two streets cross: the first crossing of their segments, if they do.
fn crossing(a: &Place, b: &Place) -> Option<Point<f64>> {
    let (Shape::Street(a), Shape::Street(b)) = (&a.shape, &b.shape) else {
        return None;
    };
    let segments = |lines: &'_ MultiLineString<f64>| -> Vec<Line<f64>> {
        lines.iter().flat_map(LineString::lines).collect()
    };
    let b = segments(b);
    segments(a).into_iter().find_map(|p| {
        b.iter().find_map(|q| {
            use geo::line_intersection::{LineIntersection, line_intersection};
            match line_intersection(p, *q)? {
                LineIntersection::SinglePoint { intersection, .. } => Some(intersection.into()),
                LineIntersection::Collinear { intersection } => Some(intersection.start.into()),
            }
        })
    })
}

/// `word` and `word` with each one of its letters left out.
fn deletions(word: &str) -> impl Iterator<Item = String> + '_ {
    let chars: Vec<char> = word.chars().collect();
    let n = chars.len();
    std::iter::once(word.to_owned()).chain((0..n).filter(move |_| n >= 3).map(move |i| {
        chars
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, c)| *c)
            .collect()
    }))
}

#[cfg(test)]
mod tests;
