use crate::args::ImportAws;
use podsg_model::import::ec2;
use std::io::Read;

/// Prints SecurityGroup manifests; exit 1 (printing nothing to stdout) on any problem.
pub fn run(args: &ImportAws) -> u8 {
    let name = args.file.display().to_string();
    let text = if name == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read_to_string(&args.file)
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {name}: {e}");
            return 1;
        }
    };
    let options = ec2::Options { declare_outside: args.declare_outside };
    match ec2::import(&text, options) {
        Ok(imported) => {
            for mut d in imported.warnings {
                d.origin = Some(podsg_model::Origin::new(name.clone(), 1));
                eprintln!("warning: {d}");
            }
            say!("# Imported by `podsg import aws` from {name}");
            for g in imported.groups.iter().chain(&imported.outside) {
                say!("---");
                say_raw!("{}", podsg_model::yaml::to_yaml(g).expect("manifests serialize"));
            }
            0
        }
        Err(problems) => {
            eprintln!("nothing imported:");
            for mut d in problems {
                d.origin = Some(podsg_model::Origin::new(name.clone(), 1));
                eprintln!("error: {d}");
            }
            1
        }
    }
}
