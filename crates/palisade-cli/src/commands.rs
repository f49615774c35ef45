pub mod audit;
pub mod db;
pub mod deps;
pub mod sbom;
