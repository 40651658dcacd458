//! Status assertions: what a service call failed with, what an HTTP response
//! answered. One line each in a test, and a failure says what came instead.

use models::AppError;
use reqwest::StatusCode;
use std::fmt::Debug;

/// The error `result` failed with, after checking its HTTP status.
#[track_caller]
pub fn expect_status<T: Debug>(result: Result<T, AppError>, status: u16) -> AppError {
    match result {
        Ok(value) => panic!("expected a {status} error, got Ok({value:?})"),
        Err(err) => {
            assert_eq!(err.status(), status, "{err:?}");
            err
        }
    }
}

/// The error of a call the caller may not make (403).
#[track_caller]
pub fn expect_forbidden<T: Debug>(result: Result<T, AppError>) -> AppError {
    expect_status(result, 403)
}

/// The error of a call with bad input (400).
#[track_caller]
pub fn expect_bad_request<T: Debug>(result: Result<T, AppError>) -> AppError {
    expect_status(result, 400)
}

/// Checks a response's status; a failure names the request.
#[track_caller]
pub fn assert_status(response: &reqwest::Response, expected: StatusCode) {
    assert_status_for(response, expected, "");
}

/// [`assert_status`] with what the test was trying (`"{kind} {i}"`).
#[track_caller]
pub fn assert_status_for(
    response: &reqwest::Response,
    expected: StatusCode,
    context: impl std::fmt::Display,
) {
    assert_eq!(
        response.status(),
        expected,
        "{context} {}",
        response.url().path()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_comes_back_when_its_status_matches() {
        let refused: Result<(), AppError> = Err(AppError::forbidden("no"));
        assert_eq!(expect_forbidden(refused).message(), "no");
        let bad: Result<(), AppError> = Err(AppError::bad_request("bad"));
        assert_eq!(expect_bad_request(bad).status(), 400);
    }

    #[test]
    #[should_panic(expected = "expected a 403 error, got Ok(7)")]
    fn a_success_is_a_failure() {
        expect_forbidden(Ok::<_, AppError>(7));
    }

    #[test]
    #[should_panic]
    fn another_status_is_a_failure() {
        expect_forbidden(Err::<(), _>(AppError::bad_request("bad")));
    }
}
