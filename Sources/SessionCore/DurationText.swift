/// Durations as people write them in settings: plain seconds (`3600`) or a number with one
/// suffix: `ms`, `s`, `m`, `h` or `d` (`250ms`, `90s`, `30m`, `12h`, `31d`).
public enum DurationText {
    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    /// The duration in milliseconds, or nil when `text` is not such a duration, is zero or
    /// negative, or is too long to hold (more than about 292 million years).
    public static func milliseconds(_ text: String) -> Int64? {
        var digits = Substring(text)
        var unit: Int64 = 1000
        if let match = units.first(where: { text.hasSuffix($0.suffix) }) {
            digits = digits.dropLast(match.suffix.count)
            unit = match.milliseconds
        }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let count = Int64(digits), count > 0
        else { return nil }
        let (total, overflow) = count.multipliedReportingOverflow(by: unit)
        return overflow ? nil : total
    }
}
