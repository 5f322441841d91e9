//! The POST: another channel (a city web form) files a report into the same queue with an API
//! key; phone, email and names posted are not stored.

use super::wire::{Format, error, respond, store_error};
use crate::store::open_data;
use crate::web::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

/// `POST requests`: another channel (a web form, the city's CRM) files a report. Phone, email
/// and names are not stored: this queue texts citizens only through their own SMS.
pub(super) async fn create(State(state): State<AppState>, body: Bytes, format: Format) -> Response {
    let Ok(form) = crate::providers::form::Form::parse(&body) else {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "the form is not valid UTF-8",
        );
    };
    let get = |name: &str| form.get(name).map(str::trim).filter(|v| !v.is_empty());
    let store = state.gateway.store();
    let source = match get("api_key") {
        None => return error(format, StatusCode::FORBIDDEN, "api_key is required"),
        Some(key) => match open_data::api_key_name(store, key).await {
            Ok(Some(name)) => format!("api:{name}"),
            Ok(None) => return error(format, StatusCode::FORBIDDEN, "api_key is not valid"),
            Err(e) => return store_error(format, e),
        },
    };
    let Some(code) =
        get("service_code").filter(|c| state.gateway.catalog().category_by_code(c).is_some())
    else {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "service_code is missing or unknown",
        );
    };
    let lat_long = match (
        get("lat").map(str::parse::<f64>),
        get("long").map(str::parse::<f64>),
    ) {
        (Some(Ok(lat)), Some(Ok(long)))
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&long) =>
        {
            Some((lat, long))
        }
        (None, None) => None,
        _ => {
            return error(
                format,
                StatusCode::BAD_REQUEST,
                "lat and long must both be given, in degrees",
            );
        }
    };
    let address = get("address_string").or(get("address_id"));
    if lat_long.is_none() && address.is_none() {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "give a location: lat and long, address_string or address_id",
        );
    }
    let description = get("description").unwrap_or_default();
    if description.chars().count() > 4000 {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "description is longer than 4000 characters",
        );
    }
    match state
        .gateway
        .file_report(code, description, address, lat_long, &source)
        .await
    {
        Ok(id) => {
            let record = vec![
                ("service_request_id", json!(id.to_string())),
                ("service_notice", json!("")),
                ("account_id", Value::Null),
            ];
            respond(
                format,
                StatusCode::CREATED,
                "service_requests",
                "request",
                vec![record],
            )
        }
        Err(e) => store_error(format, e),
    }
}
