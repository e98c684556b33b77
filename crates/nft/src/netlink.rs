//! Element changes and the ruleset generation over nf_tables netlink: the
//! path whose cost must not grow with the table. (`nft` reads every element
//! of every set in the namespace before it adds or deletes one: almost a
//! second per command at 100,000 elements.) One batch is one transaction:
//! the kernel applies all of it or none.

use crate::encode::RawElement;
use crate::error::{Error, Result};
use crate::names::TABLE;
use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, bind, recv, send, setsockopt, socket,
    sockopt,
};
use nix::sys::time::TimeVal;
use std::os::fd::{AsRawFd, OwnedFd};

const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFT_MSG_NEWSETELEM: u16 = 12;
const NFT_MSG_DELSETELEM: u16 = 14;
const NFT_MSG_NEWGEN: u16 = 15;
const NFT_MSG_GETGEN: u16 = 16;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_CREATE: u16 = 0x400;
const NLA_F_NESTED: u16 = 0x8000;
const NFPROTO_INET: u8 = 1;
// Attributes.
const SET_ELEM_LIST_TABLE: u16 = 1;
const SET_ELEM_LIST_SET: u16 = 2;
const SET_ELEM_LIST_ELEMENTS: u16 = 3;
const LIST_ELEM: u16 = 1;
const SET_ELEM_KEY: u16 = 1;
const SET_ELEM_DATA: u16 = 2;
const SET_ELEM_FLAGS: u16 = 3;
const SET_ELEM_KEY_END: u16 = 10;
const DATA_VALUE: u16 = 1;
const DATA_VERDICT: u16 = 2;
const VERDICT_CODE: u16 = 1;
const VERDICT_CHAIN: u16 = 2;
const GEN_ID: u16 = 1;
/// Elements per message: a nested attribute's length is 16 bits.
const MESSAGE_BYTES: usize = 48 * 1024;

/// Add or delete these elements of one set or map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementChange {
    pub object: String,
    pub delete: bool,
    pub elements: Vec<RawElement>,
}

/// Netlink messages, built in place.
#[derive(Default)]
struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn align(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    fn message(&mut self, ty: u16, flags: u16, seq: u32, family: u8, res_id: u16) -> usize {
        let start = self.buf.len();
        self.buf.extend(0u32.to_ne_bytes()); // length, set by `end`
        self.buf.extend(ty.to_ne_bytes());
        self.buf.extend(flags.to_ne_bytes());
        self.buf.extend(seq.to_ne_bytes());
        self.buf.extend(0u32.to_ne_bytes());
        self.buf.extend([family, 0]);
        self.buf.extend(res_id.to_be_bytes());
        start
    }

    fn end(&mut self, start: usize) {
        self.align();
        let len = (self.buf.len() - start) as u32;
        self.buf[start..start + 4].copy_from_slice(&len.to_ne_bytes());
    }

    fn attr(&mut self, ty: u16, data: &[u8]) {
        self.buf.extend(((4 + data.len()) as u16).to_ne_bytes());
        self.buf.extend(ty.to_ne_bytes());
        self.buf.extend(data);
        self.align();
    }

    fn string(&mut self, ty: u16, s: &str) {
        let mut data = s.as_bytes().to_vec();
        data.push(0);
        self.attr(ty, &data);
    }

    fn nest(&mut self, ty: u16) -> usize {
        let start = self.buf.len();
        self.buf.extend(0u16.to_ne_bytes());
        self.buf.extend((ty | NLA_F_NESTED).to_ne_bytes());
        start
    }

    fn unnest(&mut self, start: usize) {
        let len = (self.buf.len() - start) as u16;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    }

    fn value(&mut self, ty: u16, bytes: &[u8]) {
        let n = self.nest(ty);
        self.attr(DATA_VALUE, bytes);
        self.unnest(n);
    }

    fn element(&mut self, e: &RawElement) {
        let n = self.nest(LIST_ELEM);
        self.value(SET_ELEM_KEY, &e.key);
        if let Some(end) = &e.key_end {
            self.value(SET_ELEM_KEY_END, end);
        }
        if e.flags != 0 {
            self.attr(SET_ELEM_FLAGS, &e.flags.to_be_bytes());
        }
        if let Some((code, chain)) = &e.verdict {
            let data = self.nest(SET_ELEM_DATA);
            let verdict = self.nest(DATA_VERDICT);
            self.attr(VERDICT_CODE, &code.to_be_bytes());
            self.string(VERDICT_CHAIN, chain);
            self.unnest(verdict);
            self.unnest(data);
        }
        self.unnest(n);
    }
}

/// The messages of one batch, and for each message what it changes (for
/// error messages). Pure, so that it is tested without a kernel.
fn batch(changes: &[ElementChange], first_seq: u32) -> (Vec<u8>, Vec<(u32, String)>) {
    let mut w = Writer::default();
    let mut seq = first_seq;
    let begin = w.message(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq, 0, NFNL_SUBSYS_NFTABLES);
    w.end(begin);
    let mut sent = Vec::new();
    for change in changes {
        let (ty, flags) = if change.delete {
            (NFT_MSG_DELSETELEM, NLM_F_REQUEST | NLM_F_ACK)
        } else {
            (NFT_MSG_NEWSETELEM, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE)
        };
        let mut rest = change.elements.as_slice();
        while !rest.is_empty() {
            seq += 1;
            let m = w.message((NFNL_SUBSYS_NFTABLES << 8) | ty, flags, seq, NFPROTO_INET, 0);
            w.string(SET_ELEM_LIST_TABLE, TABLE);
            w.string(SET_ELEM_LIST_SET, &change.object);
            let list = w.nest(SET_ELEM_LIST_ELEMENTS);
            let before = w.buf.len();
            let mut taken = 0;
            // An interval's start and end travel in one message.
            while taken < rest.len() && (w.buf.len() - before < MESSAGE_BYTES || rest[taken].flags != 0) {
                w.element(&rest[taken]);
                taken += 1;
            }
            w.unnest(list);
            w.end(m);
            rest = &rest[taken..];
            let verb = if change.delete { "delete" } else { "add" };
            sent.push((seq, format!("{verb} elements of {}", change.object)));
        }
    }
    seq += 1;
    let end = w.message(NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq, 0, NFNL_SUBSYS_NFTABLES);
    w.end(end);
    (w.buf, sent)
}

/// Replies in a received buffer: `(type, seq, payload)`.
fn replies(buf: &[u8]) -> Vec<(u16, u32, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 16 <= buf.len() {
        let len = u32::from_ne_bytes(buf[at..at + 4].try_into().expect("4 bytes")) as usize;
        if len < 16 || at + len > buf.len() {
            break;
        }
        let ty = u16::from_ne_bytes([buf[at + 4], buf[at + 5]]);
        let seq = u32::from_ne_bytes(buf[at + 8..at + 12].try_into().expect("4 bytes"));
        out.push((ty, seq, &buf[at + 16..at + len]));
        at += (len + 3) & !3;
    }
    out
}

/// A netlink socket for nf_tables in one network namespace.
pub struct Netlink {
    fd: OwnedFd,
    seq: std::sync::atomic::AtomicU32,
}

impl std::fmt::Debug for Netlink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Netlink")
    }
}

fn io(what: &str) -> impl Fn(nix::Error) -> Error + '_ {
    move |e| Error::Netlink(format!("{what}: {e}"))
}

impl Netlink {
    /// Opens the socket in the current network namespace (run it on a thread
    /// inside another to talk to that one: the socket stays bound to it).
    pub fn open() -> Result<Netlink> {
        let fd = socket(AddressFamily::Netlink, SockType::Raw, SockFlag::SOCK_CLOEXEC, SockProtocol::NetlinkNetFilter)
            .map_err(io("socket"))?;
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0)).map_err(io("bind"))?;
        // A batch is one datagram; as root the buffers may exceed the sysctl limits.
        let _ = setsockopt(&fd, sockopt::SndBufForce, &(64 << 20));
        let _ = setsockopt(&fd, sockopt::RcvBufForce, &(8 << 20));
        setsockopt(&fd, sockopt::ReceiveTimeout, &TimeVal::new(30, 0)).map_err(io("timeout"))?;
        let seq = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as u32);
        Ok(Netlink { fd, seq: std::sync::atomic::AtomicU32::new(seq.unwrap_or(1)) })
    }

    fn next_seq(&self, n: usize) -> u32 {
        self.seq.fetch_add(n as u32 + 2, std::sync::atomic::Ordering::Relaxed)
    }

    /// Applies the changes in one transaction: deletions and additions in
    /// the order given. Either all of them hold afterwards or none.
    pub fn apply(&self, changes: &[ElementChange]) -> Result<()> {
        // At most one message per element, and one per change.
        let messages: usize = changes.iter().map(|c| c.elements.len() + 1).sum();
        let (buf, sent) = batch(changes, self.next_seq(messages));
        if sent.is_empty() {
            return Ok(());
        }
        send(self.fd.as_raw_fd(), &buf, MsgFlags::empty()).map_err(io("send"))?;
        let mut pending: std::collections::BTreeMap<u32, String> = sent.into_iter().collect();
        let mut first_error = None;
        let mut rx = vec![0u8; 1 << 16];
        while !pending.is_empty() {
            let n = match recv(self.fd.as_raw_fd(), &mut rx, MsgFlags::empty()) {
                Ok(n) => n,
                // After an error the kernel may not acknowledge the rest.
                Err(_) if first_error.is_some() => break,
                Err(e) => return Err(io("receive")(e)),
            };
            for (ty, seq, payload) in replies(&rx[..n]) {
                let Some(what) = pending.remove(&seq) else { continue };
                if ty == NLMSG_ERROR && payload.len() >= 4 {
                    let code = i32::from_ne_bytes(payload[..4].try_into().expect("4 bytes"));
                    if code != 0 && first_error.is_none() {
                        let cause = std::io::Error::from_raw_os_error(-code);
                        first_error = Some(Error::Netlink(format!("{what}: {cause}")));
                        let _ = setsockopt(&self.fd, sockopt::ReceiveTimeout, &TimeVal::new(0, 200_000));
                    }
                }
            }
        }
        if first_error.is_some() {
            let _ = setsockopt(&self.fd, sockopt::ReceiveTimeout, &TimeVal::new(30, 0));
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The namespace's ruleset generation: it changes with every committed
    /// nf_tables transaction, whoever made it.
    pub fn generation(&self) -> Result<u32> {
        let seq = self.next_seq(0);
        let mut w = Writer::default();
        let m = w.message((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN, NLM_F_REQUEST, seq, 0, 0);
        w.end(m);
        send(self.fd.as_raw_fd(), &w.buf, MsgFlags::empty()).map_err(io("send"))?;
        let mut rx = vec![0u8; 4096];
        loop {
            let n = recv(self.fd.as_raw_fd(), &mut rx, MsgFlags::empty()).map_err(io("receive"))?;
            for (ty, got, payload) in replies(&rx[..n]) {
                if got != seq {
                    continue;
                }
                if ty == NLMSG_ERROR {
                    let code = i32::from_ne_bytes(payload[..4].try_into().expect("4 bytes"));
                    return Err(Error::Netlink(format!("generation: {}", std::io::Error::from_raw_os_error(-code))));
                }
                if ty == (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN {
                    return generation_id(&payload[4..])
                        .ok_or_else(|| Error::Netlink("generation reply without an id".into()));
                }
            }
        }
    }
}

/// `NFTA_GEN_ID` among the attributes of a generation reply.
fn generation_id(mut attrs: &[u8]) -> Option<u32> {
    while attrs.len() >= 4 {
        let len = u16::from_ne_bytes([attrs[0], attrs[1]]) as usize;
        let ty = u16::from_ne_bytes([attrs[2], attrs[3]]) & !NLA_F_NESTED;
        if len < 4 || len > attrs.len() {
            return None;
        }
        if ty == GEN_ID && len >= 8 {
            return Some(u32::from_be_bytes(attrs[4..8].try_into().ok()?));
        }
        attrs = &attrs[((len + 3) & !3).min(attrs.len())..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_framed_and_split_into_messages() {
        let elements: Vec<RawElement> = (0..5000u32)
            .map(|i| RawElement { key: i.to_be_bytes().to_vec(), key_end: None, flags: 0, verdict: None })
            .collect();
        let change = ElementChange { object: "s".into(), delete: false, elements };
        let (buf, sent) = batch(&[change], 7);
        let replies = replies(&buf);
        assert_eq!(replies.first().map(|r| (r.0, r.1)), Some((NFNL_MSG_BATCH_BEGIN, 7)));
        assert_eq!(replies.last().map(|r| r.0), Some(NFNL_MSG_BATCH_END));
        assert!(sent.len() > 1, "5000 elements do not fit one message");
        assert_eq!(replies.len(), sent.len() + 2);
        for (_, _, payload) in &replies[1..replies.len() - 1] {
            assert!(payload.len() < 65_000);
        }
        assert_eq!(batch(&[], 1).1.len(), 0);
    }

    #[test]
    fn reads_the_generation_id() {
        let attrs = [8u8, 0, 1, 0, 0, 0, 1, 2];
        assert_eq!(generation_id(&attrs), Some(258));
        assert_eq!(generation_id(&[3, 0]), None);
    }
}
