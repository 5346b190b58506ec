/// A value of an Avro schema. Unions are not wrapped: a union value is its branch's value (the encoder
/// picks the branch; `null` goes to the null branch).
package enum AvroValue: Sendable, Equatable {
    case null
    case boolean(Bool)
    case int(Int32)
    case long(Int64)
    case float(Float)
    case double(Double)
    case bytes([UInt8])
    case string(String)
    /// Field values in the record schema's field order.
    case record([AvroValue])
    case enumSymbol(Int)
    case array([AvroValue])
    /// Map entries in order.
    case map([(String, AvroValue)])
    case fixed([UInt8])

    package static func == (a: AvroValue, b: AvroValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.boolean(let x), .boolean(let y)): x == y
        case (.int(let x), .int(let y)): x == y
        case (.long(let x), .long(let y)): x == y
        case (.float(let x), .float(let y)): x == y || (x.isNaN && y.isNaN)
        case (.double(let x), .double(let y)): x == y || (x.isNaN && y.isNaN)
        case (.bytes(let x), .bytes(let y)), (.fixed(let x), .fixed(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.record(let x), .record(let y)), (.array(let x), .array(let y)): x == y
        case (.enumSymbol(let x), .enumSymbol(let y)): x == y
        case (.map(let x), .map(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// An integer value as Int64 (int or long).
    package var int64: Int64? {
        switch self {
        case .int(let i): Int64(i)
        case .long(let l): l
        default: nil
        }
    }
}

/// Appends Avro's binary encoding of values to a byte buffer.
package struct AvroEncoder {
    package var bytes: [UInt8] = []

    package init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

    package mutating func writeLong(_ value: Int64) {
        var n = UInt64(bitPattern: (value << 1) ^ (value >> 63))  // zigzag
        while n >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: n) | 0x80)
            n >>= 7
        }
        bytes.append(UInt8(n))
    }

    package mutating func writeBytes<C: Collection>(_ value: C) where C.Element == UInt8 {
        writeLong(Int64(value.count))
        bytes.append(contentsOf: value)
    }

    package mutating func writeString(_ value: String) {
        var value = value
        value.withUTF8 { writeBytes($0) }
    }

    /// Encodes `value` as `schema`. Throws `.valueMismatch` naming the field path when they disagree.
    package mutating func write(_ value: AvroValue, as schema: AvroSchema, path: String = "") throws {
        func mismatch() -> AvroError {
            AvroError(.valueMismatch, "\(path.isEmpty ? "value" : path): \(value) does not fit \(schema.base)")
        }
        switch (schema.base, value) {
        case (.null, .null): break
        case (.boolean, .boolean(let b)): bytes.append(b ? 1 : 0)
        case (.int, .int(let i)): writeLong(Int64(i))
        case (.long, .long(let l)): writeLong(l)
        case (.long, .int(let i)): writeLong(Int64(i))
        case (.float, .float(let f)): withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        case (.double, .double(let d)): withUnsafeBytes(of: d.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        case (.bytes, .bytes(let b)): writeBytes(b)
        case (.string, .string(let s)): writeString(s)
        case (.fixed(_, let size, _), .fixed(let b)):
            guard b.count == size else { throw mismatch() }
            bytes.append(contentsOf: b)
        case (.enumeration(_, let symbols), .enumSymbol(let i)):
            guard symbols.indices.contains(i) else { throw mismatch() }
            writeLong(Int64(i))
        case (.record(let record), .record(let values)):
            guard values.count == record.fields.count else { throw mismatch() }
            for (field, fieldValue) in zip(record.fields, values) {
                try write(fieldValue, as: field.type, path: path.isEmpty ? field.name : "\(path).\(field.name)")
            }
        case (.array(let items, _), .array(let values)):
            if !values.isEmpty {
                writeLong(Int64(values.count))
                for (i, item) in values.enumerated() { try write(item, as: items, path: "\(path)[\(i)]") }
            }
            writeLong(0)
        case (.map(let valueSchema, _), .map(let entries)):
            if !entries.isEmpty {
                writeLong(Int64(entries.count))
                for (key, entryValue) in entries {
                    writeString(key)
                    try write(entryValue, as: valueSchema, path: "\(path)[\(key)]")
                }
            }
            writeLong(0)
        case (.union(let branches), _):
            guard let branch = Self.branch(for: value, in: branches) else { throw mismatch() }
            writeLong(Int64(branch))
            try write(value, as: branches[branch], path: path)
        default:
            throw mismatch()
        }
    }

    /// The first union branch that can hold `value`.
    static func branch(for value: AvroValue, in branches: [AvroSchema]) -> Int? {
        branches.firstIndex { branch in
            switch (branch.base, value) {
            case (.null, .null), (.boolean, .boolean), (.int, .int), (.long, .long), (.long, .int), (.float, .float),
                (.double, .double), (.bytes, .bytes), (.string, .string), (.record, .record), (.enumeration, .enumSymbol),
                (.array, .array), (.map, .map), (.fixed, .fixed):
                true
            default: false
            }
        }
    }
}

/// Reads Avro's binary encoding from a byte buffer, checking every length against what remains.
package struct AvroDecoder {
    private let bytes: [UInt8]
    package private(set) var offset: Int
    private let end: Int
    /// Names the file in errors.
    let source: String
    private var depth = 0

    package init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil, source: String = "avro data") {
        self.bytes = bytes
        self.offset = start
        self.end = min(end ?? bytes.count, bytes.count)
        self.source = source
    }

    package var isAtEnd: Bool { offset >= end }
    package var remaining: Int { end - offset }

    func corrupt(_ what: String) -> AvroError { AvroError(.corruptData, "\(source): \(what) at byte \(offset)") }

    package mutating func readLong() throws -> Int64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw corrupt("truncated varint") }
            let byte = bytes[offset]
            offset += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
            guard shift < 64 else { throw corrupt("varint longer than 10 bytes") }
        }
        return Int64(bitPattern: result >> 1) ^ -Int64(bitPattern: result & 1)
    }

    package mutating func readInt() throws -> Int32 {
        let value = try readLong()
        guard let int = Int32(exactly: value) else { throw corrupt("int out of range (\(value))") }
        return int
    }

    /// A length or count: non-negative and no larger than the bytes left times `perByte`.
    mutating func readLength(_ what: String, perByte: Int = 1) throws -> Int {
        let value = try readLong()
        guard value >= 0, value <= Int64(remaining) * Int64(perByte) + (perByte > 1 ? 1_000_000 : 0) else {
            throw corrupt("\(what) length \(value) is impossible here")
        }
        return Int(value)
    }

    package mutating func readRaw(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw corrupt("\(count) bytes needed, \(remaining) left") }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    package mutating func readBytes() throws -> [UInt8] { Array(try readRaw(try readLength("bytes"))) }

    package mutating func readString() throws -> String {
        let raw = try readRaw(try readLength("string"))
        guard let text = String(validating: raw, as: UTF8.self) else { throw corrupt("string is not UTF-8") }
        return text
    }

    /// Decodes one value of `schema`.
    package mutating func read(_ schema: AvroSchema) throws -> AvroValue {
        depth += 1
        defer { depth -= 1 }
        guard depth < 200 else { throw corrupt("values nested deeper than 200") }
        switch schema.base {
        case .null: return .null
        case .boolean:
            let byte = try readRaw(1).first!
            guard byte <= 1 else { throw corrupt("boolean byte \(byte)") }
            return .boolean(byte == 1)
        case .int: return .int(try readInt())
        case .long: return .long(try readLong())
        case .float:
            let raw = try readRaw(4)
            return .float(Float(bitPattern: raw.reversed().reduce(UInt32(0)) { ($0 << 8) | UInt32($1) }))
        case .double:
            let raw = try readRaw(8)
            return .double(Double(bitPattern: raw.reversed().reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }))
        case .bytes: return .bytes(try readBytes())
        case .string: return .string(try readString())
        case .fixed(_, let size, _): return .fixed(Array(try readRaw(size)))
        case .enumeration(_, let symbols):
            let index = try readLong()
            guard index >= 0, index < symbols.count else { throw corrupt("enum index \(index) out of range") }
            return .enumSymbol(Int(index))
        case .record(let record):
            var values: [AvroValue] = []
            values.reserveCapacity(record.fields.count)
            for field in record.fields { values.append(try read(field.type)) }
            return .record(values)
        case .array(let items, _):
            var values: [AvroValue] = []
            try readBlocks { decoder in values.append(try decoder.read(items)) }
            return .array(values)
        case .map(let valueSchema, _):
            var entries: [(String, AvroValue)] = []
            try readBlocks { decoder in
                let key = try decoder.readString()
                entries.append((key, try decoder.read(valueSchema)))
            }
            return .map(entries)
        case .union(let branches):
            let index = try readLong()
            guard index >= 0, index < branches.count else { throw corrupt("union branch \(index) out of range") }
            return try read(branches[Int(index)])
        case .annotated:
            return try read(schema.base)
        }
    }

    /// Array and map blocks: a count (negative: followed by a byte size), items, until a zero count.
    private mutating func readBlocks(_ item: (inout AvroDecoder) throws -> Void) throws {
        var total = 0
        while true {
            var count = try readLong()
            if count == 0 { return }
            if count < 0 {
                guard count != Int64.min else { throw corrupt("block count out of range") }
                count = -count
                _ = try readLong()  // block size in bytes
            }
            // Every item takes at least one byte unless it is null; allow a generous bound.
            guard count <= Int64(remaining) + 1_000_000 else { throw corrupt("block count \(count) is impossible here") }
            total += Int(count)
            guard total <= 50_000_000 else { throw corrupt("more than 50,000,000 items") }
            for _ in 0..<count {
                let before = offset
                try item(&self)
                if offset == before { guard total <= 1_000_000 else { throw corrupt("too many empty items") } }
            }
        }
    }
}
