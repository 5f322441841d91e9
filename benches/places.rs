//! How long `Places::locate` takes per message against a city of 5,000 places (issue 17's
//! target: under 50 µs), and how long a city that size takes to load.
//!
//!   cargo bench --bench places
//!
//! The city is made up, the same every run: 100 areas in a 10 x 10 grid, 3,500 streets (half
//! running east-west, half north-south, so pairs cross) and 1,400 landmarks, each named with
//! made-up words of two or three syllables, a third with a Spanish or French alias. The
//! messages are what citizens send: two streets, one with a typo, a landmark, an area, a street
//! alone, and nothing known, in the proportions below.

use civicline::places::Places;
use std::fmt::Write as _;
use std::time::Instant;

const SYLLABLES: [&str; 24] = [
    "ka", "lo", "mi", "ren", "to", "sa", "vel", "dor", "an", "ti", "mar", "co", "bel", "ra", "un",
    "es", "pi", "gol", "ne", "ha", "ost", "li", "var", "du",
];

/// A deterministic word for `n`, different for every `n`: its digits in base 24 as syllables
/// (at least two), capitalized.
fn word(mut n: usize) -> String {
    let mut w = String::new();
    let mut syllables = 0;
    while n > 0 || syllables < 2 {
        w.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
        syllables += 1;
    }
    let mut chars = w.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn city() -> (String, Vec<String>, Vec<String>, Vec<String>) {
    let mut features = Vec::new();
    let mut areas = Vec::new();
    for i in 0..100 {
        let (x, y) = ((i % 10) as f64 * 0.01, (i / 10) as f64 * 0.01);
        let name = format!("{} {}", word(i * 7 + 1), word(i * 13 + 5));
        features.push(format!(
            r#"{{"type":"Feature","properties":{{"name":"{name}","kind":"area"}},"geometry":{{"type":"Polygon","coordinates":[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]]}}}}"#,
            x + 0.01, x + 0.01, y + 0.01, y + 0.01
        ));
        areas.push(name);
    }
    let mut streets = Vec::new();
    for i in 0..3500 {
        let name = format!("{} St", word(10_000 + i * 31));
        let at = (i / 2) as f64 * 0.1 / 1750.0;
        let line = if i % 2 == 0 {
            format!("[[0.0,{at}],[0.1,{at}]]")
        } else {
            format!("[[{at},0.0],[{at},0.1]]")
        };
        let aliases = if i % 3 == 0 {
            format!(
                r#","aliases":{{"es":["Calle {}"]}}"#,
                &name[..name.len() - 3]
            )
        } else {
            String::new()
        };
        features.push(format!(
            r#"{{"type":"Feature","properties":{{"name":"{name}","kind":"street"{aliases}}},"geometry":{{"type":"LineString","coordinates":{line}}}}}"#
        ));
        streets.push(name);
    }
    let mut landmarks = Vec::new();
    for i in 0..1400 {
        let name = format!(
            "{} {}",
            word(50_000 + i * 17),
            ["Park", "Market", "School", "Clinic"][i % 4]
        );
        let (x, y) = ((i % 37) as f64 * 0.0027, (i / 37) as f64 * 0.0026);
        let aliases = if i % 3 == 1 {
            format!(r#","aliases":{{"fr":["Place {}"]}}"#, word(50_000 + i * 17))
        } else {
            String::new()
        };
        features.push(format!(
            r#"{{"type":"Feature","properties":{{"name":"{name}","kind":"landmark"{aliases}}},"geometry":{{"type":"Point","coordinates":[{x},{y}]}}}}"#
        ));
        landmarks.push(name);
    }
    let text = format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    );
    (text, areas, streets, landmarks)
}

/// One letter of the word swapped with the next: a typo the matcher forgives.
fn typo(name: &str) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    if chars.len() > 3 {
        chars.swap(1, 2);
    }
    chars.into_iter().collect()
}

fn main() {
    let (text, areas, streets, landmarks) = city();
    let started = Instant::now();
    let places = Places::from_geojson(&text).expect("the bench city loads");
    let load = started.elapsed();
    assert_eq!(places.counts(), (100, 3500, 1400));

    let mut messages = Vec::new();
    for i in 0..1000 {
        let (a, b) = (&streets[(i * 7) % 3500], &streets[(i * 7 + 1) % 3500]);
        let mut m = String::from("POTHOLE ");
        match i % 6 {
            0 => write!(m, "deep hole at {a} & {b}").unwrap(),
            1 => write!(m, "{} and {b} corner", typo(a)).unwrap(),
            2 => write!(m, "in front of the {}", landmarks[i % 1400]).unwrap(),
            3 => write!(m, "somewhere in {}", areas[i % 100]).unwrap(),
            4 => write!(m, "all along {a}, near number 125").unwrap(),
            _ => m.push_str("the big tree by the bus stop, it has been there for weeks"),
        }
        messages.push(m);
    }
    let mut found = 0usize;
    let mut by_shape = [0usize; 6];
    for (i, m) in messages.iter().enumerate() {
        let located = places.locate(m);
        let hit = located.address.is_some() || located.area.is_some();
        found += usize::from(hit);
        by_shape[i % 6] += usize::from(hit);
    }
    let rounds = 100;
    let started = Instant::now();
    let mut areas_found = 0usize;
    for _ in 0..rounds {
        for m in &messages {
            areas_found += usize::from(std::hint::black_box(places.locate(m)).area.is_some());
        }
    }
    let elapsed = started.elapsed();
    let per = elapsed.as_secs_f64() * 1e6 / (rounds * messages.len()) as f64;
    println!(
        "places: {:?}, loaded in {:.0} ms; {} messages x {rounds}: {per:.1} µs per locate \
         ({found} of {} found a place, by shape {by_shape:?} of 167 each; {} an area)",
        places,
        load.as_secs_f64() * 1e3,
        messages.len(),
        messages.len(),
        areas_found / rounds,
    );
}
