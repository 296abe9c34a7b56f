//! ICC profiles: the shipped default CMYK profile and user-supplied ones.

use std::sync::{Arc, OnceLock};

use moxcms::{ColorProfile, DataColorSpace};

use crate::error::FilesError;

/// The default CMYK destination: FOGRA39 (offset, coated paper), total ink
/// limited to 320 %, built with ArgyllCMS from the zlib-licensed
/// characterisation data of Debian's `icc-profiles-free` (see
/// `data/icc/README.md`).
pub const DEFAULT_CMYK_ICC: &[u8] = include_bytes!("../../data/icc/Puratan-FOGRA39L-TAC320.icc");

/// Total ink limit (%) the default profile was built with.
pub const DEFAULT_CMYK_TAC_LIMIT: f64 = 320.0;

pub(crate) fn colour_error(e: impl std::fmt::Display) -> FilesError {
    FilesError::Colour {
        reason: e.to_string(),
    }
}

/// A parsed CMYK output profile.
#[derive(Clone)]
pub struct CmykProfile {
    pub(crate) profile: Arc<ColorProfile>,
    name: String,
}

impl std::fmt::Debug for CmykProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CmykProfile")
            .field("name", &self.name)
            .finish()
    }
}

impl CmykProfile {
    /// The shipped FOGRA39 profile (parsed once per process).
    pub fn default_profile() -> &'static CmykProfile {
        static DEFAULT: OnceLock<CmykProfile> = OnceLock::new();
        DEFAULT.get_or_init(|| match CmykProfile::from_icc(DEFAULT_CMYK_ICC) {
            Ok(p) => p,
            // The bytes are compiled in and covered by a unit test.
            Err(e) => unreachable!("the shipped CMYK profile does not parse: {e}"),
        })
    }

    /// Parses an ICC profile; it must be a CMYK profile.
    pub fn from_icc(icc: &[u8]) -> Result<Self, FilesError> {
        let profile = ColorProfile::new_from_slice(icc).map_err(colour_error)?;
        if profile.color_space != DataColorSpace::Cmyk {
            return Err(FilesError::Colour {
                reason: format!("not a CMYK profile ({:?})", profile.color_space),
            });
        }
        let name = describe(&profile);
        Ok(Self {
            profile: Arc::new(profile),
            name,
        })
    }

    /// The profile's description tag (or "unnamed").
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Parses a source profile; `None` or an unparsable / non-RGB profile is sRGB.
pub(crate) fn rgb_source(icc: Option<&[u8]>) -> ColorProfile {
    icc.and_then(|b| ColorProfile::new_from_slice(b).ok())
        .filter(|p| p.color_space == DataColorSpace::Rgb)
        .unwrap_or_else(ColorProfile::new_srgb)
}

fn describe(p: &ColorProfile) -> String {
    use moxcms::ProfileText;
    let text = match &p.description {
        Some(ProfileText::PlainString(s)) => s.clone(),
        Some(ProfileText::Localizable(v)) => v.first().map(|l| l.value.clone()).unwrap_or_default(),
        Some(ProfileText::Description(d)) => d.ascii_string.clone(),
        None => String::new(),
    };
    let text: String = text.chars().filter(|c| !c.is_control()).take(120).collect();
    if text.is_empty() {
        "unnamed".into()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_profile_parses_and_rgb_profiles_are_refused() {
        let p = CmykProfile::default_profile();
        assert!(p.name().contains("FOGRA39"), "{}", p.name());
        let srgb = ColorProfile::new_srgb().encode().unwrap();
        assert_eq!(
            CmykProfile::from_icc(&srgb).unwrap_err().code(),
            "colour_conversion_failed"
        );
        assert_eq!(
            CmykProfile::from_icc(b"junk").unwrap_err().code(),
            "colour_conversion_failed"
        );
    }
}
