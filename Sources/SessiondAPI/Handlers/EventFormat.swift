import JSONDocument
import SessionCore

/// Events as Server-Sent Events frames (`text/event-stream`): an `id` line (the event's
/// `EventID`, which a client sends back as `Last-Event-ID`), an `event` line (the kind), and
/// one `data` line of JSON: `{"id", "type", "handle", "from" (rotated only), "subject",
/// "device", "time"}`. Never a sid, never data.
enum EventFormat {
    static func frame(_ event: SessionEvent) -> [UInt8] {
        var out = Array("id: \(event.id)\nevent: \(event.kind.rawValue)\ndata: ".utf8)
        out += json(event)
        out += Array("\n\n".utf8)
        return out
    }

    /// The JSON of an event, on one line.
    static func json(_ event: SessionEvent) -> [UInt8] {
        var out = Array(#"{"id":""#.utf8) + Array(event.id.description.utf8)
        out += Array(#"","type":""#.utf8) + Array(event.kind.rawValue.utf8)
        out += Array(#"","handle":""#.utf8) + Array(event.handle.description.utf8) + [UInt8(ascii: "\"")]
        if let from = event.from { out += Array(#","from":""#.utf8) + Array(from.description.utf8) + [UInt8(ascii: "\"")] }
        out += Array(#","subject":"#.utf8)
        if let subject = event.subject {
            JSONStringEscaper.append(subject.value, to: &out)
        } else {
            out += Array("null".utf8)
        }
        out += Array(#","device":"#.utf8)
        out += event.device ?? Array("null".utf8)
        out += Array(#","time":""#.utf8)
        event.time.appendRFC3339(to: &out)
        out += Array("\"}".utf8)
        return out
    }

    /// A `missed` event, with no ID (it moves no `Last-Event-ID`): events after `after` were
    /// dropped from the bounded history before this consumer read them.
    static func missed(after: EventID) -> [UInt8] {
        Array(
            ("event: missed\ndata: {\"type\":\"missed\",\"after\":\"\(after)\",\"detail\":\"events after this ID were dropped from the bounded history "
                + "(--event-history) or lost in a restart before they were read; what follows is the oldest event held\"}\n\n").utf8
        )
    }
}
