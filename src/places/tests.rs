use super::*;

fn demo() -> Places {
    Places::from_geojson(DEMO_CITY).expect("the demo city loads")
}

/// A location as a citizen writes it, and where it is.
struct Case {
    text: &'static str,
    area: Option<&'static str>,
    /// (longitude, latitude), to 1e-6.
    point: Option<(f64, f64)>,
    address: Option<&'static str>,
}

#[test]
fn where_reports_are_in_english_spanish_and_french() {
    const MAIN_5TH: (f64, f64) = (-69.99, 40.03);
    const OAK_ELM: (f64, f64) = (-69.97, 40.01);
    const CITY_HALL: (f64, f64) = (-69.975, 40.015);
    let cases = [
        Case {
            text: "Main St & 5th",
            area: Some("Northside"),
            point: Some(MAIN_5TH),
            address: Some("Main St & 5th Ave"),
        },
        Case {
            text: "deep hole on main street and 5th avenue",
            area: Some("Northside"),
            point: Some(MAIN_5TH),
            address: Some("Main St & 5th Ave"),
        },
        Case {
            text: "Mian St & 5th",
            area: Some("Northside"),
            point: Some(MAIN_5TH),
            address: Some("Main St & 5th Ave"),
        },
        Case {
            text: "corner of Oak and Elm",
            area: Some("Old Town"),
            point: Some(OAK_ELM),
            address: Some("Oak St & Elm St"),
        },
        Case {
            text: "in front of City Hall",
            area: Some("Old Town"),
            point: Some(CITY_HALL),
            address: Some("City Hall"),
        },
        Case {
            text: "Elm St",
            area: None,
            point: None,
            address: Some("Elm St"),
        },
        Case {
            text: "Oak St",
            area: None,
            point: None,
            address: Some("Oak St"),
        },
        Case {
            text: "River Rd",
            area: Some("Harbor"),
            point: None,
            address: Some("River Rd"),
        },
        Case {
            text: "somewhere in Harbor",
            area: Some("Harbor"),
            point: None,
            address: None,
        },
        Case {
            text: "the big tree",
            area: None,
            point: None,
            address: None,
        },
        Case {
            text: "",
            area: None,
            point: None,
            address: None,
        },
        // es
        Case {
            text: "calle Main y 5ta",
            area: Some("Northside"),
            point: Some(MAIN_5TH),
            address: Some("Main St & 5th Ave"),
        },
        Case {
            text: "frente al Ayuntamiento",
            area: Some("Old Town"),
            point: Some(CITY_HALL),
            address: Some("City Hall"),
        },
        Case {
            text: "esquina de Oak con Elm",
            area: Some("Old Town"),
            point: Some(OAK_ELM),
            address: Some("Oak St & Elm St"),
        },
        Case {
            text: "en el Casco Viejo",
            area: Some("Old Town"),
            point: None,
            address: None,
        },
        Case {
            text: "Camino del Río, Puerto",
            area: Some("Harbor"),
            point: None,
            address: Some("River Rd"),
        },
        // fr
        Case {
            text: "rue Main et 5e",
            area: Some("Northside"),
            point: Some(MAIN_5TH),
            address: Some("Main St & 5th Ave"),
        },
        Case {
            text: "devant l'Hôtel de Ville",
            area: Some("Old Town"),
            point: Some(CITY_HALL),
            address: Some("City Hall"),
        },
        Case {
            text: "MAIRIE",
            area: Some("Old Town"),
            point: Some(CITY_HALL),
            address: Some("City Hall"),
        },
        Case {
            text: "dans la Vieille Ville",
            area: Some("Old Town"),
            point: None,
            address: None,
        },
    ];
    let places = demo();
    for case in cases {
        let got = places.locate(case.text);
        assert_eq!(got.area.as_deref(), case.area, "{:?}: area", case.text);
        assert_eq!(
            got.address.as_deref(),
            case.address,
            "{:?}: address",
            case.text
        );
        let rounded = got
            .point
            .map(|(x, y)| ((x * 1e6).round() / 1e6, (y * 1e6).round() / 1e6));
        assert_eq!(rounded, case.point, "{:?}: point", case.text);
    }
}

#[test]
fn look_alike_words_are_not_places() {
    let places = demo();
    for text in ["Mainstreet", "Elmo", "my cat", "Oakland", "Cityhall", "5"] {
        let got = places.locate(text);
        assert!(got.address.is_none(), "{text:?} found {got:?}");
    }
    assert!(
        places.locate("Mnia St").address.is_none(),
        "two typos in one word"
    );
}

#[test]
fn a_file_is_refused_with_the_feature_and_the_reason() {
    let feature = |properties: &str, geometry: &str| {
        format!(
            r#"{{"type":"FeatureCollection","features":[
              {{"type":"Feature","properties":{{"name":"Elm St","kind":"street"}},
                "geometry":{{"type":"LineString","coordinates":[[0,0],[1,1]]}}}},
              {{"type":"Feature","properties":{properties},"geometry":{geometry}}}]}}"#
        )
    };
    let square = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}"#;
    let bowtie = r#"{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}"#;
    let point = r#"{"type":"Point","coordinates":[0.5,0.5]}"#;
    let cases = [
        (feature(r#"{"kind":"area"}"#, square), "no name"),
        (
            feature(r#"{"name":"North","kind":"ward"}"#, square),
            "kind is",
        ),
        (
            feature(r#"{"name":"North","kind":"area"}"#, point),
            "not a Point",
        ),
        (
            feature(r#"{"name":"North","kind":"area"}"#, bowtie),
            "invalid geometry",
        ),
        (
            feature(r#"{"name":"North","kind":"area"}"#, "null"),
            "no geometry",
        ),
        (
            feature(
                r#"{"name":"Elm Street","kind":"street"}"#,
                r#"{"type":"LineString","coordinates":[[0,0],[2,2]]}"#,
            ),
            "also feature 0",
        ),
        (
            feature(
                r#"{"name":"North","kind":"area","aliases":{"de":["Nord"]}}"#,
                square,
            ),
            "not a language",
        ),
        (
            feature(
                r#"{"name":"North","kind":"area","aliases":{"es":"Norte"}}"#,
                square,
            ),
            "not a list",
        ),
        (
            feature(
                r#"{"name":"Gate","kind":"landmark"}"#,
                r#"{"type":"Point","coordinates":[200,0]}"#,
            ),
            "outside longitude",
        ),
        (
            feature(r#"{"name":"&","kind":"landmark"}"#, point),
            "no word",
        ),
    ];
    for (text, reason) in cases {
        match Places::from_geojson(&text) {
            Err(ImportError::Feature {
                index: 1,
                reason: got,
            }) => {
                assert!(got.contains(reason), "{reason:?} not in {got:?}")
            }
            other => panic!("{reason}: {other:?}"),
        }
    }
    let one_number = feature(
        r#"{"name":"Gate","kind":"landmark"}"#,
        r#"{"type":"Point","coordinates":[1]}"#,
    );
    match Places::from_geojson(&one_number) {
        Err(ImportError::NotAFeatureCollection(why)) => assert!(why.contains("position"), "{why}"),
        other => panic!("{other:?}"),
    }
    for broken in [
        "",
        "{",
        "[]",
        r#"{"type":"Feature","properties":{},"geometry":null}"#,
        "\u{0}",
    ] {
        assert!(
            matches!(
                Places::from_geojson(broken),
                Err(ImportError::NotAFeatureCollection(_))
            ),
            "{broken:?}"
        );
    }
}

#[test]
fn the_demo_city_has_every_kind() {
    assert_eq!(demo().counts(), (4, 5, 4));
    assert!(Places::none().locate("Main St & 5th").area.is_none());
}
