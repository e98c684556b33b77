pub mod agent;
pub mod check;
pub mod explain;
pub mod import;
pub mod lab;
