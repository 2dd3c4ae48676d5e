//! Usernames: one spelling per account.
//!
//! A name is case-folded to lowercase, then must be 3 to 32 characters of `a-z`, `0-9` and
//! single separators `.` `-` `_` between alphanumerics (none first, last or doubled). Two names
//! that differ only in their separators are one account: the account's identity is the name
//! without separators (`ada.l`, `ad-al` and `adal` are the same `adal`).

pub const MIN_LEN: usize = 3;
pub const MAX_LEN: usize = 32;

/// A valid username: `name` as the user wrote it (lowercased), `id` the account it denotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    pub name: String,
    pub id: String,
}

fn is_separator(b: u8) -> bool {
    matches!(b, b'.' | b'-' | b'_')
}

/// The username for `input`, or why it is not one (a message for the user).
pub fn normalize(input: &str) -> Result<Username, &'static str> {
    if !input.is_ascii() {
        return Err("letters a-z, digits and . - _ only");
    }
    let name = input.to_ascii_lowercase();
    let bytes = name.as_bytes();
    if !(MIN_LEN..=MAX_LEN).contains(&bytes.len()) {
        return Err("3 to 32 characters");
    }
    if !bytes.iter().all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || is_separator(b)) {
        return Err("letters a-z, digits and . - _ only");
    }
    let first_last_ok =
        bytes.first().is_some_and(u8::is_ascii_alphanumeric) && bytes.last().is_some_and(u8::is_ascii_alphanumeric);
    if !first_last_ok || bytes.windows(2).any(|w| is_separator(w[0]) && is_separator(w[1])) {
        return Err("a separator (. - _) goes between two letters or digits");
    }
    let id = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    Ok(Username { name, id })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// These five were five accounts: now each is either the account `obama` or refused.
    #[test]
    fn the_five_obamas_are_one_account_or_refused() {
        let mut accounts = vec![];
        for input in ["Obama", "OBAMA", "obama.", "obama-", "obama_"] {
            match normalize(input) {
                Ok(u) => accounts.push(u.id),
                Err(_) => assert!(input.ends_with(['.', '-', '_']), "{input} refused"),
            }
        }
        assert_eq!(accounts, ["obama", "obama"]);
    }

    #[test]
    fn names_that_differ_only_in_separators_are_one_account() {
        let a = normalize("ada.l").unwrap();
        let b = normalize("Ad-Al").unwrap();
        assert_eq!((a.name.as_str(), b.name.as_str()), ("ada.l", "ad-al"));
        assert_eq!((a.id.as_str(), b.id.as_str()), ("adal", "adal"));
        assert_eq!(normalize("a_b-c.d").unwrap().id, "abcd");
    }

    #[test]
    fn refused_names() {
        for bad in [
            "",
            "ab",
            "a.",
            ".abc",
            "abc.",
            "ab..c",
            "ab.-c",
            "ab c",
            "abç",
            "ab/c",
            "ab@c",
            "ab+c",
            "\u{212a}elvin", // the Kelvin sign lowercases to 'k' in Unicode: not ASCII, refused
            "abcdefghijklmnopqrstuvwxyz0123456",
        ] {
            assert!(normalize(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["ada", "ADA", "a.b", "a1b", "j.r.r-tolkien_1", "abcdefghijklmnopqrstuvwxyz012345"] {
            assert!(normalize(good).is_ok(), "{good:?} refused");
        }
    }
}
