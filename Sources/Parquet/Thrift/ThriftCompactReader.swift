/// Thrift's compact protocol, reading side: a generic value tree, so that unknown fields are skipped
/// and every length is checked against the bytes that remain.
struct ThriftCompactReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int
    let source: String
    private var depth = 0

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil, source: String) {
        self.bytes = bytes
        offset = start
        self.end = min(end ?? bytes.count, bytes.count)
        self.source = source
    }

    /// A decoded Thrift value.
    indirect enum Value {
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case binary(ArraySlice<UInt8>)
        case list([Value])
        case `struct`(ThriftStruct)
        case map
    }

    func corrupt(_ what: String) -> ParquetError { ParquetError(.corruptFile, "\(source): \(what) at byte \(offset)") }

    mutating func byte() throws -> UInt8 {
        guard offset < end else { throw corrupt("truncated Thrift data") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0, shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw corrupt("varint too long") }
        }
    }

    mutating func zigzag() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }

    mutating func readStruct() throws -> ThriftStruct {
        depth += 1
        defer { depth -= 1 }
        guard depth < 64 else { throw corrupt("structs nested too deep") }
        var fields: [Int16: Value] = [:]
        var lastID: Int16 = 0
        while true {
            let header = try byte()
            if header == 0 { return ThriftStruct(fields: fields) }
            let type = header & 0x0f
            let delta = header >> 4
            let id: Int16
            if delta == 0 {
                let raw = try zigzag()
                guard let fieldID = Int16(exactly: raw) else { throw corrupt("field id \(raw) out of range") }
                id = fieldID
            } else {
                id = lastID &+ Int16(delta)
            }
            lastID = id
            fields[id] = try value(type: type)
        }
    }

    private mutating func value(type: UInt8) throws -> Value {
        switch type {
        case 1: return .bool(true)
        case 2: return .bool(false)
        case 3: return .int(Int64(Int8(bitPattern: try byte())))
        case 4, 5, 6: return .int(try zigzag())
        case 7:
            guard end - offset >= 8 else { throw corrupt("truncated double") }
            var bits: UInt64 = 0
            for i in 0..<8 { bits |= UInt64(bytes[offset + i]) << (8 * i) }
            offset += 8
            return .double(Double(bitPattern: bits))
        case 8:
            let length = try varint()
            guard length <= UInt64(end - offset) else { throw corrupt("binary length \(length) past the end") }
            defer { offset += Int(length) }
            return .binary(bytes[offset..<offset + Int(length)])
        case 9, 10:
            let header = try byte()
            var count = Int(header >> 4)
            if count == 15 {
                let big = try varint()
                guard big <= UInt64(end - offset) else { throw corrupt("list size \(big) past the end") }
                count = Int(big)
            }
            let elementType = header & 0x0f
            var values: [Value] = []
            values.reserveCapacity(min(count, 1 << 16))
            for _ in 0..<count {
                if elementType == 1 || elementType == 2 {
                    values.append(.bool(try byte() == 1))
                } else {
                    values.append(try value(type: elementType))
                }
            }
            return .list(values)
        case 11:
            let count = try varint()
            guard count <= UInt64(end - offset) else { throw corrupt("map size \(count) past the end") }
            if count > 0 {
                let types = try byte()
                for _ in 0..<count {
                    _ = try value(type: types >> 4)
                    _ = try value(type: types & 0x0f)
                }
            }
            return .map
        case 12: return .struct(try readStruct())
        default: throw corrupt("unknown Thrift type \(type)")
        }
    }
}

/// A decoded Thrift struct: its fields by id.
struct ThriftStruct {
    var fields: [Int16: ThriftCompactReader.Value]

    func int(_ id: Int16) -> Int64? { if case .int(let v)? = fields[id] { return v }; return nil }
    func bool(_ id: Int16) -> Bool? { if case .bool(let v)? = fields[id] { return v }; return nil }
    func binary(_ id: Int16) -> [UInt8]? { if case .binary(let v)? = fields[id] { return Array(v) }; return nil }
    func string(_ id: Int16) -> String? { binary(id).map { String(decoding: $0, as: UTF8.self) } }
    func `struct`(_ id: Int16) -> ThriftStruct? { if case .struct(let v)? = fields[id] { return v }; return nil }
    func list(_ id: Int16) -> [ThriftCompactReader.Value] { if case .list(let v)? = fields[id] { return v }; return [] }
    func structs(_ id: Int16) -> [ThriftStruct] { list(id).compactMap { if case .struct(let s) = $0 { return s }; return nil } }
    /// The id of the one field set in a Thrift union.
    var unionField: Int16? { fields.keys.first }
}
