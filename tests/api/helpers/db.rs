//! The backends, a database that disappears with the test, and assertions on its rows.

use super::TestApp;
use sqlx::{Connection, Executor};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The Postgres server tests run against. CI creates a throwaway database and sets this.
fn postgres_admin_url() -> String {
    std::env::var("CIVICLINE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// With CIVICLINE_TEST_REQUIRE_POSTGRES=1 (as in CI) an unreachable server fails the test;
/// otherwise the Postgres half of each test is skipped, loudly.
fn postgres_required() -> bool {
    std::env::var("CIVICLINE_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{prefix}_{}_{n}_{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// A database that disappears with the test.
pub enum TestDb {
    Sqlite { path: std::path::PathBuf },
    Postgres { admin_url: String, schema: String },
}

impl TestDb {
    pub async fn create(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let path =
                    std::env::temp_dir().join(format!("{}.db", unique_name("civicline_test")));
                Some(TestDb::Sqlite { path })
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let mut conn = match sqlx::PgConnection::connect(&admin_url).await {
                    Ok(conn) => conn,
                    Err(error) if !postgres_required() => {
                        eprintln!("SKIPPED postgres half: {admin_url} unreachable ({error})");
                        return None;
                    }
                    Err(error) => {
                        panic!("Postgres required but {admin_url} is unreachable: {error}")
                    }
                };
                let schema = unique_name("t");
                conn.execute(sqlx::AssertSqlSafe(format!("create schema {schema}")))
                    .await
                    .expect("create test schema");
                Some(TestDb::Postgres { admin_url, schema })
            }
        }
    }

    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite { path } => format!("sqlite://{}", path.display()),
            TestDb::Postgres { admin_url, schema } => {
                let sep = if admin_url.contains('?') { '&' } else { '?' };
                // Named after the schema, so a test can find the app's sessions.
                format!(
                    "{admin_url}{sep}options=-c%20search_path%3D{schema}&application_name={schema}"
                )
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite { path } => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDb::Postgres { admin_url, schema } => {
                let (url, sql) = (admin_url.clone(), format!("drop schema {schema} cascade"));
                // Drop runs inside the test's runtime: clean up from a thread of our own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        if let Ok(mut conn) = sqlx::PgConnection::connect(&url).await {
                            let _ = conn.execute(sqlx::AssertSqlSafe(sql)).await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Pool {
    /// Runs one statement; panics with it when it fails.
    pub async fn execute(&self, sql: &str) {
        let query = sqlx::AssertSqlSafe(sql.to_owned());
        let result = match self {
            Pool::Sqlite(pool) => sqlx::query(query).execute(pool).await.map(|_| ()),
            Pool::Postgres(pool) => sqlx::query(query).execute(pool).await.map(|_| ()),
        };
        result.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

impl TestApp {
    /// One number from the database, for assertions (`select count(*) from issue`).
    pub async fn scalar(&self, sql: &str) -> i64 {
        let query = sqlx::AssertSqlSafe(sql.to_owned());
        let result = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query_scalar::<_, i64>(query).fetch_one(pool).await,
            Pool::Postgres(pool) => sqlx::query_scalar::<_, i64>(query).fetch_one(pool).await,
        };
        result.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs one statement on the app's database (to move time, say).
    pub async fn execute(&self, sql: &str) {
        self.pool.execute(sql).await;
    }

    /// One text from the database (`None` for NULL).
    pub async fn text_value(&self, sql: &str) -> Option<String> {
        let query = sqlx::AssertSqlSafe(sql.to_owned());
        let result = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_scalar::<_, Option<String>>(query)
                    .fetch_one(pool)
                    .await
            }
            Pool::Postgres(pool) => {
                sqlx::query_scalar::<_, Option<String>>(query)
                    .fetch_one(pool)
                    .await
            }
        };
        result.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Row counts of every table a webhook writes: to show that a refused request stored nothing.
    pub async fn snapshot(&self) -> [i64; 5] {
        [
            self.scalar("select count(*) from citizen").await,
            self.scalar("select count(*) from message").await,
            self.scalar("select count(*) from issue").await,
            self.scalar("select count(*) from issue_event").await,
            self.scalar("select count(*) from consent_event").await,
        ]
    }
}

impl TestDb {
    /// One number from the database, on a connection of its own (for tests whose server
    /// stops and starts).
    pub async fn scalar(&self, sql: &str) -> i64 {
        self.fetch(sql).await
    }

    /// One text from the database (`None` for NULL).
    pub async fn text_value(&self, sql: &str) -> Option<String> {
        self.fetch(sql).await
    }

    async fn fetch<T>(&self, sql: &str) -> T
    where
        T: Send + Unpin,
        T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        let query = sqlx::AssertSqlSafe(sql.to_owned());
        let result = match self {
            TestDb::Sqlite { .. } => {
                let pool = sqlx::SqlitePool::connect(&self.url()).await.unwrap();
                sqlx::query_scalar(query).fetch_one(&pool).await
            }
            TestDb::Postgres { .. } => {
                let pool = sqlx::PgPool::connect(&self.url()).await.unwrap();
                sqlx::query_scalar(query).fetch_one(&pool).await
            }
        };
        result.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs one statement (to move time, say).
    pub async fn execute(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self {
            TestDb::Sqlite { .. } => {
                let pool = sqlx::SqlitePool::connect(&self.url()).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            TestDb::Postgres { .. } => {
                let pool = sqlx::PgPool::connect(&self.url()).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
        }
    }
}
