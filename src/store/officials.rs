//! Officials' accounts and the audit log.

use super::{Result, Store, Tx, on_pool, on_tx};

#[derive(Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct Official {
    pub official_id: i64,
    pub email: String,
    /// argon2 PHC string; also what invalidates sessions when the password changes.
    pub password_hash: String,
    /// `admin`, `agent` or `viewer`.
    pub role: String,
    /// The department they work in (`[[department]]` name); `None`: the whole city.
    #[serde(default)]
    pub department: Option<String>,
}

impl std::fmt::Debug for Official {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Official")
            .field("official_id", &self.official_id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("department", &self.department)
            .finish_non_exhaustive()
    }
}

impl Official {
    /// Agents and admins act on issues; viewers only look.
    pub fn can_act(&self) -> bool {
        self.role == "admin" || self.role == "agent"
    }

    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }

    /// How this official appears in the audit trail.
    pub fn actor(&self) -> String {
        format!("official:{}", self.official_id)
    }
}

const COLUMNS: &str = "official_id, email, password_hash, role, department";

/// Creates an account, or replaces the password, role and department of the one with this email.
pub async fn upsert(
    store: &Store,
    email: &str,
    password_hash: &str,
    role: &str,
    department: Option<&str>,
    now: i64,
) -> Result<i64> {
    const SQL: &str = "insert into official (email, password_hash, role, created_at, department) \
         values ($1, $2, $3, $4, $5) \
         on conflict (email) do update set password_hash = excluded.password_hash, role = excluded.role, \
         department = excluded.department, disabled_at = null returning official_id";
    let mut tx = store.begin().await?;
    let id = on_tx!(&mut tx, conn => sqlx::query_scalar::<_, i64>(SQL)
        .bind(email)
        .bind(password_hash)
        .bind(role)
        .bind(now)
        .bind(department)
        .fetch_one(&mut *conn)
        .await?);
    audit_in(
        &mut tx,
        None,
        "official.saved",
        &match department {
            Some(department) => format!("{email} as {role} in {department}"),
            None => format!("{email} as {role}"),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// An active account by email (case-insensitive).
pub async fn by_email(store: &Store, email: &str) -> Result<Option<Official>> {
    let sql = format!(
        "select {COLUMNS} from official where lower(email) = lower($1) and disabled_at is null"
    );
    let found = on_pool!(store, pool => sqlx::query_as::<_, Official>(sqlx::AssertSqlSafe(sql)).bind(email).fetch_optional(pool).await?);
    Ok(found)
}

pub async fn by_id(store: &Store, official_id: i64) -> Result<Option<Official>> {
    let sql =
        format!("select {COLUMNS} from official where official_id = $1 and disabled_at is null");
    let found = on_pool!(store, pool => sqlx::query_as::<_, Official>(sqlx::AssertSqlSafe(sql)).bind(official_id).fetch_optional(pool).await?);
    Ok(found)
}

/// True when `official_id` is an active account (inside a transaction: an assignment checks it).
pub async fn is_active(tx: &mut Tx, official_id: i64) -> Result<bool> {
    const SQL: &str =
        "select count(*) from official where official_id = $1 and disabled_at is null";
    let n: i64 =
        on_tx!(tx, conn => sqlx::query_scalar(SQL).bind(official_id).fetch_one(conn).await?);
    Ok(n == 1)
}

/// Every active account, for the assignee list.
pub async fn all(store: &Store) -> Result<Vec<Official>> {
    let sql = format!("select {COLUMNS} from official where disabled_at is null order by email");
    let rows = on_pool!(store, pool => sqlx::query_as::<_, Official>(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?);
    Ok(rows)
}

/// Writes one line of the audit log.
pub async fn audit(
    store: &Store,
    official_id: Option<i64>,
    action: &str,
    subject: &str,
    now: i64,
) -> Result<()> {
    let mut tx = store.begin().await?;
    audit_in(&mut tx, official_id, action, subject, now).await?;
    tx.commit().await
}

pub async fn audit_in(
    tx: &mut super::Tx,
    official_id: Option<i64>,
    action: &str,
    subject: &str,
    now: i64,
) -> Result<()> {
    const SQL: &str = "insert into audit_event (official_id, action, subject, created_at) values ($1, $2, $3, $4)";
    on_tx!(tx, conn => sqlx::query(SQL)
        .bind(official_id)
        .bind(action)
        .bind(subject)
        .bind(now)
        .execute(conn)
        .await?
        .rows_affected());
    Ok(())
}
