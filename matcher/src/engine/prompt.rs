//! Serialization of pairs and the paper's prompt for LLM backbones, and parsing of
//! the answers.
//!
//! Prompt order (KcMF): the question ("… answer ONLY yes or no"), "Rules for the
//! task:" + the rules, k demonstrations (one reasoning step per rule up to the first
//! rule whose condition holds), "Your turn:" + the pair, "Knowledge for the task:"
//! (lettered items), "Reasoning: 1. {self-indicator}", and the closing instruction.

use serde::{Deserialize, Serialize};

use super::knowledge::Knowledge;
use super::rules::RuleSet;
use super::{Column, Record, Table, value_text};

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn system(c: impl Into<String>) -> Self {
        Self {
            role: "system".into(),
            content: c.into(),
        }
    }
    pub fn user(c: impl Into<String>) -> Self {
        Self {
            role: "user".into(),
            content: c.into(),
        }
    }
}

/// A demonstration: a serialized pair, its reasoning steps and its answer.
#[derive(Debug, Clone)]
pub struct Demonstration {
    pub pair: String,
    pub reasoning: Vec<String>,
    pub answer: bool,
}

/// `table-column: table description; column description (type …; values …)`.
pub fn serialize_column(t: &Table, c: &Column) -> String {
    let mut s = format!(
        "{}-{}: {}; {}",
        t.name,
        c.name,
        t.description.as_deref().unwrap_or(""),
        c.description.as_deref().unwrap_or("")
    );
    let mut extra = Vec::new();
    if let Some(ty) = &c.data_type {
        extra.push(format!("type {ty}"));
    }
    if !c.samples.is_empty() {
        let v: Vec<String> = c.samples.iter().take(5).map(value_text).collect();
        extra.push(format!("values {}", v.join(", ")));
    }
    if !extra.is_empty() {
        s.push_str(&format!(" ({})", extra.join("; ")));
    }
    s
}

/// The entity's name (name-like attributes) followed by its other attribute values.
pub fn serialize_record(r: &Record) -> String {
    let is_name = |k: &str| {
        let k = k.to_lowercase();
        k.contains("name") || k.contains("title")
    };
    let name: Vec<String> = r
        .iter()
        .filter(|(k, _)| is_name(k))
        .map(|(_, v)| value_text(v))
        .filter(|v| !v.trim().is_empty())
        .collect();
    let rest: Vec<String> = r
        .iter()
        .filter(|(k, _)| !is_name(k) && !super::fs::is_id_field(k))
        .map(|(k, v)| (k, value_text(v)))
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    format!("{} ({})", name.join(" "), rest.join("; "))
}

/// The paper's prompt as chat messages.
pub fn build_messages(
    rules: &RuleSet,
    demonstrations: &[Demonstration],
    pair: &str,
    knowledge: &Knowledge,
    self_indicator: &str,
) -> Vec<ChatMessage> {
    let mut u = String::new();
    u.push_str(rules.question.trim());
    u.push_str("\n\nRules for the task:\n");
    u.push_str(&rules.render());
    for (i, d) in demonstrations.iter().enumerate() {
        u.push_str(&format!(
            "\nDemonstration {}:\n{}\nReasoning:\n",
            i + 1,
            d.pair
        ));
        for (k, step) in d.reasoning.iter().enumerate() {
            u.push_str(&format!("{}. {}\n", k + 1, step));
        }
        u.push_str(&format!(
            "Final answer: {}\n",
            if d.answer { "yes" } else { "no" }
        ));
    }
    u.push_str("\nYour turn:\n");
    u.push_str(pair);
    u.push('\n');
    if !knowledge.is_empty() {
        u.push_str("\nKnowledge for the task:\n");
        u.push_str(&knowledge.lettered());
    }
    u.push_str(&format!("\nReasoning: 1. {}\n", self_indicator.trim()));
    u.push_str("Please continue the reasoning until you draw a final answer ONLY yes or no:");
    vec![
        ChatMessage::system("You are an expert in data matching. Follow the rules step by step."),
        ChatMessage::user(u),
    ]
}

/// The self-indicator request: a one-sentence summary of both sides.
pub fn self_indicator_messages(pair: &str) -> Vec<ChatMessage> {
    vec![
        ChatMessage::system("You summarize data briefly."),
        ChatMessage::user(format!(
            "Summarize in one short sentence what the two sides below are and how they relate:\n{pair}"
        )),
    ]
}

/// Parses a final answer: the last non-empty line must be a clean `yes` or `no`
/// (optionally after "Final answer:" and with punctuation/markup). Anything else is
/// badly formatted (`None`).
pub fn parse_answer(text: &str) -> Option<bool> {
    let line = text.lines().map(str::trim).rfind(|l| !l.is_empty())?;
    let lower = line.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    const FILLER: [&str; 7] = ["final", "the", "answer", "is", "my", "so", "therefore"];
    let rest: Vec<&str> = words
        .iter()
        .copied()
        .skip_while(|w| FILLER.contains(w))
        .collect();
    let (yes, no) = (rest.contains(&"yes"), rest.contains(&"no"));
    match rest.first().copied() {
        Some("yes") if !no && rest.len() <= 2 => Some(true),
        Some("no") if !yes && rest.len() <= 2 => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rules::Rules;
    use serde_json::json;

    #[test]
    fn parses_clean_answers_only() {
        assert_eq!(parse_answer("yes"), Some(true));
        assert_eq!(
            parse_answer("2. Rule II holds.\nFinal answer: No."),
            Some(false)
        );
        assert_eq!(parse_answer("**Yes**"), Some(true));
        assert_eq!(parse_answer("The answer is yes"), Some(true));
        assert_eq!(parse_answer("maybe"), None);
        assert_eq!(parse_answer("yes or no, hard to say"), None);
        assert_eq!(parse_answer(""), None);
    }

    #[test]
    fn prompt_follows_paper_order() {
        let rules = Rules::builtin().unwrap().em;
        let k = Knowledge::from_items(vec!["ibm: a company".into()]);
        let demo = Demonstration {
            pair: "A: x\nB: y".into(),
            reasoning: vec!["II holds".into()],
            answer: true,
        };
        let m = build_messages(
            &rules,
            &[demo],
            "A: ibm\nB: international business machines",
            &k,
            "A and B are companies.",
        );
        let u = &m[1].content;
        let order = [
            "ONLY yes or no",
            "Rules for the task:",
            "Demonstration 1:",
            "Your turn:",
            "Knowledge for the task:",
            "(a) ibm: a company",
            "Reasoning: 1. A and B are companies.",
            "Please continue the reasoning",
        ];
        let mut last = 0;
        for o in order {
            let i = u.find(o).unwrap_or_else(|| panic!("{o} missing in {u}"));
            assert!(i >= last, "{o} out of order");
            last = i;
        }
        let r = json!({"name": "IBM", "city": "Armonk", "id": 3})
            .as_object()
            .cloned()
            .unwrap();
        assert_eq!(serialize_record(&r), "IBM (city: Armonk)");
        let t = Table {
            name: "t".into(),
            description: Some("people".into()),
            columns: vec![],
        };
        let c = Column {
            name: "dob".into(),
            data_type: Some("date".into()),
            description: None,
            samples: vec![json!("2020-01-01")],
        };
        assert_eq!(
            serialize_column(&t, &c),
            "t-dob: people;  (type date; values 2020-01-01)"
        );
    }
}
