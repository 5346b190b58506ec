import Foundation

/// Calendar arithmetic on the proleptic Gregorian calendar in UTC, as the spec's date and time
/// transforms define it (no time zones, no leap seconds).
package enum CivilTime {
    // Inlinable constants, not stored globals: a partition's hour is computed per row, and a global read
    // from another module goes through a lazy initializer check each time.
    @inlinable package static var microsPerDay: Int64 { 86_400_000_000 }
    @inlinable package static var microsPerHour: Int64 { 3_600_000_000 }

    /// Floor division (towards negative infinity), as the transforms require for pre-1970 values.
    @inlinable package static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// (year, month 1-12, day 1-31) of a day number since 1970-01-01.
    package static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// The day number since 1970-01-01 of a civil date.
    package static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    package static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(abs(value))
        return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    package static func dateString(days: Int64) -> String {
        let c = civil(days: days)
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))"
    }

    package static func timeString(micros: Int64) -> String {
        let seconds = micros / 1_000_000, fraction = micros % 1_000_000
        var text = "\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))"
        if fraction != 0 { text += "." + pad(fraction, 6) }
        return text
    }

    package static func timestampString(micros: Int64, zone: Bool) -> String {
        let day = floorDiv(micros, microsPerDay)
        return dateString(days: day) + "T" + timeString(micros: micros - day * microsPerDay) + (zone ? "+00:00" : "")
    }
}
