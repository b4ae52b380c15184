//! `iommugen`: the command-line front end.

fn main() {
    println!("iommugen: not yet");
}
