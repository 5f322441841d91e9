//! `both_backends!` and `each_backend!`: each named test function once per backend.

/// Runs each named `async fn name(app: TestApp)` once on SQLite and once on Postgres, as the
/// tests `name::sqlite` and `name::postgres`. The functions are ordinary ones beside the call, so
/// rustfmt formats them and go-to-definition finds them:
///
/// ```ignore
/// both_backends!(a_report_gets_a_number);
///
/// async fn a_report_gets_a_number(app: TestApp) { ... }
/// ```
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite)
                        .await
                        .unwrap();
                    super::$name(app).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    // `None`: Postgres unreachable and not required (said on stderr).
                    if let Some(app) =
                        $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await
                    {
                        super::$name(app).await;
                    }
                }
            }
        )+
    };
}

/// Runs each named `async fn name(backend: Backend)` once per backend, for tests that build
/// their own app (`spawn_app_with`); a `None` app (Postgres unreachable and not required) ends
/// the test.
#[macro_export]
macro_rules! each_backend {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            }
        )+
    };
}
