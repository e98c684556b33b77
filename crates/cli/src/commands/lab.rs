use crate::args::{Lab, Output};
use podsg_lab::{Error, LabOptions};

/// Exit 0 on success; 1 on failure (check: when an expectation does not
/// hold); 2 on bad input.
pub fn run(command: Lab) -> u8 {
    let result = match command {
        Lab::Up { dir } => podsg_lab::up(&dir).map(|_| 0),
        Lab::Apply { dir, revoke_established } => podsg_lab::apply(&dir, &LabOptions { revoke_established }).map(|_| 0),
        Lab::Check { dir, output } => podsg_lab::check(&dir).map(|report| {
            match output {
                Output::Json | Output::Yaml => crate::output::print_data(output, &report),
                Output::Text => {
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
