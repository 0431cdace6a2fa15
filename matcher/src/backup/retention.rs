//! Retention: which sets to delete after a successful backup. Pure, so it is tested
//! without a clock or a disk.
//!
//! A set older than `retention_days` is deleted, except the newest *good* set, which is
//! always kept whatever its age: the newest set a restore drill has read back, and the
//! newest complete set (the one the run just wrote). Incomplete and unreadable sets are
//! never good.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: String,
    pub started_at: DateTime<Utc>,
    /// The manifest reads and says complete.
    pub complete: bool,
    /// A drill read it back: `Some(true)` passed, `Some(false)` failed, `None` never ran.
    pub verified: Option<bool>,
}

/// The ids to delete, oldest first.
pub fn plan(sets: &[Candidate], now: DateTime<Utc>, retention_days: u32) -> Vec<String> {
    let cutoff = now - Duration::days(i64::from(retention_days));
    let newest = |pred: &dyn Fn(&Candidate) -> bool| {
        sets.iter()
            .filter(|c| pred(c))
            .max_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)))
            .map(|c| c.id.clone())
    };
    let newest_verified = newest(&|c| c.complete && c.verified == Some(true));
    let newest_complete = newest(&|c| c.complete && c.verified != Some(false));
    let mut out: Vec<&Candidate> = sets
        .iter()
        .filter(|c| c.started_at < cutoff)
        .filter(|c| {
            Some(&c.id) != newest_verified.as_ref() && Some(&c.id) != newest_complete.as_ref()
        })
        .collect();
    out.sort_by_key(|c| c.started_at);
    out.into_iter().map(|c| c.id.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(
        id: &str,
        days_ago: i64,
        complete: bool,
        verified: Option<bool>,
        now: DateTime<Utc>,
    ) -> Candidate {
        Candidate {
            id: id.into(),
            started_at: now - Duration::days(days_ago),
            complete,
            verified,
        }
    }

    #[test]
    fn deletes_old_keeps_recent() {
        let now = Utc::now();
        let sets = vec![
            c("a", 40, true, Some(true), now),
            c("b", 31, true, Some(true), now),
            c("c", 2, true, Some(true), now),
            c("d", 0, true, None, now),
        ];
        assert_eq!(plan(&sets, now, 30), vec!["a", "b"]);
    }

    #[test]
    fn newest_good_is_kept_whatever_its_age() {
        let now = Utc::now();
        let sets = vec![
            c("old-verified", 90, true, Some(true), now),
            c("older", 100, true, Some(true), now),
            c("failed", 50, true, Some(false), now),
            c("broken", 45, false, None, now),
            c("new", 0, true, None, now),
        ];
        // "new" is the newest complete set, "old-verified" the newest verified one.
        assert_eq!(plan(&sets, now, 7), vec!["older", "failed", "broken"]);
    }

    #[test]
    fn only_old_sets_keep_the_newest() {
        let now = Utc::now();
        let sets = vec![c("x", 60, true, None, now), c("y", 50, true, None, now)];
        assert_eq!(plan(&sets, now, 30), vec!["x"]);
    }
}
