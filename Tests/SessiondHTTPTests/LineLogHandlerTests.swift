import Foundation
import Logging
import SessionCore
@testable import HTTPTransport
@testable import SessiondAPI
@testable import SessiondApp
import Testing

@Suite("Log lines")
struct LineLogHandlerTests {
    let clock = ManualClock(start: Timestamp(millisecondsSinceEpoch: 0))

    @Test func textLines() {
        let handler = LineLogHandler(label: "sessiond", level: .info, format: .text, clock: clock)
        let line = String(decoding: handler.render(level: .info, message: "request", metadata: ["status": "200", "route": "/livez"]), as: UTF8.self)
        #expect(line == "1970-01-01T00:00:00.000Z info sessiond: request route=/livez status=200")
    }

    @Test func jsonLinesAreOneValidObject() throws {
        let handler = LineLogHandler(label: "sessiond", level: .info, format: .json, clock: clock)
        let bytes = handler.render(level: .warning, message: "say \"hi\"\n", metadata: ["status": "503"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String])
        #expect(object == ["time": "1970-01-01T00:00:00.000Z", "level": "warning", "label": "sessiond", "message": "say \"hi\"\n", "status": "503"])
    }
}

@Suite("Access lines")
struct LineAccessLogTests {
    let clock = ManualClock(start: Timestamp(millisecondsSinceEpoch: 1_700_000_000_123))

    /// The metadata `Application` gives the logger for the same entry when it has no access log.
    private func metadata(_ entry: AccessEntry) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "request_id": "\(entry.requestID)", "route": "\(entry.route.rawValue)",
            "status": .stringConvertible(Int(entry.status)), "duration_us": .stringConvertible(entry.durationMicroseconds),
        ]
        if let method = entry.method { metadata["method"] = "\(method.rawValue)" }
        if let handle = entry.handle { metadata["handle"] = "\(handle)" }
        if let problem = entry.problem { metadata["problem"] = "\(problem)" }
        return metadata
    }

    @Test(arguments: [SessiondConfiguration.LogFormat.text, .json])
    func theSameLinesAsTheLogHandlerWrites(format: SessiondConfiguration.LogFormat) throws {
        let handler = LineLogHandler(label: "sessiond", level: .info, format: format, clock: clock)
        let access = LineAccessLog(label: "sessiond", format: format, clock: clock)
        let entries = [
            AccessEntry(requestID: "req-\"1\"", method: .GET, route: .session, status: 200, durationMicroseconds: 31,
                        handle: SessionHandle(try #require(SessionID("1b4e28ba-2fa1-41d2-883f-0016d3cca427"))), problem: nil),
            AccessEntry(requestID: "0123abcd", method: nil, route: .unmatched, status: 431, durationMicroseconds: 0, handle: nil,
                        problem: "header-too-large"),
            AccessEntry(requestID: "x", method: .PATCH, route: .session, status: 412, durationMicroseconds: 1_234_567, handle: nil,
                        problem: "precondition-failed"),
        ]
        for entry in entries {
            let expected = String(decoding: handler.render(level: .info, message: "request", metadata: metadata(entry)), as: UTF8.self)
            #expect(String(decoding: access.render(entry), as: UTF8.self) == expected)
        }
    }
}

@Suite("Log writer")
struct LogWriterTests {
    @Test func aLogReaderThatStopsReadingNeverBlocksTheCaller() async throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        let writer = LogWriter(capacity: 100, descriptor: ends[1])
        let line = Array(repeating: UInt8(ascii: "x"), count: 1023) + [UInt8(ascii: "\n")]
        // 10 MB against a 64 KiB pipe nobody reads: without the queue this would block for good.
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for _ in 0..<10_000 { writer.enqueue(line) }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(finished)
        // Once the reader reads again, the writer says how many lines it dropped.
        var seen: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, !String(decoding: seen.suffix(200), as: UTF8.self).contains("lines dropped") {
            let count = buffer.withUnsafeMutableBytes { read(ends[0], $0.baseAddress, $0.count) }
            if count <= 0 { break }
            seen += buffer[0..<count]
        }
        #expect(String(decoding: seen.suffix(200), as: UTF8.self).contains("lines dropped"))
    }
}
