//! # puratan-testkit
//!
//! One conformance suite per port, in the style of `object_store`'s
//! `integration.rs`: the same test functions run against every
//! implementation (in-memory, embedded SQLite, MongoDB, Redis, RabbitMQ).
//! A backend's test file instantiates a suite with one macro call and a
//! factory expression that yields `Option<Arc<dyn Port>>` (`None` = the
//! service is missing and the test was skipped; see [`service`]).
//!
//! This is a separate crate (not a module of core) so every adapter crate
//! can depend on it from `dev-dependencies` without core carrying test code.

pub mod audit;
pub mod cache;
pub mod carts;
pub mod catalogs;
pub mod checkout;
pub mod events;
pub mod file_repo;
pub mod files;
pub mod fixtures;
pub mod inbox;
pub mod jobs;
pub mod oidc;
pub mod orders;
pub mod products;
pub mod ratelimit;
pub mod refresh;
pub mod scanner;
pub mod service;
pub mod session;
pub mod smtp;
pub mod tus;
pub mod users;

/// Generates one `#[tokio::test]` per listed suite function.
#[doc(hidden)]
#[macro_export]
macro_rules! __suite {
    ($module:ident, $make:expr, [$($test:ident),* $(,)?]) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let Some(port) = $make else { return };
                $crate::$module::$test(port).await;
            }
        )*
    };
}

#[macro_export]
macro_rules! file_repo_suite {
    ($make:expr) => {
        $crate::__suite!(
            file_repo,
            $make,
            [
                file_crud,
                file_processing_round_trips,
                file_stale_update,
                file_list_by_owner_paged,
                file_pending_scan,
            ]
        );
    };
}

#[macro_export]
macro_rules! product_repo_suite {
    ($make:expr) => {
        $crate::__suite!(
            products,
            $make,
            [
                product_crud,
                product_sku_unique,
                product_stale_update,
                product_concurrent_writers,
                product_paging,
                product_filters,
            ]
        );
    };
}

#[macro_export]
macro_rules! user_repo_suite {
    ($make:expr) => {
        $crate::__suite!(
            users,
            $make,
            [
                user_crud,
                user_email_unique,
                user_concurrent_writers,
                user_paging,
                user_identity_lookup,
            ]
        );
    };
}

#[macro_export]
macro_rules! order_repo_suite {
    ($make:expr) => {
        $crate::__suite!(
            orders,
            $make,
            [
                order_crud,
                order_concurrent_writers,
                orders_by_customer,
                orders_by_status_in_queue_order,
                orders_queue_filters_and_paging,
                orders_search_filters_and_paging,
                orders_search_text_is_literal,
                orders_search_scan_limit,
                order_idempotency_key_unique_per_customer,
                order_same_key_concurrently_creates_one,
                order_outbox_written_with_the_order,
                order_concurrent_updates_lose_nothing,
            ]
        );
    };
}

/// The checkout write (`OrderRepo::insert_checkout`); the factory yields
/// `Option<(Arc<dyn OrderRepo>, Arc<dyn ProductRepo>)>` over one store.
#[macro_export]
macro_rules! order_checkout_suite {
    ($make:expr) => {
        $crate::__suite!(
            checkout,
            $make,
            [
                checkout_is_all_or_nothing,
                checkout_coupon_cap_holds_under_concurrency,
                checkout_last_unit_goes_to_exactly_one,
            ]
        );
    };
}

#[macro_export]
macro_rules! job_repo_suite {
    ($make:expr) => {
        $crate::__suite!(
            jobs,
            $make,
            [
                job_create_is_idempotent,
                job_claim_follows_queue_order,
                job_claim_on_empty_queue_is_none,
                job_update_is_version_checked,
                job_list_pages_and_filters,
                job_follow_order_sets_priority_fenced,
                job_follow_order_parks_requeues_and_fences,
                job_concurrent_claims_take_each_job_once,
            ]
        );
    };
}

#[macro_export]
macro_rules! cart_repo_suite {
    ($make:expr) => {
        $crate::__suite!(
            carts,
            $make,
            [
                cart_missing_is_empty_at_version_zero,
                cart_put_round_trips_and_bumps_the_version,
                cart_stale_versions_are_refused,
                cart_concurrent_first_writes_one_wins,
            ]
        );
    };
}

#[macro_export]
macro_rules! inbox_repo_suite {
    ($make:expr) => {
        $crate::__suite!(
            inbox,
            $make,
            [
                inbox_deliver_is_idempotent,
                inbox_mark_processed_without_notification,
                inbox_same_message_concurrently_stores_one,
                inbox_list_newest_first_paged_per_user,
                inbox_mark_read_and_unread_count,
                inbox_rejects_bad_keys,
            ]
        );
    };
}

#[macro_export]
macro_rules! cache_suite {
    ($make:expr) => {
        $crate::__suite!(
            cache,
            $make,
            [
                cache_set_get_delete,
                cache_ttl_expiry,
                cache_counts_hits_and_misses
            ]
        );
    };
}

#[macro_export]
macro_rules! session_suite {
    ($make:expr) => {
        $crate::__suite!(
            session,
            $make,
            [
                sessions_crud,
                session_ttl_expiry,
                denylist_with_ttl,
                one_time_token_taken_once,
            ]
        );
    };
}

#[macro_export]
macro_rules! rate_limit_suite {
    ($make:expr) => {
        $crate::__suite!(
            ratelimit,
            $make,
            [
                rate_limit_exact_burst,
                rate_limit_refills_after_period,
                rate_limit_atomic_under_concurrency,
                rate_limit_keys_are_independent,
            ]
        );
    };
}

#[macro_export]
macro_rules! event_bus_suite {
    ($make:expr) => {
        $crate::__suite!(
            events,
            $make,
            [
                direct_routes_by_exact_key,
                topic_routes_by_pattern,
                fanout_reaches_every_queue,
                unacked_message_is_redelivered,
                nack_requeue_redelivers,
                competing_consumers_share_work,
            ]
        );
    };
}

#[macro_export]
macro_rules! audit_log_suite {
    ($make:expr) => {
        $crate::__suite!(audit, $make, [audit_newest_first_and_filtered]);
    };
}

#[macro_export]
macro_rules! file_store_suite {
    ($make:expr) => {
        $crate::__suite!(
            files,
            $make,
            [files_put_get_list_delete, files_reject_hostile_keys]
        );
    };
}

#[macro_export]
macro_rules! catalog_repo_suite {
    ($make:expr) => {
        $crate::__suite!(catalogs, $make, [catalog_versions_lifecycle]);
    };
}

#[macro_export]
macro_rules! refresh_store_suite {
    ($make:expr) => {
        $crate::__suite!(
            refresh,
            $make,
            [
                refresh_insert_get_roundtrip,
                refresh_get_unknown_is_none,
                refresh_duplicate_hash_conflicts,
                refresh_rotate_happy_path,
                refresh_rotate_of_rotated_is_false,
                refresh_rotate_family_mismatch_is_false,
                refresh_rotate_onto_taken_hash_changes_nothing,
                refresh_rotate_after_revoke_family_is_false,
                refresh_revoke_family_is_scoped,
                refresh_insert_into_revoked_family_is_revoked,
                refresh_revoke_family_races_rotate,
                refresh_revoke_subject_is_scoped,
                refresh_concurrent_rotate_has_one_winner,
                refresh_tokens_end_to_end_reuse,
                refresh_tokens_concurrent_use_fails_closed,
                refresh_tokens_logout_and_expiry,
            ]
        );
    };
}

#[macro_export]
macro_rules! scanner_suite {
    ($make:expr) => {
        $crate::__suite!(
            scanner,
            $make,
            [
                scanner_answers_ping_and_passes_clean_files,
                scanner_detects_eicar,
                scanner_hash_signature_matches_the_whole_file_only,
                scanner_finds_embedded_eicar_across_chunk_boundaries,
                scanner_empty_input_is_clean,
                scanner_scans_large_input_to_the_end,
                scanner_refuses_input_over_its_limit,
                scanner_concurrent_scans_all_answer,
                scanner_pipeline_quarantines_and_passes,
            ]
        );
    };
}
