//! Network math behind `builtins.hac.*` and `lib.cidr`: Terraform's `cidrhost` and
//! `cidrsubnet`, containment, prefix length, and address offsets keeping the prefix.
//! Works for IPv4 and IPv6 (addresses as u128). Errors are plain messages (E0018 upstream).

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn parse_net(s: &str) -> Result<IpNet, String> {
    s.trim()
        .parse::<IpNet>()
        .map_err(|_| format!("`{s}` is not a CIDR prefix such as \"10.0.0.0/16\""))
}

fn max_bits(net: &IpNet) -> u32 {
    match net {
        IpNet::V4(_) => 32,
        IpNet::V6(_) => 128,
    }
}

fn to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u32::from(v) as u128,
        IpAddr::V6(v) => u128::from(v),
    }
}

fn from_u128(v4: bool, n: u128) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(n as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(n))
    }
}

fn is_v4(net: &IpNet) -> bool {
    matches!(net, IpNet::V4(_))
}

/// Terraform's `cidrhost`: the `hostnum`-th address of the prefix (negative counts from the end).
pub fn host(prefix: &str, hostnum: i64) -> Result<String, String> {
    let net = parse_net(prefix)?;
    let host_bits = max_bits(&net) - u32::from(net.prefix_len());
    let base = to_u128(net.network());
    let size: Option<u128> = if host_bits >= 128 {
        None
    } else {
        Some(1u128 << host_bits)
    };
    let n = hostnum as i128;
    let offset: u128 = if n >= 0 {
        let n = n as u128;
        if size.is_some_and(|sz| n >= sz) {
            return Err(format!(
                "prefix {prefix} does not accommodate a host numbered {hostnum}"
            ));
        }
        n
    } else {
        let back = n.unsigned_abs();
        match size {
            Some(sz) if back > sz => {
                return Err(format!(
                    "prefix {prefix} does not accommodate a host numbered {hostnum}"
                ))
            }
            Some(sz) => sz - back,
            None => u128::MAX - (back - 1),
        }
    };
    Ok(from_u128(is_v4(&net), base.wrapping_add(offset)).to_string())
}

/// Terraform's `cidrsubnet`: the `netnum`-th subnet with `newbits` more prefix bits.
pub fn subnet(prefix: &str, newbits: i64, netnum: i64) -> Result<String, String> {
    let net = parse_net(prefix)?;
    let max = max_bits(&net) as i64;
    let len = net.prefix_len() as i64;
    if newbits < 0 {
        return Err(format!("`newbits` must not be negative, got {newbits}"));
    }
    let new_len = len + newbits;
    if new_len > max {
        return Err(format!(
            "insufficient address space to extend prefix of {len} by {newbits} (at most {} more bits)",
            max - len
        ));
    }
    if netnum < 0 || (newbits < 63 && netnum >= (1i64 << newbits)) {
        return Err(format!(
            "prefix extension of {newbits} bits does not accommodate a subnet numbered {netnum}"
        ));
    }
    let shift = (max - new_len) as u32;
    let add = if shift >= 128 {
        Some(0)
    } else {
        (netnum as u128).checked_mul(1u128 << shift)
    };
    let Some(n) = add.and_then(|a| to_u128(net.network()).checked_add(a)) else {
        return Err(format!(
            "prefix extension of {newbits} bits does not accommodate a subnet numbered {netnum}"
        ));
    };
    let addr = from_u128(is_v4(&net), n);
    Ok(format!("{addr}/{new_len}"))
}

/// Whether the prefix contains the address (or the whole of another prefix).
pub fn contains(prefix: &str, addr: &str) -> Result<bool, String> {
    let net = parse_net(prefix)?;
    if addr.contains('/') {
        let other = parse_net(addr)?;
        return Ok(net.contains(&other));
    }
    let ip: IpAddr = addr
        .trim()
        .parse()
        .map_err(|_| format!("`{addr}` is not an IP address"))?;
    Ok(net.contains(&ip))
}

pub fn prefix_length(prefix: &str) -> Result<i64, String> {
    Ok(parse_net(prefix)?.prefix_len() as i64)
}

/// `"10.0.2.20/24"` + 3 → `"10.0.2.23/24"`; the result must stay inside the prefix.
/// Without a prefix length (`"10.0.2.20"`) the result has none either.
pub fn offset(addr: &str, n: i64) -> Result<String, String> {
    if addr.contains('/') {
        let net = parse_net(addr)?;
        let a = to_u128(net.addr()) as i128 + n as i128;
        let lo = to_u128(net.network()) as i128;
        let hi = to_u128(net.broadcast()) as i128;
        if a < lo || a > hi {
            return Err(format!(
                "{addr} + {n} leaves the prefix {}/{}",
                net.network(),
                net.prefix_len()
            ));
        }
        Ok(format!(
            "{}/{}",
            from_u128(is_v4(&net), a as u128),
            net.prefix_len()
        ))
    } else {
        let ip: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("`{addr}` is not an IP address"))?;
        let v4 = ip.is_ipv4();
        let a = to_u128(ip) as i128 + n as i128;
        let max: i128 = if v4 { u32::MAX as i128 } else { i128::MAX };
        if a < 0 || a > max {
            return Err(format!("{addr} + {n} is not an address"));
        }
        Ok(from_u128(v4, a as u128).to_string())
    }
}

/// The address part of `"10.0.2.20/24"` (or the address itself).
pub fn address(addr: &str) -> Result<String, String> {
    if addr.contains('/') {
        Ok(parse_net(addr)?.addr().to_string())
    } else {
        let ip: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("`{addr}` is not an IP address"))?;
        Ok(ip.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn terraform_examples() {
        assert_eq!(host("10.0.2.0/24", 10).unwrap(), "10.0.2.10");
        assert_eq!(host("10.12.112.0/20", 16).unwrap(), "10.12.112.16");
        assert_eq!(host("10.12.112.0/20", 268).unwrap(), "10.12.113.12");
        assert_eq!(host("10.0.2.0/24", -1).unwrap(), "10.0.2.255");
        assert!(host("10.0.2.0/24", 256).is_err());
        assert_eq!(
            host("fd00:fd12:3456:7890:00a2::/72", 34).unwrap(),
            "fd00:fd12:3456:7890::22"
        );
        assert_eq!(subnet("10.0.0.0/16", 8, 2).unwrap(), "10.0.2.0/24");
        assert_eq!(subnet("172.16.0.0/12", 4, 2).unwrap(), "172.18.0.0/16");
        assert_eq!(subnet("10.1.2.0/24", 4, 15).unwrap(), "10.1.2.240/28");
        assert!(subnet("10.1.2.0/24", 4, 16).is_err());
        assert!(subnet("10.1.2.0/24", 9, 0).is_err());
        assert!(contains("10.0.0.0/16", "10.0.2.3").unwrap());
        assert!(!contains("10.0.0.0/16", "10.1.2.3").unwrap());
        assert!(contains("10.0.0.0/16", "10.0.2.0/24").unwrap());
        assert_eq!(prefix_length("10.0.2.20/24").unwrap(), 24);
        assert_eq!(offset("10.0.2.20/24", 3).unwrap(), "10.0.2.23/24");
        assert!(offset("10.0.2.250/24", 10).is_err());
        assert!(parse_net("nonsense").is_err());
    }
}
