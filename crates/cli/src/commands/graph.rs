//! `podsg graph`: the groups as a picture, and who reaches whom.

use crate::args::{GraphArgs, GraphFormat};
use crate::output::print_text;
use podsg_model::reachability::matrix;
use podsg_picture::html::{Section, page};
use podsg_picture::{Graph, dot, svg, table};

pub fn run(args: &GraphArgs) -> u8 {
    let loaded = match podsg_manifests::load(&args.paths) {
        Ok((loaded, _)) => loaded,
        Err(problems) => {
            print_text(&problems.into_iter().filter(|d| d.is_error()).collect::<Vec<_>>());
            return 2;
        }
    };
    let catalog = &loaded.catalog;
    let graph = Graph::of(catalog);
    let mode = args.mode.map(Into::into).unwrap_or(catalog.settings.enforcing_mode);
    let table = args.matrix.then(|| table::reachability(&matrix(catalog, mode)));
    let text = match (args.format, &table) {
        (GraphFormat::Dot, Some(_)) => {
            eprintln!("podsg graph: --matrix is drawn in svg or html, not dot");
            return 2;
        }
        (GraphFormat::Dot, None) => dot::render(&graph),
        (GraphFormat::Svg, None) => svg::render(&graph),
        (GraphFormat::Svg, Some(t)) => podsg_picture::svg::render_with_table(&graph, t),
        (GraphFormat::Html, t) => {
            let names: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
            let mut sections = vec![
                Section::Text(format!(
                    "{} security groups, {} workloads; arrows point the way traffic is allowed, labelled with the rules ({mode} mode).",
                    catalog.groups.len(),
                    catalog.workloads.len()
                )),
                Section::Drawing(svg::render(&graph)),
            ];
            if let Some(t) = t {
                sections.push(Section::Table(table::render(t)));
            }
            page(&format!("podsg: {}", names.join(", ")), &sections)
        }
    };
    crate::output::emit(format_args!("{text}"));
    0
}
