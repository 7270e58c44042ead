//! Time each native slot on a typical cell (cargo run --release --no-default-features --example speed).
use std::collections::HashMap;
use std::time::Instant;

use _engine::slots::{Slots, NAMES};

fn main() {
    let provinces = vec![("江苏".to_string(), "江苏省".to_string()), ("北京".to_string(), "北京市".to_string())];
    let mut cities = HashMap::new();
    cities.insert("江苏".to_string(), vec!["南京".to_string(), "苏州".to_string(), "无锡".to_string()]);
    let slots = Slots::new(provinces, cities);
    let address = "江苏省苏州市吴中区解放大道98号5栋1单元201室";
    let cells = [address, address, address, address, address, address, address, "19860645094", "1.5",
                 "2024-01-01 09:14:46", "john.smith@gmail.com"];
    for (slot, cell) in cells.iter().enumerate() {
        let n = 200_000;
        let t = Instant::now();
        let mut found = 0;
        for _ in 0..n {
            found += matches!(slots.locate(slot, cell, false), _engine::site::Found::Site(_)) as usize;
        }
        println!("{:24} {:8.3} us  (found {})", NAMES[slot], t.elapsed().as_secs_f64() / n as f64 * 1e6, found / n);
    }
}
