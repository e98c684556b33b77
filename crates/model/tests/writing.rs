//! What podsg writes (import, the lab's pods) reads back as the same JSON:
//! through podsg's reader (which types scalars as kubectl does), and through
//! PyYAML, a YAML 1.1 reader, which types `off`, `y`, `12:30` and
//! `2001-01-01` as other things than strings.

use podsg_model::decode;
use podsg_model::yaml::to_yaml;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::{Value, json};

/// Strings that YAML readers are known to mistype, and ordinary ones.
fn tricky() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "off",
            "On",
            "y",
            "N",
            "yes",
            "NO",
            "true",
            "False",
            "null",
            "~",
            "",
            "12:30",
            "1:20:30",
            "2001-01-01",
            "2001-12-14t21:59:43.10-05:00",
            "0x1F",
            "0o17",
            "010",
            "1_000",
            "1e3",
            ".inf",
            "-.Inf",
            ".nan",
            "-1",
            "+1",
            "3.14",
            "=",
            "<<",
            "- a",
            "a: b",
            "#c",
            "a #c",
            "&x",
            "*x",
            "!t",
            "|",
            ">",
            "%x",
            "@x",
            "`x",
            "[a]",
            "{a}",
            "a,b",
            "?",
            " lead",
            "trail ",
            "two\nlines",
            "tab\there",
            "quote\"s",
            "back\\slash",
            "ünï",
            "sg-0a",
            "10.0.0.0/8",
            "app.kubernetes.io/name",
            "-",
            ":",
            "a:",
            "'q'",
        ])
        .prop_map(str::to_string),
        "[ -~]{0,12}",
        "\\PC{0,6}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        tricky().prop_map(Value::String),
        any::<i64>().prop_map(|i| json!(i)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        (-1.0e6f64..1.0e6).prop_filter("not integral", |f| f.fract() != 0.0).prop_map(|f| json!(f)),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(tricky(), inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn what_podsg_writes_podsg_reads_back(v in value()) {
        let doc = json!({"root": v});
        let text = to_yaml(&doc).unwrap();
        let node = decode::document(&text).map_err(|d| TestCaseError::fail(format!("{d}\n{text}")))?;
        prop_assert_eq!(node.to_json(), doc, "{}", text);
    }
}

#[test]
fn what_podsg_writes_a_yaml_1_1_reader_reads_back() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let docs: Vec<Value> =
        (0..500).map(|_| json!({"root": value().new_tree(&mut runner).unwrap().current()})).collect();
    let text: String = docs.iter().map(|d| format!("---\n{}", to_yaml(d).unwrap())).collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.yaml");
    std::fs::write(&path, &text).unwrap();
    let script =
        "import sys, json, yaml\nprint(json.dumps(list(yaml.safe_load_all(open(sys.argv[1], encoding='utf-8')))))";
    let out = std::process::Command::new("python3").args(["-c", script]).arg(&path).output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o)
            if String::from_utf8_lossy(&o.stderr).contains("No module named 'yaml'")
                && std::env::var("CI").is_err() =>
        {
            eprintln!("SKIPPED: PyYAML is not installed (scripts/setup.sh installs python3-yaml)");
            return;
        }
        Ok(o) => panic!("PyYAML failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => panic!("python3: {e}"),
    };
    let read: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(read.len(), docs.len());
    for (written, read) in docs.iter().zip(&read) {
        assert!(same(written, read), "written:\n{}\nPyYAML read:\n{read}", to_yaml(written).unwrap());
    }
}

/// Equal as JSON, with numbers compared by value to the last bit that
/// serde_json's parser (not correctly rounded by default) keeps.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => {
                let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
                (x - y).abs() <= x.abs() * 1e-15
            }
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
