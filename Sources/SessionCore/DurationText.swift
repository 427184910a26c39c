/// Durations as people write them in settings: plain seconds (`3600`) or a number with one
/// suffix: `s`, `m`, `h` or `d` (`90s`, `30m`, `12h`, `31d`).
public enum DurationText {
    /// The duration in milliseconds, or nil when `text` is not such a duration, is zero or
    /// negative, or is too long to hold (more than about 292 million years).
    public static func milliseconds(_ text: String) -> Int64? {
        var digits = Substring(text)
        var unit: Int64 = 1000
        switch digits.last {
        case "s": unit = 1000
        case "m": unit = 60_000
        case "h": unit = 3_600_000
        case "d": unit = 86_400_000
        default: unit = 0
        }
        if unit == 0 {
            unit = 1000
        } else {
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let count = Int64(digits), count > 0
        else { return nil }
        let (total, overflow) = count.multipliedReportingOverflow(by: unit)
        return overflow ? nil : total
    }
}
