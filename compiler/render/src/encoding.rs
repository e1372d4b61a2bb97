//! Byte encodings the rendered files need: standard base64 and reproducible gzip (cloud-init
//! `write_files`, `encoding: gz+b64`) and lowercase hex SHA-256 digests (manifest.json).

use sha2::{Digest, Sha256};

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// RFC 4648 base64 with padding, on one line.
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = chunk[0] as u32;
        let b1 = chunk.get(1).copied().unwrap_or(0) as u32;
        let b2 = chunk.get(2).copied().unwrap_or(0) as u32;
        let triple = (b0 << 16) | (b1 << 8) | b2;
        let symbols = [
            (triple >> 18) & 63,
            (triple >> 12) & 63,
            (triple >> 6) & 63,
            triple & 63,
        ];
        for (i, s) in symbols.iter().enumerate() {
            if i <= chunk.len() {
                out.push(BASE64_ALPHABET[*s as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub use hac_core::gzip::{gzip, GZIP_LEVEL};

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in vectors {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn gzip_is_a_plain_reproducible_member_that_inflates_back() {
        let data = b"hello hello hello hello\n".repeat(50);
        let z = gzip(&data);
        assert_eq!(z, gzip(&data));
        assert_eq!(&z[..10], &hac_core::gzip::GZIP_HEADER);
        let body = &z[10..z.len() - 8];
        let back = miniz_oxide::inflate::decompress_to_vec(body).expect("inflates");
        assert_eq!(back, data);
        assert_eq!(
            &z[z.len() - 8..z.len() - 4],
            &crc32fast::hash(&data).to_le_bytes()
        );
        assert_eq!(&z[z.len() - 4..], &(data.len() as u32).to_le_bytes());
    }

    #[test]
    fn sha256_of_abc() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
