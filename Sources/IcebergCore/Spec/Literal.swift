import Foundation

/// A single typed value: a partition value or a column bound (spec: "Primitive Types"; binary form:
/// Appendix D "Single-value serialization").
///
/// ```swift
/// let bound = Literal.timestamptz(1_764_000_000_000_000)
/// let bytes = bound.binary                       // 8 bytes, little-endian micros
/// try Literal(binary: bytes, type: .timestamptz) // == bound
/// ```
public enum Literal: Sendable, Hashable, CustomStringConvertible {
    case boolean(Bool)
    case int(Int32)
    case long(Int64)
    case float(Float)
    case double(Double)
    /// The unscaled value; the scale comes from the type.
    case decimal(unscaled: Int128, scale: Int)
    /// Days since 1970-01-01.
    case date(Int32)
    /// Microseconds since midnight.
    case time(Int64)
    /// Microseconds since 1970-01-01T00:00:00 (no zone).
    case timestamp(Int64)
    /// Microseconds since 1970-01-01T00:00:00Z.
    case timestamptz(Int64)
    case string(String)
    case uuid(UUID)
    case fixed([UInt8])
    case binary([UInt8])

    public var description: String {
        switch self {
        case .boolean(let b): String(b)
        case .int(let v): String(v)
        case .long(let v): String(v)
        case .float(let v): String(v)
        case .double(let v): String(v)
        case .decimal(let u, let s): Self.decimalString(unscaled: u, scale: s)
        case .date(let d): CivilTime.dateString(days: Int64(d))
        case .time(let t): CivilTime.timeString(micros: t)
        case .timestamp(let t): CivilTime.timestampString(micros: t, zone: false)
        case .timestamptz(let t): CivilTime.timestampString(micros: t, zone: true)
        case .string(let s): s
        case .uuid(let u): u.uuidString.lowercased()
        case .fixed(let b), .binary(let b): b.map { String(format: "%02x", $0) }.joined()
        }
    }

    static func decimalString(unscaled: Int128, scale: Int) -> String {
        let negative = unscaled < 0
        var digits = String(negative ? -unscaled : unscaled)
        if scale > 0 {
            if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
        }
        return (negative ? "-" : "") + digits
    }

    // MARK: Appendix D: binary single-value serialization

    /// The value's bytes as stored in manifests' lower/upper bounds.
    public var binary: [UInt8] {
        switch self {
        case .boolean(let b): [b ? 1 : 0]
        case .int(let v), .date(let v): Self.littleEndian(v)
        case .long(let v), .time(let v), .timestamp(let v), .timestamptz(let v): Self.littleEndian(v)
        case .float(let v): Self.littleEndian(v.bitPattern)
        case .double(let v): Self.littleEndian(v.bitPattern)
        case .decimal(let u, _): Self.minimalBigEndian(u)
        case .string(let s): Array(s.utf8)
        case .uuid(let u): withUnsafeBytes(of: u.uuid) { Array($0) }
        case .fixed(let b), .binary(let b): b
        }
    }

    /// Decodes bound bytes of a primitive `type`. Throws `.invalidMetadata` on a wrong length.
    public init(binary bytes: [UInt8], type: PrimitiveType) throws {
        func need(_ n: Int) throws {
            guard bytes.count == n else {
                throw IcebergError(.invalidMetadata, "a \(type) value takes \(n) bytes, found \(bytes.count)")
            }
        }
        switch type {
        case .boolean: try need(1); self = .boolean(bytes[0] != 0)
        case .int: try need(4); self = .int(Self.fromLittleEndian(bytes))
        case .date: try need(4); self = .date(Self.fromLittleEndian(bytes))
        case .long: try need(8); self = .long(Self.fromLittleEndian(bytes))
        case .time: try need(8); self = .time(Self.fromLittleEndian(bytes))
        case .timestamp: try need(8); self = .timestamp(Self.fromLittleEndian(bytes))
        case .timestamptz: try need(8); self = .timestamptz(Self.fromLittleEndian(bytes))
        case .float: try need(4); self = .float(Float(bitPattern: Self.fromLittleEndian(bytes)))
        case .double: try need(8); self = .double(Double(bitPattern: Self.fromLittleEndian(bytes)))
        case .decimal(_, let scale):
            guard (1...16).contains(bytes.count) else {
                throw IcebergError(.invalidMetadata, "a decimal value takes 1 to 16 bytes, found \(bytes.count)")
            }
            var value: Int128 = bytes[0] & 0x80 != 0 ? -1 : 0
            for byte in bytes { value = (value << 8) | Int128(byte) }
            self = .decimal(unscaled: value, scale: scale)
        case .string:
            guard let s = String(validating: bytes, as: UTF8.self) else {
                throw IcebergError(.invalidMetadata, "a string value is not valid UTF-8")
            }
            self = .string(s)
        case .uuid:
            try need(16)
            self = .uuid(UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                                     bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15])))
        case .fixed(let length): try need(length); self = .fixed(bytes)
        case .binary: self = .binary(bytes)
        }
    }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    static func fromLittleEndian<T: FixedWidthInteger>(_ bytes: [UInt8]) -> T {
        var value: T = 0
        for (i, byte) in bytes.enumerated() { value |= T(truncatingIfNeeded: byte) << (8 * i) }
        return value
    }

    /// Two's-complement big-endian in the fewest bytes that keep the sign (spec Appendix D, decimals).
    static func minimalBigEndian(_ value: Int128) -> [UInt8] {
        var bytes = withUnsafeBytes(of: value.bigEndian) { Array($0) }
        while bytes.count > 1 {
            let first = bytes[0], next = bytes[1]
            if (first == 0x00 && next & 0x80 == 0) || (first == 0xff && next & 0x80 != 0) {
                bytes.removeFirst()
            } else {
                break
            }
        }
        return bytes
    }

    /// The primitive type this literal is a value of (decimal precision is not known: 38 is assumed).
    public var type: PrimitiveType {
        switch self {
        case .boolean: .boolean
        case .int: .int
        case .long: .long
        case .float: .float
        case .double: .double
        case .decimal(_, let s): .decimal(precision: 38, scale: s)
        case .date: .date
        case .time: .time
        case .timestamp: .timestamp
        case .timestamptz: .timestamptz
        case .string: .string
        case .uuid: .uuid
        case .fixed(let b): .fixed(length: b.count)
        case .binary: .binary
        }
    }
}
