import JSONDocument
import SessionCore

/// Writes the subject resources: listings show handles and times, never a sid or data.
enum SubjectRenderer {
    /// `{"subject":…,"sessions":[{"handle":…,"permanent":…,"created_at":…,"updated_at":…,
    /// "expires_at":…,"last_seen_at":…,"device":…,"ttl":…},…]}` with `ttl` counted at `now`.
    static func listing(_ subject: Subject, _ sessions: [SessionSummary], now: Timestamp) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + 190 * sessions.count)
        out.append(contentsOf: #"{"subject":"#.utf8)
        JSONStringEscaper.append(subject.value, to: &out)
        out.append(contentsOf: #","sessions":["#.utf8)
        for (position, session) in sessions.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"handle":""#.utf8)
            out.append(contentsOf: session.handle.description.utf8)
            out.append(contentsOf: session.permanent ? #"","permanent":true"#.utf8 : #"","permanent":false"#.utf8)
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
            out.append(contentsOf: String(session.expiresAt.ttlSeconds(at: now)).utf8)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }

    /// `{"subject":…,"revoked":n}`.
    static func revoked(_ subject: Subject, count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"subject":"#.utf8)
        JSONStringEscaper.append(subject.value, to: &out)
        out.append(contentsOf: #","revoked":"#.utf8)
        out.append(contentsOf: String(count).utf8)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
