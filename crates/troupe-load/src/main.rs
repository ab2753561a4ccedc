//! `troupe-load`: see `troupe-load --help`.

fn main() {
    std::process::exit(troupe_load::main_with_args(std::env::args_os()));
}
