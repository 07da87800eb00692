//! The answers of the resolver a container on a user-defined network asks at
//! 127.0.0.11, as Docker's embedded DNS server: the addresses of the containers on
//! its networks, by name and alias. A name it does not know is refused, so that the
//! resolver library goes on to the next `nameserver` of the container's
//! `/etc/resolv.conf` (the machine's), as glibc, musl and Go all do on `REFUSED`.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;
use simple_dns::rdata::{A, RData};
use simple_dns::{CLASS, Packet, PacketFlag, QCLASS, QTYPE, RCODE, ResourceRecord, TYPE};

/// Where containers find the resolver (Docker's address for it).
pub const RESOLVER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);

/// How long clients may keep an answer, in seconds (Docker's).
const TTL: u32 = 600;

/// The reply to the DNS query `query`, with the addresses `lookup` gives each name
/// (an empty list for a name it does not know; names arrive in lower case, without
/// a trailing dot). `None` for what is not a query this resolver answers (a reply,
/// or bytes that are no DNS message): it is dropped, as a server drops garbage.
pub fn answer(query: &[u8], lookup: impl Fn(&str) -> Vec<Ipv4Addr>) -> Option<Vec<u8>> {
    let packet = Packet::parse(query).ok()?;
    if packet.has_flags(PacketFlag::RESPONSE) {
        return None;
    }
    let recursion = packet.has_flags(PacketFlag::RECURSION_DESIRED);
    let mut reply = packet.clone().into_reply();
    reply.set_flags(PacketFlag::RECURSION_AVAILABLE);
    if recursion {
        reply.set_flags(PacketFlag::RECURSION_DESIRED);
    }
    // One question per query, as every resolver library sends.
    let [question] = &packet.questions[..] else {
        *reply.rcode_mut() = RCODE::FormatError;
        return reply.build_bytes_vec().ok();
    };
    let name = name_of(question);
    let addresses = lookup(&name);
    let class_in = matches!(question.qclass, QCLASS::CLASS(CLASS::IN) | QCLASS::ANY);
    if addresses.is_empty() || !class_in {
        *reply.rcode_mut() = RCODE::Refused;
        return reply.build_bytes_vec().ok();
    }
    // A known name: its IPv4 addresses for A (and ANY); no records of other types,
    // which is still an answer (NOERROR), so the client asks no one else.
    if matches!(question.qtype, QTYPE::TYPE(TYPE::A) | QTYPE::ANY) {
        for ip in addresses {
            let record = RData::A(A { address: u32::from(ip) });
            reply.answers.push(ResourceRecord::new(question.qname.clone(), CLASS::IN, TTL, record));
        }
    }
    reply.build_bytes_vec().ok()
}

/// The name a question asks for, in lower case and without a trailing dot.
fn name_of(question: &simple_dns::Question<'_>) -> String {
    let mut name = alloc::format!("{}", question.qname);
    name.make_ascii_lowercase();
    while name.ends_with('.') {
        name.pop();
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use simple_dns::{Name, Question};

    fn query(name: &str, qtype: TYPE) -> Vec<u8> {
        let mut q = Packet::new_query(0x1234);
        q.set_flags(PacketFlag::RECURSION_DESIRED);
        q.questions.push(Question::new(Name::new_unchecked(name), qtype.into(), CLASS::IN.into(), false));
        q.build_bytes_vec().unwrap()
    }

    fn web(name: &str) -> Vec<Ipv4Addr> {
        match name {
            "web" | "web-alias" => alloc::vec![Ipv4Addr::new(172, 18, 0, 2)],
            _ => Vec::new(),
        }
    }

    fn a_records(reply: &Packet<'_>) -> Vec<Ipv4Addr> {
        reply
            .answers
            .iter()
            .filter_map(|r| match &r.rdata {
                RData::A(a) => Some(Ipv4Addr::from(a.address)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_known_name_gets_its_address() {
        let bytes = answer(&query("Web", TYPE::A), web).unwrap();
        let reply = Packet::parse(&bytes).unwrap();
        assert_eq!(reply.id(), 0x1234);
        assert!(
            reply.has_flags(PacketFlag::RESPONSE | PacketFlag::RECURSION_DESIRED | PacketFlag::RECURSION_AVAILABLE)
        );
        assert_eq!(reply.rcode(), RCODE::NoError);
        assert_eq!(reply.questions.len(), 1, "the question is repeated");
        assert_eq!(a_records(&reply), [Ipv4Addr::new(172, 18, 0, 2)]);
        assert_eq!(reply.answers[0].ttl, TTL);
    }

    #[test]
    fn a_trailing_dot_and_an_alias_are_the_same_name() {
        let bytes = answer(&query("web-alias.", TYPE::A), web).unwrap();
        assert_eq!(a_records(&Packet::parse(&bytes).unwrap()), [Ipv4Addr::new(172, 18, 0, 2)]);
    }

    #[test]
    fn other_types_of_a_known_name_get_an_empty_answer() {
        let bytes = answer(&query("web", TYPE::AAAA), web).unwrap();
        let reply = Packet::parse(&bytes).unwrap();
        assert_eq!(reply.rcode(), RCODE::NoError);
        assert!(reply.answers.is_empty());
    }

    #[test]
    fn unknown_names_are_refused_so_the_next_server_is_asked() {
        let bytes = answer(&query("example.com", TYPE::A), web).unwrap();
        let reply = Packet::parse(&bytes).unwrap();
        assert_eq!(reply.rcode(), RCODE::Refused);
        assert!(reply.answers.is_empty());
        assert_eq!(reply.id(), 0x1234);
    }

    #[test]
    fn replies_and_garbage_get_no_answer() {
        let reply = answer(&query("web", TYPE::A), web).unwrap();
        assert!(answer(&reply, web).is_none(), "a reply is not answered");
        assert!(answer(b"\x12\x34\x01", web).is_none());
        assert!(answer(&[], web).is_none());
        let mut cut = query("web", TYPE::A);
        cut.truncate(cut.len() - 3);
        assert!(answer(&cut, web).is_none());
    }

    #[test]
    fn two_questions_are_a_format_error() {
        let mut q = Packet::new_query(7);
        for name in ["web", "web-alias"] {
            q.questions.push(Question::new(Name::new_unchecked(name), TYPE::A.into(), CLASS::IN.into(), false));
        }
        let bytes = answer(&q.build_bytes_vec().unwrap(), web).unwrap();
        assert_eq!(Packet::parse(&bytes).unwrap().rcode(), RCODE::FormatError);
    }
}
