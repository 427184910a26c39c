import HTTPTransport
import JSONDocument
import NIOHTTP1
import SessionCore

/// Writes the session resource: the stored data bytes are spliced in as they are, never parsed.
enum SessionRenderer {
    /// `{"sid":…,"data":…,"permanent":…,"subject":…,"lifetime":…,"version":…,"created_at":…,
    /// "updated_at":…,"expires_at":…,"last_seen_at":…,"device":…,"ttl":…}` with `ttl` counted at `now`; `"rotated":true`
    /// at the end for the frozen state read through a rotated sid in its grace window.
    static func json(_ session: Session, now: Timestamp) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(200 + session.data.count)
        out.append(contentsOf: #"{"sid":""#.utf8)
        out.append(contentsOf: session.id.description.utf8)
        out.append(contentsOf: #"","data":"#.utf8)
        out.append(contentsOf: session.data)
        out.append(contentsOf: session.permanent ? #","permanent":true"#.utf8 : #","permanent":false"#.utf8)
        out.append(contentsOf: #","subject":"#.utf8)
        if let subject = session.subject {
            JSONStringEscaper.append(subject.value, to: &out)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #","lifetime":"#.utf8)
        if let lifetime = session.lifetime {
            out.append(contentsOf: String(lifetime / 1000).utf8)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #","version":"#.utf8)
        out.append(contentsOf: String(session.version).utf8)
        out.append(contentsOf: #","created_at":""#.utf8)
        session.createdAt.appendRFC3339(to: &out)
        out.append(contentsOf: #"","updated_at":""#.utf8)
        session.updatedAt.appendRFC3339(to: &out)
        out.append(contentsOf: #"","expires_at":""#.utf8)
        session.expiresAt.appendRFC3339(to: &out)
        out.append(contentsOf: #"","last_seen_at":""#.utf8)
        session.lastSeenAt.appendRFC3339(to: &out)
        out.append(contentsOf: #"","device":"#.utf8)
        out.append(contentsOf: session.device ?? Array("null".utf8))
        out.append(contentsOf: #","ttl":"#.utf8)
        out.append(contentsOf: String(session.ttlSeconds(at: now)).utf8)
        // Read through a rotated sid in its grace window: the frozen state, read-only.
        if session.isFrozen { out.append(contentsOf: #","rotated":true"#.utf8) }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The `ETag` of a session: its version as a strong tag, `"3"`.
    static func etag(_ session: Session) -> String { etag(session.version) }

    /// A version as a strong entity tag, `"3"`.
    static func etag(_ version: UInt64) -> String { "\"\(version)\"" }

    /// A 200 or 201 response carrying `session` with its `ETag`.
    static func response(_ session: Session, status: HTTPResponseStatus = .ok, now: Timestamp, headers: HTTPHeaders = [:]) -> Response {
        var all = headers
        all.add(name: "ETag", value: etag(session))
        return .json(status, json(session, now: now), headers: all)
    }
}
