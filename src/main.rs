//! The `qlab` command-line tool.

fn main() {
    println!("qlab");
}
