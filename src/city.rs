//! The city as the server knows it: its places (imported with `civicline places import FILE`
//! or from `places.file` at start, kept in the database so every replica has the same).

use crate::config::Settings;
use crate::gateway::Gateway;
use crate::places::{DEMO_CITY, Places};
use crate::store::{self, Store};
use anyhow::Context as _;
use std::time::Duration;

/// Imports a FeatureCollection's text: checked whole first, so a refused file changes nothing.
/// Returns the places and the import's id.
pub async fn import(store: &Store, source: &str) -> anyhow::Result<(Places, i64)> {
    let places = Places::from_geojson(source)?;
    let (areas, streets, landmarks) = places.counts();
    let features = (areas + streets + landmarks) as i64;
    let id = store::places::import(store, source, features, store::now_ms()).await?;
    Ok((places, id))
}

/// The places the server starts with: `places.file` imported when it differs from the newest
/// import, else the newest import; with none, the demo city for a console trial (so a newcomer
/// sees routing at once) and no places otherwise. Returns them and the import's id (0: none).
pub async fn load(
    store: &Store,
    settings: &Settings,
    trial: bool,
) -> anyhow::Result<(Places, i64)> {
    let newest = store::places::newest(store).await?;
    if !settings.places.file.is_empty() {
        let path = &settings.places.file;
        let source =
            std::fs::read_to_string(path).with_context(|| format!("reading places file {path}"))?;
        if newest.as_ref().is_none_or(|(_, stored)| *stored != source) {
            let (places, id) = import(store, &source)
                .await
                .with_context(|| format!("places file {path}"))?;
            tracing::info!(file = %path, places = ?places, "places imported");
            return Ok((places, id));
        }
    }
    match newest {
        Some((id, source)) => {
            let places = Places::from_geojson(&source).context("the places in the database")?;
            Ok((places, id))
        }
        None if trial => {
            tracing::warn!(
                "no places imported: the made-up demo city Riverton is used (console trial only)"
            );
            Ok((Places::from_geojson(DEMO_CITY)?, 0))
        }
        None => Ok((Places::none(), 0)),
    }
}

/// Puts a newer import in force when another process (a replica, `civicline places import`)
/// made one, looking every `every`; runs until the runtime stops.
pub async fn follow_imports(gateway: Gateway, mut current: i64, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let newest = match store::places::newest_id(gateway.store()).await {
            Ok(Some(id)) if id != current => id,
            Ok(_) => continue,
            Err(error) => {
                tracing::debug!(%error, "looking for newer places");
                continue;
            }
        };
        match store::places::newest(gateway.store()).await {
            Ok(Some((id, source))) => match Places::from_geojson(&source) {
                Ok(places) => {
                    tracing::info!(places = ?places, "newer places in force");
                    gateway.replace_places(places);
                    current = id;
                }
                Err(error) => {
                    tracing::error!(%error, "the newest places in the database do not load");
                    current = newest;
                }
            },
            Ok(None) => {}
            Err(error) => tracing::debug!(%error, "reading newer places"),
        }
    }
}
