use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;

use super::aead::{self, NONCE_LEN, TAG_LEN};
use super::*;
use crate::ErrorKind;

const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // 00 01 .. 1f
const CTX: &str = "user:42:totp_secret";

fn key(id: &str, fill: u8) -> DataKey {
    DataKey::new(KeyId::parse(id).unwrap(), [fill; 32])
}

fn ring(active: &str) -> Keyring {
    Keyring::new([key("2026-05", 1), key("2026-11", 2)], active).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2));
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Rebuilds a sealed string with its payload changed by `f`.
fn with_payload(sealed: &Sealed, f: impl FnOnce(&mut Vec<u8>)) -> String {
    let (head, encoded) = sealed.as_str().rsplit_once('.').unwrap();
    let mut payload = URL_SAFE_NO_PAD.decode(encoded).unwrap();
    f(&mut payload);
    format!("{head}.{}", URL_SAFE_NO_PAD.encode(payload))
}

// ----- the primitive -----

/// One known-answer case: hex strings, as printed in the spec.
struct Kat {
    name: &'static str,
    key: &'static str,
    iv: &'static str,
    aad: &'static str,
    plain: &'static str,
    /// Ciphertext followed by the tag.
    sealed: &'static str,
}

/// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases
/// 13–16 (the 256-bit-key cases with 96-bit IVs).
#[test]
fn gcm_spec_known_answers() {
    const ZERO_KEY: &str = "0000000000000000000000000000000000000000000000000000000000000000";
    const ZERO_IV: &str = "000000000000000000000000";
    const KEY: &str = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
    const IV: &str = "cafebabefacedbaddecaf888";
    let cases = [
        Kat {
            name: "13",
            key: ZERO_KEY,
            iv: ZERO_IV,
            aad: "",
            plain: "",
            sealed: "530f8afbc74536b9a963b4f1c4cb738b",
        },
        Kat {
            name: "14",
            key: ZERO_KEY,
            iv: ZERO_IV,
            aad: "",
            plain: "00000000000000000000000000000000",
            sealed: "cea7403d4d606b6e074ec5d3baf39d18\
                     d0d1c8a799996bf0265b98b5d48ab919",
        },
        Kat {
            name: "15",
            key: KEY,
            iv: IV,
            aad: "",
            plain: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
                    1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
            sealed: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
                     8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad\
                     b094dac5d93471bdec1a502270e3cc6c",
        },
        Kat {
            name: "16",
            key: KEY,
            iv: IV,
            aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            plain: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
                    1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            sealed: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
                     8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662\
                     76fc6ece0f4e1768cddf8853bb2d551b",
        },
    ];
    for case in cases {
        let name = case.name;
        let key: [u8; 32] = hex(case.key).try_into().unwrap();
        let iv: [u8; NONCE_LEN] = hex(case.iv).try_into().unwrap();
        let (aad, plain) = (hex(case.aad), hex(case.plain));
        let got = aead::encrypt(&key, &iv, &aad, &plain).unwrap();
        assert_eq!(got, hex(case.sealed), "test case {name}");
        let opened = aead::decrypt(&key, &iv, &aad, &got).unwrap();
        assert_eq!(&opened[..], &plain[..], "test case {name}");
    }
}

// ----- sealing and opening -----

#[test]
fn roundtrip_and_format() {
    let ring = ring("2026-11");
    for plain in [
        &b""[..],
        b"JBSWY3DPEHPK3PXP",
        &[0u8, 255, 10, 0],
        &[7u8; 1000],
    ] {
        let sealed = ring.seal(plain, CTX).unwrap();
        let s = sealed.as_str();
        assert!(s.starts_with("pe1.2026-11."), "{s}");
        assert!(s.is_ascii());
        let encoded = s.rsplit_once('.').unwrap().1;
        assert_eq!(
            URL_SAFE_NO_PAD.decode(encoded).unwrap().len(),
            NONCE_LEN + plain.len() + TAG_LEN
        );
        let reparsed: Sealed = s.parse().unwrap();
        assert_eq!(reparsed, sealed);
        assert_eq!(&ring.open(&reparsed, CTX).unwrap()[..], plain);
    }
}

#[test]
fn serde_is_a_plain_validated_string() {
    let ring = ring("2026-11");
    let sealed = ring.seal(b"refresh-token", CTX).unwrap();
    let json = serde_json::to_string(&sealed).unwrap();
    assert_eq!(json, format!("\"{sealed}\""));
    let back: Sealed = serde_json::from_str(&json).unwrap();
    assert_eq!(back, sealed);
    assert!(serde_json::from_str::<Sealed>("\"pe1.k.AAAA\"").is_err());
    assert!(serde_json::from_str::<Sealed>("42").is_err());
}

#[test]
fn fresh_nonce_per_seal() {
    let ring = ring("2026-11");
    let a = ring.seal(b"same", CTX).unwrap();
    let b = ring.seal(b"same", CTX).unwrap();
    assert_ne!(a, b);
    assert_ne!(a.nonce(), b.nonce());
}

#[test]
fn open_utf8() {
    let ring = ring("2026-11");
    let sealed = ring.seal("päss".as_bytes(), CTX).unwrap();
    assert_eq!(ring.open_utf8(&sealed, CTX).unwrap().as_str(), "päss");
    let binary = ring.seal(&[0xff, 0xfe], CTX).unwrap();
    let err = ring.open_utf8(&binary, CTX).unwrap_err();
    assert_eq!(err.code(), "protect_malformed");
}

#[test]
fn plaintext_size_bound_fits_the_string_bound() {
    let long_id = "k".repeat(MAX_KEY_ID_LEN);
    let ring = Keyring::new([key(&long_id, 9)], &long_id).unwrap();
    let sealed = ring.seal(&vec![0xa5; MAX_PLAINTEXT_LEN], CTX).unwrap();
    assert!(sealed.as_str().len() <= MAX_SEALED_LEN);
    let reparsed: Sealed = sealed.as_str().parse().unwrap();
    assert_eq!(ring.open(&reparsed, CTX).unwrap().len(), MAX_PLAINTEXT_LEN);
    let err = ring.seal(&vec![0; MAX_PLAINTEXT_LEN + 1], CTX).unwrap_err();
    assert!(matches!(err, ProtectError::TooLarge { .. }), "{err:?}");
}

// ----- rotation -----

#[test]
fn new_writes_use_the_active_key() {
    assert_eq!(
        ring("2026-11").seal(b"x", CTX).unwrap().kid().as_str(),
        "2026-11"
    );
    assert_eq!(
        ring("2026-05").seal(b"x", CTX).unwrap().kid().as_str(),
        "2026-05"
    );
    assert_eq!(ring("2026-05").active_id().as_str(), "2026-05");
}

#[test]
fn old_key_data_stays_readable_after_a_new_key_becomes_active() {
    let before = Keyring::new([key("2026-05", 1)], "2026-05").unwrap();
    let stored = before.seal(b"pay_ref_123", "order:7:payment_ref").unwrap();

    let after = ring("2026-11");
    assert!(after.needs_rotation(&stored));
    assert_eq!(
        &after.open(&stored, "order:7:payment_ref").unwrap()[..],
        b"pay_ref_123"
    );
}

#[test]
fn reseal_moves_to_the_active_key_and_is_idempotent() {
    let old = ring("2026-05").seal(b"secret", CTX).unwrap();
    let ring = ring("2026-11");
    assert!(ring.needs_rotation(&old));

    let new = ring.reseal(&old, CTX).unwrap().expect("under the old key");
    assert_eq!(new.kid(), ring.active_id());
    assert!(!ring.needs_rotation(&new));
    assert_eq!(&ring.open(&new, CTX).unwrap()[..], b"secret");
    assert!(ring.reseal(&new, CTX).unwrap().is_none());

    // Once the old key is removed, only the resealed value opens.
    let trimmed = Keyring::new([key("2026-11", 2)], "2026-11").unwrap();
    assert_eq!(&trimmed.open(&new, CTX).unwrap()[..], b"secret");
    assert!(matches!(
        trimmed.open(&old, CTX),
        Err(ProtectError::UnknownKey { .. })
    ));
}

#[test]
fn reseal_checks_the_context_and_the_key() {
    let old = ring("2026-05").seal(b"secret", CTX).unwrap();
    let ring2 = ring("2026-11");
    assert!(matches!(
        ring2.reseal(&old, "user:43:totp_secret"),
        Err(ProtectError::Tampered)
    ));
    let trimmed = Keyring::new([key("2026-11", 2)], "2026-11").unwrap();
    assert!(trimmed.needs_rotation(&old));
    assert!(matches!(
        trimmed.reseal(&old, CTX),
        Err(ProtectError::UnknownKey { .. })
    ));
}

// ----- failures -----

#[test]
fn any_modified_payload_byte_is_tampered() {
    let ring = ring("2026-11");
    let sealed = ring.seal(b"0123456789", CTX).unwrap();
    let len = NONCE_LEN + 10 + TAG_LEN;
    for i in 0..len {
        for bit in [0x01, 0x80] {
            let s = with_payload(&sealed, |p| p[i] ^= bit);
            let tampered: Sealed = s.parse().unwrap();
            assert!(
                matches!(ring.open(&tampered, CTX), Err(ProtectError::Tampered)),
                "byte {i} bit {bit:#x}"
            );
        }
    }
    // Truncated or extended payloads too.
    for f in [
        (|p: &mut Vec<u8>| {
            p.pop();
        }) as fn(&mut Vec<u8>),
        |p| p.push(0),
    ] {
        let tampered: Sealed = with_payload(&sealed, f).parse().unwrap();
        assert!(matches!(
            ring.open(&tampered, CTX),
            Err(ProtectError::Tampered)
        ));
    }
}

#[test]
fn relabelled_key_id_is_tampered() {
    let ring = ring("2026-11");
    let sealed = ring.seal(b"secret", CTX).unwrap();
    let relabelled: Sealed = sealed
        .as_str()
        .replacen("2026-11", "2026-05", 1)
        .parse()
        .unwrap();
    assert!(matches!(
        ring.open(&relabelled, CTX),
        Err(ProtectError::Tampered)
    ));
}

#[test]
fn wrong_context_is_tampered_and_empty_context_is_refused() {
    let ring = ring("2026-11");
    let sealed = ring.seal(b"secret", CTX).unwrap();
    for other in [
        "user:43:totp_secret",
        "user:42:oauth_refresh",
        "user:42:totp_secre",
    ] {
        let err = ring.open(&sealed, other).unwrap_err();
        assert!(matches!(err, ProtectError::Tampered), "{other}: {err:?}");
    }
    assert!(matches!(
        ring.seal(b"x", ""),
        Err(ProtectError::EmptyContext)
    ));
    assert!(matches!(
        ring.open(&sealed, ""),
        Err(ProtectError::EmptyContext)
    ));
}

#[test]
fn unknown_key_is_named() {
    let sealed = Keyring::new([key("2025-01", 5)], "2025-01")
        .unwrap()
        .seal(b"x", CTX)
        .unwrap();
    let err = ring("2026-11").open(&sealed, CTX).unwrap_err();
    assert!(
        matches!(&err, ProtectError::UnknownKey { kid } if kid == "2025-01"),
        "{err:?}"
    );
    assert!(err.to_string().contains("2025-01"));
    assert_eq!(err.code(), "protect_unknown_key");
}

#[test]
fn malformed_strings_are_typed_errors() {
    let good = ring("2026-11").seal(b"0123", CTX).unwrap().into_string();
    let payload = good.rsplit_once('.').unwrap().1.to_owned();
    let min_payload = URL_SAFE_NO_PAD.encode([0u8; NONCE_LEN + TAG_LEN]);
    let cases = [
        String::new(),
        "pe1".into(),
        "pe1.".into(),
        format!("pe2.2026-11.{payload}"),
        format!("PE1.2026-11.{payload}"),
        format!(" {good}"),
        format!("{good} "),
        format!("{good}\n"),
        format!("pe1.{payload}"),  // no key id
        format!("pe1..{payload}"), // empty key id
        format!("pe1.{}.{payload}", "k".repeat(33)),
        format!("pe1.bad/id.{payload}"),
        format!("pe1.2026-11.{payload}="), // padding
        format!("pe1.2026-11.{payload}+"), // standard alphabet
        format!("pe1.2026-11.{payload}*"),
        "pe1.2026-11.".into(), // empty payload
        format!("pe1.2026-11.{}", &min_payload[..min_payload.len() - 2]), // 27 bytes
        format!("pe1.2026-11.{}", "A".repeat(MAX_SEALED_LEN)), // too long
        format!("pe1.2026-11.{}", "A".repeat(37)), // 4n+1 characters
        "pe1.2026-11.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB".into(), // non-canonical trailing bits
    ];
    for s in &cases {
        match s.parse::<Sealed>() {
            Err(ProtectError::Malformed(_)) => {}
            other => panic!("{s:?}: {other:?}"),
        }
    }
    // The smallest well-formed payload parses (and then fails to open).
    let smallest: Sealed = format!("pe1.2026-11.{min_payload}").parse().unwrap();
    assert!(matches!(
        ring("2026-11").open(&smallest, CTX),
        Err(ProtectError::Tampered)
    ));
    // Key ids may contain dots: the payload is after the last one.
    let dotted = Keyring::new([key("v1.2026.11", 3)], "v1.2026.11").unwrap();
    let sealed = dotted.seal(b"x", CTX).unwrap();
    let reparsed: Sealed = sealed.as_str().parse().unwrap();
    assert_eq!(reparsed.kid().as_str(), "v1.2026.11");
    assert_eq!(&dotted.open(&reparsed, CTX).unwrap()[..], b"x");
}

// ----- keys and configuration -----

#[test]
fn key_ids_are_validated() {
    for ok in ["a", "2026-11", "v1.2026_11", &"x".repeat(32)] {
        assert_eq!(KeyId::parse(ok).unwrap().as_str(), ok);
    }
    for bad in ["", &"x".repeat(33), "a b", "a/b", "é", "a\0", "a:b"] {
        let err = KeyId::parse(bad).unwrap_err();
        assert_eq!(err.code(), "protect_key_config", "{bad:?}");
    }
}

#[test]
fn data_keys_from_base64() {
    let k = DataKey::from_base64("2026-11", KEY_A).unwrap();
    assert_eq!(k.id().as_str(), "2026-11");
    assert_eq!(k.bytes(), &std::array::from_fn::<u8, 32, _>(|i| i as u8));
    assert_eq!(k.to_base64().as_str(), KEY_A);
    assert!(DataKey::from_base64("2026-11", &format!("  {KEY_A}\n")).is_ok());

    let b31 = base64::engine::general_purpose::STANDARD.encode([1u8; 31]);
    let b33 = base64::engine::general_purpose::STANDARD.encode([1u8; 33]);
    for (id, material) in [
        ("2026-11", b31.as_str()),
        ("2026-11", b33.as_str()),
        ("2026-11", ""),
        ("2026-11", "not base64!"),
        ("2026-11", &KEY_A[..43]), // padding missing
        ("bad id", KEY_A),
    ] {
        let err = DataKey::from_base64(id, material).unwrap_err();
        assert_eq!(err.code(), "protect_key_config", "{id:?} {material:?}");
    }
}

#[test]
fn generated_keys_are_random_and_reloadable() {
    let a = DataKey::generate("a").unwrap();
    let b = DataKey::generate("b").unwrap();
    assert_ne!(a.bytes(), b.bytes());
    let reloaded = DataKey::from_base64("a", &a.to_base64()).unwrap();
    assert_eq!(reloaded.bytes(), a.bytes());
    assert!(DataKey::generate("").is_err());
}

#[test]
fn keyring_configuration_errors() {
    let cases: [(Vec<DataKey>, &str); 4] = [
        (vec![], "a"),
        (vec![key("a", 1)], "b"),
        (vec![key("a", 1), key("a", 2)], "a"),
        (vec![key("a", 1), key("b", 1)], "a"),
    ];
    for (keys, active) in cases {
        let err = Keyring::new(keys, active).unwrap_err();
        assert_eq!(err.code(), "protect_key_config", "{err}");
    }
    let ok = Keyring::new([key("a", 1), key("b", 2)], "b").unwrap();
    assert_eq!(
        ok.key_ids().map(KeyId::as_str).collect::<Vec<_>>(),
        ["a", "b"]
    );
}

#[test]
fn debug_never_shows_key_material() {
    let k = DataKey::from_base64("2026-11", KEY_A).unwrap();
    let raw = format!("{:?}", k.bytes());
    let debug = format!("{k:?} {:#?}", k);
    assert!(
        debug.contains("2026-11") && debug.contains("redacted"),
        "{debug}"
    );
    let ring = Keyring::new([k, key("2026-05", 0xab)], "2026-11").unwrap();
    let debug = format!("{debug} {ring:?} {ring:#?}");
    assert!(debug.contains("2026-05"), "{debug}");
    for needle in [KEY_A, &KEY_A[..20], &raw, "171, 171", "0x1f", "000102"] {
        assert!(!debug.contains(needle), "{needle} in {debug}");
    }
}

// ----- errors -----

#[test]
fn error_codes_and_kinds() {
    let all = [
        (
            ProtectError::UnknownKey { kid: "k".into() },
            ErrorKind::Backend,
        ),
        (ProtectError::Tampered, ErrorKind::Backend),
        (ProtectError::Malformed("x"), ErrorKind::Backend),
        (ProtectError::Random, ErrorKind::Backend),
        (ProtectError::KeyConfig("x".into()), ErrorKind::Invalid),
        (ProtectError::TooLarge { max: 1 }, ErrorKind::Invalid),
        (ProtectError::EmptyContext, ErrorKind::Invalid),
    ];
    let mut seen = std::collections::HashSet::new();
    for (e, kind) in all {
        let code = e.code();
        assert!(seen.insert(code), "duplicate {code}");
        assert!(code.starts_with("protect_"), "{code}");
        assert!(
            code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{code}"
        );
        assert_eq!(crate::Error::from(e).kind(), kind, "{code}");
    }
}

// ----- never panics -----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        let ring = ring("2026-11");
        if let Ok(sealed) = s.parse::<Sealed>() {
            prop_assert!(ring.open(&sealed, CTX).is_err());
        }
    }

    #[test]
    fn near_miss_strings_never_panic(
        s in "pe1\\.[A-Za-z0-9._/-]{0,40}\\.[A-Za-z0-9_=+/-]{0,120}",
    ) {
        let ring = ring("2026-11");
        if let Ok(sealed) = s.parse::<Sealed>() {
            let _ = ring.needs_rotation(&sealed);
            prop_assert!(ring.open(&sealed, CTX).is_err());
            prop_assert!(ring.reseal(&sealed, CTX).is_err() || !ring.needs_rotation(&sealed));
        }
    }

    #[test]
    fn edited_sealed_strings_never_open(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let ring = ring("2026-11");
        let sealed = ring.seal(b"secret", CTX).unwrap();
        let mut bytes = sealed.as_str().as_bytes().to_vec();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        if let Ok(s) = String::from_utf8(bytes)
            && let Ok(edited) = s.parse::<Sealed>()
        {
            prop_assert!(ring.open(&edited, CTX).is_err());
        }
    }
}
