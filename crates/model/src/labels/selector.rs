//! A compiled label selector: the AND of its requirements. An empty selector
//! matches everything, as in Kubernetes.

use super::Labels;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "operator", content = "values")]
pub enum Operator {
    In(BTreeSet<String>),
    NotIn(BTreeSet<String>),
    Exists,
    DoesNotExist,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Requirement {
    pub key: String,
    #[serde(flatten)]
    pub operator: Operator,
}

impl Requirement {
    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match &self.operator {
            Operator::In(values) => value.is_some_and(|v| values.contains(v)),
            Operator::NotIn(values) => value.is_none_or(|v| !values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Selector {
    pub requirements: Vec<Requirement>,
}

impl Selector {
    /// `matchLabels` entries become `In` requirements with one value, as the
    /// API server does.
    pub fn new(requirements: Vec<Requirement>) -> Self {
        Selector { requirements }
    }

    pub fn everything() -> Self {
        Selector::default()
    }

    pub fn equals(key: &str, value: &str) -> Requirement {
        Requirement { key: key.to_string(), operator: Operator::In(BTreeSet::from([value.to_string()])) }
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// A label pair every matching object must carry, if there is one: the
    /// index files the selector under it so that most objects never look at it.
    pub fn anchor(&self) -> Option<(&str, &BTreeSet<String>)> {
        self.requirements
            .iter()
            .filter_map(|r| match &r.operator {
                Operator::In(values) => Some((r.key.as_str(), values)),
                _ => None,
            })
            .min_by_key(|(_, values)| values.len())
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.requirements.is_empty() {
            return f.write_str("{} (everything)");
        }
        let parts: Vec<String> = self
            .requirements
            .iter()
            .map(|r| match &r.operator {
                Operator::In(v) if v.len() == 1 => format!("{}={}", r.key, v.iter().next().unwrap()),
                Operator::In(v) => format!("{} in ({})", r.key, join(v)),
                Operator::NotIn(v) => format!("{} notin ({})", r.key, join(v)),
                Operator::Exists => r.key.clone(),
                Operator::DoesNotExist => format!("!{}", r.key),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

fn join(values: &BTreeSet<String>) -> String {
    values.iter().map(String::as_str).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn set(values: &[&str]) -> BTreeSet<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn operators() {
        let l = labels(&[("app", "green"), ("tier", "db")]);
        let req = |key: &str, operator| Requirement { key: key.into(), operator };
        assert!(req("app", Operator::In(set(&["green", "blue"]))).matches(&l));
        assert!(!req("app", Operator::In(set(&["red"]))).matches(&l));
        assert!(!req("missing", Operator::In(set(&["x"]))).matches(&l));
        assert!(req("app", Operator::NotIn(set(&["red"]))).matches(&l));
        assert!(!req("app", Operator::NotIn(set(&["green"]))).matches(&l));
        assert!(req("missing", Operator::NotIn(set(&["x"]))).matches(&l), "NotIn matches an absent key");
        assert!(req("tier", Operator::Exists).matches(&l));
        assert!(!req("missing", Operator::Exists).matches(&l));
        assert!(req("missing", Operator::DoesNotExist).matches(&l));
        assert!(!req("tier", Operator::DoesNotExist).matches(&l));
    }

    #[test]
    fn empty_selector_matches_everything() {
        assert!(Selector::everything().matches(&Labels::new()));
        assert!(Selector::everything().matches(&labels(&[("a", "b")])));
    }

    #[test]
    fn requirements_are_anded() {
        let s = Selector::new(vec![Selector::equals("app", "green"), Selector::equals("tier", "db")]);
        assert!(s.matches(&labels(&[("app", "green"), ("tier", "db")])));
        assert!(!s.matches(&labels(&[("app", "green")])));
    }

    #[test]
    fn display() {
        let s = Selector::new(vec![
            Selector::equals("app", "green"),
            Requirement { key: "env".into(), operator: Operator::NotIn(set(&["dev", "test"])) },
            Requirement { key: "x".into(), operator: Operator::DoesNotExist },
        ]);
        assert_eq!(s.to_string(), "app=green,env notin (dev,test),!x");
    }
}
