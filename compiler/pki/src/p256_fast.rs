//! P-256 (the default algorithm) without the generic scalar multiplication: a fixed-base
//! comb table of the generator, built once per process, makes each `k×G` 64 point additions
//! instead of ~256 doublings and 64 additions. Used for public keys and for RFC 6979 ECDSA
//! signatures, which are byte-identical to the `ecdsa` crate's (unit-tested below). Table
//! lookups are constant-time selects.

use p256::elliptic_curve::group::Group;
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::subtle::{ConditionallySelectable, ConstantTimeEq};
use p256::elliptic_curve::{Field, PrimeField};
use p256::{AffinePoint, FieldBytes, NonZeroScalar, ProjectivePoint, Scalar, U256};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// `TABLE[i][j] = j · 16^i · G` for the 64 nibbles of a scalar.
type CombTable = [[ProjectivePoint; 16]; 64];

fn table() -> &'static CombTable {
    static TABLE: OnceLock<Box<CombTable>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Box::new([[ProjectivePoint::IDENTITY; 16]; 64]);
        let mut base = ProjectivePoint::GENERATOR;
        for row in t.iter_mut() {
            for j in 1..16 {
                row[j] = row[j - 1] + base;
            }
            base = base.double().double().double().double();
        }
        t
    })
}

/// `k × G`.
pub(crate) fn mul_generator(k: &Scalar) -> ProjectivePoint {
    let bytes = k.to_repr(); // big-endian
    let t = table();
    let mut acc = ProjectivePoint::IDENTITY;
    for (i, row) in t.iter().enumerate() {
        let byte = bytes[31 - i / 2];
        let nibble = if i % 2 == 0 { byte & 0x0f } else { byte >> 4 };
        let mut pick = ProjectivePoint::IDENTITY;
        for (j, p) in row.iter().enumerate().skip(1) {
            pick.conditional_assign(p, (j as u8).ct_eq(&nibble));
        }
        acc += pick;
    }
    acc
}

/// The public key of `d`.
pub(crate) fn public_key(d: &NonZeroScalar) -> AffinePoint {
    mul_generator(d).to_affine()
}

/// ECDSA over SHA-256 of `msg` with the RFC 6979 nonce; `None` only in the negligible case
/// of a zero `r` or `s`.
pub(crate) fn sign(d: &NonZeroScalar, msg: &[u8]) -> Option<p256::ecdsa::Signature> {
    let z: FieldBytes = Sha256::digest(msg);
    const ORDER: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
        0x25, 0x51,
    ];
    let k_bytes = rfc6979::generate_k::<Sha256, _>(&d.to_repr(), &ORDER.into(), &z, &[]);
    let k = Option::<Scalar>::from(Scalar::from_repr(k_bytes))?;
    if bool::from(k.is_zero()) {
        return None;
    }
    let k_inv = Option::<Scalar>::from(k.invert())?;
    let big_r = mul_generator(&k).to_affine();
    let r = <Scalar as Reduce<U256>>::reduce_bytes(&big_r.x());
    let z = <Scalar as Reduce<U256>>::reduce_bytes(&z);
    let s = k_inv * (z + r * d.as_ref());
    p256::ecdsa::Signature::from_scalars(r, s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer;

    fn scalar(seed: u8) -> NonZeroScalar {
        let mut b = [0u8; 32];
        for (i, x) in b.iter_mut().enumerate() {
            *x = seed.wrapping_mul(31).wrapping_add(i as u8).wrapping_mul(7);
        }
        b[0] &= 0x7f;
        Option::from(NonZeroScalar::from_repr(b.into())).expect("non-zero")
    }

    #[test]
    fn comb_multiplication_equals_the_generic_one() {
        for seed in 0..40u8 {
            let k = scalar(seed);
            assert_eq!(
                mul_generator(&k).to_affine(),
                (ProjectivePoint::GENERATOR * *k).to_affine()
            );
        }
        let max = Scalar::ZERO - Scalar::ONE;
        assert_eq!(
            mul_generator(&max).to_affine(),
            (ProjectivePoint::GENERATOR * max).to_affine()
        );
        assert_eq!(
            mul_generator(&Scalar::ONE).to_affine(),
            AffinePoint::GENERATOR
        );
    }

    #[test]
    fn signatures_are_byte_identical_to_the_ecdsa_crate() {
        for seed in 0..20u8 {
            let d = scalar(seed);
            let reference = p256::ecdsa::SigningKey::from(d);
            for msg in [&b""[..], b"abc", &[seed; 300][..]] {
                let ours = sign(&d, msg).expect("signs");
                let theirs: p256::ecdsa::Signature = reference.sign(msg);
                assert_eq!(ours.to_der().as_bytes(), theirs.to_der().as_bytes());
            }
        }
    }
}
