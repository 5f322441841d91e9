//! The crowd ("me too"): a new report of a problem that is already open joins it as a
//! supporter; everyone who reported an issue hears of it; officials split a supporter off into
//! an issue of its own, or merge two issues with all their citizens.

use super::issues::Reporter;
use super::query::query;
use super::{Exec, LaneTx, Result, Tx, on_tx};

/// A new report, as "me too" compares it with the open ones: its category and area, and the
/// place its words named or the point they put it at.
#[derive(Debug, Clone, Copy)]
pub struct Crowd<'a> {
    pub service_code: &'a str,
    pub area: &'a str,
    pub address: Option<&'a str>,
    /// (longitude, latitude).
    pub point: Option<(f64, f64)>,
    /// Open issues filed since then are candidates.
    pub since: i64,
    /// Two points this close (metres) are one place.
    pub distance_m: f64,
}

impl Crowd<'_> {
    /// Whether an issue that named `address` at `point` is this report's place: the same
    /// street or landmark, or, when both have points, within the distance.
    pub fn same_place(&self, address: Option<&str>, point: Option<(f64, f64)>) -> bool {
        let named = self.address.is_some() && self.address == address;
        let near = match (self.point, point) {
            (Some(a), Some(b)) => metres_apart(a, b) <= self.distance_m,
            _ => false,
        };
        named || near
    }
}

/// Metres between two (longitude, latitude) points on the local plane: within a few hundred
/// metres the same as on the sphere, and what [`crowd_match`]'s SQL computes.
fn metres_apart(a: (f64, f64), b: (f64, f64)) -> f64 {
    let north = (a.1 - b.1) * 111_320.0;
    let east = (a.0 - b.0) * 111_320.0 * b.1.to_radians().cos();
    (north * north + east * east).sqrt()
}

/// Postgres only: holds the lock of one problem (a category in an area) until the transaction
/// ends; a report looking for the issue it repeats, and a merge of one of its issues, take it.
async fn lock_problem(tx: &mut impl Exec, service_code: &str, area: &str) -> Result<()> {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("crowd\0{service_code}\0{area}"));
    let key = i64::from_be_bytes(digest[..8].try_into().expect("eight bytes"));
    query("select pg_advisory_xact_lock($1)")
        .bind(key)
        .execute(tx)
        .await?;
    Ok(())
}

/// The open issue a report of `crowd`'s problem joins, if there is one: `(issue, reporter)`,
/// the oldest first. On Postgres, where other lanes file reports at the same time, the round
/// first takes a lock on the category and area until it commits, so two reports of one problem
/// in two lanes cannot both open an issue; a new issue of this very round counts too.
pub async fn crowd_match(tx: &mut LaneTx, crowd: &Crowd<'_>) -> Result<Option<(i64, Option<i64>)>> {
    struct Candidate {
        issue_id: i64,
        citizen_id: Option<i64>,
    }
    super::query::row!(Candidate {
        issue_id,
        citizen_id
    });
    if tx.is_round() {
        lock_problem(tx, crowd.service_code, crowd.area).await?;
    }
    if let Some(found) = tx.deferred().and_then(|d| d.crowd_match(crowd)) {
        return Ok(Some(found));
    }
    // The oldest open report of the category in the area, since then, that named the same
    // place (a seek on `issue_crowd`), else that lies within the distance of the point (a
    // range of latitudes on `issue_crowd_point`, then metres on the local plane: at 50 m the
    // same as on the sphere). `+created_at` keeps the window out of the index choice: with it,
    // SQLite read every report of the category in the window through `issue_category_durations`
    // (the webhook benchmark with the demo city at 55 % of its speed without merging).
    const NAMED: &str = "select issue_id, citizen_id from issue \
         where service_code = $1 and area = $2 and address = $3 and closed_at is null \
         and +created_at >= $4 order by issue_id limit 1";
    const NEAR: &str = "select issue_id, citizen_id from issue \
         where service_code = $1 and area = $2 and closed_at is null and lat is not null \
         and lat between $3 and $4 and +created_at >= $5 \
         and ((lat - $6) * 111320.0) * ((lat - $6) * 111320.0) \
         + ((long - $7) * $8) * ((long - $7) * $8) <= $9 \
         order by issue_id limit 1";
    if let Some(address) = crowd.address {
        let found = query(NAMED)
            .bind(crowd.service_code)
            .bind(crowd.area)
            .bind(address)
            .bind(crowd.since)
            .fetch_optional::<Candidate>(tx)
            .await?;
        if let Some(c) = found {
            return Ok(Some((c.issue_id, c.citizen_id)));
        }
    }
    let Some((long, lat)) = crowd.point else {
        return Ok(None);
    };
    let degrees = crowd.distance_m / 111_320.0;
    let found = query(NEAR)
        .bind(crowd.service_code)
        .bind(crowd.area)
        .bind(Some(lat - degrees))
        .bind(Some(lat + degrees))
        .bind(crowd.since)
        .bind(Some(lat))
        .bind(Some(long))
        .bind(Some(111_320.0 * lat.to_radians().cos()))
        .bind(Some(crowd.distance_m * crowd.distance_m))
        .fetch_optional::<Candidate>(tx)
        .await?;
    Ok(found.map(|c| (c.issue_id, c.citizen_id)))
}

/// Joins `citizen_id` to issue `issue_id` as a supporter, counted once: `false` when they
/// were one already.
pub async fn add_supporter(
    tx: &mut LaneTx,
    issue_id: i64,
    citizen_id: i64,
    message_id: i64,
    now: i64,
) -> Result<bool> {
    const JOIN: &str = "insert into supporter (issue_id, citizen_id, message_id, joined_at) \
         values ($1, $2, $3, $4) on conflict (issue_id, citizen_id) do nothing";
    const COUNT: &str =
        "update issue set supporters = supporters + 1, updated_at = $2 where issue_id = $1";
    let joined = query(JOIN)
        .bind(issue_id)
        .bind(citizen_id)
        .bind(message_id)
        .bind(now)
        .execute(tx)
        .await?;
    if joined == 0 {
        return Ok(false);
    }
    let counted_in_round = tx.deferred().is_some_and(|d| d.support(issue_id));
    if !counted_in_round {
        query(COUNT).bind(issue_id).bind(now).execute(tx).await?;
    }
    Ok(true)
}

/// Everyone who reported issue `issue_id`: the citizen who filed it, then its supporters ("me
/// too") in the order they joined, less a supporter forgotten since.
pub async fn reporters(tx: &mut Tx, issue_id: i64) -> Result<Vec<Reporter>> {
    const SQL: &str = "select citizen_id, language, opted_out from (\
         select c.citizen_id, c.language, (c.opted_out_at is not null) as opted_out, \
         0 as joined_at from issue i join citizen c on c.citizen_id = i.citizen_id \
         where i.issue_id = $1 \
         union all \
         select c.citizen_id, c.language, (c.opted_out_at is not null) as opted_out, s.joined_at \
         from supporter s join citizen c on c.citizen_id = s.citizen_id \
         where s.issue_id = $1 and c.anonymized_at is null) reporting \
         order by joined_at, citizen_id";
    let rows = on_tx!(tx, conn => sqlx::query_as::<_, Reporter>(SQL).bind(issue_id).fetch_all(conn).await?);
    Ok(rows)
}

/// Merges issue `from` into issue `into`: the citizen who filed `from` and its supporters
/// become supporters of `into` (counted once: one who reported both is not counted twice), and
/// `into`'s count is taken again. Returns how many citizens joined `into`. The caller closes
/// `from` (in this transaction: on Postgres it holds `from`'s problem lock, so a report of it
/// filed meanwhile waits and then finds it closed) and records both sides in the trails.
pub async fn merge(tx: &mut Tx, from: i64, into: i64, now: i64) -> Result<u64> {
    struct Problem {
        service_code: Option<String>,
        area: Option<String>,
    }
    super::query::row!(Problem { service_code, area });
    const PROBLEM: &str = "select service_code, area from issue where issue_id = $1";
    if let Tx::Postgres(_) = tx
        && let Some(Problem {
            service_code: Some(code),
            area: Some(area),
        }) = query(PROBLEM).bind(from).fetch_optional(tx).await?
    {
        // A report joining `from` right now waits, then finds it closed.
        lock_problem(tx, &code, &area).await?;
    }
    const JOIN: &str = "insert into supporter (issue_id, citizen_id, message_id, joined_at) \
         select $2, r.citizen_id, r.message_id, $3 from (\
         select i.citizen_id, (select min(e.message_id) from issue_event e \
              where e.issue_id = i.issue_id and e.kind = 'created') as message_id \
         from issue i where i.issue_id = $1 and i.citizen_id is not null \
         union all \
         select s.citizen_id, s.message_id from supporter s where s.issue_id = $1) r \
         where r.citizen_id <> coalesce((select t.citizen_id from issue t where t.issue_id = $2), -1) \
         on conflict (issue_id, citizen_id) do nothing";
    let joined = query(JOIN)
        .bind(from)
        .bind(into)
        .bind(now)
        .execute(tx)
        .await?;
    recount(tx, into, now).await?;
    Ok(joined)
}

/// Counts issue `issue_id`'s citizens again: the one who filed it and its supporters.
async fn recount(tx: &mut Tx, issue_id: i64, now: i64) -> Result<()> {
    const COUNT: &str = "update issue set supporters = 1 + (select count(*) from supporter s \
         where s.issue_id = $1), updated_at = $2 where issue_id = $1";
    query(COUNT).bind(issue_id).bind(now).execute(tx).await?;
    Ok(())
}

/// A supporter split off into an issue of their own, as [`split`] left it.
#[derive(Debug, Clone)]
pub struct Split {
    pub issue_id: i64,
    pub service_code: Option<String>,
    /// When the citizen texted the report (the new issue is filed then).
    pub reported_at: i64,
    pub language: String,
    /// Their words, the new report's description.
    pub description: String,
}

/// Takes supporter `citizen_id` off issue `from` into a new issue of their own: filed when
/// they texted, with their words, in the same category, place and department; their messages
/// about it move to its thread. `None` when they are not a supporter of `from`. The caller
/// sets its promise and records the split in both trails.
pub async fn split(tx: &mut Tx, from: i64, citizen_id: i64, now: i64) -> Result<Option<Split>> {
    struct Taken {
        message_id: Option<i64>,
        joined_at: i64,
    }
    super::query::row!(Taken {
        message_id,
        joined_at
    });
    const TAKE: &str = "delete from supporter where issue_id = $1 and citizen_id = $2 \
         returning message_id, joined_at";
    const FILE: &str = "insert into issue (citizen_id, service_code, description, language, \
         created_at, updated_at, area, address, long, lat, department) \
         select $2, i.service_code, coalesce((select m.body from message m where m.message_id = $3), \
         i.description), c.language, $4, $5, i.area, i.address, i.long, i.lat, i.department \
         from issue i join citizen c on c.citizen_id = $2 where i.issue_id = $1 \
         returning issue_id, service_code, language, description";
    const MOVE: &str = "update message set issue_id = $3 where issue_id = $1 and citizen_id = $2";
    struct Filed {
        issue_id: i64,
        service_code: Option<String>,
        language: String,
        description: String,
    }
    super::query::row!(Filed {
        issue_id,
        service_code,
        language,
        description
    });
    let Some(taken) = query(TAKE)
        .bind(from)
        .bind(citizen_id)
        .fetch_optional::<Taken>(tx)
        .await?
    else {
        return Ok(None);
    };
    recount(tx, from, now).await?;
    // Filed when the citizen texted: that day's kept count on the dashboard is one short.
    super::stats::forget_day(tx, taken.joined_at).await?;
    let filed: Filed = query(FILE)
        .bind(from)
        .bind(citizen_id)
        .bind(taken.message_id)
        .bind(taken.joined_at)
        .bind(now)
        .fetch_one(tx)
        .await?;
    query(MOVE)
        .bind(from)
        .bind(citizen_id)
        .bind(filed.issue_id)
        .execute(tx)
        .await?;
    Ok(Some(Split {
        issue_id: filed.issue_id,
        service_code: filed.service_code,
        reported_at: taken.joined_at,
        language: filed.language,
        description: filed.description,
    }))
}

/// A supporter as the issue page lists them, with their number still sealed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Supporter {
    pub citizen_id: i64,
    pub number_key: String,
    pub number_sealed: Option<String>,
    pub language: String,
    /// What they texted when they joined.
    pub body: Option<String>,
    pub joined_at: i64,
}

/// Issue `issue_id`'s supporters in the order they joined (the first reporter is not one).
pub async fn supporters(store: &super::Store, issue_id: i64) -> Result<Vec<Supporter>> {
    const SQL: &str = "select c.citizen_id, c.number_key, c.number_sealed, c.language, m.body, \
         s.joined_at from supporter s join citizen c on c.citizen_id = s.citizen_id \
         left join message m on m.message_id = s.message_id \
         where s.issue_id = $1 order by s.joined_at, c.citizen_id";
    let rows = super::on_pool!(store, pool => sqlx::query_as::<_, Supporter>(SQL).bind(issue_id).fetch_all(pool).await?);
    Ok(rows)
}
