import JSONDocument
import Logging
import SessionCore
import SessiondAPI

/// Access lines rendered straight to bytes for `LogWriter`: the same lines `LineLogHandler`
/// writes for a `request` event with the access metadata (same keys, same order, same JSON
/// types), without a `Logger.Metadata` dictionary or string interpolation per request.
struct LineAccessLog: AccessLog {
    let label: String
    let format: SessiondConfiguration.LogFormat
    let clock: any SessionClock
    let writer: LogWriter

    init(label: String, format: SessiondConfiguration.LogFormat, clock: any SessionClock = SystemClock(), writer: LogWriter = .shared) {
        self.label = label
        self.format = format
        self.clock = clock
        self.writer = writer
    }

    func record(_ entry: AccessEntry) {
        var line = render(entry)
        line.append(UInt8(ascii: "\n"))
        writer.enqueue(line)
    }

    /// The line, without its newline. Keys in sorted order, as `LineLogHandler` writes them.
    func render(_ entry: AccessEntry) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(200)
        switch format {
        case .text:
            clock.now().appendRFC3339(to: &out)
            out.append(contentsOf: " info ".utf8)
            out.append(contentsOf: label.utf8)
            out.append(contentsOf: ": request duration_us=".utf8)
            out.append(contentsOf: String(entry.durationMicroseconds).utf8)
            if let handle = entry.handle {
                out.append(contentsOf: " handle=".utf8)
                out.append(contentsOf: handle.description.utf8)
            }
            if let method = entry.method {
                out.append(contentsOf: " method=".utf8)
                out.append(contentsOf: method.rawValue.utf8)
            }
            if let problem = entry.problem {
                out.append(contentsOf: " problem=".utf8)
                out.append(contentsOf: problem.utf8)
            }
            out.append(contentsOf: " request_id=".utf8)
            out.append(contentsOf: entry.requestID.utf8)
            out.append(contentsOf: " route=".utf8)
            out.append(contentsOf: entry.route.rawValue.utf8)
            out.append(contentsOf: " status=".utf8)
            out.append(contentsOf: String(entry.status).utf8)
        case .json:
            out.append(contentsOf: #"{"time":""#.utf8)
            clock.now().appendRFC3339(to: &out)
            out.append(contentsOf: #"","level":"info","label":"#.utf8)
            JSONStringEscaper.append(label, to: &out)
            out.append(contentsOf: #","message":"request","duration_us":"#.utf8)
            out.append(contentsOf: String(entry.durationMicroseconds).utf8)
            if let handle = entry.handle {
                out.append(contentsOf: #","handle":"#.utf8)
                JSONStringEscaper.append(handle.description, to: &out)
            }
            if let method = entry.method {
                out.append(contentsOf: #","method":"#.utf8)
                JSONStringEscaper.append(method.rawValue, to: &out)
            }
            if let problem = entry.problem {
                out.append(contentsOf: #","problem":"#.utf8)
                JSONStringEscaper.append(problem, to: &out)
            }
            out.append(contentsOf: #","request_id":"#.utf8)
            JSONStringEscaper.append(entry.requestID, to: &out)
            out.append(contentsOf: #","route":"#.utf8)
            JSONStringEscaper.append(entry.route.rawValue, to: &out)
            out.append(contentsOf: #","status":"#.utf8)
            out.append(contentsOf: String(entry.status).utf8)
            out.append(UInt8(ascii: "}"))
        }
        return out
    }
}
