//! `/dashboard` (public): does the city listen? Reports per day by category, the backlog, how
//! long citizens wait for a first answer and for a fix, who writes in which language, the words
//! they use, opt-outs. Charts are SVG drawn on the server (plotters); no script, no phone number.

use super::error::ApiError;
use super::queue::{view_status_label, view_when};
use crate::gateway::catalog::{DEFAULT_LANGUAGE, Meaning};
use crate::places::Places;
use crate::store::stats;
use crate::web::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use plotters::prelude::*;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new().route("/dashboard", get(dashboard)).route(
        "/dashboard/polls/{file}",
        get(super::poll_results::public_csv),
    )
}

const DAY_MS: i64 = 86_400_000;
/// How many public polls the dashboard shows, newest first.
const PUBLIC_POLLS: i64 = 3;
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 95, 191),
    RGBColor(214, 96, 38),
    RGBColor(29, 122, 58),
    RGBColor(163, 58, 0),
    RGBColor(120, 70, 170),
    RGBColor(0, 140, 150),
    RGBColor(190, 150, 0),
    RGBColor(110, 110, 110),
];

pub struct Legend {
    pub name: String,
    pub color: String,
}

pub struct TimeRow {
    pub category: String,
    pub first_reply: String,
    pub resolution: String,
    pub answered: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub per_day_svg: String,
    pub legend: Vec<Legend>,
    pub backlog_svg: String,
    pub languages_svg: String,
    pub times: Vec<TimeRow>,
    pub keywords: Vec<(String, i64)>,
    /// Spikes raised this week, newest first.
    pub spikes: Vec<crate::gateway::spikes::Alert>,
    pub opted_out: i64,
    pub opted_out_week: i64,
    pub total_90_days: i64,
    pub departments: Vec<DepartmentRow>,
    /// The areas shaded by their open reports; empty without places.
    pub map_svg: String,
    /// The latest public polls' results.
    pub polls: Vec<super::poll_results::PollResults>,
}

/// A department's record, in public.
pub struct DepartmentRow {
    pub name: String,
    /// "83 % (24 of 29)", or "no promise due yet".
    pub on_time: String,
    pub first_reply: String,
    pub resolution: String,
    /// "90 % (9 of 10 answers)", or "no answers yet".
    pub confirmed: String,
}

fn share(part: i64, whole: i64, of: &str, none: &str) -> String {
    if whole == 0 {
        none.to_owned()
    } else {
        format!(
            "{} ({part} of {whole}{of})",
            super::poll_results::share(part, whole)
        )
    }
}

fn hours(ms: Option<i64>) -> String {
    match ms {
        None => "no data".to_owned(),
        Some(ms) if ms < 3_600_000 => format!("{} min", ms / 60_000),
        Some(ms) if ms < 2 * DAY_MS => format!("{:.1} h", ms as f64 / 3_600_000.0),
        Some(ms) => format!("{:.1} days", ms as f64 / DAY_MS as f64),
    }
}

fn hex(color: &RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", color.0, color.1, color.2)
}

/// Stacked bars: one column per day, one colour per category.
fn per_day_chart(days: &[i64], series: &[(String, BTreeMap<i64, i64>)]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let first = *days.first().unwrap_or(&0);
        let max = days
            .iter()
            .map(|d| {
                series
                    .iter()
                    .map(|(_, s)| s.get(d).copied().unwrap_or(0))
                    .sum::<i64>()
            })
            .max()
            .unwrap_or(0)
            .max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(45)
            .build_cartesian_2d(0i64..days.len() as i64, 0i64..(max + max / 10 + 1))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(10)
            .x_label_formatter(&|i| {
                view_when((first + i) * DAY_MS)
                    .chars()
                    .take(10)
                    .collect::<String>()
            })
            .y_desc("reports")
            .draw()
            .map_err(|e| e.to_string())?;
        for (offset, day) in days.iter().enumerate() {
            let mut base = 0;
            for (index, (_, counts)) in series.iter().enumerate() {
                let n = counts.get(day).copied().unwrap_or(0);
                if n == 0 {
                    continue;
                }
                let x = offset as i64;
                let rect = Rectangle::new(
                    [(x, base), (x + 1, base + n)],
                    PALETTE[index % PALETTE.len()].filled(),
                );
                chart
                    .draw_series(std::iter::once(rect))
                    .map_err(|e| e.to_string())?;
                base += n;
            }
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Horizontal bars with their labels, for a handful of (label, count) pairs; nothing (the page
/// says "None yet.") when there are none.
fn bar_chart(rows: &[(String, i64)], color: RGBColor) -> Result<String, String> {
    let mut svg = String::new();
    if rows.is_empty() {
        return Ok(svg);
    }
    {
        let height = 40 + 28 * rows.len() as u32;
        let root = SVGBackend::with_string(&mut svg, (460, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
        // One segment per row, the largest at the top; a label sits in the middle of its segment,
        // beside its bar.
        let n = rows.len() as i64;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(25)
            .y_label_area_size(110)
            .build_cartesian_2d(0i64..(max + max / 8 + 1), (0i64..n).into_segmented())
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(rows.len() + 1)
            .y_label_formatter(&|value| match value {
                SegmentValue::CenterOf(i) => rows
                    .get((n - 1 - i) as usize)
                    .map(|(label, _)| label.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(
                Histogram::horizontal(&chart)
                    .style(color.filled())
                    .margin(4)
                    .data(
                        rows.iter()
                            .enumerate()
                            .map(|(i, (_, count))| (n - 1 - i as i64, *count)),
                    ),
            )
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// The last rendered page, served again while it is younger than the configured age.
pub struct Cache {
    max_age: std::time::Duration,
    page: tokio::sync::Mutex<Option<(std::time::Instant, String)>>,
}

impl Cache {
    pub fn new(max_age: std::time::Duration) -> Cache {
        Cache {
            max_age,
            page: tokio::sync::Mutex::new(None),
        }
    }
}

async fn dashboard(
    State(state): State<AppState>,
) -> Result<axum::response::Html<String>, ApiError> {
    // One request renders while the others wait for its page, instead of all computing at once.
    let mut cached = state.dashboard.page.lock().await;
    if let Some((made, html)) = cached.as_ref()
        && made.elapsed() < state.dashboard.max_age
    {
        return Ok(axum::response::Html(html.clone()));
    }
    let html = render(&state)
        .await?
        .render()
        .map_err(|e| ApiError::Internal(format!("template: {e}")))?;
    *cached = Some((std::time::Instant::now(), html.clone()));
    Ok(axum::response::Html(html))
}

#[tracing::instrument(name = "web.dashboard", skip_all)]
async fn render(state: &AppState) -> Result<DashboardPage, ApiError> {
    let store = state.gateway.store();
    let catalog = state.gateway.catalog();
    let now = crate::store::now_ms();
    let from = (now / DAY_MS - 89) * DAY_MS;

    // The figures that read the database, all at once: the reader connections and both cores
    // stay busy instead of one query after another.
    let categories = futures_util::future::try_join_all(catalog.categories().iter().map(
        |category| async move {
            let waits = stats::category_waits(store, &category.service_code, from).await?;
            Ok::<_, crate::store::StoreError>((category, waits))
        },
    ));
    // Each department's promises kept, how fast it answers and fixes, what citizens say: one
    // range of its covering index.
    let departments =
        futures_util::future::try_join_all(state.gateway.departments().departments().iter().map(
            |d| async move {
                let promises = stats::promises(store, &d.name, from, now).await?;
                Ok::<_, crate::store::StoreError>((d, promises))
            },
        ));
    let (rows, backlog, languages, open_by_area, category_waits, figures) = futures_util::try_join!(
        stats::issues_per_day(store, from, now),
        stats::backlog(store),
        stats::languages(store),
        stats::open_by_area(store),
        categories,
        departments,
    )?;
    let days: Vec<i64> = (from / DAY_MS..=now / DAY_MS).collect();
    let mut series: Vec<(String, BTreeMap<i64, i64>)> = catalog
        .categories()
        .iter()
        .map(|c| (c.name.clone(), BTreeMap::new()))
        .collect();
    series.push(("Uncategorized".to_owned(), BTreeMap::new()));
    let mut total_90_days = 0;
    for (day, code, n) in rows {
        let index = code
            .as_deref()
            .and_then(|c| {
                catalog
                    .categories()
                    .iter()
                    .position(|cat| cat.service_code == c)
            })
            .unwrap_or(series.len() - 1);
        *series[index].1.entry(day).or_default() += n;
        total_90_days += n;
    }
    let chart_error = |e: String| ApiError::Internal(format!("chart: {e}"));
    let per_day_svg = per_day_chart(&days, &series).map_err(chart_error)?;
    let legend = series
        .iter()
        .enumerate()
        .map(|(i, (name, _))| Legend {
            name: name.clone(),
            color: hex(&PALETTE[i % PALETTE.len()]),
        })
        .collect();

    let backlog: Vec<(String, i64)> = backlog
        .into_iter()
        .map(|(status, n)| (view_status_label(&status).to_owned(), n))
        .collect();
    let backlog_svg = bar_chart(&backlog, PALETTE[1]).map_err(chart_error)?;
    let languages_svg = bar_chart(&languages, PALETTE[0]).map_err(chart_error)?;

    let times = category_waits
        .into_iter()
        .map(|(category, waits)| TimeRow {
            category: category.name.clone(),
            first_reply: hours(waits.first_reply_ms),
            resolution: hours(waits.resolution_ms),
            answered: waits.answered,
        })
        .collect();

    // The words citizens start with this week, counted by what they mean in the catalog.
    let week = now - 7 * DAY_MS;
    let mut tally: BTreeMap<String, i64> = BTreeMap::new();
    for (word, n) in stats::first_words(store, week, 1_000).await? {
        if let Some(keyword) = catalog.lookup(&word) {
            let label = match keyword.meaning {
                Meaning::Category(i) => catalog
                    .category(i)
                    .keyword_in("en")
                    .unwrap_or_default()
                    .to_owned(),
                Meaning::Command(_) => crate::gateway::catalog::fold(&word),
            };
            *tally.entry(label).or_default() += n;
        }
    }
    let mut keywords: Vec<(String, i64)> = tally.into_iter().collect();
    keywords.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    keywords.truncate(10);
    let (opted_out, opted_out_week) = stats::opt_outs(store, week).await?;
    let spikes = state.gateway.spikes_since(week).await?;
    let mut polls = Vec::new();
    for poll in crate::store::polls::list(store, true, DEFAULT_LANGUAGE, PUBLIC_POLLS).await? {
        polls.push(super::poll_results::results(state, poll, false).await?);
    }

    let departments = figures
        .into_iter()
        .map(|(d, p)| DepartmentRow {
            name: d.name.clone(),
            on_time: share(p.kept, p.came_due, "", "no promise due yet"),
            first_reply: hours(p.waits.first_reply_ms),
            resolution: hours(p.waits.resolution_ms),
            confirmed: share(
                p.confirmed,
                p.confirmed + p.not_fixed,
                " answers",
                "no answers yet",
            ),
        })
        .collect();
    let map_svg = area_map(&state.gateway.places(), &open_by_area).map_err(chart_error)?;

    Ok(DashboardPage {
        per_day_svg,
        legend,
        backlog_svg,
        languages_svg,
        times,
        keywords,
        spikes,
        opted_out,
        opted_out_week,
        total_90_days,
        departments,
        map_svg,
        polls,
    })
}

/// The city's areas, each shaded by its open reports (white: none, darkest: the most) and
/// labelled with its name and count; longitude scaled by the cosine of the latitude so the
/// shapes keep their proportions. Nothing without areas.
fn area_map(places: &Places, open: &[(String, i64)]) -> Result<String, String> {
    use geo::{BoundingRect, Centroid};
    let areas: Vec<_> = places.areas().collect();
    let mut svg = String::new();
    let Some(bounds) = areas
        .iter()
        .filter_map(|(_, shape)| shape.bounding_rect())
        .reduce(|a, b| {
            geo::Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        })
    else {
        return Ok(svg);
    };
    let count = |name: &str| open.iter().find(|(a, _)| a == name).map_or(0, |(_, n)| *n);
    let most = areas
        .iter()
        .map(|(name, _)| count(name))
        .max()
        .unwrap_or(0)
        .max(1);
    let squeeze = bounds.center().y.to_radians().cos().max(0.1);
    let (w, h) = (bounds.width() * squeeze, bounds.height());
    let width = 640u32;
    let height = ((width as f64) * h / w.max(f64::EPSILON)).clamp(160.0, 900.0) as u32;
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .margin(6)
            .build_cartesian_2d(
                bounds.min().x..bounds.max().x,
                bounds.min().y..bounds.max().y,
            )
            .map_err(|e| e.to_string())?;
        for (name, shape) in &areas {
            let n = count(name);
            // From white to the palette's blue, by the share of the busiest area.
            let t = n as f64 / most as f64;
            let mix = |full: u8| (255.0 - (255.0 - f64::from(full)) * t).round() as u8;
            let fill = RGBColor(mix(PALETTE[0].0), mix(PALETTE[0].1), mix(PALETTE[0].2));
            for polygon in shape.iter() {
                let ring: Vec<(f64, f64)> =
                    polygon.exterior().coords().map(|c| (c.x, c.y)).collect();
                chart
                    .draw_series(std::iter::once(Polygon::new(ring.clone(), fill.filled())))
                    .map_err(|e| e.to_string())?;
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        ring,
                        BLACK.stroke_width(1),
                    )))
                    .map_err(|e| e.to_string())?;
            }
            if let Some(middle) = shape.centroid() {
                let color = if t > 0.6 { WHITE } else { BLACK };
                let style = ("sans-serif", 14).into_font().color(&color).pos(
                    plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Center,
                    ),
                );
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{name}: {n}"),
                        (middle.x(), middle.y()),
                        style,
                    )))
                    .map_err(|e| e.to_string())?;
            }
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
