use crate::args::{Lab, LabCheckOutput, Output};
use podsg_lab::{Error, LabOptions};
use podsg_picture::table::{Cell, Table, Tone};

/// Exit 0 on success; 1 on failure (check: when an expectation does not
/// hold); 2 on bad input.
pub fn run(command: Lab) -> u8 {
    let result = match command {
        Lab::Up { dir } => podsg_lab::up(&dir).map(|_| 0),
        Lab::Apply { dir, revoke_established } => podsg_lab::apply(&dir, &LabOptions { revoke_established }).map(|_| 0),
        Lab::Check { dir, output } => podsg_lab::check(&dir).map(|report| {
            match output {
                LabCheckOutput::Json => crate::output::print_data(Output::Json, &report),
                LabCheckOutput::Yaml => crate::output::print_data(Output::Yaml, &report),
                LabCheckOutput::Html => {
                    let title = format!("podsg lab check {}", dir.display());
                    let table = podsg_picture::table::render(&lab_table(&report));
                    let page = podsg_picture::html::page(&title, &[podsg_picture::html::Section::Table(table)]);
                    crate::output::emit(format_args!("{page}"));
                }
                LabCheckOutput::Text => {
                    for o in report.outcomes.iter().filter(|o| !o.ok) {
                        println!(
                            "FAILED {} -> {} {}: expected {:?}, got {:?} {}",
                            o.from, o.to, o.check, o.expected, o.actual, o.detail
                        );
                    }
                    print!("{}", report.matrix());
                }
            }
            u8::from(!report.ok)
        }),
        Lab::Exec { target, command } => podsg_lab::exec(&target, &command).map(|code| u8::try_from(code).unwrap_or(1)),
        Lab::Logs { denied: _, pod, output } => podsg_lab::logs(pod.as_deref()).map(|lines| {
            match output {
                Output::Json | Output::Yaml => crate::output::print_data(output, &lines),
                Output::Text => {
                    for l in &lines {
                        println!("{}", log_line(l));
                    }
                }
            }
            0
        }),
        Lab::Metrics { node } => podsg_lab::metrics(node.as_deref()).map(|text| {
            print!("{text}");
            0
        }),
        Lab::Status => podsg_lab::status().map(|s| {
            print!("{s}");
            0
        }),
        Lab::Down => podsg_lab::down().map(|_| 0),
        Lab::Echo { udp, tcp, address } => {
            if udp == tcp {
                eprintln!("podsg lab echo: give exactly one of --tcp or --udp");
                return 2;
            }
            podsg_netns::serve_echo(address, udp).map(|_| 0).map_err(|e| Error::Step(format!("echo {address}: {e}")))
        }
        Lab::HttpServe { address, name } => {
            podsg_lab::serve_http(address, &name).map(|_| 0).map_err(|e| Error::Step(format!("http {address}: {e}")))
        }
        Lab::HttpGet { host, port, timeout_ms } => {
            match podsg_lab::http_get(&host, port, std::time::Duration::from_millis(timeout_ms)) {
                Ok(answer) => {
                    println!("{answer}");
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(1)
                }
            }
        }
    };
    match result {
        Ok(code) => code,
        Err(e @ (Error::Usage(_) | Error::Manifests(_))) => {
            eprintln!("{e}");
            2
        }
        Err(e) => {
            eprintln!("podsg lab: {e}");
            1
        }
    }
}

/// The lab's matrix as a table: a cell per (from, to), red where an
/// expectation did not hold.
fn lab_table(report: &podsg_lab::CheckReport) -> Table {
    let mut rows: Vec<String> = Vec::new();
    let mut columns: Vec<String> = Vec::new();
    for o in &report.outcomes {
        if !rows.contains(&o.from) {
            rows.push(o.from.clone());
        }
        if !columns.contains(&o.to) {
            columns.push(o.to.clone());
        }
    }
    let word = |e: podsg_lab::Expected| format!("{e:?}").to_lowercase();
    let cells = rows
        .iter()
        .map(|r| {
            columns
                .iter()
                .map(|c| {
                    let here: Vec<&podsg_lab::Outcome> =
                        report.outcomes.iter().filter(|o| &o.from == r && &o.to == c).collect();
                    if here.is_empty() {
                        return Cell::empty();
                    }
                    let allowed = here.iter().filter(|o| o.actual == podsg_lab::Expected::Allow).count();
                    let tone = if here.iter().any(|o| !o.ok) {
                        Tone::Failed
                    } else if allowed == here.len() {
                        Tone::Allow
                    } else if allowed == 0 {
                        Tone::Deny
                    } else {
                        Tone::Partial
                    };
                    let text = here
                        .iter()
                        .map(|o| format!("{} {} {}", o.check, word(o.actual), if o.ok { "✓" } else { "✗" }))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let details = here
                        .iter()
                        .map(|o| {
                            let seen = if o.detail.is_empty() { String::new() } else { format!(" ({})", o.detail) };
                            format!(
                                "{} -> {} {}: expected {}, got {}{seen}",
                                o.from,
                                o.to,
                                o.check,
                                word(o.expected),
                                word(o.actual)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n");
                    Cell { text, tone, details }
                })
                .collect()
        })
        .collect();
    let held = report.outcomes.iter().filter(|o| o.ok).count();
    Table {
        caption: format!("{held} of {} expectations hold: ✓ as expected, ✗ not", report.outcomes.len()),
        rows,
        columns,
        cells,
    }
}

/// A refusal for people: `node1 Pod/ns/a ingress tcp/8080 from 10.244.1.2 refused by ingress of sg-…`.
fn log_line(v: &serde_json::Value) -> String {
    let s = |k: &str| v[k].as_str().unwrap_or("?").to_string();
    let what = match (v["port"].as_u64(), v["icmpType"].as_u64()) {
        (Some(p), _) => format!("{}/{p}", s("protocol")),
        (_, Some(t)) => format!("{} type {t} code {}", s("protocol"), v["icmpCode"].as_u64().unwrap_or(0)),
        _ => s("protocol"),
    };
    let word = if s("direction") == "ingress" { "from" } else { "to" };
    let groups: Vec<&str> =
        v["refusedBy"]["groups"].as_array().into_iter().flatten().filter_map(|g| g.as_str()).collect();
    format!(
        "{:.3} {} {} {} {what} {word} {} refused by {} of {}",
        v["time"].as_f64().unwrap_or(0.0),
        s("node"),
        s("pod"),
        s("direction"),
        s("peer"),
        v["refusedBy"]["side"].as_str().unwrap_or("?"),
        groups.join(", ")
    )
}
