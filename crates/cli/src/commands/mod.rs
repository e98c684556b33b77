pub mod agent;
pub mod check;
pub mod controller;
pub mod explain;
pub mod import;
pub mod lab;
