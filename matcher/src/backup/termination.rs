//! The one-line JSON summary a backup, verify or restore job leaves where Kubernetes shows
//! it (`state.terminated.message`), for the operator to read into the resource's status.

use std::path::PathBuf;

/// The termination message's `result` values: the strings of the operator's
/// `status::results` (operator/src/status.rs), which reads them.
pub mod results {
    /// The command completed.
    pub const SUCCEEDED: &str = "Succeeded";
    /// The command failed (the message carries `error`).
    pub const FAILED: &str = "Failed";
}

/// The termination message's `kind` values: the command that wrote it (the operator's
/// `MessageKind`).
pub mod kinds {
    /// `backup run`
    pub const BACKUP: &str = "backup";
    /// `backup verify`
    pub const VERIFY: &str = "verify";
    /// `restore`
    pub const RESTORE: &str = "restore";
}

/// Kubernetes keeps at most 4096 bytes of a termination message.
const TERMINATION_LIMIT: usize = 4000;

/// Fields shortened last, tier by tier: the operator reads the set names, times and
/// outcome (`TerminationMessage` in operator/src/status.rs); `kind` and `result` are
/// never shortened.
const TERMINATION_KEEP: [&[&str]; 3] = [
    &[
        "kind",
        "result",
        "set",
        "safetySet",
        "startedAt",
        "finishedAt",
        "verifiedAt",
        "verified",
    ],
    &["kind", "result", "set"],
    &["kind", "result"],
];

/// The termination message's text: the JSON of `v`, at most `limit` bytes, still JSON.
/// When too long, the longest other field is shortened first (a string keeps its start
/// and ends in `…`, a list loses its last items, anything else goes), until it fits.
fn termination_text(v: &serde_json::Value, limit: usize) -> String {
    use serde_json::Value;
    let text = v.to_string();
    if text.len() <= limit {
        return text;
    }
    let Value::Object(map) = v else {
        return "{}".to_string();
    };
    let mut m = map.clone();
    for keep in TERMINATION_KEEP {
        loop {
            let text = Value::Object(m.clone()).to_string();
            if text.len() <= limit {
                return text;
            }
            let longest = m
                .iter()
                .filter(|(k, _)| !keep.contains(&k.as_str()))
                .map(|(k, v)| (v.to_string().len(), k.clone()))
                .max();
            let Some((_, key)) = longest else { break };
            match m.get_mut(&key) {
                Some(Value::String(s)) if s.chars().count() > 1 => {
                    cut_json_string(s, text.len() - limit)
                }
                Some(Value::Array(a)) if !a.is_empty() => {
                    a.pop();
                }
                _ => {
                    m.remove(&key);
                }
            }
        }
    }
    "{}".to_string()
}

/// Shortens `s` so that its JSON form loses at least `excess` bytes, ending it in `…`.
fn cut_json_string(s: &mut String, excess: usize) {
    /// Bytes of `c` inside a JSON string (serde_json escapes only `"`, `\` and controls).
    fn escaped_len(c: char) -> usize {
        match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if u32::from(c) < 0x20 => 6,
            c => c.len_utf8(),
        }
    }
    let need = excess + '…'.len_utf8();
    let mut removed = 0;
    while removed < need {
        match s.pop() {
            Some(c) => removed += escaped_len(c),
            None => break,
        }
    }
    s.push('…');
}

/// Writes a one-line JSON summary where Kubernetes shows it in the pod's status
/// (`state.terminated.message`): `$KCMF_TERMINATION_LOG`, else `/dev/termination-log`
/// when it exists. Best effort. A message over [`TERMINATION_LIMIT`] bytes is shortened
/// inside the JSON ([`termination_text`]), so the operator can still read it.
pub fn write_termination_message(v: &serde_json::Value) {
    let path = match std::env::var_os("KCMF_TERMINATION_LOG") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            let p = PathBuf::from("/dev/termination-log");
            if !p.exists() {
                return;
            }
            p
        }
    };
    let text = termination_text(v, TERMINATION_LIMIT);
    if let Err(e) = std::fs::write(&path, text) {
        tracing::debug!(error = %e, path = %path.display(), "cannot write the termination message");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_error_keeps_the_termination_message_json_with_its_set() {
        // escapes (quotes, newlines, control characters) and multi-byte characters make the
        // serialized error longer than the string itself
        let error = format!(
            "pg_restore failed: {}",
            "a \"quoted\" line\n\u{1}é ".repeat(800)
        );
        let msg = serde_json::json!({
            "kind": "restore", "result": "Failed", "set": "20261128T030000Z",
            "error": error, "startedAt": "2026-11-28T03:00:00Z", "finishedAt": "2026-11-28T03:01:00Z",
        });
        assert!(msg.to_string().len() > TERMINATION_LIMIT);
        let text = termination_text(&msg, TERMINATION_LIMIT);
        assert!(text.len() <= TERMINATION_LIMIT, "{} bytes", text.len());
        let v: serde_json::Value = serde_json::from_str(&text).expect("still JSON");
        for key in ["kind", "result", "set", "startedAt", "finishedAt"] {
            assert_eq!(v[key], msg[key], "{key}");
        }
        let cut = v["error"].as_str().expect("error kept");
        assert!(
            cut.len() > 1000,
            "the error was cut more than needed: {cut:?}"
        );
        let kept = cut.strip_suffix('…').expect("the cut is marked");
        assert!(error.starts_with(kept));
    }

    #[test]
    fn termination_messages_that_fit_are_written_as_they_are() {
        let msg =
            serde_json::json!({"kind": "verify", "result": "Succeeded", "set": "s", "error": null});
        assert_eq!(termination_text(&msg, TERMINATION_LIMIT), msg.to_string());
    }

    #[test]
    fn a_long_list_or_set_name_is_cut_last() {
        let deleted: Vec<String> = (0..400).map(|i| format!("2026010{i:04}T030000Z")).collect();
        let msg = serde_json::json!({
            "kind": "backup", "result": "Succeeded", "set": "20261128T030000Z",
            "verified": true, "deleted": deleted,
        });
        let v: serde_json::Value =
            serde_json::from_str(&termination_text(&msg, TERMINATION_LIMIT)).expect("JSON");
        assert_eq!(v["set"], "20261128T030000Z");
        assert_eq!(v["verified"], true);
        let kept = v["deleted"].as_array().expect("still a list");
        assert!(!kept.is_empty() && kept.len() < 400);
        assert_eq!(
            kept[..],
            msg["deleted"].as_array().expect("list")[..kept.len()]
        );

        // nothing else left to cut: even the set name gives way before kind and result
        let msg =
            serde_json::json!({"kind": "restore", "result": "Failed", "set": "x".repeat(5000)});
        let text = termination_text(&msg, TERMINATION_LIMIT);
        assert!(text.len() <= TERMINATION_LIMIT);
        let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!((&v["kind"], &v["result"]), (&msg["kind"], &msg["result"]));
    }

    /// The operator matches these exact strings (operator/src/status.rs: `results`,
    /// `parse_termination_message`); changing one here breaks its status.
    #[test]
    fn termination_message_words_are_the_operators() {
        assert_eq!(
            (results::SUCCEEDED, results::FAILED),
            ("Succeeded", "Failed")
        );
        assert_eq!(
            (kinds::BACKUP, kinds::VERIFY, kinds::RESTORE),
            ("backup", "verify", "restore")
        );
    }
}
