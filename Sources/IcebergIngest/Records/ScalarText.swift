import Foundation
import IcebergCore

/// Parsers for scalar text: fast paths for the common forms, exact where it matters (decimals, epochs).
package enum ScalarText {
    /// The text for a message, quoted and cut at 60 bytes.
    package static func quoted(_ text: UnsafeBufferPointer<UInt8>) -> String {
        let cut = text.count > 60 ? String(decoding: text.prefix(60), as: UTF8.self) + "..." : String(decoding: text, as: UTF8.self)
        return "'\(cut)'"
    }

    /// Whether `text` is valid UTF-8 (a fast pass for ASCII).
    package static func isValidUTF8(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in text where byte >= 0x80 {
            return String(validating: text, as: UTF8.self) != nil
        }
        return true
    }

    /// `true`, `1`, `t`, `yes` and `false`, `0`, `f`, `no`, in any ASCII case; nil for anything else. Compared
    /// as one word of lower-cased bytes (no string per value).
    static func boolean(_ t: UnsafeBufferPointer<UInt8>) -> Bool? {
        guard !t.isEmpty, t.count <= 5 else { return nil }
        var word: UInt64 = 0
        for byte in t { word = word << 8 | UInt64(byte &- 65 < 26 ? byte | 0x20 : byte) }
        switch word {
        case 0x7472_7565, 0x31, 0x74, 0x79_6573: return true  // true, 1, t, yes
        case 0x66_616c_7365, 0x30, 0x66, 0x6e6f: return false  // false, 0, f, no
        default: return nil
        }
    }

    @inline(__always)
    /// Whether `t` is an integer in form (`[+-]digits`), whatever its size.
    static func isIntegerText(_ t: UnsafeBufferPointer<UInt8>) -> Bool {
        let digits = t.first == UInt8(ascii: "-") || t.first == UInt8(ascii: "+") ? t.dropFirst() : t[...]
        return !digits.isEmpty && digits.allSatisfy { $0 &- 48 < 10 }
    }

    package static func integer(_ t: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        let n = t.count
        guard n > 0 else { return nil }
        var negative = false
        if t[0] == UInt8(ascii: "-") { negative = true; i = 1 } else if t[0] == UInt8(ascii: "+") { i = 1 }
        guard i < n else { return nil }
        var v: Int64 = 0
        while i < n {
            let d = t[i] &- 48
            guard d < 10 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return nil }
            v = s
            i += 1
        }
        return v
    }

    static let powersOf10: [Double] = (0...22).map { (0..<$0).reduce(1.0) { r, _ in r * 10 } }

    /// A JSON-style number (also `NaN`, `Infinity`); exact: the fast path only when the result is exact.
    @inline(__always)
    package static func double(_ t: UnsafeBufferPointer<UInt8>) -> Double? {
        // Fast path: [-]digits[.digits] with at most 15 significant digits.
        var i = 0
        let n = t.count
        guard n > 0 else { return nil }
        var negative = false
        if t[0] == UInt8(ascii: "-") { negative = true; i = 1 }
        var mantissa: Int64 = 0, digits = 0, fraction = 0, sawDot = false, simple = i < n
        while i < n {
            let c = t[i]
            if c == UInt8(ascii: ".") {
                if sawDot { simple = false; break }
                sawDot = true
            } else if c &- 48 < 10 {
                mantissa = mantissa &* 10 &+ Int64(c &- 48)
                digits += 1
                if sawDot { fraction += 1 }
            } else {
                simple = false
                break
            }
            i += 1
        }
        if simple, digits > 0, digits <= 15, fraction <= 22 {
            let v = Double(mantissa) / powersOf10[fraction]
            return negative ? -v : v
        }
        // What the full conversion can take starts (after a sign) with a digit, a point, `n` (nan) or `i` (inf):
        // anything else is no number, without making a string of it.
        let first = t[negative || t[0] == UInt8(ascii: "+") ? min(1, n - 1) : 0]
        guard first &- 48 < 10 || first == UInt8(ascii: ".") || first | 0x20 == UInt8(ascii: "n") || first | 0x20 == UInt8(ascii: "i") else { return nil }
        return Double(String(decoding: t, as: UTF8.self))
    }

    static func bigEndian(_ v: Int128, width: Int) -> [UInt8] {
        (0..<width).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
    }

    /// The unscaled value of `[-]digits[.digits][e[-]digits]` at `scale`; refuses to round and to exceed
    /// `precision`.
    static func decimal(_ t: UnsafeBufferPointer<UInt8>, precision: Int, scale: Int) throws(ConversionFailure) -> Int128 {
        let text = String(decoding: t, as: UTF8.self)
        var body = Substring(text)
        var negative = false
        if body.first == "-" { negative = true; body = body.dropFirst() } else if body.first == "+" { body = body.dropFirst() }
        var exponent = 0
        if let e = body.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let x = Int(body[body.index(after: e)...]) else { throw ConversionFailure("'\(text)' is not a decimal number") }
            // Past ±400 no value fits 38 digits (or every digit would be dropped); the bound also keeps
            // the zero padding below from running away.
            guard (-400...400).contains(x) else { throw ConversionFailure("'\(text)' has an exponent out of range for decimal(\(precision),\(scale))") }
            exponent = x
            body = body[..<e]
        }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, !body.isEmpty, parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else {
            throw ConversionFailure("'\(text)' is not a decimal number")
        }
        var digits = Array(parts[0]) + (parts.count == 2 ? Array(parts[1]) : [])
        var fractionDigits = (parts.count == 2 ? parts[1].count : 0) - exponent
        // Bring the fraction to `scale` digits: pad with zeros, or drop zeros (never non-zero digits).
        while fractionDigits < scale { digits.append("0"); fractionDigits += 1 }
        while fractionDigits > scale {
            guard let last = digits.last, last == "0" else {
                throw ConversionFailure("'\(text)' has more than \(scale) decimal places for decimal(\(precision),\(scale))")
            }
            digits.removeLast()
            fractionDigits -= 1
        }
        while digits.count > 1, digits.first == "0" { digits.removeFirst() }
        guard digits.count <= precision else {
            throw ConversionFailure(
                "'\(text)' does not fit decimal(\(precision),\(scale))", widening: digits.count <= 38 ? .decimal(precision: digits.count, scale: scale) : nil)
        }
        var v: Int128 = 0
        for d in digits { v = v * 10 + Int128(d.wholeNumberValue!) }
        return negative ? -v : v
    }

    private static func digits(_ t: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int64? {
        guard start + count <= t.count else { return nil }
        var v: Int64 = 0
        for i in start..<(start + count) {
            let d = t[i] &- 48
            guard d < 10 else { return nil }
            v = v * 10 + Int64(d)
        }
        return v
    }

    /// `YYYY-MM-DD` as days since 1970-01-01.
    static func date(_ t: UnsafeBufferPointer<UInt8>) -> Int32? {
        guard t.count == 10 else { return nil }
        return civilDays(t).flatMap { Int32(exactly: $0) }
    }

    private static func civilDays(_ t: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard t.count >= 10, t[4] == UInt8(ascii: "-"), t[7] == UInt8(ascii: "-"),
            let y = digits(t, 0, 4), let m = digits(t, 5, 2), let d = digits(t, 8, 2), (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        return CivilTime.days(year: y, month: m, day: d)
    }

    /// `HH:MM[:SS[.fraction]]` from `start`, as microseconds; also returns where it ended.
    private static func clock(_ t: UnsafeBufferPointer<UInt8>, from start: Int) -> (micros: Int64, end: Int)? {
        guard let h = digits(t, start, 2), start + 2 < t.count, t[start + 2] == UInt8(ascii: ":"), let m = digits(t, start + 3, 2),
            h < 24, m < 60
        else { return nil }
        var micros = (h * 3600 + m * 60) * 1_000_000
        var i = start + 5
        if i < t.count, t[i] == UInt8(ascii: ":") {
            guard let s = digits(t, i + 1, 2), s < 61 else { return nil }
            micros += s * 1_000_000
            i += 3
            if i < t.count, t[i] == UInt8(ascii: ".") || t[i] == UInt8(ascii: ",") {
                i += 1
                var scale: Int64 = 100_000, fraction: Int64 = 0, count = 0
                while i < t.count, t[i] &- 48 < 10 {
                    if count < 6 { fraction += Int64(t[i] &- 48) * scale; scale /= 10 }
                    count += 1
                    i += 1
                }
                guard count > 0 else { return nil }
                micros += fraction
            }
        }
        return (micros, i)
    }

    /// `HH:MM[:SS[.ffffff]]` as microseconds since midnight.
    static func time(_ t: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard let (micros, end) = clock(t, from: 0), end == t.count else { return nil }
        return micros
    }

    /// ISO-8601 `YYYY-MM-DD[(T| )HH:MM[:SS[.f]]][Z|±HH[:]MM]` as microseconds since the epoch (an offset is
    /// applied, giving UTC); a date alone is its midnight.
    static func timestamp(_ t: UnsafeBufferPointer<UInt8>) -> Int64? {
        var dayCache = DayCache()
        return timestamp(t, dayCache: &dayCache)
    }

    /// The date of the last timestamp read in the machines' form: its first ten bytes and their day number.
    /// Records written in the same hour share a date, so most timestamps skip reading it again.
    struct DayCache {
        fileprivate var head: UInt64 = 0
        fileprivate var tail: UInt16 = 0
        fileprivate var days: Int64 = 0
        fileprivate var isSet = false
    }

    /// ``timestamp(_:)``, taking the date from `dayCache` when it is the last one read (the same value).
    static func timestamp(_ t: UnsafeBufferPointer<UInt8>, dayCache: inout DayCache) -> Int64? {
        if let micros = utcTimestamp(t, dayCache: &dayCache) { return micros }
        guard let days = civilDays(t) else { return nil }
        var micros = days * 86_400_000_000
        if t.count == 10 { return micros }
        guard t[10] == UInt8(ascii: "T") || t[10] == UInt8(ascii: " ") || t[10] == UInt8(ascii: "t"),
            let (clockMicros, end) = clock(t, from: 11)
        else { return nil }
        micros += clockMicros
        var i = end
        if i == t.count { return micros }
        switch t[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            return i + 1 == t.count ? micros : nil
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign: Int64 = t[i] == UInt8(ascii: "+") ? 1 : -1
            i += 1
            guard let oh = digits(t, i, 2) else { return nil }
            i += 2
            if i < t.count, t[i] == UInt8(ascii: ":") { i += 1 }
            let om = i < t.count ? digits(t, i, 2) : 0
            guard let om, i + (i < t.count ? 2 : 0) == t.count, oh < 24, om < 60 else { return nil }
            return micros - sign * (oh * 3600 + om * 60) * 1_000_000
        default:
            return nil
        }
    }

    /// The form machines write, `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`, with fixed positions and no calls per
    /// part; nil for anything else, which ``timestamp(_:)`` then reads in full (to the same value when this
    /// reads it too).
    @inline(__always)
    private static func utcTimestamp(_ t: UnsafeBufferPointer<UInt8>, dayCache: inout DayCache) -> Int64? {
        let n = t.count
        guard n >= 20, n <= 30, t[n - 1] == UInt8(ascii: "Z"), t[4] == UInt8(ascii: "-"), t[7] == UInt8(ascii: "-"), t[10] == UInt8(ascii: "T"),
            t[13] == UInt8(ascii: ":"), t[16] == UInt8(ascii: ":")
        else { return nil }
        @inline(__always) func d(_ k: Int) -> Int64 { Int64(t[k] &- 48) }
        @inline(__always) func two(_ k: Int) -> Bool { t[k] &- 48 < 10 && t[k + 1] &- 48 < 10 }
        let days: Int64
        let base = UnsafeRawPointer(t.baseAddress!)
        let head = base.loadUnaligned(as: UInt64.self), tail = base.loadUnaligned(fromByteOffset: 8, as: UInt16.self)
        if dayCache.isSet, head == dayCache.head, tail == dayCache.tail {
            // The same ten bytes as the last date read, which were checked then.
            days = dayCache.days
        } else {
            guard two(0), two(2), two(5), two(8) else { return nil }
            let year = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3), month = d(5) * 10 + d(6), day = d(8) * 10 + d(9)
            guard month >= 1, month <= 12, day >= 1, day <= 31 else { return nil }
            days = CivilTime.days(year: year, month: month, day: day)
            dayCache = DayCache(head: head, tail: tail, days: days, isSet: true)
        }
        guard two(11), two(14), two(17) else { return nil }
        let hour = d(11) * 10 + d(12), minute = d(14) * 10 + d(15), second = d(17) * 10 + d(18)
        guard hour < 24, minute < 60, second < 61 else { return nil }
        var fraction: Int64 = 0
        if n > 20 {
            // `.` and 1 to 9 digits before the `Z`: the first six are the microseconds.
            guard t[19] == UInt8(ascii: "."), n > 21, let micros = fractionMicros(base, digits: n - 21) else { return nil }
            fraction = micros
        }
        return days * 86_400_000_000 + ((hour * 60 + minute) * 60 + second) * 1_000_000 + fraction
    }

    /// The microseconds of the `digits` (1 to 9) fraction digits at byte 20 of a machine-form timestamp
    /// (`...:SS.fffffffZ`), eight bytes at a time; digits past the sixth are checked and dropped. Nil when one
    /// is not a digit.
    @inline(__always)
    static func fractionMicros(_ base: UnsafeRawPointer, digits: Int) -> Int64? {
        // Eight digits in the eight lanes of a word, the first in the lowest, as ASCII; lanes left of the
        // digits (fewer than eight) read as '0'.
        let word: UInt64
        if digits <= 7 {
            // The word that ends at the `Z` (byte 20 + digits), moved up one lane so the digits end in the
            // top lane; the bytes below them (the `.`, the seconds) are replaced by '0'.
            let keep = ~UInt64(0) << (UInt64(8 - digits) * 8)
            let shifted = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 13 + digits, as: UInt64.self)) << 8
            word = shifted & keep | 0x3030_3030_3030_3030 & ~keep
        } else {
            word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 20, as: UInt64.self))
            if digits == 9, base.load(fromByteOffset: 28, as: UInt8.self) &- 48 >= 10 { return nil }
        }
        let v = word &- 0x3030_3030_3030_3030
        // A lane outside '0'...'9' has its high bit set here, in `v` or in `v + 0x76`.
        guard (v | (v &+ 0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080 == 0 else { return nil }
        // The eight digits as one number: pairs, then fours, then all eight.
        var x = (v &* 10 &+ (v >> 8)) & 0x00FF_00FF_00FF_00FF
        x = (x &* 100 &+ (x >> 16)) & 0x0000_FFFF_0000_FFFF
        x = (x &* 10_000 &+ (x >> 32)) & 0xFFFF_FFFF
        let value = Int64(x)
        switch digits {
        case ...6: return value * powersOfTen[6 - digits]
        case 7: return value / 10
        default: return value / 100
        }
    }

    private static let powersOfTen: [Int64] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]

    /// An epoch number (integer or with a fraction) in `unit`, as microseconds.
    static func epochMicros(_ t: UnsafeBufferPointer<UInt8>, unit: ConversionOptions.EpochUnit) -> Int64? {
        if let v = integer(t) {
            let magnitude = v.magnitude
            let resolved: ConversionOptions.EpochUnit =
                unit != .auto ? unit
                : magnitude < 100_000_000_000 ? .seconds : magnitude < 100_000_000_000_000 ? .milliseconds
                : magnitude < 100_000_000_000_000_000 ? .microseconds : .nanoseconds
            switch resolved {
            case .seconds: return v.multipliedReportingOverflow(by: 1_000_000).overflow ? nil : v * 1_000_000
            case .milliseconds: return v.multipliedReportingOverflow(by: 1_000).overflow ? nil : v * 1_000
            case .microseconds, .auto: return v
            case .nanoseconds: return v >= 0 ? v / 1_000 : (v + 1) / 1_000 - 1  // floor, without negating Int64.min
            }
        }
        guard let d = double(t), d.isFinite else { return nil }
        let resolved: ConversionOptions.EpochUnit =
            unit != .auto ? unit : abs(d) < 1e11 ? .seconds : abs(d) < 1e14 ? .milliseconds : abs(d) < 1e17 ? .microseconds : .nanoseconds
        let factor: Double =
            switch resolved {
            case .seconds: 1e6
            case .milliseconds: 1e3
            case .microseconds, .auto: 1
            case .nanoseconds: 1e-3
            }
        let micros = (d * factor).rounded()
        guard abs(micros) < 9.2e18 else { return nil }
        return Int64(micros)
    }

    /// `8-4-4-4-12` hex digits as 16 bytes.
    static func uuid(_ t: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard t.count == 36 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(16)
        var i = 0
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        while i < 36 {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard t[i] == UInt8(ascii: "-") else { return nil }
                i += 1
                continue
            }
            guard let hi = hex(t[i]), let lo = hex(t[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
