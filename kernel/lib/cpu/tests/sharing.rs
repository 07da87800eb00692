//! The sharing rules, simulated: a CPU handing out 1 ms slices the way berth's
//! scheduler does (the unthrottled group of least virtual time runs next).

use berth_cpu::{Bandwidth, FairShare, PERIOD_NS};

const SLICE: u64 = 1_000_000;

struct Group {
    share: FairShare,
    bandwidth: Bandwidth,
    used: u64,
}

fn group(weight: u32, cpu_millis: u32) -> Group {
    Group { share: FairShare::new(weight), bandwidth: Bandwidth::new(cpu_millis), used: 0 }
}

/// Runs `groups` for `ns` of simulated time; idle slices when all are throttled.
fn run(groups: &mut [Group], ns: u64) {
    let mut now = 0;
    while now < ns {
        let next = groups.iter_mut().filter(|g| !g.bandwidth.throttled(now)).min_by_key(|g| g.share.vruntime());
        if let Some(g) = next {
            g.share.charge(SLICE);
            g.bandwidth.charge(SLICE, now);
            g.used += SLICE;
        }
        now += SLICE;
    }
}

#[test]
fn weights_divide_the_cpu_in_proportion() {
    let mut groups = [group(1024, 1000), group(512, 1000), group(2048, 1000)];
    run(&mut groups, 7_000 * SLICE);
    let used: Vec<u64> = groups.iter().map(|g| g.used / SLICE).collect();
    assert_eq!(used, [2000, 1000, 4000]);
}

#[test]
fn a_bandwidth_limit_caps_a_group_even_alone() {
    let mut groups = [group(1024, 250)];
    run(&mut groups, 10 * PERIOD_NS);
    assert_eq!(groups[0].used, 10 * PERIOD_NS / 4);
    // Beside an unlimited group, the limited one still gets its quarter, no more.
    let mut pair = [group(1024, 250), group(1024, 1000)];
    run(&mut pair, 10 * PERIOD_NS);
    assert_eq!(pair[0].used, 10 * PERIOD_NS / 4);
    assert_eq!(pair[1].used, 10 * PERIOD_NS * 3 / 4);
}

#[test]
fn a_sleeper_catches_up_instead_of_bursting() {
    let busy = FairShare::new(1024);
    busy.charge(500 * SLICE);
    let sleeper = FairShare::new(1024);
    sleeper.catch_up(busy.vruntime());
    assert_eq!(sleeper.vruntime(), busy.vruntime());
    // Catching up never moves a group back.
    busy.catch_up(0);
    assert_eq!(busy.vruntime(), 500 * SLICE);
    assert_eq!(FairShare::new(0).weight(), 2, "weights are clamped");
    assert!(!Bandwidth::new(0).throttled(0), "0 is no limit");
}
