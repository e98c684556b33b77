//! Shell completions and man pages, generated from the command line's own
//! definition so that they never disagree with it.

use crate::args::Cli;
use clap::CommandFactory;
use std::path::Path;

pub fn completions(shell: clap_complete::Shell) -> u8 {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "podsg", &mut out);
    crate::output::emit(format_args!("{}", String::from_utf8_lossy(&out)));
    0
}

/// One page per command and subcommand: `podsg.1`, `podsg-lab-up.1`, ...
pub fn man(dir: &Path) -> u8 {
    let written = std::fs::create_dir_all(dir).and_then(|()| write_pages(dir, Cli::command(), "podsg"));
    match written {
        Ok(count) => {
            eprintln!("podsg man: wrote {count} pages to {}", dir.display());
            0
        }
        Err(e) => {
            eprintln!("podsg man: {}: {e}", dir.display());
            1
        }
    }
}

fn write_pages(dir: &Path, command: clap::Command, name: &str) -> std::io::Result<usize> {
    // A page's title is its full command name; clap keeps names as
    // `&'static str`, and a run writes a few dozen pages.
    let command = command.name(&*Box::leak(name.to_string().into_boxed_str()));
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut page)?;
    std::fs::write(dir.join(format!("{name}.1")), page)?;
    let mut count = 1;
    for sub in command.get_subcommands().filter(|c| !c.is_hide_set()) {
        count += write_pages(dir, sub.clone(), &format!("{name}-{}", sub.get_name()))?;
    }
    Ok(count)
}
