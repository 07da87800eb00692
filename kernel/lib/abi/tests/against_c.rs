//! Every constant, struct layout, errno and syscall number in the crate, checked against
//! the C headers installed on the host (glibc's and the kernel's UAPI headers).
//!
//! Constants need no list here: `abi_consts!` records each one in `verify::CONSTS` with
//! its C spelling and header set. Structs are listed in `against_c/layouts.rs` with the C type and the
//! C name of each field; listing every field is enforced (their sizes must add up to the
//! struct's, which `zerocopy::IntoBytes` guarantees has no implicit padding).

#[path = "against_c/encodings.rs"]
mod encodings;
#[path = "against_c/harness.rs"]
mod harness;
#[path = "against_c/layouts.rs"]
mod layouts;

use berth_abi::errno::Errno;
use berth_abi::syscalls;
use berth_abi::verify::{CONSTS, Headers};
use harness::Checks;
use std::collections::BTreeSet;
use std::path::Path;

/// Every `abi_consts!` constant.
fn constants(k: &mut Checks) {
    for table in CONSTS {
        for c in *table {
            k.int(c.headers, &format!("const:{}", c.name), c.c_expr, c.value, c.bits);
        }
    }
}

/// Every errno's value and `strerror` text, and the three aliases.
fn errnos(k: &mut Checks) {
    for &e in Errno::ALL {
        let name = e.name();
        k.int(Headers::Libc, &format!("errno:{name}"), name, e.as_i32() as i128, 32);
        k.string(Headers::Libc, &format!("strerror:{name}"), &format!("strerror({name})"), &e.to_string());
    }
    for (name, e) in [("EWOULDBLOCK", Errno::EWOULDBLOCK), ("EDEADLOCK", Errno::EDEADLOCK), ("ENOTSUP", Errno::ENOTSUP)]
    {
        k.int(Headers::Libc, &format!("errno:{name}"), name, e.as_i32() as i128, 32);
    }
}

/// Every syscall number the installed headers know (newer ones are reported as skipped).
fn syscall_numbers(k: &mut Checks) {
    for &(nr, name) in syscalls::ALL {
        k.int_if_defined(Headers::Kernel, &format!("sys:{name}"), &format!("__NR_{name}"), nr as i128, 64);
    }
}

#[test]
fn abi_matches_c_headers() {
    let mut k = Checks::default();
    constants(&mut k);
    layouts::layouts(&mut k);
    errnos(&mut k);
    syscall_numbers(&mut k);
    encodings::encodings(&mut k);
    let report = k.run(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("berth-abi-against-c"));
    if !report.skipped.is_empty() {
        eprintln!("not in the installed headers, unchecked: {}", report.skipped.join(" "));
    }
    eprintln!("{} values compared with C", report.compared);
    assert!(report.mismatches.is_empty(), "{} mismatches:\n{}", report.mismatches.len(), report.mismatches.join("\n"));
}

/// Every `__NR_*` in `<asm/unistd_64.h>` is in the crate, under the same number.
#[test]
fn every_header_syscall_is_known() {
    let mut missing = Vec::new();
    for (name, value) in harness::macros(&["asm/unistd_64.h"]) {
        let Some(sys) = name.strip_prefix("__NR_") else { continue };
        let nr: usize = value.parse().unwrap_or_else(|_| panic!("__NR_{sys} = {value}"));
        if syscalls::name(nr) != Some(sys) {
            missing.push(format!("{sys} = {nr} (crate says {:?})", syscalls::name(nr)));
        }
    }
    assert!(missing.is_empty(), "syscalls the crate lacks or misnames:\n{}", missing.join("\n"));
}

/// `<errno.h>` names exactly the [`Errno`] variants, plus its three aliases.
#[test]
fn every_header_errno_is_known() {
    let mut header = BTreeSet::new();
    let mut wrong = Vec::new();
    for (name, value) in harness::macros(&["errno.h"]) {
        if !(name.len() > 1
            && name.starts_with('E')
            && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
        {
            continue;
        }
        if value.parse::<i32>().is_ok() {
            header.insert(name);
            continue;
        }
        let alias = match name.as_str() {
            "EWOULDBLOCK" => Errno::EWOULDBLOCK,
            "EDEADLOCK" => Errno::EDEADLOCK,
            "ENOTSUP" => Errno::ENOTSUP,
            _ => {
                wrong.push(format!("{name} = {value}: an alias the crate lacks"));
                continue;
            }
        };
        if alias.name() != value {
            wrong.push(format!("{name} = {value}, crate says {}", alias.name()));
        }
    }
    let crate_names: BTreeSet<String> = Errno::ALL.iter().map(|e| e.name().to_string()).collect();
    for name in header.symmetric_difference(&crate_names) {
        wrong.push(format!("{name}: in only one of <errno.h> and the crate"));
    }
    assert!(wrong.is_empty(), "errnos the crate lacks or gets wrong:\n{}", wrong.join("\n"));
}
