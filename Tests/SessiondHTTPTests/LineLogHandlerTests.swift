import Foundation
import Logging
import SessionCore
@testable import SessiondHTTP
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
