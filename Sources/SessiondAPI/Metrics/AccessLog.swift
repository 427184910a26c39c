import NIOHTTP1
import SessionCore

/// The facts of one access line: never a sid, a subject or session data.
package struct AccessEntry: Sendable {
    package var requestID: String
    /// Nil when no request head was read.
    package var method: HTTPMethod?
    package var route: Route
    package var status: UInt
    package var durationMicroseconds: Int64
    /// The session the request named, by handle (a one-way hash of the sid).
    package var handle: SessionHandle?
    /// The problem type's slug, for problem responses.
    package var problem: String?
}

/// Where access lines go. The composition root gives one that renders a line straight to bytes
/// for the log's writer thread; without one, the `Application` writes them through its
/// `Logger` (one `Logger.Metadata` dictionary per line, which costs more).
package protocol AccessLog: Sendable {
    /// Writes one line; called on the event loop, so it must not block.
    func record(_ entry: AccessEntry)
}
