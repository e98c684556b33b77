//! Importers from other systems' descriptions of security groups.

pub mod ec2;
