//! Error numbers as OVS tools print them: `strerror` text, with the two
//! pseudo-errors of OVS streams ("End of file" and "Protocol error").

use std::ffi::CStr;
use std::io;

/// The C library's text for `code`, e.g. "No such file or directory".
pub fn strerror(code: i32) -> String {
    // SAFETY: strerror returns a pointer to a NUL-terminated static or
    // thread-local string; we copy it out before any other libc call.
    let ptr = unsafe { libc::strerror(code) };
    if ptr.is_null() {
        return format!("Unknown error {code}");
    }
    // SAFETY: non-null pointer from strerror points at a C string.
    unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}

/// How upstream prints an I/O error: the bare `strerror` text for OS errors
/// (without Rust's " (os error N)" suffix), otherwise the error's own text.
pub fn io_error_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => strerror(code),
        None => match e.kind() {
            io::ErrorKind::UnexpectedEof => "End of file".to_string(),
            io::ErrorKind::TimedOut => strerror(libc::ETIMEDOUT),
            _ => e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_have_no_rust_suffix() {
        assert_eq!(strerror(libc::ENOENT), "No such file or directory");
        let e = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(io_error_text(&e), "Connection refused");
        let e = io::Error::new(io::ErrorKind::UnexpectedEof, "x");
        assert_eq!(io_error_text(&e), "End of file");
    }
}
