// Every command the UI may call, declared once. `build.rs` includes this file to make an
// `allow-…` permission of each name; `lib.rs` includes it to build the invoke handler and
// the TypeScript bindings; a test checks that `capabilities/main-window.json` grants
// exactly these and that the UI calls each. Adding a command is one line here.
//
// `for_each_command!(then)` calls the macro `then` with the list as `module::command, …`.
macro_rules! for_each_command {
    ($then:ident) => {
        $then! {
            system::app_info,
            system::check_nik,
            system::set_server_url,
            system::support_log,
            update::check_update,
            update::download_update,
            update::install_update,
            session::session_state,
            session::captcha,
            session::sign_in,
            session::sign_out,
            session::request_password_reset,
            session::change_password,
            session::sign_out_everywhere,
            session::choose_satker,
            data::satkers,
            data::counts,
            data::list_memberships,
            data::queue,
            data::deletion_requests,
            data::membership_detail,
            data::audit,
            data::digit_lookup,
            data::check_registration,
            actions::correction_draft,
            data::document,
            data::scan_picture,
            files::pick_pdf,
            files::discard_staged,
            actions::register,
            actions::approve,
            actions::letter_seen,
            actions::bulk_decide,
            actions::batch_state,
            actions::request_deletion,
            actions::decline_deletion,
            actions::reject,
            actions::deactivate,
            actions::reactivate,
            actions::delete_membership,
            actions::correct_contact,
            actions::resend_activation,
            sync::outbox,
            sync::dismiss_conflict,
            sync::redo_conflict,
            sync::sync_now,
            export::export_list,
            admin::verifiers,
            admin::kppns,
            admin::create_verifier,
            admin::change_verifier,
            admin::upload_reference,
        }
    };
}
