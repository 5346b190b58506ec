/// Thrift's compact protocol (the encoding of Parquet's footer and page headers), writing side.
/// Callers write fields in increasing id order inside `writeStruct`.
struct ThriftCompactWriter {
    var bytes: [UInt8] = []
    private var lastFieldID: [Int16] = [0]

    enum FieldType: UInt8 {
        case boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7, binary = 8, list = 9, set = 10, map = 11, `struct` = 12
    }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func zigzag(_ value: Int64) { varint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

    private mutating func fieldHeader(_ id: Int16, _ type: FieldType) {
        let delta = id - lastFieldID[lastFieldID.count - 1]
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            zigzag(Int64(id))
        }
        lastFieldID[lastFieldID.count - 1] = id
    }

    mutating func i32(_ id: Int16, _ value: Int32) {
        fieldHeader(id, .i32)
        zigzag(Int64(value))
    }

    mutating func i64(_ id: Int16, _ value: Int64) {
        fieldHeader(id, .i64)
        zigzag(value)
    }

    mutating func bool(_ id: Int16, _ value: Bool) { fieldHeader(id, value ? .boolTrue : .boolFalse) }

    mutating func binary(_ id: Int16, _ value: [UInt8]) {
        fieldHeader(id, .binary)
        varint(UInt64(value.count))
        bytes += value
    }

    mutating func string(_ id: Int16, _ value: String) { binary(id, Array(value.utf8)) }

    mutating func structField(_ id: Int16, _ body: (inout ThriftCompactWriter) -> Void) {
        fieldHeader(id, .struct)
        writeStruct(body)
    }

    /// A struct's fields followed by the stop byte.
    mutating func writeStruct(_ body: (inout ThriftCompactWriter) -> Void) {
        lastFieldID.append(0)
        body(&self)
        bytes.append(0)
        lastFieldID.removeLast()
    }

    private mutating func listHeader(_ id: Int16, count: Int, element: FieldType) {
        fieldHeader(id, .list)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | element.rawValue)
        } else {
            bytes.append(0xf0 | element.rawValue)
            varint(UInt64(count))
        }
    }

    mutating func i32List(_ id: Int16, _ values: [Int32]) {
        listHeader(id, count: values.count, element: .i32)
        for v in values { zigzag(Int64(v)) }
    }

    mutating func stringList(_ id: Int16, _ values: [String]) {
        listHeader(id, count: values.count, element: .binary)
        for v in values {
            varint(UInt64(v.utf8.count))
            bytes += Array(v.utf8)
        }
    }

    mutating func structList<T>(_ id: Int16, _ values: [T], _ body: (inout ThriftCompactWriter, T) -> Void) {
        listHeader(id, count: values.count, element: .struct)
        for v in values { writeStruct { body(&$0, v) } }
    }
}
