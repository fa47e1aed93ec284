fn main() {
    leptos::mount::mount_to_body(ciba_approval::App);
}
