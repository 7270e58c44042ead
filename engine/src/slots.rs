//! The natively implemented mark slots, by `NAME`.  `NAMES` is the one list of
//! them: Python reads it as `tracer._engine.SLOTS`, and a mark plan that uses
//! any other slot is exported and read by the Python reference instead.

use std::collections::HashMap;

use crate::cn::Cn;
use crate::en::En;
use crate::simple::Simple;
use crate::site::Found;

pub const NAMES: [&str; 13] = [
    "cn_address.province",
    "cn_address.city",
    "cn_address.building",
    "cn_address.lou",
    "en_address.street_type",
    "en_address.unit",
    "en_address.direction",
    "phone.layout",
    "number.parity",
    "timestamp.seconds",
    "email.case",
    "cn_address.estate",
    "en_address.ordinal",
];

pub struct Slots {
    simple: Simple,
    cn: Cn,
    en: En,
}

impl Slots {
    pub fn new(provinces: Vec<(String, String)>, cities: HashMap<String, Vec<String>>) -> Slots {
        Slots { simple: Simple::new(), cn: Cn::new(provinces, cities), en: En::new() }
    }

    /// The slot's site in `cell`; `slot` indexes `NAMES`; its variants made only when `want`ed (a write's).
    pub fn locate(&self, slot: usize, cell: &str, want: bool) -> Found {
        match slot {
            0 => self.cn.province_suffix(cell, want),
            1 => self.cn.city_shi(cell, want),
            2 => self.cn.building(cell, want),
            3 => self.cn.lou(cell, want),
            4 => self.en.street(cell, want),
            5 => self.en.unit(cell, want),
            6 => self.en.direction(cell, want),
            7 => self.simple.phone_layout(cell, want),
            8 => self.simple.number_parity(cell, want),
            9 => self.simple.timestamp_seconds(cell, want),
            10 => self.simple.email_case(cell, want),
            11 => crate::cn::estate(cell, want),
            12 => self.en.ordinal(cell, want),
            _ => Found::Unsure,
        }
    }
}

pub fn slot_index(name: &str) -> Option<usize> {
    NAMES.iter().position(|n| *n == name)
}
