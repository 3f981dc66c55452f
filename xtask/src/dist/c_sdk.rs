//! The C SDK tarball, `pulumi-azure-oidc-c-sdk-<version>-linux-x86_64.tar.gz`: the
//! shared and static libraries, the header, a pkg-config file and a CMake package.
//! Everything in it is relocatable (paths are found from the file that names them),
//! so it works wherever it is unpacked, without installing.
//!
//! Its test builds against the unpacked tarball alone, the ways users do: C through
//! pkg-config and through CMake, each shared and static, and Go through cgo.

use crate::capi::STATIC_LINK_LIBS;
use crate::{Result, root, target_dir};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The library's name in `-l`, pkg-config and CMake.
const LIB: &str = "pulumi_azure_oidc";
/// The only platform the libraries are built for: the host's.
const PLATFORM: &str = "linux-x86_64";

fn top(version: &str) -> String {
    format!("pulumi-azure-oidc-c-sdk-{version}")
}

fn archive(dist: &Path, version: &str) -> PathBuf {
    dist.join(format!("{}-{PLATFORM}.tar.gz", top(version)))
}

fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// What bindings/c/build.rs links into the shared library.
fn soname(version: &str) -> String {
    format!("lib{LIB}.so.{}", major(version))
}

fn io<T>(what: &Path, r: std::io::Result<T>) -> Result<T> {
    r.map_err(|e| format!("{}: {e}", what.display()))
}

/// `dir`, emptied or made.
fn fresh(dir: &Path) -> Result {
    if dir.exists() {
        io(dir, std::fs::remove_dir_all(dir))?;
    }
    io(dir, std::fs::create_dir_all(dir))
}

/// Run a command, returning its stdout; a failure names the command and shows what
/// it printed.
fn capture(command: &mut Command) -> Result<String> {
    let line = format!("{command:?}");
    eprintln!("$ {line}");
    super::stdout_of(command, &line)
}

/// A command that sees none of the caller's search paths, so that what it builds or
/// runs can only have found the library in the unpacked tarball.
fn hermetic(program: &str) -> Command {
    let mut command = Command::new(program);
    for name in [
        "LD_LIBRARY_PATH",
        "LIBRARY_PATH",
        "CPATH",
        "C_INCLUDE_PATH",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
        "CMAKE_PREFIX_PATH",
        "CFLAGS",
        "LDFLAGS",
    ] {
        command.env_remove(name);
    }
    command
}

fn check_platform() -> Result {
    if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        Ok(())
    } else {
        Err(format!(
            "the C SDK is built for {PLATFORM} only, on such a host"
        ))
    }
}

/// `cargo xtask dist`: the C SDK tarball.
pub(crate) fn build(dist: &Path, version: &str) -> Result {
    check_platform()?;
    crate::system_packages("the C SDK", &[("strip", "--version", "binutils")])?;
    let release = super::native_release()?;

    let top = top(version);
    let folder = super::staging().join(&top);
    fresh(&folder)?;
    let lib = folder.join("lib");
    let cmake = lib.join("cmake").join(LIB);
    for dir in [folder.join("include"), lib.join("pkgconfig"), cmake.clone()] {
        io(&dir, std::fs::create_dir_all(&dir))?;
    }

    let real = format!("lib{LIB}.so.{version}");
    let so = lib.join(&real);
    io(
        &so,
        std::fs::copy(release.join(format!("lib{LIB}.so")), &so),
    )?;
    let a = lib.join(format!("lib{LIB}.a"));
    io(&a, std::fs::copy(release.join(format!("lib{LIB}.a")), &a))?;
    // Release builds carry no debug info of ours, but the standard library's and the
    // C dependencies' may; `-D` keeps the archive's member dates and owners zero.
    crate::sh("strip", &["--strip-debug", &so.to_string_lossy()])?;
    crate::sh("strip", &["--strip-debug", "-D", &a.to_string_lossy()])?;
    let soname = soname(version);
    let soname_link = lib.join(&soname);
    io(
        &soname_link,
        std::os::unix::fs::symlink(&real, &soname_link),
    )?;
    let dev_link = lib.join(format!("lib{LIB}.so"));
    io(&dev_link, std::os::unix::fs::symlink(&soname, &dev_link))?;

    let header = root().join(crate::header::HEADER);
    let header_copy = folder.join("include").join(format!("{LIB}.h"));
    io(&header_copy, std::fs::copy(&header, &header_copy))?;

    write(
        &lib.join("pkgconfig").join(format!("{LIB}.pc")),
        &pkg_config(version),
    )?;
    write(
        &cmake.join(format!("{LIB}-config.cmake")),
        &cmake_config(version),
    )?;
    write(
        &cmake.join(format!("{LIB}-config-version.cmake")),
        &cmake_config_version(version),
    )?;
    write(&folder.join("README.md"), &readme(version)?)?;
    let licences = folder.join("LICENSES");
    io(&licences, std::fs::create_dir_all(&licences))?;
    super::licences::write(
        &licences.join("THIRD-PARTY-LICENSES.html"),
        "pulumi-azure-oidc-capi",
        super::NATIVE_TARGET,
    )?;
    normalise_modes(&folder)?;

    let out = archive(dist, version);
    super::tarball(&folder, &top, &out)
}

fn write(path: &Path, text: &str) -> Result {
    io(path, std::fs::write(path, text))
}

/// Modes as a package carries them, whatever this machine's umask: the shared
/// library and folders 0755, everything else 0644 (symlinks have none).
fn normalise_modes(dir: &Path) -> Result {
    use std::os::unix::fs::PermissionsExt as _;
    for entry in io(dir, std::fs::read_dir(dir))? {
        let path = io(dir, entry)?.path();
        let meta = io(&path, path.symlink_metadata())?;
        if meta.file_type().is_symlink() {
            continue;
        }
        let shared = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.contains(".so."));
        let mode = if meta.is_dir() || shared {
            0o755
        } else {
            0o644
        };
        io(
            &path,
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)),
        )?;
        if meta.is_dir() {
            normalise_modes(&path)?;
        }
    }
    Ok(())
}

/// Relocatable: pkg-config sets `pcfiledir` to the folder this file is found in.
fn pkg_config(version: &str) -> String {
    format!(
        "prefix=${{pcfiledir}}/../..\n\
         libdir=${{prefix}}/lib\n\
         includedir=${{prefix}}/include\n\
         \n\
         Name: {LIB}\n\
         Description: Pulumi Cloud to Azure OIDC: subjects, plans, renders and diagnosis\n\
         Version: {version}\n\
         Libs: -L${{libdir}} -l{LIB}\n\
         Libs.private: {private}\n\
         Cflags: -I${{includedir}}\n",
        private = STATIC_LINK_LIBS.join(" "),
    )
}

/// Relocatable: the prefix is found from this file's own folder, `lib/cmake/<name>/`.
fn cmake_config(version: &str) -> String {
    let soname = soname(version);
    let system_libs: Vec<&str> = STATIC_LINK_LIBS
        .iter()
        .map(|l| l.trim_start_matches("-l"))
        .collect();
    let system_libs = system_libs.join(";");
    format!(
        r#"# CMake package of the pulumi-azure-oidc C SDK {version}:
#   find_package({LIB} CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE {LIB}::{LIB})   # shared
#   target_link_libraries(app PRIVATE {LIB}::static)        # static

get_filename_component(_{LIB}_prefix "${{CMAKE_CURRENT_LIST_DIR}}/../../.." ABSOLUTE)

if(NOT TARGET {LIB}::{LIB})
  add_library({LIB}::{LIB} SHARED IMPORTED)
  set_target_properties({LIB}::{LIB} PROPERTIES
    IMPORTED_LOCATION "${{_{LIB}_prefix}}/lib/lib{LIB}.so.{version}"
    IMPORTED_SONAME "{soname}"
    INTERFACE_INCLUDE_DIRECTORIES "${{_{LIB}_prefix}}/include")
endif()

if(NOT TARGET {LIB}::static)
  add_library({LIB}::static STATIC IMPORTED)
  # The system libraries the Rust standard library needs (rustc's native-static-libs).
  set_target_properties({LIB}::static PROPERTIES
    IMPORTED_LOCATION "${{_{LIB}_prefix}}/lib/lib{LIB}.a"
    IMPORTED_LINK_INTERFACE_LANGUAGES "C"
    INTERFACE_INCLUDE_DIRECTORIES "${{_{LIB}_prefix}}/include"
    INTERFACE_LINK_LIBRARIES "{system_libs}")
endif()

unset(_{LIB}_prefix)
"#
    )
}

/// Compatible with any request of the same major version up to this one, as the
/// soname promises; exact for this version; unsuitable for another platform.
fn cmake_config_version(version: &str) -> String {
    let major = major(version);
    format!(
        r#"set(PACKAGE_VERSION "{version}")

if(PACKAGE_FIND_VERSION_RANGE)
  if(PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION_MIN
     OR NOT PACKAGE_FIND_VERSION_MIN_MAJOR STREQUAL "{major}"
     OR (PACKAGE_FIND_VERSION_RANGE_MAX STREQUAL "INCLUDE" AND PACKAGE_VERSION VERSION_GREATER PACKAGE_FIND_VERSION_MAX)
     OR (PACKAGE_FIND_VERSION_RANGE_MAX STREQUAL "EXCLUDE" AND NOT PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION_MAX))
    set(PACKAGE_VERSION_COMPATIBLE FALSE)
  else()
    set(PACKAGE_VERSION_COMPATIBLE TRUE)
  endif()
elseif(PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION
       OR NOT PACKAGE_FIND_VERSION_MAJOR STREQUAL "{major}")
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()

# The libraries are {PLATFORM} ELF files. A project with no languages enabled has
# nothing to compare, so it is not refused.
if(CMAKE_SIZEOF_VOID_P AND NOT CMAKE_SIZEOF_VOID_P STREQUAL "8")
  math(EXPR _bits "${{CMAKE_SIZEOF_VOID_P}} * 8")
  set(PACKAGE_VERSION "${{PACKAGE_VERSION}} (64bit, not ${{_bits}}bit)")
  set(PACKAGE_VERSION_UNSUITABLE TRUE)
  unset(_bits)
elseif(CMAKE_SYSTEM_NAME AND NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
  set(PACKAGE_VERSION "${{PACKAGE_VERSION}} (Linux, not ${{CMAKE_SYSTEM_NAME}})")
  set(PACKAGE_VERSION_UNSUITABLE TRUE)
elseif(CMAKE_SYSTEM_PROCESSOR AND NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(PACKAGE_VERSION "${{PACKAGE_VERSION}} (x86_64, not ${{CMAKE_SYSTEM_PROCESSOR}})")
  set(PACKAGE_VERSION_UNSUITABLE TRUE)
endif()
"#
    )
}

/// The C example of the README, which the test builds and runs.
const EXAMPLE_C: &str = r#"#include <stdio.h>

#include "pulumi_azure_oidc.h"

int main(void) {
    /* A static string: never freed. */
    printf("pulumi_azure_oidc %s\n", paoidc_version());

    char *json = NULL;
    paoidc_status status = paoidc_credentials(
        "{\"kind\":\"deployment\",\"org\":\"contoso\",\"project\":\"core\",\"stack\":\"dev\"}", &json);
    if (status != PAOIDC_STATUS_OK) {
        /* The message is the library's, valid until the next paoidc_ call: not freed. */
        fprintf(stderr, "%s (%d): %s\n", paoidc_status_str(status), (int)status, paoidc_last_error_message());
        return 1;
    }
    /* {"target":…,"credentials":[{"name":…,"issuer":…,"subject":…,"audiences":[…]},…],"warnings":[]} */
    puts(json);
    /* Every string returned through an out parameter is the caller's to free. */
    paoidc_string_free(json);
    return 0;
}
"#;

/// The workspace's `license` expression, which the libraries are under.
fn workspace_licence() -> Result<String> {
    let path = root().join("Cargo.toml");
    let manifest = io(&path, std::fs::read_to_string(&path))?;
    manifest
        .lines()
        .skip_while(|l| l.trim() != "[workspace.package]")
        .find_map(|l| {
            let value = l.trim().strip_prefix("license")?.trim().strip_prefix('=')?;
            Some(value.trim().trim_matches('"').to_owned())
        })
        .ok_or_else(|| "Cargo.toml has no [workspace.package] license".into())
}

fn readme(version: &str) -> Result<String> {
    let top = top(version);
    let soname = soname(version);
    let major = major(version);
    let private = STATIC_LINK_LIBS.join(" ");
    let licence = workspace_licence()?;
    let mut tree = String::new();
    for (path, what) in [
        (
            format!("include/{LIB}.h"),
            "the API, with each function's rules".to_owned(),
        ),
        (
            format!("lib/lib{LIB}.so.{version}"),
            format!("shared library (soname {soname})"),
        ),
        (format!("lib/{soname}"), "symlink to it".to_owned()),
        (
            format!("lib/lib{LIB}.so"),
            format!("symlink to it, for -l{LIB}"),
        ),
        (format!("lib/lib{LIB}.a"), "static library".to_owned()),
        (
            format!("lib/pkgconfig/{LIB}.pc"),
            "pkg-config file".to_owned(),
        ),
        (format!("lib/cmake/{LIB}/"), "CMake package".to_owned()),
        (
            "LICENSES/THIRD-PARTY-LICENSES.html".to_owned(),
            "licences of what the libraries contain".to_owned(),
        ),
    ] {
        let _ = writeln!(tree, "  {path:<36} {what}");
    }
    Ok(format!(
        r#"# pulumi-azure-oidc C SDK {version} ({PLATFORM})

`libpulumi_azure_oidc` computes what Pulumi Cloud's OIDC tokens need in Azure (the
federated identity credentials of a Pulumi Deployments stack or an ESC environment,
with their exact issuer, subject and audience), plans, renders and diagnoses a
set-up, and provisions it: the same core as the `pulumi-azure-oidc` CLI, for C, C++,
Go, C# or anything else with a C FFI.

```
{top}/
{tree}```

The folder works wherever it is unpacked: the pkg-config file and the CMake package
find everything relative to themselves. Programs linked against the shared library
need `lib/` on the loader's path at run time (an rpath, `LD_LIBRARY_PATH`, or a copy in
a system library folder); the static library has no such need.

## The rules

- Every fallible call returns a `paoidc_status`: `PAOIDC_STATUS_OK` (0) or an error
  code; `paoidc_status_str(status)` names it and `paoidc_last_error_message()` says
  what was wrong, for the last call on the calling thread.
- Results come back as JSON (renders as text) through a `char **out` parameter. The
  caller owns them and frees each with `paoidc_string_free` (which accepts NULL).
- `paoidc_version`, `paoidc_status_str` and `paoidc_last_error_message` return strings
  the library owns: never free those.
- NULL, invalid UTF-8 and malformed input give a status, never a crash.

## Example

`app.c`:

```c
{EXAMPLE_C}```

## Build with pkg-config

```sh
export PKG_CONFIG_PATH=$PWD/{top}/lib/pkgconfig
# shared, with the library's folder as the program's rpath
cc -std=c11 app.c $(pkg-config --cflags --libs {LIB}) \
   -Wl,-rpath,$(pkg-config --variable=libdir {LIB}) -o app
# static: name the archive, and add the system libraries it needs
cc -std=c11 app.c $(pkg-config --static --cflags --libs {LIB} | sed 's/-l{LIB}/-l:lib{LIB}.a/') -o app
./app
```

`pkg-config --static --libs` adds the system libraries the static library needs:
`{private}`.

From Go (cgo), with the same `PKG_CONFIG_PATH` and
`CGO_LDFLAGS="-Wl,-rpath,$(pkg-config --variable=libdir {LIB})"` for the rpath:

```go
// #cgo pkg-config: {LIB}
// #include "pulumi_azure_oidc.h"
import "C"
```

## Build with CMake

```cmake
cmake_minimum_required(VERSION 3.16)
project(app C)
find_package({LIB} {major} CONFIG REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE {LIB}::{LIB})   # or {LIB}::static
```

```sh
cmake -S . -B build -DCMAKE_PREFIX_PATH=$PWD/{top}
cmake --build build && ./build/app
```

`{LIB}::{LIB}` is the shared library (CMake adds its folder to the rpath of
programs in the build tree); `{LIB}::static` is the static one, which brings
the system libraries it needs. The package accepts requests for version {major}.x up to
{version}.

## Licence

pulumi-azure-oidc is licensed {licence}. `LICENSES/THIRD-PARTY-LICENSES.html`
lists the licences of the Rust crates compiled into the libraries.
"#
    ))
}

/// Each check of the test, counted when it passes; the first failure ends the test.
struct Checks {
    passed: u64,
}

impl Checks {
    fn run(&mut self, name: &str, check: impl FnOnce() -> Result) -> Result {
        check().map_err(|e| format!("C SDK: {name}: {e}"))?;
        println!("ok   c-sdk: {name}");
        self.passed += 1;
        Ok(())
    }
}

/// Where the test unpacks and builds, and what it found there.
struct Sdk {
    version: String,
    /// The unpacked top folder.
    prefix: PathBuf,
    /// Programs built against it, made anew each run.
    work: PathBuf,
    /// Go's caches, kept between runs.
    go: PathBuf,
}

impl Sdk {
    fn pkg_config(&self) -> Command {
        let mut command = hermetic("pkg-config");
        command.env("PKG_CONFIG_PATH", self.prefix.join("lib/pkgconfig"));
        command
    }

    fn pkg_config_out(&self, args: &[&str]) -> Result<String> {
        let out = capture(self.pkg_config().args(args).arg(LIB))?;
        Ok(out.trim().to_owned())
    }

    /// The example's expected output: the version, then the four subjects.
    fn check_example_output(&self, printed: &str) -> Result {
        let first = printed.lines().next().unwrap_or_default();
        if first != format!("pulumi_azure_oidc {}", self.version) {
            return Err(format!(
                "the first line is `{first}`, not the version {}",
                self.version
            ));
        }
        for op in ["preview", "update", "refresh", "destroy"] {
            let subject = format!(
                "\"subject\":\"pulumi:deploy:org:contoso:project:core:stack:dev:operation:{op}:scope:write\""
            );
            if !printed.contains(&subject) {
                return Err(format!("the output lacks {subject}:\n{printed}"));
            }
        }
        Ok(())
    }

    /// Run a built program with no library path of the caller's.
    fn run_example(&self, program: &Path) -> Result {
        let printed = capture(&mut hermetic(&program.to_string_lossy()))?;
        self.check_example_output(&printed)
    }

    /// Whether a program asks the loader for the shared library, by its soname.
    fn needs_shared(program: &Path, soname: &str) -> Result<bool> {
        let dynamic = capture(Command::new("readelf").arg("-d").arg(program))?;
        if dynamic
            .lines()
            .any(|l| l.contains("(NEEDED)") && l.contains(&format!("lib{LIB}")))
        {
            let wanted = format!("[{soname}]");
            return if dynamic.contains(&wanted) {
                Ok(true)
            } else {
                Err(format!(
                    "{} needs the library by another name than {soname}:\n{dynamic}",
                    program.display()
                ))
            };
        }
        Ok(false)
    }
}

/// gcc, CMake (with make), pkg-config, Go and readelf, installed with apt when
/// running as root.
fn tools() -> Result {
    // `go` has no `--version`; `version` is its spelling.
    crate::system_packages(
        "the C SDK's tests",
        &[
            ("gcc", "--version", "gcc"),
            ("make", "--version", "make"),
            ("cmake", "--version", "cmake"),
            ("pkg-config", "--version", "pkg-config"),
            ("go", "version", "golang-go"),
            ("readelf", "--version", "binutils"),
        ],
    )
}

/// `cargo xtask test-dist`: the C SDK tarball, unpacked, as users build against it.
pub(crate) fn test(dist: &Path, version: &str) -> Result<(u64, u64)> {
    check_platform()?;
    let tarball = archive(dist, version);
    if !tarball.exists() {
        return Err(format!(
            "{} is missing: run `cargo xtask dist` first",
            tarball.display()
        ));
    }
    tools()?;
    let base = super::scratch();
    let unpacked = base.join("c-sdk");
    super::unpack(&tarball, &unpacked)?;
    let work = base.join("c-sdk-work");
    fresh(&work)?;
    let sdk = Sdk {
        version: version.to_owned(),
        prefix: unpacked.join(top(version)),
        work,
        go: base.join("go"),
    };
    write(&sdk.work.join("app.c"), EXAMPLE_C)?;

    let mut checks = Checks { passed: 0 };
    checks.run("the tarball's files", || layout(&tarball, version))?;
    checks.run("the shared library's soname", || {
        let so = sdk.prefix.join(format!("lib/lib{LIB}.so.{version}"));
        let dynamic = capture(Command::new("readelf").arg("-d").arg(&so))?;
        let line = dynamic
            .lines()
            .find(|l| l.contains("(SONAME)"))
            .ok_or_else(|| format!("{} has no soname", so.display()))?;
        if line.contains(&format!("[{}]", soname(version))) {
            Ok(())
        } else {
            Err(format!("{}: `{}`", so.display(), line.trim()))
        }
    })?;
    checks.run("no path of the build machine in the libraries", || {
        no_build_paths(&sdk.prefix.join("lib"), version)
    })?;
    checks.run("the README's example is the one tested", || {
        let readme = sdk.prefix.join("README.md");
        let text = io(&readme, std::fs::read_to_string(&readme))?;
        if text.contains(EXAMPLE_C) {
            Ok(())
        } else {
            Err("README.md does not hold the example the test builds".into())
        }
    })?;
    checks.run("pkg-config version", || {
        let found = sdk.pkg_config_out(&["--modversion"])?;
        if found == version {
            Ok(())
        } else {
            Err(format!("pkg-config says {found}, not {version}"))
        }
    })?;
    checks.run("pkg-config, shared", || pkg_config_build(&sdk, false))?;
    checks.run("pkg-config, static", || pkg_config_build(&sdk, true))?;
    checks.run("CMake package version", || cmake_versions(&sdk))?;
    checks.run("CMake, shared and static", || cmake_build(&sdk))?;
    checks.run("Go (cgo, pkg-config)", || go_build(&sdk))?;
    Ok((checks.passed, 0))
}

/// The archive holds what the README lists, with the shared library's other names as
/// symlinks, all owned by root, and nothing else.
fn layout(tarball: &Path, version: &str) -> Result {
    let listing = capture(Command::new("tar").arg("-tvzf").arg(tarball))?;
    let top = top(version);
    let soname = soname(version);
    let expected = [
        format!("{top}/"),
        format!("{top}/README.md"),
        format!("{top}/include/"),
        format!("{top}/include/{LIB}.h"),
        format!("{top}/lib/"),
        format!("{top}/lib/lib{LIB}.a"),
        format!("{top}/lib/lib{LIB}.so -> {soname}"),
        format!("{top}/lib/{soname} -> lib{LIB}.so.{version}"),
        format!("{top}/lib/lib{LIB}.so.{version}"),
        format!("{top}/lib/pkgconfig/"),
        format!("{top}/lib/pkgconfig/{LIB}.pc"),
        format!("{top}/lib/cmake/"),
        format!("{top}/lib/cmake/{LIB}/"),
        format!("{top}/lib/cmake/{LIB}/{LIB}-config.cmake"),
        format!("{top}/lib/cmake/{LIB}/{LIB}-config-version.cmake"),
        format!("{top}/LICENSES/"),
        format!("{top}/LICENSES/THIRD-PARTY-LICENSES.html"),
    ];
    // `tar -tv` lines: mode, owner/group, size, date, time, then the name.
    let mut names = Vec::new();
    for line in listing.lines() {
        let mut fields = line.splitn(6, ' ').filter(|f| !f.is_empty());
        let mode = fields.next().unwrap_or_default();
        let owner = fields.next().unwrap_or_default();
        let name = line
            .split_whitespace()
            .skip(5)
            .collect::<Vec<_>>()
            .join(" ");
        if owner != "0/0" {
            return Err(format!("{name} is owned by {owner}, not root"));
        }
        if mode.starts_with('-')
            && name.ends_with(&format!(".so.{version}"))
            && mode != "-rwxr-xr-x"
        {
            return Err(format!("{name} has mode {mode}"));
        }
        names.push(name);
    }
    let mut problems = String::new();
    for want in &expected {
        if !names.contains(want) {
            let _ = writeln!(problems, "missing: {want}");
        }
    }
    for name in &names {
        if !expected.contains(name) {
            let _ = writeln!(problems, "unexpected: {name}");
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}:\n{problems}", tarball.display()))
    }
}

/// The workspace, cargo's home and the target folder are remapped at build time;
/// none of them may remain in the libraries.
fn no_build_paths(lib: &Path, version: &str) -> Result {
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    let paths = [root(), cargo_home, target_dir()];
    for file in [format!("lib{LIB}.a"), format!("lib{LIB}.so.{version}")] {
        let path = lib.join(file);
        let bytes = io(&path, std::fs::read(&path))?;
        for p in &paths {
            let needle = format!("{}/", p.display());
            if needle.len() > 2 && bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                return Err(format!("{} names {needle}", path.display()));
            }
        }
    }
    Ok(())
}

const WARNINGS: [&str; 5] = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"];

fn pkg_config_build(sdk: &Sdk, link_static: bool) -> Result {
    let soname = soname(&sdk.version);
    let (name, flags) = if link_static {
        // `-l` would pick the shared library beside the archive; `-l:` names the file.
        let flags = sdk.pkg_config_out(&["--static", "--cflags", "--libs"])?;
        let flags = flags
            .split_whitespace()
            .map(|f| {
                if f == format!("-l{LIB}") {
                    format!("-l:lib{LIB}.a")
                } else {
                    f.to_owned()
                }
            })
            .collect::<Vec<_>>();
        ("app_pkg_config_static", flags)
    } else {
        let mut flags: Vec<String> = sdk
            .pkg_config_out(&["--cflags", "--libs"])?
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let libdir = sdk.pkg_config_out(&["--variable=libdir"])?;
        flags.push(format!("-Wl,-rpath,{libdir}"));
        ("app_pkg_config_shared", flags)
    };
    let program = sdk.work.join(name);
    capture(
        hermetic("gcc")
            .args(WARNINGS)
            .arg(sdk.work.join("app.c"))
            .args(&flags)
            .arg("-o")
            .arg(&program),
    )?;
    let needs = Sdk::needs_shared(&program, &soname)?;
    if needs == link_static {
        return Err(format!(
            "{} {} the shared library",
            program.display(),
            if needs { "needs" } else { "does not need" }
        ));
    }
    sdk.run_example(&program)
}

/// What `find_package` accepts: requests of this major version up to this version.
fn cmake_versions(sdk: &Sdk) -> Result {
    let version = &sdk.version;
    let numbers: Vec<u64> = version
        .split(['.', '-', '+'])
        .take(3)
        .map(|n| n.parse::<u64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| format!("version {version}: {e}"))?;
    let [major, minor, patch] = numbers[..] else {
        return Err(format!("version {version} is not MAJOR.MINOR.PATCH"));
    };
    let requests = [
        (String::new(), true),
        (version.clone(), true),
        (format!("{major}.{minor}"), true),
        (format!("{version}...<{}", major + 1), true),
        (format!("{major}.{minor}.{}", patch + 1), false),
        (format!("{}", major + 1), false),
    ];
    let src = sdk.work.join("cmake-versions");
    io(&src, std::fs::create_dir_all(&src))?;
    let mut lists = String::from(
        "cmake_minimum_required(VERSION 3.19)\nproject(paoidc_versions C)\n\
         foreach(request IN ITEMS \"\" ",
    );
    for (request, _) in &requests[1..] {
        let _ = write!(lists, "\"{request}\" ");
    }
    lists.push_str(&format!(
        ")\n  unset({LIB}_DIR CACHE)\n  find_package({LIB} ${{request}} CONFIG QUIET)\n  \
         message(STATUS \"request [${{request}}]: ${{{LIB}_FOUND}} ${{{LIB}_VERSION}}\")\nendforeach()\n"
    ));
    write(&src.join("CMakeLists.txt"), &lists)?;
    let out = capture(
        hermetic("cmake")
            .arg("-S")
            .arg(&src)
            .arg("-B")
            .arg(sdk.work.join("cmake-versions-build"))
            .arg(format!("-DCMAKE_PREFIX_PATH={}", sdk.prefix.display())),
    )?;
    for (request, accepted) in &requests {
        let prefix = format!("-- request [{request}]: ");
        let line = out
            .lines()
            .find(|l| l.starts_with(&prefix))
            .ok_or_else(|| format!("CMake printed nothing for request `{request}`:\n{out}"))?;
        let found = line[prefix.len()..].trim();
        let want = if *accepted {
            format!("1 {version}")
        } else {
            "0".to_owned()
        };
        if !found.starts_with(&want) || (*accepted && found != want) {
            return Err(format!(
                "find_package({LIB} {request}) gave `{found}`, expected `{want}`"
            ));
        }
    }
    Ok(())
}

fn cmake_build(sdk: &Sdk) -> Result {
    let version = &sdk.version;
    let src = sdk.work.join("cmake-app");
    io(&src, std::fs::create_dir_all(&src))?;
    let app_c = src.join("app.c");
    io(&app_c, std::fs::copy(sdk.work.join("app.c"), &app_c))?;
    write(
        &src.join("CMakeLists.txt"),
        &format!(
            "cmake_minimum_required(VERSION 3.16)\n\
             project(paoidc_app C)\n\
             find_package({LIB} {version} EXACT CONFIG REQUIRED)\n\
             message(STATUS \"{LIB}_DIR=${{{LIB}_DIR}}\")\n\
             set(CMAKE_C_STANDARD 11)\n\
             set(CMAKE_C_STANDARD_REQUIRED ON)\n\
             set(CMAKE_C_EXTENSIONS OFF)\n\
             add_compile_options(-Wall -Wextra -Werror -pedantic)\n\
             add_executable(app_shared app.c)\n\
             target_link_libraries(app_shared PRIVATE {LIB}::{LIB})\n\
             add_executable(app_static app.c)\n\
             target_link_libraries(app_static PRIVATE {LIB}::static)\n"
        ),
    )?;
    let build = sdk.work.join("cmake-app-build");
    let configured = capture(
        hermetic("cmake")
            .arg("-S")
            .arg(&src)
            .arg("-B")
            .arg(&build)
            .arg("-DCMAKE_BUILD_TYPE=Release")
            .arg(format!("-DCMAKE_PREFIX_PATH={}", sdk.prefix.display())),
    )?;
    let package_dir = sdk.prefix.join("lib/cmake").join(LIB);
    let expected = format!("-- {LIB}_DIR={}", package_dir.display());
    if !configured.lines().any(|l| l == expected) {
        return Err(format!(
            "CMake did not find the package in the tarball ({}):\n{configured}",
            package_dir.display()
        ));
    }
    capture(
        hermetic("cmake")
            .arg("--build")
            .arg(&build)
            .args(["--parallel", "2"]),
    )?;
    let soname = soname(version);
    for (name, link_static) in [("app_shared", false), ("app_static", true)] {
        let program = build.join(name);
        if Sdk::needs_shared(&program, &soname)? == link_static {
            return Err(format!(
                "{} links the wrong library (static: {link_static})",
                program.display()
            ));
        }
        sdk.run_example(&program)?;
    }
    Ok(())
}

const GO_MAIN: &str = r#"// The C SDK from Go: cgo finds it through pkg-config alone.
package main

/*
#cgo pkg-config: pulumi_azure_oidc
#include <stdlib.h>
#include "pulumi_azure_oidc.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"os"
	"unsafe"
)

func main() {
	fmt.Println("version", C.GoString(C.paoidc_version()))
	spec := C.CString(`{"kind":"deployment","org":"contoso","project":"core","stack":"dev"}`)
	defer C.free(unsafe.Pointer(spec))
	var out *C.char
	status := C.paoidc_credentials(spec, &out)
	defer C.paoidc_string_free(out)
	if status != C.PAOIDC_STATUS_OK {
		fmt.Fprintln(os.Stderr, C.GoString(C.paoidc_status_str(C.int32_t(status))), C.GoString(C.paoidc_last_error_message()))
		os.Exit(1)
	}
	var result struct {
		Credentials []struct {
			Subject   string   `json:"subject"`
			Audiences []string `json:"audiences"`
		} `json:"credentials"`
	}
	if err := json.Unmarshal([]byte(C.GoString(out)), &result); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, c := range result.Credentials {
		fmt.Println("subject", c.Subject, c.Audiences)
	}
}
"#;

fn go_build(sdk: &Sdk) -> Result {
    let dir = sdk.work.join("go-app");
    io(&dir, std::fs::create_dir_all(&dir))?;
    write(
        &dir.join("go.mod"),
        "module example.com/paoidc-c-sdk-test\n\ngo 1.19\n",
    )?;
    write(&dir.join("main.go"), GO_MAIN)?;
    let libdir = sdk.pkg_config_out(&["--variable=libdir"])?;
    let program = sdk.work.join("app_go");
    capture(
        hermetic("go")
            .args(["build", "-o"])
            .arg(&program)
            .arg(".")
            .current_dir(&dir)
            .env("PKG_CONFIG_PATH", sdk.prefix.join("lib/pkgconfig"))
            .env("CGO_ENABLED", "1")
            .env("CGO_LDFLAGS", format!("-Wl,-rpath,{libdir}"))
            .env("GOPATH", sdk.go.join("path"))
            .env("GOCACHE", sdk.go.join("cache"))
            .env("GOMODCACHE", sdk.go.join("mod"))
            .env("GOFLAGS", "-mod=mod")
            .env("GOTOOLCHAIN", "local")
            .env("GOPROXY", "off")
            .env("GOTELEMETRY", "off")
            .env("GOWORK", "off")
            .env("GOENV", "off"),
    )?;
    if !Sdk::needs_shared(&program, &soname(&sdk.version))? {
        return Err(format!(
            "{} does not use the shared library",
            program.display()
        ));
    }
    let printed = capture(&mut hermetic(&program.to_string_lossy()))?;
    let mut lines = printed.lines();
    let first = lines.next().unwrap_or_default();
    if first != format!("version {}", sdk.version) {
        return Err(format!(
            "the Go program printed `{first}`, not the version {}",
            sdk.version
        ));
    }
    let subject = "subject pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write [contoso]";
    if !printed.lines().any(|l| l == subject) {
        return Err(format!("the Go program lacks `{subject}`:\n{printed}"));
    }
    Ok(())
}
