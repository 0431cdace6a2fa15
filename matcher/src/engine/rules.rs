//! Pseudo-code rules kept as data (`config/rules/sm.yaml`, `config/rules/em.yaml`).
//!
//! The paper's default rules are compiled in, so the engine works without files;
//! `matching.rules_dir` points at a directory whose `sm.yaml` / `em.yaml` override them.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::EngineError;

const DEFAULT_SM: &str = include_str!("../../../config/rules/sm.yaml");
const DEFAULT_EM: &str = include_str!("../../../config/rules/em.yaml");

/// The task a rule set is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Sm,
    Em,
}

/// The answer a rule gives when its condition holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Answer {
    Yes,
    No,
}

impl Answer {
    pub fn is_yes(self) -> bool {
        self == Answer::Yes
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::No => "no",
        }
    }
}

/// The evidence the embedded backbone evaluates for a rule's condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    TypeIncompatible,
    TablesUnrelated,
    DifferentConcept,
    Abbreviation,
    Alias,
    SameConcept,
    Otherwise,
}

/// One rule: `id` (Roman numeral), a natural-language condition, the answer when it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub condition: String,
    pub answer: Answer,
    /// Evidence used by the embedded backbone; rules without one are skipped by it.
    #[serde(default)]
    pub check: Option<Check>,
}

/// An ordered rule set; the last rule is the catch-all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub task: Task,
    /// The question put to the backbone ("... answer ONLY yes or no").
    pub question: String,
    pub rules: Vec<Rule>,
}

impl RuleSet {
    /// Parses and validates a YAML rule set; `origin` names it in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, EngineError> {
        let rs: RuleSet = serde_yaml_ng::from_str(text)
            .map_err(|e| EngineError::Config(format!("rules {origin}: {e}")))?;
        rs.validate(origin)?;
        Ok(rs)
    }

    fn validate(&self, origin: &str) -> Result<(), EngineError> {
        let err = |m: String| EngineError::Config(format!("rules {origin}: {m}"));
        if self.rules.len() < 2 {
            return Err(err("at least one rule and the catch-all are needed".into()));
        }
        for (i, r) in self.rules.iter().enumerate() {
            if r.id.trim().is_empty() || r.condition.trim().is_empty() {
                return Err(err(format!("rule #{} needs an id and a condition", i + 1)));
            }
        }
        let last = &self.rules[self.rules.len() - 1];
        if !(last.check == Some(Check::Otherwise)
            || last.condition.trim().eq_ignore_ascii_case("otherwise"))
        {
            return Err(err(format!(
                "the last rule ({}) must be the catch-all `otherwise`",
                last.id
            )));
        }
        Ok(())
    }

    /// The catch-all rule (last).
    pub fn catch_all(&self) -> &Rule {
        // validated non-empty
        &self.rules[self.rules.len() - 1]
    }

    /// The rules before the catch-all.
    pub fn conditions(&self) -> &[Rule] {
        &self.rules[..self.rules.len() - 1]
    }

    /// Renders the rules as the prompt's pseudo-code block.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let n = self.rules.len();
        for (i, r) in self.rules.iter().enumerate() {
            if i + 1 == n {
                out.push_str(&format!(
                    "{}. Otherwise, the answer is {}.\n",
                    r.id,
                    r.answer.as_str()
                ));
            } else {
                out.push_str(&format!(
                    "{}. If {}, the answer is {}; otherwise go to rule {}.\n",
                    r.id,
                    r.condition,
                    r.answer.as_str(),
                    self.rules[i + 1].id
                ));
            }
        }
        out
    }
}

/// The two rule sets the engine uses.
#[derive(Debug, Clone)]
pub struct Rules {
    pub sm: RuleSet,
    pub em: RuleSet,
}

impl Rules {
    /// The paper's defaults (compiled in).
    pub fn builtin() -> Result<Self, EngineError> {
        Ok(Self {
            sm: RuleSet::from_yaml(DEFAULT_SM, "built-in sm.yaml")?,
            em: RuleSet::from_yaml(DEFAULT_EM, "built-in em.yaml")?,
        })
    }

    /// Loads `sm.yaml` and `em.yaml` from `dir` when given (a missing file keeps the
    /// built-in default), else the built-in defaults.
    pub fn load(dir: Option<&Path>) -> Result<Self, EngineError> {
        let mut rules = Self::builtin()?;
        if let Some(dir) = dir {
            for (name, task) in [("sm.yaml", Task::Sm), ("em.yaml", Task::Em)] {
                let p = dir.join(name);
                if !p.exists() {
                    continue;
                }
                let text = std::fs::read_to_string(&p).map_err(|e| {
                    EngineError::Config(format!("cannot read rules {}: {e}", p.display()))
                })?;
                let rs = RuleSet::from_yaml(&text, &p.display().to_string())?;
                if rs.task != task {
                    return Err(EngineError::Config(format!(
                        "rules {}: task is {:?}, expected {:?}",
                        p.display(),
                        rs.task,
                        task
                    )));
                }
                match task {
                    Task::Sm => rules.sm = rs,
                    Task::Em => rules.em = rs,
                }
            }
        }
        Ok(rules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_follow_the_paper() {
        let r = Rules::builtin().unwrap();
        let ids: Vec<_> = r.sm.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["II", "III", "IV", "V"]);
        assert_eq!(r.sm.catch_all().answer, Answer::Yes);
        assert_eq!(r.em.rules[0].answer, Answer::Yes);
        assert_eq!(r.em.catch_all().answer, Answer::No);
        assert!(r.em.render().contains("II. If A is an abbreviation of B"));
    }

    #[test]
    fn rules_dir_overrides_and_validates() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("em.yaml"),
            "task: em\nquestion: q?\nrules:\n  - {id: II, condition: names equal, answer: \"yes\", check: same_concept}\n  - {id: III, condition: otherwise, answer: \"no\"}\n",
        )
        .unwrap();
        let r = Rules::load(Some(dir.path())).unwrap();
        assert_eq!(r.em.rules.len(), 2);
        assert_eq!(r.sm, Rules::builtin().unwrap().sm);
        std::fs::write(
            dir.path().join("sm.yaml"),
            "task: sm\nquestion: q?\nrules:\n  - {id: II, condition: x, answer: \"no\"}\n",
        )
        .unwrap();
        let e = Rules::load(Some(dir.path())).unwrap_err().to_string();
        assert!(e.contains("sm.yaml"), "{e}");
    }
}
