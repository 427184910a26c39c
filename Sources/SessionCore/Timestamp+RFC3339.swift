extension Timestamp {
    /// RFC 3339 in UTC with milliseconds: `2026-11-26T10:05:00.250Z`.
    ///
    /// Written by hand (civil-from-days, proleptic Gregorian) because it runs for every response
    /// and needs no time zone database. Years outside 0...9999 are clamped to that range.
    public var rfc3339: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendRFC3339(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `rfc3339`'s bytes to `out`.
    public func appendRFC3339(to out: inout [UInt8]) {
        let minimum: Int64 = -62_167_219_200_000  // 0000-01-01T00:00:00Z
        let maximum: Int64 = 253_402_300_799_999  // 9999-12-31T23:59:59.999Z
        let ms = min(max(millisecondsSinceEpoch, minimum), maximum)
        let millisecondsOfDay = ((ms % 86_400_000) + 86_400_000) % 86_400_000
        let days = (ms - millisecondsOfDay) / 86_400_000
        let (year, month, day) = Timestamp.civil(fromDays: days)

        func put(_ value: Int64, digits: Int) {
            var divisor: Int64 = 1
            for _ in 1..<digits { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        put(year, digits: 4)
        out.append(UInt8(ascii: "-"))
        put(month, digits: 2)
        out.append(UInt8(ascii: "-"))
        put(day, digits: 2)
        out.append(UInt8(ascii: "T"))
        put(millisecondsOfDay / 3_600_000, digits: 2)
        out.append(UInt8(ascii: ":"))
        put(millisecondsOfDay / 60_000 % 60, digits: 2)
        out.append(UInt8(ascii: ":"))
        put(millisecondsOfDay / 1000 % 60, digits: 2)
        out.append(UInt8(ascii: "."))
        put(millisecondsOfDay % 1000, digits: 3)
        out.append(UInt8(ascii: "Z"))
    }

    /// Year, month (1...12) and day (1...31) of the day `days` after 1970-01-01
    /// (Howard Hinnant's civil_from_days).
    public static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}
