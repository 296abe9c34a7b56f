//! tus
