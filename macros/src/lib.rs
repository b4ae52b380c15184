//! Procedural macros (filled in by the generator work).
