//! Code generation from the checked IR (filled in by the generator work).
