// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // The letter check's child process (started by the app itself): before anything else,
    // so no window, single-instance lock or runtime starts in it.
    if std::env::args_os().nth(1).is_some_and(|a| a == myintress_satker::CHECK_PDF_ARG) {
        std::process::exit(match myintress_pdfcheck::serve_child() {
            Ok(()) => 0,
            Err(_) => 2,
        });
    }
    myintress_satker::run();
}
