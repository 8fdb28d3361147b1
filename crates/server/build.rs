// `sqlx::migrate!` embeds the migration files at compile time, but cargo does not notice a
// file added to the folder: without this a new migration silently stays out of the binary.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
