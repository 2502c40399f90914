use super::*;

fn load(bytes: &[u8]) -> String {
    crate::text::decode(bytes).text
}

macro_rules! sample {
    ($name:literal) => {
        load(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/reference/events/",
            $name
        )))
    };
}

#[test]
#[allow(clippy::print_stdout)]
fn dump() {
    for t in [
        sample!("01-eventviewer-copy-details_tls-chain_EX02.txt"),
        sample!("02-wevtutil-text_proxy-407_EX05.txt"),
        sample!("03-get-winevent-fl_dns_de-DE_EX06.txt"),
        sample!("04-wevtutil-xml_unable-to-connect_EX04.xml"),
        sample!("05-eventviewer-csv_untrusted-endpoint-old-build_EX03.csv"),
        sample!("06-forum-paste_doubled-lines_tls-chain_EX02.txt"),
    ] {
        let p = parse(Source::new(&t));
        println!("{}", serde_json::to_string_pretty(&p).unwrap());
    }
}
