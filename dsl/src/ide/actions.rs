//! Quick fixes.
