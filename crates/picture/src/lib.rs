//! Pictures of security groups, for people who would rather look than read
//! a matrix of 40 pods: the groups, who carries them and the rules between
//! them (`graph`), laid out in layers (`layout`) and drawn as SVG or DOT;
//! reachability matrices as HTML tables (`table`); a page with both (`html`).
//! Pure: text in, text out.

pub mod dot;
pub mod graph;
pub mod html;
pub mod layout;
pub mod svg;
pub mod table;

pub use graph::Graph;
