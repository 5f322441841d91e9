//! Officials' login sessions, in our own database (both backends), for tower-sessions. Any
//! replica can serve any official: nothing about a session lives in one process's memory.

use super::query::query;
use super::{Store, on_pool};
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};

#[derive(Clone)]
pub struct SessionStore {
    store: Store,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionStore")
    }
}

impl SessionStore {
    pub fn new(store: Store) -> SessionStore {
        SessionStore { store }
    }

    /// Deletes the sessions past their expiry, which are never read again; returns how many.
    pub async fn delete_expired(&self) -> super::Result<u64> {
        const SQL: &str = "delete from session where expires_at <= $1";
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut tx = self.store.begin().await?;
        let deleted = query(SQL).bind(now).execute(&mut tx).await?;
        tx.commit().await?;
        Ok(deleted)
    }
}

/// The stored key: a hash of the cookie's id, never the id itself.
fn key(id: &Id) -> String {
    Sha256::digest(id.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn backend(error: impl std::fmt::Display) -> Error {
    Error::Backend(error.to_string())
}

#[async_trait]
impl tower_sessions::SessionStore for SessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        const SQL: &str = "insert into session (session_key, data, expires_at) values ($1, $2, $3) \
             on conflict (session_key) do nothing";
        let data = serde_json::to_string(record).map_err(|e| Error::Encode(e.to_string()))?;
        let mut tx = self.store.begin().await.map_err(backend)?;
        loop {
            let session_key = key(&record.id);
            let inserted = query(SQL)
                .bind(session_key.as_str())
                .bind(data.as_str())
                .bind(record.expiry_date.unix_timestamp())
                .execute(&mut tx)
                .await
                .map_err(backend)?;
            if inserted == 1 {
                break;
            }
            record.id = Id::default(); // an id collision: draw again
        }
        tx.commit().await.map_err(backend)
    }

    async fn save(&self, record: &Record) -> Result<()> {
        const SQL: &str = "insert into session (session_key, data, expires_at) values ($1, $2, $3) \
             on conflict (session_key) do update set data = excluded.data, expires_at = excluded.expires_at";
        let data = serde_json::to_string(record).map_err(|e| Error::Encode(e.to_string()))?;
        let mut tx = self.store.begin().await.map_err(backend)?;
        let session_key = key(&record.id);
        query(SQL)
            .bind(session_key.as_str())
            .bind(data.as_str())
            .bind(record.expiry_date.unix_timestamp())
            .execute(&mut tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        const SQL: &str = "select data from session where session_key = $1 and expires_at > $2";
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let data: Option<String> = on_pool!(self.store, pool => sqlx::query_scalar(SQL)
            .bind(key(id))
            .bind(now)
            .fetch_optional(pool)
            .await
            .map_err(backend)?);
        data.map(|d| serde_json::from_str(&d).map_err(|e| Error::Decode(e.to_string())))
            .transpose()
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        const SQL: &str = "delete from session where session_key = $1";
        let mut tx = self.store.begin().await.map_err(backend)?;
        let session_key = key(id);
        query(SQL)
            .bind(session_key.as_str())
            .execute(&mut tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }
}
