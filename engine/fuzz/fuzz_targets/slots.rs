//! Any text through every native slot and anchor: no panic, sites on character boundaries inside
//! the cell, and the slot laws of `channels/_base.py` (writing either variant reads back as that
//! variant, with the same two variants).  Byte equality with Python is the differential tests'.
#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use _engine::anchors::{id_anchor, phone_anchor};
use _engine::rows::embed;
use _engine::site::Found;
use _engine::slots::{Slots, NAMES};
use libfuzzer_sys::fuzz_target;

fn slots() -> Slots {
    let provinces = [("江苏", "江苏省"), ("广西", "广西壮族自治区"), ("北京", "北京市"), ("内蒙古", "内蒙古自治区")];
    let mut cities = HashMap::new();
    cities.insert("江苏".to_string(), vec!["南京".to_string(), "苏州".to_string()]);
    cities.insert("广西".to_string(), vec!["南宁".to_string()]);
    Slots::new(provinces.iter().map(|(s, f)| (s.to_string(), f.to_string())).collect(), cities)
}

fuzz_target!(|data: &[u8]| {
    let Ok(cell) = std::str::from_utf8(data) else { return };
    let _ = (phone_anchor(cell), id_anchor(cell));
    static SLOTS: OnceLock<Slots> = OnceLock::new();
    let slots = SLOTS.get_or_init(slots);
    for slot in 0..NAMES.len() {
        let Found::Site(site) = slots.locate(slot, cell, true) else {
            assert!(!matches!(slots.locate(slot, cell, false), Found::Site(_)), "{}", NAMES[slot]);
            continue;
        };
        let Found::Site(read) = slots.locate(slot, cell, false) else { panic!("{}: a read lost the site", NAMES[slot]) };
        assert_eq!((read.start, read.end, read.bit), (site.start, site.end, site.bit), "{}", NAMES[slot]);
        assert!(site.start <= site.end && site.end <= cell.len());
        assert!(cell.is_char_boundary(site.start) && cell.is_char_boundary(site.end));
        assert_eq!(&cell[site.start..site.end], site.variants[site.bit as usize], "{}", NAMES[slot]);
        for bit in 0..2u8 {
            let written = embed(cell, &site, bit);
            match slots.locate(slot, &written, true) {
                Found::Site(again) => {
                    assert_eq!(again.bit, bit, "{}: {cell:?} -> {written:?}", NAMES[slot]);
                    assert_eq!(again.variants, site.variants, "{}", NAMES[slot]);
                }
                Found::Unsure => {}
                Found::Absent => panic!("{}: {cell:?} -> {written:?} lost its site", NAMES[slot]),
            }
        }
    }
});
