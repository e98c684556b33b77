//! Prints podsg's CRDs as one YAML stream (`crdgen | kubectl apply -f -`),
//! or writes them one file each with their kustomization
//! (`crdgen --write deploy/crds`).

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {
            print!("{}", podsg_k8s::crd::stream());
            ExitCode::SUCCESS
        }
        [flag, dir] if flag == "--write" => {
            for (name, yaml) in podsg_k8s::crd::files() {
                let path = Path::new(dir).join(&name);
                if let Err(e) = std::fs::write(&path, yaml) {
                    eprintln!("crdgen: {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: crdgen [--write DIR]   (without arguments: every CRD on standard output)");
            ExitCode::from(2)
        }
    }
}
