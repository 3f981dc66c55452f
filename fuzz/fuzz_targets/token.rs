#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pulumi_azure_oidc_fuzz::targets::token(data));
