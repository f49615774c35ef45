pub mod audit;
pub mod check;
pub mod db;
pub mod deps;
pub mod hunt;
pub mod init;
pub mod sbom;
pub mod verify;
