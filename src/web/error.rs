//! The one error type of the HTTP layer. Clients get a short, safe sentence; internal details
//! are logged here, once, inside the request's span, and never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed; the message says what to fix and holds no secret.
    #[error("{0}")]
    BadRequest(String),
    /// A missing or wrong webhook signature.
    #[error("invalid or missing signature")]
    Forbidden,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A bug on our side (a chart or template that failed): logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(error: impl std::fmt::Display) -> ApiError {
        ApiError::BadRequest(error.to_string())
    }
}

impl From<crate::gateway::ActionError> for ApiError {
    fn from(error: crate::gateway::ActionError) -> ApiError {
        match error {
            crate::gateway::ActionError::Store(error) => ApiError::Store(error),
            refused => ApiError::BadRequest(refused.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::Internal(error) => {
                tracing::error!(%error, "request failed");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "something went wrong on our side\n",
                )
                    .into_response();
            }
            ApiError::Store(error) => {
                tracing::error!(error = %error, "request failed");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily unavailable, try again\n",
                )
                    .into_response();
            }
        };
        tracing::info!(status = status.as_u16(), reason = %self, "request refused");
        (status, format!("{self}\n")).into_response()
    }
}
