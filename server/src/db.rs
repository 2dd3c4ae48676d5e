//! The relying party's SQLite database: users (public key + encrypted reference), issued
//! challenges (single use) and sessions. Every write is one statement or one transaction, so
//! a bad request can fail but never leave half a row.

use faceproof_protocol::NonceStore;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

pub struct Db {
    conn: Connection,
}

pub struct User {
    pub public_key: [u8; 32],
    pub reference: Vec<u8>,
}

impl Db {
    pub fn open(path: &Path) -> rusqlite::Result<Db> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA foreign_keys = ON;
             CREATE TABLE IF NOT EXISTS users (
                 name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
                 public_key BLOB NOT NULL CHECK (length(public_key) = 32),
                 reference BLOB NOT NULL,
                 created_at INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS challenges (
                 nonce BLOB PRIMARY KEY CHECK (length(nonce) = 32),
                 user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
                 expires_at INTEGER NOT NULL,
                 evaluated INTEGER NOT NULL DEFAULT 0
             );
             CREATE TABLE IF NOT EXISTS sessions (
                 token TEXT PRIMARY KEY,
                 user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
                 expires_at INTEGER NOT NULL
             );",
        )?;
        Ok(Db { conn })
    }

    /// Insert a user; `Ok(false)` if the name is taken.
    pub fn add_user(&self, name: &str, public_key: &[u8; 32], reference: &[u8], now: u64) -> rusqlite::Result<bool> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO users (name, public_key, reference, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, &public_key[..], reference, now as i64],
        )?;
        Ok(n == 1)
    }

    pub fn user(&self, name: &str) -> rusqlite::Result<Option<User>> {
        self.conn
            .query_row("SELECT public_key, reference FROM users WHERE name = ?1", [name], |r| {
                let pk: Vec<u8> = r.get(0)?;
                let mut public_key = [0u8; 32];
                if pk.len() == 32 {
                    public_key.copy_from_slice(&pk);
                }
                Ok(User { public_key, reference: r.get(1)? })
            })
            .optional()
    }

    pub fn users(&self) -> rusqlite::Result<usize> {
        self.conn.query_row("SELECT count(*) FROM users", [], |r| r.get::<_, i64>(0)).map(|n| n as usize)
    }

    /// The single-use nonce store of one user (see [`NonceStore`]).
    pub fn nonces<'a>(&'a self, user: &'a str) -> UserNonces<'a> {
        UserNonces { db: self, user }
    }

    pub fn add_session(&self, token: &str, user: &str, expires_at: u64) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO sessions (token, user, expires_at) VALUES (?1, ?2, ?3)",
            params![token, user, expires_at as i64],
        )?;
        Ok(())
    }

    pub fn session_user(&self, token: &str, now: u64) -> rusqlite::Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT user FROM sessions WHERE token = ?1 AND expires_at >= ?2",
                params![token, now as i64],
                |r| r.get(0),
            )
            .optional()
    }

    pub fn end_session(&self, token: &str) -> rusqlite::Result<()> {
        self.conn.execute("DELETE FROM sessions WHERE token = ?1", [token])?;
        Ok(())
    }
}

/// Challenges issued to one user, in the `challenges` table.
pub struct UserNonces<'a> {
    db: &'a Db,
    user: &'a str,
}

impl NonceStore for UserNonces<'_> {
    fn insert(&mut self, nonce: [u8; 32], expires_at: u64) -> faceproof_protocol::Result<()> {
        self.db
            .conn
            .execute(
                "INSERT INTO challenges (nonce, user, expires_at) VALUES (?1, ?2, ?3)",
                params![&nonce[..], self.user, expires_at as i64],
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
                params![&nonce[..], self.user],
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
                params![&nonce[..], self.user, now as i64],
            )
            .map(|n| n == 1)
            .unwrap_or(false)
    }

    fn purge_expired(&mut self, now: u64) {
        let _ = self.db.conn.execute("DELETE FROM challenges WHERE expires_at < ?1", [now as i64]);
    }
}
