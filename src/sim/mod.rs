//! The embedded platform simulator: each platform's API served over real HTTP on loopback.
