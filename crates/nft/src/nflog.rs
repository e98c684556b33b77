//! Refused new connections, as the dataplane logs them: the packets the
//! `log ... group LOG_GROUP` rules copy to nfnetlink_log, read from a
//! netlink socket in the node's namespace. What the kernel hands over is a
//! packet from the network: `parse` reads it defensively (fuzzed) and
//! turns anything short or odd into nothing, never a panic.

use crate::error::{Error, Result};
use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, bind, recv, send, setsockopt, socket,
    sockopt,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, OwnedFd};

const NFNL_SUBSYS_ULOG: u16 = 4;
const NFULNL_MSG_PACKET: u16 = 0;
const NFULNL_MSG_CONFIG: u16 = 1;
const NFULA_CFG_CMD: u16 = 1;
const NFULA_CFG_MODE: u16 = 2;
const NFULNL_CFG_CMD_BIND: u8 = 1;
const NFULNL_COPY_PACKET: u8 = 2;
const NFULA_IFINDEX_INDEV: u16 = 4;
const NFULA_IFINDEX_OUTDEV: u16 = 5;
const NFULA_PAYLOAD: u16 = 9;
const NFULA_PREFIX: u16 = 10;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLMSG_ERROR: u16 = 2;
/// Enough of a packet for its IP and transport headers.
const COPY: u32 = 96;

/// One refused packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The rule's prefix: the side chain that refused it.
    pub prefix: String,
    /// Interface indexes it came in on and would have gone out of (0: none).
    pub indev: u32,
    pub outdev: u32,
    pub source: IpAddr,
    pub destination: IpAddr,
    pub protocol: u8,
    /// TCP, UDP or SCTP destination port.
    pub port: Option<u16>,
    /// ICMP or ICMPv6 type and code.
    pub icmp: Option<(u8, u8)>,
}

/// The refused packets in one datagram from nfnetlink_log.
pub fn parse(buf: &[u8]) -> Vec<Refused> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 16 <= buf.len() {
        let len = u32::from_ne_bytes(buf[at..at + 4].try_into().expect("4 bytes")) as usize;
        if len < 16 || len > buf.len() - at {
            break;
        }
        let ty = u16::from_ne_bytes([buf[at + 4], buf[at + 5]]);
        if ty == (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET && len >= 20 {
            out.extend(packet(&buf[at + 20..at + len]));
        }
        at += ((len + 3) & !3).min(buf.len() - at);
    }
    out
}

fn packet(mut attrs: &[u8]) -> Option<Refused> {
    let (mut prefix, mut indev, mut outdev, mut payload) = (String::new(), 0, 0, None);
    while attrs.len() >= 4 {
        let len = u16::from_ne_bytes([attrs[0], attrs[1]]) as usize;
        let ty = u16::from_ne_bytes([attrs[2], attrs[3]]) & 0x3fff;
        if len < 4 || len > attrs.len() {
            return None;
        }
        let data = &attrs[4..len];
        let be32 = || data.get(..4).map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")));
        match ty {
            NFULA_PREFIX => {
                prefix = String::from_utf8_lossy(data.split(|b| *b == 0).next().unwrap_or(&[])).into_owned()
            }
            NFULA_IFINDEX_INDEV => indev = be32()?,
            NFULA_IFINDEX_OUTDEV => outdev = be32()?,
            NFULA_PAYLOAD => payload = Some(data),
            _ => {}
        }
        attrs = &attrs[((len + 3) & !3).min(attrs.len())..];
    }
    let p = payload?;
    let (source, destination, protocol, transport) = match p.first()? >> 4 {
        4 => {
            let ihl = usize::from(p[0] & 0x0f) * 4;
            if ihl < 20 || p.len() < ihl {
                return None;
            }
            let a = |i: usize| IpAddr::V4(Ipv4Addr::new(p[i], p[i + 1], p[i + 2], p[i + 3]));
            (a(12), a(16), p[9], &p[ihl..])
        }
        6 => {
            if p.len() < 40 {
                return None;
            }
            let a = |i: usize| IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&p[i..i + 16]).expect("16 bytes")));
            // Extension headers are not followed: their packets show no port.
            (a(8), a(24), p[6], &p[40..])
        }
        _ => return None,
    };
    let (port, icmp) = match protocol {
        6 | 17 | 132 if transport.len() >= 4 => (Some(u16::from_be_bytes([transport[2], transport[3]])), None),
        1 | 58 if transport.len() >= 2 => (None, Some((transport[0], transport[1]))),
        _ => (None, None),
    };
    Some(Refused { prefix, indev, outdev, source, destination, protocol, port, icmp })
}

/// A socket bound to the dataplane's NFLOG group.
pub struct LogReader {
    fd: OwnedFd,
}

fn io(what: &'static str) -> impl Fn(nix::Error) -> Error {
    move |e| Error::Netlink(format!("nflog {what}: {e}"))
}

impl LogReader {
    /// Binds to `group` in the current network namespace, copying the
    /// first bytes of each packet.
    pub fn open(group: u16) -> Result<LogReader> {
        let fd = socket(AddressFamily::Netlink, SockType::Raw, SockFlag::SOCK_CLOEXEC, SockProtocol::NetlinkNetFilter)
            .map_err(io("socket"))?;
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0)).map_err(io("bind"))?;
        let _ = setsockopt(&fd, sockopt::RcvBufForce, &(4 << 20));
        let reader = LogReader { fd };
        reader.configure(group, NFULA_CFG_CMD, &[NFULNL_CFG_CMD_BIND])?;
        let mut mode = COPY.to_be_bytes().to_vec();
        mode.extend([NFULNL_COPY_PACKET, 0]);
        reader.configure(group, NFULA_CFG_MODE, &mode)?;
        Ok(reader)
    }

    fn configure(&self, group: u16, attr: u16, data: &[u8]) -> Result<()> {
        let mut m = Vec::new();
        let len = 20 + ((4 + data.len() + 3) & !3);
        m.extend((len as u32).to_ne_bytes());
        m.extend(((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG).to_ne_bytes());
        m.extend((NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        m.extend(1u32.to_ne_bytes());
        m.extend(0u32.to_ne_bytes());
        m.extend([0u8, 0]); // AF_UNSPEC, version 0
        m.extend(group.to_be_bytes());
        m.extend(((4 + data.len()) as u16).to_ne_bytes());
        m.extend(attr.to_ne_bytes());
        m.extend(data);
        m.resize(len, 0);
        send(self.fd.as_raw_fd(), &m, MsgFlags::empty()).map_err(io("configure"))?;
        let mut rx = [0u8; 1024];
        let n = recv(self.fd.as_raw_fd(), &mut rx, MsgFlags::empty()).map_err(io("configure"))?;
        if n >= 20 && u16::from_ne_bytes([rx[4], rx[5]]) == NLMSG_ERROR {
            let code = i32::from_ne_bytes(rx[16..20].try_into().expect("4 bytes"));
            if code != 0 {
                return Err(Error::Netlink(format!(
                    "nflog group {group}: {}",
                    std::io::Error::from_raw_os_error(-code)
                )));
            }
        }
        Ok(())
    }

    /// Waits for the next datagram and returns its refused packets.
    pub fn next(&self) -> Result<Vec<Refused>> {
        let mut rx = vec![0u8; 1 << 16];
        let n = recv(self.fd.as_raw_fd(), &mut rx, MsgFlags::empty()).map_err(io("receive"))?;
        Ok(parse(&rx[..n]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A datagram as nfnetlink_log writes it, around `payload`.
    pub fn datagram(prefix: &str, indev: u32, outdev: u32, payload: &[u8]) -> Vec<u8> {
        let mut attrs = Vec::new();
        let mut attr = |ty: u16, data: &[u8]| {
            attrs.extend(((4 + data.len()) as u16).to_ne_bytes());
            attrs.extend(ty.to_ne_bytes());
            attrs.extend(data);
            while attrs.len() % 4 != 0 {
                attrs.push(0);
            }
        };
        attr(NFULA_PREFIX, &[prefix.as_bytes(), &[0]].concat());
        attr(NFULA_IFINDEX_INDEV, &indev.to_be_bytes());
        attr(NFULA_IFINDEX_OUTDEV, &outdev.to_be_bytes());
        attr(NFULA_PAYLOAD, payload);
        let mut m = Vec::new();
        m.extend(((20 + attrs.len()) as u32).to_ne_bytes());
        m.extend(((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET).to_ne_bytes());
        m.extend([0u8; 10]);
        m.extend([2u8, 0, 0, 0]);
        m.extend(attrs);
        m
    }

    #[test]
    fn a_refused_tcp_syn_names_its_ends_and_port() {
        let mut ip = vec![0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 244, 1, 2, 10, 244, 2, 3];
        ip.extend([0xc3, 0x50, 0x1f, 0x90, 0, 0, 0, 0]);
        let got = parse(&datagram("in_00aa", 0, 7, &ip));
        assert_eq!(
            got,
            [Refused {
                prefix: "in_00aa".into(),
                indev: 0,
                outdev: 7,
                source: "10.244.1.2".parse().unwrap(),
                destination: "10.244.2.3".parse().unwrap(),
                protocol: 6,
                port: Some(8080),
                icmp: None,
            }]
        );
        let mut v6 = vec![0x60, 0, 0, 0, 0, 8, 58, 64];
        v6.extend("fd00::1".parse::<Ipv6Addr>().unwrap().octets());
        v6.extend("fd00::2".parse::<Ipv6Addr>().unwrap().octets());
        v6.extend([128, 0, 0, 0]);
        let got = parse(&datagram("eg_00bb", 4, 0, &v6));
        assert_eq!((got[0].protocol, got[0].icmp, got[0].port), (58, Some((128, 0)), None));
    }

    #[test]
    fn short_or_odd_input_is_nothing() {
        let ok = datagram("x", 1, 2, &[0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        for cut in 0..ok.len() {
            let _ = parse(&ok[..cut]);
        }
        assert!(parse(&datagram("x", 1, 2, &[0x45])).is_empty());
        assert!(parse(&datagram("x", 1, 2, &[0x99; 40])).is_empty());
        assert_eq!(parse(&ok)[0].port, None, "a UDP packet without its header has no port");
    }
}
