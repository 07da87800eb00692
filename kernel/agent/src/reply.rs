//! What a request handler returns: the state it left the connection in, or the error
//! to answer with.

use super::conn::Conn;
use super::error::ApiError;

/// What a handler left the connection fit for.
pub enum Next {
    /// Ready for the next request (if the client keeps the connection).
    Continue,
    /// Closed or handed over (an attach): stop serving it.
    Stop,
}

/// A handler's result: the connection's state, or an error to answer with.
pub type Handled = Result<Next, ApiError>;

/// Answers 204 No Content.
pub fn no_content(conn: &Conn) -> Handled {
    conn.respond(204, None, &[]).map_err(ApiError::io)?;
    Ok(Next::Continue)
}
