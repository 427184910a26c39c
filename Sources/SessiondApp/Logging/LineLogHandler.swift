#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JSONDocument
import Logging
import NIOConcurrencyHelpers
import SessionCore

/// Writes one line per log event to standard output (through `LogWriter`, off the calling
/// thread): readable text, or one JSON object per line
/// (`{"time":…,"level":…,"label":…,"message":…, metadata…}`) for log collectors.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: SessiondConfiguration.LogFormat
    private let clock: any SessionClock

    public init(label: String, level: Logger.Level, format: SessiondConfiguration.LogFormat, clock: any SessionClock = SystemClock()) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.clock = clock
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        var line = render(level: event.level, message: event.message.description, metadata: all)
        line.append(UInt8(ascii: "\n"))
        LogWriter.shared.enqueue(line)
    }

    /// The line for one event, without the newline.
    func render(level: Logger.Level, message: String, metadata: Logger.Metadata) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160)
        let keys = metadata.keys.sorted()
        switch format {
        case .text:
            clock.now().appendRFC3339(to: &out)
            out.append(contentsOf: " \(level) \(label): \(message)".utf8)
            for key in keys {
                out.append(contentsOf: " \(key)=\(metadata[key].map { "\($0)" } ?? "")".utf8)
            }
        case .json:
            out.append(contentsOf: #"{"time":""#.utf8)
            clock.now().appendRFC3339(to: &out)
            out.append(contentsOf: #"","level":"#.utf8)
            JSONStringEscaper.append(level.rawValue, to: &out)
            out.append(contentsOf: #","label":"#.utf8)
            JSONStringEscaper.append(label, to: &out)
            out.append(contentsOf: #","message":"#.utf8)
            JSONStringEscaper.append(message, to: &out)
            for key in keys where !["time", "level", "label", "message"].contains(key) {
                out.append(UInt8(ascii: ","))
                JSONStringEscaper.append(key, to: &out)
                out.append(UInt8(ascii: ":"))
                // Whole numbers (status, durations) stay numbers; everything else is a string.
                if case let .stringConvertible(value)? = metadata[key], value is Int || value is Int64 {
                    out.append(contentsOf: "\(value)".utf8)
                } else {
                    JSONStringEscaper.append(metadata[key].map { "\($0)" } ?? "", to: &out)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
        return out
    }
}
