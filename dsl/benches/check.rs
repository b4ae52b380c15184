//! Placeholder until the generated-spec benchmark lands.
fn main() {}
