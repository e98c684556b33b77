use crate::args::{Check, Output};
use crate::output::{Report, count, print_summarised, print_text};
use podsg_manifests::load;
use podsg_model::lint::lint;
use podsg_model::{Diagnostic, Severity};
use serde_json::json;

/// Exit 0 without errors, 1 with (or with warnings, under `--fail-on-warnings`).
pub fn run(args: &Check) -> u8 {
    let (diagnostics, summary) = match load(&args.paths) {
        Err(problems) => (problems, None),
        Ok((loaded, sources)) => {
            let catalog = &loaded.catalog;
            let mode = args.mode.map(Into::into).unwrap_or(catalog.settings.enforcing_mode);
            let mut all: Vec<Diagnostic> = loaded.diagnostics.clone();
            let mut lints = lint(catalog, mode);
            sources.locate(&mut lints);
            all.extend(lints);
            let files = sources.files;
            let summary = json!({
                "files": files,
                "securityGroups": catalog.groups.len(),
                "securityGroupPolicies": catalog.policies().len(),
                "workloads": catalog.workloads.len(),
                "services": catalog.services.len(),
                "enforcingMode": mode.to_string(),
            });
            // The process ends next: freeing 50,000 pods one by one would only cost time.
            std::mem::forget(loaded);
            (all, Some(summary))
        }
    };
    let errors = count(&diagnostics, Severity::Error);
    let warnings = count(&diagnostics, Severity::Warning);
    let failed = errors > 0 || (args.fail_on_warnings && warnings > 0);
    match args.output {
        Output::Json | Output::Yaml => {
            let mut s = summary.clone().unwrap_or_else(|| json!({}));
            s["loaded"] = json!(summary.is_some());
            s["errors"] = json!(errors);
            s["warnings"] = json!(warnings);
            Report::new(&diagnostics, Some(!failed), s).print(args.output);
        }
        Output::Text => {
            if args.verbose {
                print_text(&diagnostics)
            } else {
                print_summarised(&diagnostics)
            }
            match summary {
                Some(s) => say!(
                    "checked {} security groups, {} SecurityGroupPolicies, {} workloads and {} Services in {} files ({} mode): {errors} errors, {warnings} warnings",
                    s["securityGroups"],
                    s["securityGroupPolicies"],
                    s["workloads"],
                    s["services"],
                    s["files"],
                    s["enforcingMode"].as_str().unwrap_or("")
                ),
                None => say!("{errors} errors, {warnings} warnings: nothing was loaded"),
            }
        }
    }
    u8::from(failed)
}
