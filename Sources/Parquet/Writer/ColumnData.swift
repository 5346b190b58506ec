/// Values of one column for a run of rows, stored for speed: typed arrays of the non-null values only,
/// plus a validity mask when the column has nulls. Byte-array values live in one buffer with offsets.
///
/// ```swift
/// var names = ColumnData.byteArrays()
/// names.append(string: "alice"); names.appendNull(); names.append(string: "bob")   // 3 rows, 1 null
/// ```
package struct ColumnData: Sendable {
    package enum Values: Sendable {
        case boolean([Bool])
        case int32([Int32])
        case int64([Int64])
        case float([Float])
        case double([Double])
        /// Variable or fixed-length byte strings: value `i` is `bytes[offsets[i] ..< offsets[i + 1]]`.
        case bytes(bytes: [UInt8], offsets: [Int32])
    }

    package var values: Values
    /// One entry per row: false for null. Nil when no row is null.
    package var validity: [Bool]?
    /// Rows, nulls included.
    package private(set) var rowCount: Int

    package init(values: Values, validity: [Bool]? = nil) {
        self.values = values
        self.validity = validity
        rowCount = validity?.count ?? values.count
    }

    package static func byteArrays(capacity: Int = 0) -> ColumnData {
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(capacity + 1)
        return ColumnData(values: .bytes(bytes: [], offsets: offsets))
    }

    package var nullCount: Int { rowCount - values.count }

    /// Appends a null row.
    package mutating func appendNull() {
        if validity == nil { validity = [Bool](repeating: true, count: rowCount) }
        validity!.append(false)
        rowCount += 1
    }

    private mutating func appendedValue() {
        validity?.append(true)
        rowCount += 1
    }

    package mutating func append(int64 value: Int64) {
        guard case .int64(var array) = values else { preconditionFailure("not an int64 column") }
        values = .int64([])
        array.append(value)
        values = .int64(array)
        appendedValue()
    }

    package mutating func append(string value: String) {
        var value = value
        value.withUTF8 { append(bytes: $0) }
    }

    package mutating func append(bytes value: UnsafeBufferPointer<UInt8>) {
        guard case .bytes(var data, var offsets) = values else { preconditionFailure("not a byte-array column") }
        values = .int32([])  // release the storage so the arrays are uniquely referenced
        data.append(contentsOf: value)
        offsets.append(Int32(data.count))
        values = .bytes(bytes: data, offsets: offsets)
        appendedValue()
    }
}

extension ColumnData.Values {
    /// Non-null values held.
    var count: Int {
        switch self {
        case .boolean(let a): a.count
        case .int32(let a): a.count
        case .int64(let a): a.count
        case .float(let a): a.count
        case .double(let a): a.count
        case .bytes(_, let offsets): offsets.count - 1
        }
    }
}
