//! Tests of the export: keys, files, refusals, and the round trip through the loader.
