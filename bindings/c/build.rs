//! The shared library's soname names only the major version
//! (`libpulumi_azure_oidc.so.0`): a program linked against one release loads any
//! later release with the same major version, which the C SDK ships as
//! `libpulumi_azure_oidc.so.<version>` with the soname as a symlink.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // `-soname` is the ELF linkers' flag; other targets name their libraries otherwise.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libpulumi_azure_oidc.so.{major}");
}
