//! Version diff: what a release adds compared with the one before.
