import Foundation

/// The byte-level scanning of ``JSONRecordParser``: strings, literals, numbers, skipping whole values,
/// unescaping, and finding where the next record starts after a broken one.
extension JSONRecordParser {
    static func resync(_ buffer: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var k = from
        while k < buffer.count {
            if buffer[k] == 0x0a { return k + 1 }
            if buffer[k] == UInt8(ascii: "}"), k + 1 < buffer.count, buffer[k + 1] == UInt8(ascii: "{") { return k + 1 }
            k += 1
        }
        return nil
    }

    /// Newlines in `buffer[from..<to]`, 16 bytes at a time: each block's newlines counted in byte lanes (a
    /// compare and a subtract, no popcount, which this target lacks in hardware), the lanes summed every 255
    /// blocks.
    static func newlines(_ buffer: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int {
        guard from < to, let base = buffer.baseAddress else { return 0 }
        var count = 0
        if to - from < 256 {
            // A record's worth (the parser counts record by record): a `memchr` per line.
            var p = base + from
            let end = base + to
            while p < end, let hit = memchr(p, 0x0a, end - p) {
                count += 1
                p = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) + 1
            }
            return count
        }
        var p = UnsafeRawPointer(base + from)
        let end = UnsafeRawPointer(base + to)
        let newline = SIMD16<UInt8>(repeating: 0x0a)
        while end - p >= 16 {
            var lanes = SIMD16<UInt8>()
            for _ in 0..<min((end - p) >> 4, 255) {
                // A true lane of the mask is all ones: subtracting it adds one.
                lanes &-= unsafeBitCast(p.loadUnaligned(as: SIMD16<UInt8>.self) .== newline, to: SIMD16<UInt8>.self)
                p += 16
            }
            count += Int(SIMD16<UInt16>(truncatingIfNeeded: lanes).wrappedSum())
        }
        while p < end {
            if p.load(as: UInt8.self) == 0x0a { count += 1 }
            p += 1
        }
        return count
    }

    @inline(__always)
    static func isNumberByte(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: ".") || c == UInt8(ascii: "e")
            || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-")
    }

    static func expectLiteral(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ word: StaticString) throws(Stop) {
        let count = word.utf8CodeUnitCount
        guard i + count <= b.count else {
            // Still a prefix of the literal: more input may complete it.
            for k in i..<b.count where b[k] != word.utf8Start[k - i] { throw .syntax("expected '\(word)'", at: i) }
            throw .needMore
        }
        for k in 0..<count where b[i + k] != word.utf8Start[k] { throw .syntax("expected '\(word)'", at: i) }
        i += count
    }

    /// Index of the closing quote of a string starting at `from` (just after the opening quote), whether it
    /// holds escapes, and whether its bytes are all ASCII (then they need no UTF-8 check).
    @inline(__always)
    static func scanString(_ b: UnsafeBufferPointer<UInt8>, from: Int) throws(Stop) -> (end: Int, escaped: Bool, ascii: Bool) {
        var k = from
        var escaped = false
        // The string's bytes ORed together: a high bit means a byte above ASCII.
        var seen: UInt64 = 0
        let n = b.count
        while k < n {
            if k + 8 <= n {
                // Eight bytes at a time to the first quote, backslash or control byte.
                let word = UnsafeRawPointer(b.baseAddress! + k).loadUnaligned(as: UInt64.self)
                let hits = SWAR.firstStringStop(word)
                if hits == 0 {
                    seen |= word
                    k += 8
                    continue
                }
                // The bytes below the first stop are the string's.
                seen |= word & ((hits & (0 &- hits)) &- 1)
                k += hits.trailingZeroBitCount >> 3
            }
            let c = b[k]
            if c == UInt8(ascii: "\"") { return (k, escaped, seen & SWAR.highs == 0) }
            if c == UInt8(ascii: "\\") {
                escaped = true
                k += 2
                continue
            }
            if c < 0x20 {
                throw .syntax(c == 0x0a ? "a string runs past the end of the line" : "a control character inside a string", at: k)
            }
            seen |= UInt64(c)
            k += 1
        }
        throw .needMore
    }

    /// Skips one value of any kind; returns the index just past it.
    @discardableResult
    static func skipValue(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) throws(Stop) -> Int {
        let n = b.count
        guard i < n else { throw .needMore }
        switch b[i] {
        case UInt8(ascii: "\""):
            i = try scanString(b, from: i + 1).end + 1
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while i < n {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    i = try scanString(b, from: i + 1).end + 1
                    continue
                }
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { depth += 1 }
                if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 {
                        i += 1
                        return i
                    }
                }
                i += 1
            }
            throw .needMore
        case UInt8(ascii: "t"): try expectLiteral(b, &i, "true")
        case UInt8(ascii: "f"): try expectLiteral(b, &i, "false")
        case UInt8(ascii: "n"): try expectLiteral(b, &i, "null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            i += 1
            while i < n, isNumberByte(b[i]) { i += 1 }
            guard i < n else { throw .needMore }
        default:
            throw .syntax("unexpected character '\(Character(Unicode.Scalar(b[i])))' where a value should be", at: i)
        }
        return i
    }

    static func unescapedString(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        var out: [UInt8] = []
        unescape(b, start, end, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes a string's escapes (`\n`, `\"`, `\u00e9`, surrogate pairs) into `out` as UTF-8.
    static func unescape(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        var k = start
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= end else { return nil }
            var v: UInt32 = 0
            for j in at..<(at + 4) {
                let c = b[j]
                let d: UInt32
                switch c {
                case 48...57: d = UInt32(c - 48)
                case 97...102: d = UInt32(c - 87)
                case 65...70: d = UInt32(c - 55)
                default: return nil
                }
                v = v << 4 | d
            }
            return v
        }
        while k < end {
            let c = b[k]
            guard c == UInt8(ascii: "\\"), k + 1 < end else {
                out.append(c)
                k += 1
                continue
            }
            let e = b[k + 1]
            k += 2
            switch e {
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0d)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0c)
            case UInt8(ascii: "u"):
                guard var scalar = hex4(k) else { out.append(contentsOf: "\u{FFFD}".utf8); continue }
                k += 4
                if (0xD800..<0xDC00).contains(scalar), k + 6 <= end, b[k] == UInt8(ascii: "\\"), b[k + 1] == UInt8(ascii: "u"),
                    let low = hex4(k + 2), (0xDC00..<0xE000).contains(low)
                {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    k += 6
                }
                out.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
            default: out.append(e)  // \" \\ \/
            }
        }
    }
}

/// Byte-parallel tests on eight bytes in a 64-bit word (little endian: the first byte is the lowest).
enum SWAR {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// A high bit at each byte that is `"`, `\\` or below 0x20; exact at the lowest flagged byte (bytes
    /// above a true hit may be flagged too, so only the lowest is to be used).
    @inline(__always)
    static func firstStringStop(_ word: UInt64) -> UInt64 {
        let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5c)
        let zeroQuote = (quote &- ones) & ~quote
        let zeroBackslash = (backslash &- ones) & ~backslash
        let control = (word &- ones &* 0x20) & ~word
        return (zeroQuote | zeroBackslash | control) & highs
    }
}
