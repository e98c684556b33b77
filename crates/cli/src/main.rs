//! `podsg`: check and explain security groups for pods.

// Before `commands`: its `say!` macros are used there.
#[macro_use]
mod output;
mod args;
mod commands;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let code = match cli.command {
        args::Command::Check(a) => commands::check::run(&a),
        args::Command::Explain(a) => commands::explain::run(&a),
        args::Command::Diff(a) => commands::diff::run(&a),
        args::Command::Graph(a) => commands::graph::run(&a),
        args::Command::Import(args::Import::Aws(a)) => commands::import::run(&a),
        args::Command::Agent(a) => commands::agent::run(&a),
        args::Command::InstallCni(a) => commands::install_cni::run(&a),
        args::Command::Ready { socket } => commands::agent::ready(&socket),
        args::Command::Controller(a) => commands::controller::run(&a),
        args::Command::Webhook(a) => commands::webhook::run(&a),
        args::Command::Lab(l) => commands::lab::run(l),
        args::Command::Completions { shell } => commands::docs::completions(shell),
        args::Command::Man { dir } => commands::docs::man(&dir),
    };
    ExitCode::from(code)
}
