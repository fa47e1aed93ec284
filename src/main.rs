//! The page's entry point: mounts `ciba_approval::app::App` into `<body>`, unless the page is a
//! host that renders the UI itself through the mount entry point (`/ciba/mount.js`).

fn main() {
    ciba_approval::perf::main_started();
    // A host page using the mount entry point (`/ciba/mount.js`) renders the UI where it wants it.
    let mount_only = js_sys::Reflect::get(&js_sys::global(), &"__cibaApprovalMountOnly".into())
        .is_ok_and(|flag| flag.is_truthy());
    if !mount_only {
        leptos::mount::mount_to_body(ciba_approval::app::App);
    }
}
