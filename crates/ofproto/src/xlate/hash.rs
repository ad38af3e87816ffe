//! Upstream's hash functions where translation results depend on them:
//! the murmur-style `hash_add`/`hash_finish` family (`hash_2words`,
//! `hash_int`, `hash_bytes`), Jenkins' `jhash_bytes`, the flow hashes of
//! `bundle`, `multipath` and select groups, and the iteration order of an
//! upstream hash map (which is the order FLOOD visits ports).

use flow::actions::{HashFields, Multipath, MultipathAlgorithm};
use packet::Flow;

use super::engine::Ctx;
use crate::group::Group;

pub fn hash_add(hash: u32, data: u32) -> u32 {
    let mut h = hash;
    if data != 0 {
        let mut d = data.wrapping_mul(0xcc9e_2d51);
        d = d.rotate_left(15);
        d = d.wrapping_mul(0x1b87_3593);
        h ^= d;
    }
    h = h.rotate_left(13);
    h.wrapping_mul(5).wrapping_add(0xe654_6b64)
}

pub fn hash_add64(hash: u32, data: u64) -> u32 {
    hash_add(hash_add(hash, data as u32), (data >> 32) as u32)
}

pub fn mhash_finish(hash: u32) -> u32 {
    let mut h = hash;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

pub fn hash_finish(hash: u32, fin: u32) -> u32 {
    mhash_finish(hash ^ fin)
}

pub fn hash_2words(x: u32, y: u32) -> u32 {
    hash_finish(hash_add(hash_add(x, 0), y), 8)
}

pub fn hash_int(x: u32, basis: u32) -> u32 {
    hash_2words(x, basis)
}

pub fn hash_uint64(x: u64) -> u32 {
    hash_finish(hash_add64(0, x), 8)
}

/// `hash_bytes` (little-endian 32-bit words).
pub fn hash_bytes(p: &[u8], basis: u32) -> u32 {
    let mut h = basis;
    let mut chunks = p.chunks_exact(4);
    for c in &mut chunks {
        h = hash_add(h, u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
    }
    let r = chunks.remainder();
    if !r.is_empty() {
        let mut t = [0u8; 4];
        t[..r.len()].copy_from_slice(r);
        h = hash_add(h, u32::from_le_bytes(t));
    }
    hash_finish(h, p.len() as u32)
}

fn jmix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(4);
    *b = b.wrapping_add(*a);
}

fn jfinal(a: &mut u32, b: &mut u32, c: &mut u32) {
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(14));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(11));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(25));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(16));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(4));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(14));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(24));
}

/// Jenkins' lookup3 over bytes, as upstream's `jhash_bytes`.
pub fn jhash_bytes(p: &[u8], basis: u32) -> u32 {
    let n = p.len();
    let init = 0xdead_beefu32.wrapping_add(n as u32).wrapping_add(basis);
    let (mut a, mut b, mut c) = (init, init, init);
    let mut rest = p;
    while rest.len() >= 12 {
        let w = |i: usize| u32::from_le_bytes([rest[i], rest[i + 1], rest[i + 2], rest[i + 3]]);
        a = a.wrapping_add(w(0));
        b = b.wrapping_add(w(4));
        c = c.wrapping_add(w(8));
        jmix(&mut a, &mut b, &mut c);
        rest = &rest[12..];
    }
    if !rest.is_empty() {
        let mut t = [0u8; 12];
        t[..rest.len()].copy_from_slice(rest);
        let w = |i: usize| u32::from_le_bytes([t[i], t[i + 1], t[i + 2], t[i + 3]]);
        a = a.wrapping_add(w(0));
        b = b.wrapping_add(w(4));
        c = c.wrapping_add(w(8));
        jfinal(&mut a, &mut b, &mut c);
    }
    c
}

/// `flow_hash_symmetric_l4`.
pub fn flow_hash_symmetric_l4(f: &Flow, basis: u32) -> u32 {
    let mut fields = [0u8; 32];
    for i in 0..6 {
        fields[22 + i] = f.dl_src[i] ^ f.dl_dst[i];
    }
    let mut vlan = 0u16;
    for v in f.vlans.iter() {
        if v.tci == 0 {
            break;
        }
        vlan ^= v.tci & 0x0fff;
    }
    fields[18..20].copy_from_slice(&vlan.to_be_bytes());
    fields[16..18].copy_from_slice(&f.dl_type.to_be_bytes());
    if f.dl_type == 0x0800 {
        fields[0..4].copy_from_slice(&(f.nw_src ^ f.nw_dst).to_be_bytes());
        fields[28] = f.nw_proto;
        if f.nw_proto == 6 || f.nw_proto == 132 {
            fields[20..22].copy_from_slice(&(f.tp_src ^ f.tp_dst).to_be_bytes());
        }
    } else if f.dl_type == 0x86dd {
        for (i, b) in fields.iter_mut().take(16).enumerate() {
            *b = f.ipv6_src[i] ^ f.ipv6_dst[i];
        }
        fields[28] = f.nw_proto;
        if f.nw_proto == 6 || f.nw_proto == 132 {
            fields[20..22].copy_from_slice(&(f.tp_src ^ f.tp_dst).to_be_bytes());
        }
    }
    jhash_bytes(&fields, basis)
}

/// `flow_hash_symmetric_l3l4`.
pub fn flow_hash_symmetric_l3l4(f: &Flow, basis: u32, udp: bool) -> u32 {
    let mut h = basis;
    if f.dl_type == 0x0800 {
        h = hash_add(h, (f.nw_src ^ f.nw_dst).swap_bytes());
    } else if f.dl_type == 0x86dd {
        for i in 0..2 {
            let mut a = [0u8; 8];
            let mut b = [0u8; 8];
            a.copy_from_slice(&f.ipv6_src[i * 8..i * 8 + 8]);
            b.copy_from_slice(&f.ipv6_dst[i * 8..i * 8 + 8]);
            h = hash_add64(h, u64::from_le_bytes(a) ^ u64::from_le_bytes(b));
        }
    } else {
        return 0;
    }
    h = hash_add(h, u32::from(f.nw_proto));
    if f.nw_proto == 6 || f.nw_proto == 132 || (udp && f.nw_proto == 17) {
        h = hash_add(h, u32::from((f.tp_src ^ f.tp_dst).swap_bytes()));
    }
    hash_finish(h, basis)
}

/// `flow_hash_symmetric_l3`.
pub fn flow_hash_symmetric_l3(f: &Flow, basis: u32) -> u32 {
    let mut fields = [0u8; 20];
    fields[16..18].copy_from_slice(&f.dl_type.to_be_bytes());
    if f.dl_type == 0x0800 {
        fields[0..4].copy_from_slice(&(f.nw_src ^ f.nw_dst).to_be_bytes());
    } else if f.dl_type == 0x86dd {
        for (i, b) in fields.iter_mut().take(16).enumerate() {
            *b = f.ipv6_src[i] ^ f.ipv6_dst[i];
        }
    }
    jhash_bytes(&fields, basis)
}

/// `flow_hash_fields`.
pub fn flow_hash_fields(f: &Flow, fields: HashFields, basis: u16) -> u32 {
    let basis = u32::from(basis);
    match fields {
        HashFields::EthSrc => jhash_bytes(&f.dl_src, basis),
        HashFields::SymmetricL4 => flow_hash_symmetric_l4(f, basis),
        HashFields::SymmetricL3L4 => flow_hash_symmetric_l3l4(f, basis, false),
        HashFields::SymmetricL3L4Udp => flow_hash_symmetric_l3l4(f, basis, true),
        HashFields::NwSrc => match f.dl_type {
            0x0800 => jhash_bytes(&f.nw_src.to_be_bytes(), basis),
            0x86dd => jhash_bytes(&f.ipv6_src, basis),
            _ => basis,
        },
        HashFields::NwDst => match f.dl_type {
            0x0800 => jhash_bytes(&f.nw_dst.to_be_bytes(), basis),
            0x86dd => jhash_bytes(&f.ipv6_dst, basis),
            _ => basis,
        },
        HashFields::SymmetricL3 => flow_hash_symmetric_l3(f, basis),
    }
}

fn unwildcard_tp_ports(f: &Flow, wc: &mut Flow) {
    if f.nw_proto != 1 {
        wc.tp_src = u16::MAX;
        wc.tp_dst = u16::MAX;
    } else {
        wc.tp_src |= 0xff;
        wc.tp_dst |= 0xff;
    }
}

/// `flow_mask_hash_fields`.
pub fn mask_hash_fields(f: &Flow, wc: &mut Flow, fields: HashFields) {
    let v4 = f.dl_type == 0x0800;
    let v6 = f.dl_type == 0x86dd;
    match fields {
        HashFields::EthSrc => wc.dl_src = [0xff; 6],
        HashFields::SymmetricL4 => {
            wc.dl_src = [0xff; 6];
            wc.dl_dst = [0xff; 6];
            if v4 {
                wc.nw_src = u32::MAX;
                wc.nw_dst = u32::MAX;
            } else if v6 {
                wc.ipv6_src = [0xff; 16];
                wc.ipv6_dst = [0xff; 16];
            }
            if v4 || v6 {
                wc.nw_proto = 0xff;
                // UDP ports are not part of this hash.
                if f.nw_proto != 17 {
                    unwildcard_tp_ports(f, wc);
                }
            }
            wc.vlans[0].tci |= 0x0fff | 0x1000;
        }
        HashFields::SymmetricL3L4 | HashFields::SymmetricL3L4Udp => {
            if fields == HashFields::SymmetricL3L4Udp && (v4 || v6) && f.nw_proto == 17 {
                wc.tp_src = u16::MAX;
                wc.tp_dst = u16::MAX;
            }
            if v4 {
                wc.nw_src = u32::MAX;
                wc.nw_dst = u32::MAX;
            } else if v6 {
                wc.ipv6_src = [0xff; 16];
                wc.ipv6_dst = [0xff; 16];
            } else {
                return;
            }
            wc.nw_proto = 0xff;
            if f.nw_proto == 6 || f.nw_proto == 132 {
                wc.tp_src = u16::MAX;
                wc.tp_dst = u16::MAX;
            }
        }
        HashFields::NwSrc => {
            if v4 {
                wc.nw_src = u32::MAX;
            } else if v6 {
                wc.ipv6_src = [0xff; 16];
            }
        }
        HashFields::NwDst => {
            if v4 {
                wc.nw_dst = u32::MAX;
            } else if v6 {
                wc.ipv6_dst = [0xff; 16];
            }
        }
        HashFields::SymmetricL3 => {
            if v4 {
                wc.nw_src = u32::MAX;
                wc.nw_dst = u32::MAX;
            } else if v6 {
                wc.ipv6_src = [0xff; 16];
                wc.ipv6_dst = [0xff; 16];
            }
        }
    }
}

/// `multipath(...)`: hashes the flow, picks a link, loads it into `dst`.
pub(super) fn multipath_execute(ctx: &mut Ctx, mp: &Multipath) {
    let hash = flow_hash_fields(&ctx.flow, mp.fields, mp.basis);
    let n_links = u32::from(mp.max_link) + 1;
    let link = match mp.algorithm {
        MultipathAlgorithm::ModuloN => hash % n_links,
        MultipathAlgorithm::HashThreshold => {
            if n_links == 1 {
                0
            } else {
                hash / (u32::MAX / n_links + 1)
            }
        }
        MultipathAlgorithm::Hrw => {
            let mut best = 0;
            let mut best_w = hash_2words(hash, 0);
            for l in 1..n_links {
                let w = hash_2words(hash, l);
                if w > best_w {
                    best = l;
                    best_w = w;
                }
            }
            best
        }
        MultipathAlgorithm::IterHash => {
            let mut modulo = mp.arg;
            if modulo < n_links || modulo / 2 > n_links {
                modulo = n_links.next_power_of_two();
            }
            let mut h = hash;
            let mut i = 0u32;
            loop {
                h = hash_2words(h, i);
                i = i.wrapping_add(1);
                if h % modulo < n_links {
                    break h % modulo;
                }
            }
        }
    };
    mask_hash_fields(&ctx.flow.clone(), &mut ctx.wc, mp.fields);
    let v = flow::MfValue::from_u64(mp.dst.field.def().n_bytes, u64::from(link));
    super::fields::unwildcard_subfield(&mut ctx.wc, &mp.dst);
    mp.dst.write(&mut ctx.flow, &v);
}

/// The hash of a select group's `fields(...)` (selection method `hash`).
pub(super) fn hash_group_fields(ctx: &mut Ctx, g: &Group) -> u32 {
    let mut basis = hash_uint64(g.selection_method_param);
    for (field, mask) in &g.fields {
        if !super::fields::prereqs_ok(*field, &ctx.flow, &mut ctx.wc) {
            continue;
        }
        let v = field.get(&ctx.flow).and(mask);
        basis = hash_bytes(v.as_bytes(), basis);
        super::fields::mask_field(&mut ctx.wc, *field, mask);
    }
    basis
}

/// The order an upstream `hmap` keyed by `hash_int(port, 0)` visits
/// `ports` inserted in the given order.
pub fn hmap_order(ports: Vec<u32>) -> Vec<u32> {
    // Simulate the bucket array: insertion at the head of a chain, growth
    // (moving chains in order, which reverses them) when n/2 > mask.
    let mut mask: usize = 0;
    let mut buckets: Vec<Vec<(u32, u32)>> = vec![Vec::new()];
    let mut n = 0usize;
    let ordered: Vec<u32> = {
        // The translation's port map is filled in port number order.
        let mut v = ports;
        v.sort_unstable();
        v
    };
    for p in ordered {
        let h = hash_int(p & 0xffff, 0);
        buckets[(h as usize) & mask].insert(0, (h, p));
        n += 1;
        if n / 2 > mask {
            let mut new_mask = n / 2;
            new_mask |= new_mask >> 1;
            new_mask |= new_mask >> 2;
            new_mask |= new_mask >> 4;
            new_mask |= new_mask >> 8;
            new_mask |= new_mask >> 16;
            new_mask |= (new_mask & 1) << 1;
            if new_mask > mask {
                let mut nb: Vec<Vec<(u32, u32)>> = vec![Vec::new(); new_mask + 1];
                for chain in &buckets {
                    for &(h, p) in chain {
                        nb[(h as usize) & new_mask].insert(0, (h, p));
                    }
                }
                buckets = nb;
                mask = new_mask;
            }
        }
    }
    buckets.into_iter().flatten().map(|(_, p)| p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jhash_known_value() {
        // lookup3's hashlittle("", 0) is 0xdeadbeef.
        assert_eq!(jhash_bytes(&[], 0), 0xdead_beef);
    }

    #[test]
    fn hmap_order_is_a_permutation() {
        let mut o = hmap_order(vec![1, 2, 3, 0xfffe, 4]);
        o.sort();
        assert_eq!(o, vec![1, 2, 3, 4, 0xfffe]);
    }
}
