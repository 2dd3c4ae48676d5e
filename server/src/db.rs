//! The relying party's SQLite database: users (public key + encrypted reference), enrollment
//! tokens, issued challenges (single use, bounded per user), sessions, request counters and the
//! server's own keys. Every write is one statement or one transaction, so a bad request can fail
//! but never leave half a row; every check-then-write is a `BEGIN IMMEDIATE` transaction, so
//! several server processes can share one database file (WAL, with a busy timeout).
//!
//! Users are keyed by their account id (the normalised name without separators, see
//! `names.rs`); challenges and counters are keyed by account id whether or not anyone
//! enrolled under it, so that unknown names behave like known ones.

use crate::limits::Limit;
use crate::names::Username;
use faceproof_protocol::NonceStore;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// The schema this server writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 3;
/// How long a statement waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Db {
    conn: Connection,
}

pub struct User {
    pub name: String,
    pub public_key: [u8; 32],
    pub reference: Vec<u8>,
    /// The relying party's OPRF key for this user (its share of every lock).
    pub oprf_key: [u8; 32],
}

/// What became of an enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrolled {
    Ok,
    /// No such token: never issued, or already used.
    TokenUnknown,
    TokenExpired,
    /// The token was issued for another account.
    TokenForAnotherUser,
    NameTaken,
}

/// Counts for operators and the load test (`faceproof-server stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub users: i64,
    pub live_challenges: i64,
    pub most_live_challenges_for_one_user: i64,
    pub enrollment_tokens: i64,
    pub sessions: i64,
    pub rate_limit_rows: i64,
    /// Pages in use times page size: the database's size, WAL included.
    pub database_bytes: i64,
}

/// A refusal by a limit: milliseconds until it lets the request through.
pub type RetryAfterMs = u64;

fn immediate(conn: &Connection) -> rusqlite::Result<Transaction<'_>> {
    Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
}

impl Db {
    pub fn open(path: &Path) -> Result<Db, String> {
        let conn = Connection::open(path).map_err(|e| e.to_string())?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| e.to_string())?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| e.to_string())?;
        let has_tables: bool = conn
            .query_row("SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table'", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if has_tables && version != SCHEMA_VERSION {
            return Err(format!(
                "schema version {version}, this server writes version {SCHEMA_VERSION} (users are keyed by their \
                 normalised name): keep that file and start with another --db"
            ));
        }
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             BEGIN IMMEDIATE;
             CREATE TABLE IF NOT EXISTS users (
                 id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 32),
                 name TEXT NOT NULL,
                 public_key BLOB NOT NULL CHECK (length(public_key) = 32),
                 reference BLOB NOT NULL,
                 oprf_key BLOB NOT NULL CHECK (length(oprf_key) = 32),
                 created_at INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS enrollment_tokens (
                 token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
                 id TEXT NOT NULL UNIQUE,
                 name TEXT NOT NULL,
                 oprf_key BLOB NOT NULL CHECK (length(oprf_key) = 32),
                 expires_at INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS challenges (
                 nonce BLOB PRIMARY KEY CHECK (length(nonce) = 32),
                 user TEXT NOT NULL,
                 client TEXT NOT NULL,
                 expires_at INTEGER NOT NULL,
                 evaluated INTEGER NOT NULL DEFAULT 0
             );
             CREATE INDEX IF NOT EXISTS challenges_by_user ON challenges (user, client);
             CREATE INDEX IF NOT EXISTS challenges_by_expiry ON challenges (expires_at);
             CREATE TABLE IF NOT EXISTS sessions (
                 token TEXT PRIMARY KEY,
                 user TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                 expires_at INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS rate_limits (
                 scope TEXT NOT NULL,
                 key TEXT NOT NULL,
                 window_end INTEGER NOT NULL,
                 count INTEGER NOT NULL,
                 PRIMARY KEY (scope, key)
             ) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS rate_limits_by_end ON rate_limits (window_end);
             CREATE TABLE IF NOT EXISTS server_keys (
                 name TEXT PRIMARY KEY,
                 key BLOB NOT NULL CHECK (length(key) = 32)
             );
             PRAGMA user_version = 3;
             COMMIT;",
        )
        .map_err(|e| e.to_string())?;
        Ok(Db { conn })
    }

    /// The server key `name`: `fresh` is stored the first time, and the stored key is returned
    /// ever after (by every process on this database).
    pub fn server_key(&self, name: &str, fresh: &[u8; 32]) -> rusqlite::Result<[u8; 32]> {
        self.conn
            .execute("INSERT OR IGNORE INTO server_keys (name, key) VALUES (?1, ?2)", params![name, &fresh[..]])?;
        self.conn.query_row("SELECT key FROM server_keys WHERE name = ?1", [name], |r| r.get::<_, [u8; 32]>(0))
    }

    // ---- request limits

    /// Check every `(limit, key)` and count the request against all of them, or against none if
    /// any refuses (then: how long until all would let it through).
    pub fn hit(&self, checks: &[(Limit, &str)], now: u64) -> rusqlite::Result<Result<(), RetryAfterMs>> {
        let tx = immediate(&self.conn)?;
        let mut retry = 0;
        let mut live = Vec::with_capacity(checks.len());
        for (limit, key) in checks {
            let row: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT window_end, count FROM rate_limits WHERE scope = ?1 AND key = ?2 AND window_end > ?3",
                    params![limit.scope, key, now as i64],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let Some((end, count)) = row {
                if count >= limit.max as i64 {
                    retry = retry.max((end as u64).saturating_sub(now).max(1));
                }
            }
            live.push(row.is_some());
        }
        if retry > 0 {
            return Ok(Err(retry)); // dropping the transaction rolls it back: nothing counted
        }
        for ((limit, key), live) in checks.iter().zip(live) {
            if live {
                tx.execute(
                    "UPDATE rate_limits SET count = count + 1 WHERE scope = ?1 AND key = ?2",
                    [limit.scope, key],
                )?;
            } else {
                tx.execute(
                    "INSERT OR REPLACE INTO rate_limits (scope, key, window_end, count) VALUES (?1, ?2, ?3, 1)",
                    params![limit.scope, key, now.saturating_add(limit.window_ms) as i64],
                )?;
            }
        }
        tx.commit()?;
        Ok(Ok(()))
    }

    /// Give back one request counted against `(limit, key)` in its current window.
    pub fn refund(&self, limit: Limit, key: &str, now: u64) -> rusqlite::Result<()> {
        self.conn.execute(
            "UPDATE rate_limits SET count = count - 1 WHERE scope = ?1 AND key = ?2 AND count > 0 AND window_end > ?3",
            params![limit.scope, key, now as i64],
        )?;
        Ok(())
    }

    // ---- onboarding and enrollment

    /// Reserve `user` for the holder of the token whose SHA-256 is `token_hash` until
    /// `expires_at`; `Ok(false)` if the account exists or is reserved by a live token.
    pub fn reserve(
        &self,
        user: &Username,
        token_hash: &[u8; 32],
        oprf_key: &[u8; 32],
        expires_at: u64,
        now: u64,
    ) -> rusqlite::Result<bool> {
        let tx = immediate(&self.conn)?;
        tx.execute("DELETE FROM enrollment_tokens WHERE id = ?1 AND expires_at <= ?2", params![user.id, now as i64])?;
        let taken: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1) OR EXISTS (SELECT 1 FROM enrollment_tokens WHERE id = ?1)",
            [&user.id],
            |r| r.get(0),
        )?;
        if taken {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO enrollment_tokens (token_hash, id, name, oprf_key, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![&token_hash[..], user.id, user.name, &oprf_key[..], expires_at as i64],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Use up the enrollment token whose SHA-256 is `token_hash` (whatever the outcome: a token
    /// is tried once) and, if it is live and was issued for `user`'s account, add the user under
    /// the name the token reserved.
    pub fn enroll(
        &self,
        token_hash: &[u8; 32],
        user: &Username,
        public_key: &[u8; 32],
        reference: &[u8],
        now: u64,
    ) -> rusqlite::Result<Enrolled> {
        let tx = immediate(&self.conn)?;
        let token: Option<(String, String, i64, Vec<u8>)> = tx
            .query_row(
                "DELETE FROM enrollment_tokens WHERE token_hash = ?1 RETURNING id, name, expires_at, oprf_key",
                [&token_hash[..]],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let outcome = match token {
            None => Enrolled::TokenUnknown,
            Some((_, _, expires_at, _)) if (expires_at as u64) <= now => Enrolled::TokenExpired,
            Some((id, _, _, _)) if id != user.id => Enrolled::TokenForAnotherUser,
            Some((id, name, _, oprf_key)) => {
                let n = tx.execute(
                    "INSERT OR IGNORE INTO users (id, name, public_key, reference, oprf_key, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![id, name, &public_key[..], reference, oprf_key, now as i64],
                )?;
                // challenges issued while the name was unknown were answered with a decoy
                tx.execute("DELETE FROM challenges WHERE user = ?1", [&id])?;
                if n == 1 {
                    Enrolled::Ok
                } else {
                    Enrolled::NameTaken
                }
            }
        };
        tx.commit()?;
        Ok(outcome)
    }

    pub fn user(&self, id: &str) -> rusqlite::Result<Option<User>> {
        self.conn
            .query_row("SELECT name, public_key, reference, oprf_key FROM users WHERE id = ?1", [id], |r| {
                Ok(User { name: r.get(0)?, public_key: r.get(1)?, reference: r.get(2)?, oprf_key: r.get(3)? })
            })
            .optional()
    }

    /// Whether the challenge `nonce` of account `id` (still issued) had its evaluation.
    pub fn challenge_evaluated(&self, id: &str, nonce: &[u8; 32]) -> rusqlite::Result<bool> {
        let e: Option<i64> = self
            .conn
            .query_row(
                "SELECT evaluated FROM challenges WHERE nonce = ?1 AND user = ?2",
                params![&nonce[..], id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(e == Some(1))
    }

    /// The OPRF key of the live enrollment token whose SHA-256 is `token_hash`, if it was issued
    /// for account `id` (the token is not used up: enrollment does that).
    pub fn token_oprf_key(&self, token_hash: &[u8; 32], id: &str, now: u64) -> rusqlite::Result<Option<[u8; 32]>> {
        let key: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT oprf_key FROM enrollment_tokens WHERE token_hash = ?1 AND id = ?2 AND expires_at > ?3",
                params![&token_hash[..], id, now as i64],
                |r| r.get(0),
            )
            .optional()?;
        Ok(key.and_then(|k| k.try_into().ok()))
    }

    pub fn users(&self) -> rusqlite::Result<usize> {
        self.conn.query_row("SELECT count(*) FROM users", [], |r| r.get::<_, i64>(0)).map(|n| n as usize)
    }

    // ---- challenges

    /// Record an issued challenge for account `id` asked for by `client`, within the bounds on
    /// live challenges: the client's oldest for this account make room (at most `per_client`
    /// each), and beyond `per_user` for the account the challenge is refused.
    #[allow(clippy::too_many_arguments)]
    pub fn add_challenge(
        &self,
        id: &str,
        client: &str,
        nonce: &[u8; 32],
        expires_at: u64,
        now: u64,
        per_client: u32,
        per_user: u32,
    ) -> rusqlite::Result<Result<(), RetryAfterMs>> {
        let tx = immediate(&self.conn)?;
        tx.execute("DELETE FROM challenges WHERE user = ?1 AND expires_at < ?2", params![id, now as i64])?;
        let count = |sql: &str, p: &[&dyn rusqlite::ToSql]| tx.query_row(sql, p, |r| r.get::<_, i64>(0));
        let of_client = count("SELECT count(*) FROM challenges WHERE user = ?1 AND client = ?2", &[&id, &client])?;
        let of_user = count("SELECT count(*) FROM challenges WHERE user = ?1", &[&id])?;
        let evict = (of_client - per_client as i64 + 1).max(0);
        if of_user - evict >= per_user as i64 {
            let oldest = count("SELECT min(expires_at) FROM challenges WHERE user = ?1", &[&id])?;
            return Ok(Err((oldest as u64).saturating_sub(now).max(1)));
        }
        tx.execute(
            "DELETE FROM challenges WHERE rowid IN
                 (SELECT rowid FROM challenges WHERE user = ?1 AND client = ?2 ORDER BY expires_at, rowid LIMIT ?3)",
            params![id, client, evict],
        )?;
        tx.execute(
            "INSERT INTO challenges (nonce, user, client, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![&nonce[..], id, client, expires_at as i64],
        )?;
        tx.commit()?;
        Ok(Ok(()))
    }

    /// The single-use nonce store of one account (see [`NonceStore`]).
    pub fn nonces<'a>(&'a self, id: &'a str) -> UserNonces<'a> {
        UserNonces { db: self, id }
    }

    // ---- sessions

    pub fn add_session(&self, token: &str, id: &str, expires_at: u64) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO sessions (token, user, expires_at) VALUES (?1, ?2, ?3)",
            params![token, id, expires_at as i64],
        )?;
        Ok(())
    }

    /// The name of the session's user.
    pub fn session_user(&self, token: &str, now: u64) -> rusqlite::Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT users.name FROM sessions JOIN users ON users.id = sessions.user
                 WHERE token = ?1 AND expires_at >= ?2",
                params![token, now as i64],
                |r| r.get(0),
            )
            .optional()
    }

    pub fn end_session(&self, token: &str) -> rusqlite::Result<()> {
        self.conn.execute("DELETE FROM sessions WHERE token = ?1", [token])?;
        Ok(())
    }

    // ---- housekeeping

    /// Delete what expired before `now`: challenges, enrollment tokens, sessions, counters.
    pub fn purge_expired(&self, now: u64) -> rusqlite::Result<()> {
        let tx = immediate(&self.conn)?;
        tx.execute("DELETE FROM challenges WHERE expires_at < ?1", [now as i64])?;
        tx.execute("DELETE FROM enrollment_tokens WHERE expires_at <= ?1", [now as i64])?;
        tx.execute("DELETE FROM sessions WHERE expires_at < ?1", [now as i64])?;
        tx.execute("DELETE FROM rate_limits WHERE window_end <= ?1", [now as i64])?;
        tx.commit()
    }

    pub fn stats(&self, now: u64) -> rusqlite::Result<Stats> {
        let n = |sql: &str| self.conn.query_row(sql, [now as i64], |r| r.get::<_, i64>(0));
        Ok(Stats {
            users: n("SELECT count(*) FROM users WHERE ?1 = ?1")?,
            live_challenges: n("SELECT count(*) FROM challenges WHERE expires_at >= ?1")?,
            most_live_challenges_for_one_user: n("SELECT coalesce(max(c), 0) FROM
                 (SELECT count(*) AS c FROM challenges WHERE expires_at >= ?1 GROUP BY user)")?,
            enrollment_tokens: n("SELECT count(*) FROM enrollment_tokens WHERE expires_at > ?1")?,
            sessions: n("SELECT count(*) FROM sessions WHERE expires_at >= ?1")?,
            rate_limit_rows: n("SELECT count(*) FROM rate_limits WHERE ?1 = ?1")?,
            database_bytes: n("SELECT (page_count - freelist_count) * page_size
                 FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size() WHERE ?1 = ?1")?,
        })
    }
}

/// Challenges issued for one account, in the `challenges` table. The API issues them with
/// [`Db::add_challenge`] (bounded per client and account); `insert` is the unbounded form the
/// [`NonceStore`] interface asks for.
pub struct UserNonces<'a> {
    db: &'a Db,
    id: &'a str,
}

impl NonceStore for UserNonces<'_> {
    fn insert(&mut self, nonce: [u8; 32], expires_at: u64) -> faceproof_protocol::Result<()> {
        self.db
            .conn
            .execute(
                "INSERT INTO challenges (nonce, user, client, expires_at) VALUES (?1, ?2, '', ?3)",
                params![&nonce[..], self.id, expires_at as i64],
            )
            .map(|_| ())
            .map_err(|e| faceproof_protocol::Error::InvalidArgument(format!("database: {e}")))
    }

    /// `DELETE ... RETURNING`: the nonce is gone after the first attempt, whatever its outcome.
    fn take(&mut self, nonce: &[u8; 32]) -> Option<u64> {
        self.db
            .conn
            .query_row(
                "DELETE FROM challenges WHERE nonce = ?1 AND user = ?2 RETURNING expires_at",
                params![&nonce[..], self.id],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .ok()
            .flatten()
            .map(|e| e as u64)
    }

    /// One `UPDATE`: the evaluation right is used by whichever request gets there first.
    fn claim_evaluation(&mut self, nonce: &[u8; 32], now: u64) -> bool {
        self.db
            .conn
            .execute(
                "UPDATE challenges SET evaluated = 1 WHERE nonce = ?1 AND user = ?2 AND evaluated = 0 AND expires_at >= ?3",
                params![&nonce[..], self.id, now as i64],
            )
            .map(|n| n == 1)
            .unwrap_or(false)
    }

    fn purge_expired(&mut self, now: u64) {
        let _ = self.db.conn.execute("DELETE FROM challenges WHERE expires_at < ?1", [now as i64]);
    }
}
