use napi_derive::napi;

#[napi]
pub fn core_version() -> String {
    pyflame_core::version().to_string()
}
