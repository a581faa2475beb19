//! Byte decoding: BOMs, valid UTF-8, otherwise a detected legacy encoding.

use crate::Decoded;

/// Decodes bytes to text. Government sites still serve GBK/GB18030 without a charset, so
/// anything that is not valid UTF-8 goes through chardetng's guess.
pub fn decode(input: &[u8]) -> Decoded {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(input) {
        let body = input.get(bom_len..).unwrap_or_default();
        let (text, _) = enc.decode_without_bom_handling(body);
        let name = if enc == encoding_rs::UTF_8 {
            "UTF-8 (BOM)".to_string()
        } else {
            enc.name().to_string()
        };
        return Decoded {
            text: text.into_owned(),
            encoding: name,
        };
    }
    // most documents are UTF-8: validate with SIMD, the genre's text is all multi-byte
    if let Ok(s) = simdutf8::basic::from_utf8(input) {
        return Decoded {
            text: s.to_string(),
            encoding: "UTF-8".to_string(),
        };
    }
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(input, true);
    let mut enc = det.guess(Some(b"cn"), chardetng::Utf8Detection::Allow);
    // GBK is a subset of GB18030; decoding with the superset loses nothing.
    if enc == encoding_rs::GBK {
        enc = encoding_rs::GB18030;
    }
    let (text, _, _) = enc.decode(input);
    Decoded {
        text: text.into_owned(),
        encoding: enc.name().to_ascii_uppercase(),
    }
}
