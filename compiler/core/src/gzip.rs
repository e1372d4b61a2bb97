//! One reproducible gzip member (RFC 1952), the only compressor hac uses: host archives
//! (hac-bundle) and the gz+b64 files of cloud-init user-data (hac-render). miniz_oxide is
//! called directly at a pinned level, so no Cargo feature unification can swap the
//! compressor; the header names no file, has mtime 0 and OS 255. The same bytes give the same
//! output on any machine.

/// The compression level. Changing it changes every archive and every user-data file that
/// holds a private file.
pub const GZIP_LEVEL: u8 = 9;

/// The member header: magic, deflate, no flags (so no file name), mtime 0, XFL 2 ("maximum
/// compression", as for level 9), OS 255 ("unknown": the host never shows).
pub const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255];

/// One gzip member holding `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let deflated = miniz_oxide::deflate::compress_to_vec(data, GZIP_LEVEL);
    let mut out = Vec::with_capacity(GZIP_HEADER.len() + deflated.len() + 8);
    out.extend_from_slice(&GZIP_HEADER);
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    // ISIZE: the input length modulo 2^32, as RFC 1952 defines it.
    out.extend_from_slice(&((data.len() as u64 & 0xffff_ffff) as u32).to_le_bytes());
    out
}
