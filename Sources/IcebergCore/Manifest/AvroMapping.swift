import Avro
import Foundation

/// Iceberg types and values in Avro (spec: "Avro" section of "Appendix A: Format-specific Requirements").
enum AvroMapping {
    /// The Avro schema for an Iceberg primitive.
    static func avroType(_ type: PrimitiveType) -> AvroSchema {
        switch type {
        case .boolean: .boolean
        case .int: .int
        case .long: .long
        case .float: .float
        case .double: .double
        case .date: .annotated(.int, properties: ["logicalType": .string("date")])
        case .time: .annotated(.long, properties: ["logicalType": .string("time-micros")])
        case .timestamp: .annotated(.long, properties: ["logicalType": .string("timestamp-micros"), "adjust-to-utc": .bool(false)])
        case .timestamptz: .annotated(.long, properties: ["logicalType": .string("timestamp-micros"), "adjust-to-utc": .bool(true)])
        case .string: .string
        case .uuid: .fixed(name: "uuid_fixed", size: 16, properties: ["logicalType": .string("uuid")])
        case .fixed(let length): .fixed(name: "fixed_\(length)", size: length, properties: [:])
        case .binary: .bytes
        case .decimal(let p, let s):
            .fixed(name: "decimal_\(p)_\(s)", size: decimalBytes(precision: p),
                   properties: ["logicalType": .string("decimal"), "precision": .int(Int64(p)), "scale": .int(Int64(s))])
        }
    }

    /// The fewest bytes that hold any unscaled value of `precision` digits, as the spec stores decimals in
    /// Avro (`fixed`, "the minimum number of bytes for the given precision"): the smallest `n` with
    /// 10^precision <= 2^(8n-1). 10^p is never a power of two, so comparing logarithms is exact enough.
    static func decimalBytes(precision: Int) -> Int {
        let bits = Double(max(precision, 0)) * 3.321928094887362  // log2(10)
        var bytes = 1
        while bits > Double(8 * bytes - 1) { bytes += 1 }
        return bytes
    }

    static func avroValue(_ literal: Literal?, type: PrimitiveType) -> AvroValue {
        guard let literal else { return .null }
        switch literal {
        case .boolean(let b): return .boolean(b)
        case .int(let i), .date(let i): return .int(i)
        case .long(let l), .time(let l), .timestamp(let l), .timestamptz(let l): return .long(l)
        case .float(let f): return .float(f)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .uuid, .fixed: return .fixed(literal.binary)
        case .binary(let b): return .bytes(b)
        case .decimal(let unscaled, _):
            guard case .decimal(let precision, _) = type else { return .fixed(literal.binary) }
            // Sign-extend the minimal bytes to the fixed size.
            let minimal = Literal.minimalBigEndian(unscaled)
            let size = decimalBytes(precision: precision)
            let fill: UInt8 = unscaled < 0 ? 0xff : 0
            return .fixed([UInt8](repeating: fill, count: max(0, size - minimal.count)) + minimal)
        }
    }

    static func literal(_ value: AvroValue, type: PrimitiveType) throws -> Literal? {
        switch (value, type) {
        case (.null, _): return nil
        case (.boolean(let b), .boolean): return .boolean(b)
        case (.int(let i), .int): return .int(i)
        case (.int(let i), .date): return .date(i)
        case (.int(let i), .long): return .long(Int64(i))
        case (.long(let l), .long): return .long(l)
        case (.long(let l), .time): return .time(l)
        case (.long(let l), .timestamp): return .timestamp(l)
        case (.long(let l), .timestamptz): return .timestamptz(l)
        case (.float(let f), .float): return .float(f)
        case (.float(let f), .double): return .double(Double(f))
        case (.double(let d), .double): return .double(d)
        case (.string(let s), .string): return .string(s)
        case (.bytes(let b), .binary): return .binary(b)
        case (.fixed(let b), .uuid), (.bytes(let b), .uuid): return try Literal(binary: b, type: .uuid)
        case (.fixed(let b), .fixed): return .fixed(b)
        case (.fixed(let b), .decimal), (.bytes(let b), .decimal): return try Literal(binary: b, type: type)
        default:
            throw IcebergError(.invalidMetadata, "partition value \(value) does not match type \(type)")
        }
    }
}
