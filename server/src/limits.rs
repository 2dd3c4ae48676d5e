//! Request limits: fixed windows per (scope, key), counted in the database (`Db::hit`).
//!
//! The counters live in SQLite, not in the process (an in-process limiter such as `governor`
//! would forget every count at a restart and give each server process on one database its own
//! allowance). Each check-and-count is one `BEGIN IMMEDIATE` transaction, so processes sharing
//! the database file count together and never both take the last unit. A window starts at the
//! first request counted for its key and lasts `window_ms`; a request refused by any of the
//! limits it is checked against is counted by none (a flood refused for its client does not
//! use up its victim's allowance).
//!
//! What each limit is for:
//! - onboarding and enrollment: a client cannot reserve names or submit references in bulk;
//! - challenges: each answer carries a reference (about 66 KB of JSON), for known and unknown
//!   names alike; at most 20 a minute from one client, 30 for one name from all clients;
//! - logins: every attempt counts as a failure until it succeeds (then it is given back), so
//!   concurrent guesses cannot overtake the count: 10 failures an hour per name bound the
//!   guesses anyone can make at an account; 5 an hour per (name, client) keep one client from
//!   spending the whole allowance and locking the owner out. Lockout by several clients is the
//!   price of bounding guesses: an account that matters needs a second way in.

/// At most `max` counted requests per key in a window of `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Names the counter in the database (with the key).
    pub scope: &'static str,
    pub max: u32,
    pub window_ms: u64,
}

const MINUTE: u64 = 60_000;
const HOUR: u64 = 60 * MINUTE;

pub const ONBOARD_PER_CLIENT: Limit = Limit { scope: "onboard/client", max: 10, window_ms: HOUR };
pub const ONBOARD_PER_USER: Limit = Limit { scope: "onboard/user", max: 5, window_ms: HOUR };
pub const ENROLL_PER_CLIENT: Limit = Limit { scope: "enroll/client", max: 10, window_ms: HOUR };
pub const ENROLL_PER_USER: Limit = Limit { scope: "enroll/user", max: 5, window_ms: HOUR };
pub const CHALLENGE_PER_CLIENT: Limit = Limit { scope: "challenge/client", max: 20, window_ms: MINUTE };
pub const CHALLENGE_PER_USER: Limit = Limit { scope: "challenge/user", max: 30, window_ms: MINUTE };
pub const LOGIN_PER_CLIENT: Limit = Limit { scope: "login/client", max: 20, window_ms: MINUTE };
pub const LOGIN_PER_USER: Limit = Limit { scope: "login/user", max: 30, window_ms: MINUTE };
/// Failed logins for one name: the bound on guesses at an account.
pub const FAILED_LOGIN_PER_USER: Limit = Limit { scope: "login-failed/user", max: 10, window_ms: HOUR };
/// Failed logins for one name from one client: below the per-name bound, so that one client
/// cannot lock the owner out.
pub const FAILED_LOGIN_PER_USER_CLIENT: Limit = Limit { scope: "login-failed/user-client", max: 5, window_ms: HOUR };

/// Live (issued, unused, unexpired) challenges one client may hold for one name: a new one
/// replaces that client's oldest. A client that reloads or retries can always start again, and
/// no client can evict a challenge another client is answering.
pub const LIVE_CHALLENGES_PER_USER_CLIENT: u32 = 3;
/// Live challenges for one name from all clients: beyond this, new ones are refused until one
/// is used or expires (at most the challenge lifetime).
pub const LIVE_CHALLENGES_PER_USER: u32 = 10;
