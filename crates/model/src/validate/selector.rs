use super::{Findings, list};
use crate::api::LabelSelectorSpec;
use crate::labels::{Operator, Requirement, Selector, validate_label_key, validate_label_value};

const OPERATORS: &str = "must be one of In, NotIn, Exists, DoesNotExist";

/// Compiles a label selector written at `path`, reporting every problem.
pub fn selector(spec: &LabelSelectorSpec, path: &str) -> Result<Selector, Vec<crate::Diagnostic>> {
    let mut f = Findings::default();
    let sel = compile(spec, path, &mut f);
    if f.has_errors() { Err(f.0) } else { Ok(sel) }
}

pub(super) fn compile(spec: &LabelSelectorSpec, path: &str, f: &mut Findings) -> Selector {
    let mut requirements = Vec::new();
    for (key, value) in &spec.match_labels {
        if let Some(why) = validate_label_key(key) {
            f.error(format!("{path}.matchLabels"), Some(key.clone()), why);
        }
        if let Some(why) = validate_label_value(value) {
            f.error(format!("{path}.matchLabels.{key}"), Some(value.clone()), why);
        }
        requirements.push(Selector::equals(key, value));
    }
    for (i, expr) in spec.match_expressions.iter().enumerate() {
        let at = format!("{path}.matchExpressions[{i}]");
        if let Some(why) = validate_label_key(&expr.key) {
            f.error(format!("{at}.key"), Some(expr.key.clone()), why);
        }
        let values = expr.values.clone().unwrap_or_default();
        for (j, v) in values.iter().enumerate() {
            if let Some(why) = validate_label_value(v) {
                f.error(format!("{at}.values[{j}]"), Some(v.clone()), why);
            }
        }
        let set = || values.iter().cloned().collect();
        let operator = match expr.operator.as_str() {
            op @ ("In" | "NotIn") => {
                if values.is_empty() {
                    f.error(
                        format!("{at}.values"),
                        Some("[]".into()),
                        format!("operator {op} needs at least one value"),
                    );
                }
                if op == "In" { Operator::In(set()) } else { Operator::NotIn(set()) }
            }
            op @ ("Exists" | "DoesNotExist") => {
                if !values.is_empty() {
                    f.error(format!("{at}.values"), Some(list(&values)), format!("operator {op} takes no values"));
                }
                if op == "Exists" { Operator::Exists } else { Operator::DoesNotExist }
            }
            other => {
                f.error(format!("{at}.operator"), Some(other.to_string()), OPERATORS);
                continue;
            }
        };
        requirements.push(Requirement { key: expr.key.clone(), operator });
    }
    Selector::new(requirements)
}
