//! ISO 4217 minor units.

/// Number of minor-unit digits of an active ISO 4217 currency code, or `None`
/// for an unknown code. Codes are matched exactly (upper case).
///
/// ```
/// assert_eq!(puratan_pricing::minor_units("EUR"), Some(2));
/// assert_eq!(puratan_pricing::minor_units("JPY"), Some(0));
/// assert_eq!(puratan_pricing::minor_units("BHD"), Some(3));
/// assert_eq!(puratan_pricing::minor_units("eur"), None);
/// ```
#[must_use]
pub fn minor_units(code: &str) -> Option<u32> {
    Some(match code {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        "AED" | "AFN" | "ALL" | "AMD" | "AOA" | "ARS" | "AUD" | "AWG" | "AZN" | "BAM" | "BBD"
        | "BDT" | "BGN" | "BMD" | "BND" | "BOB" | "BOV" | "BRL" | "BSD" | "BTN" | "BWP" | "BYN"
        | "BZD" | "CAD" | "CDF" | "CHE" | "CHF" | "CHW" | "CNY" | "COP" | "COU" | "CRC" | "CUP"
        | "CVE" | "CZK" | "DKK" | "DOP" | "DZD" | "EGP" | "ERN" | "ETB" | "EUR" | "FJD" | "FKP"
        | "GBP" | "GEL" | "GHS" | "GIP" | "GMD" | "GTQ" | "GYD" | "HKD" | "HNL" | "HTG" | "HUF"
        | "IDR" | "ILS" | "INR" | "IRR" | "JMD" | "KES" | "KGS" | "KHR" | "KPW" | "KYD" | "KZT"
        | "LAK" | "LBP" | "LKR" | "LRD" | "LSL" | "MAD" | "MDL" | "MGA" | "MKD" | "MMK" | "MNT"
        | "MOP" | "MRU" | "MUR" | "MVR" | "MWK" | "MXN" | "MXV" | "MYR" | "MZN" | "NAD" | "NGN"
        | "NIO" | "NOK" | "NPR" | "NZD" | "PAB" | "PEN" | "PGK" | "PHP" | "PKR" | "PLN" | "QAR"
        | "RON" | "RSD" | "RUB" | "SAR" | "SBD" | "SCR" | "SDG" | "SEK" | "SGD" | "SHP" | "SLE"
        | "SOS" | "SRD" | "SSP" | "STN" | "SVC" | "SYP" | "SZL" | "THB" | "TJS" | "TMT" | "TOP"
        | "TRY" | "TTD" | "TWD" | "TZS" | "UAH" | "USD" | "USN" | "UYU" | "UZS" | "VED" | "VES"
        | "WST" | "XCD" | "XCG" | "YER" | "ZAR" | "ZMW" | "ZWG" => 2,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::minor_units;

    #[test]
    fn table() {
        assert_eq!(minor_units("USD"), Some(2));
        assert_eq!(minor_units("KWD"), Some(3));
        assert_eq!(minor_units("KRW"), Some(0));
        assert_eq!(minor_units("CLF"), Some(4));
        assert_eq!(minor_units("XXX"), None);
        assert_eq!(minor_units(""), None);
    }
}
