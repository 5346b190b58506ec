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

    /// Definition and repetition levels of a nested column: one entry per leaf slot (a value, a null, or an
    /// empty or null list/map/struct above it); values are given for the slots whose definition level is the
    /// column's maximum.
    package struct Levels: Sendable, Equatable {
        package var definition: [UInt16]
        /// Empty for columns that are not inside a list or map.
        package var repetition: [UInt16]
        package init(definition: [UInt16], repetition: [UInt16] = []) {
            self.definition = definition
            self.repetition = repetition
        }
    }

    package var values: Values
    /// One entry per row: false for null. Nil when no row is null. Not used with `levels`.
    package var validity: [Bool]?
    /// Levels, for columns nested in optional structs, lists or maps.
    package var levels: Levels?
    /// Rows, nulls included (derived: from the levels, the validity mask or the values).
    package var rowCount: Int {
        if let levels {
            return levels.repetition.isEmpty ? levels.definition.count : levels.repetition.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
        }
        return validity?.count ?? values.count
    }

    package init(values: Values, validity: [Bool]? = nil) {
        self.values = values
        self.validity = validity
    }

    /// A nested column: its non-null leaf values and their levels.
    package init(values: Values, levels: Levels) {
        self.values = values
        self.levels = levels
    }

    package static func byteArrays(capacity: Int = 0) -> ColumnData {
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(capacity + 1)
        return ColumnData(values: .bytes(bytes: [], offsets: offsets))
    }

    /// Slots without a value (nulls, and empty or null lists above the leaf).
    package var nullCount: Int { (levels?.definition.count ?? rowCount) - values.count }

    /// Level entries: slots for a nested column, rows otherwise.
    package var slotCount: Int { levels?.definition.count ?? rowCount }

    /// Appends a null row.
    package mutating func appendNull() {
        if validity == nil { validity = [Bool](repeating: true, count: values.count) }
        validity!.append(false)
    }

    /// Keeps the validity mask, if there is one, in step with a value just appended.
    private mutating func appendedValue() { validity?.append(true) }

    package mutating func append(int64 value: Int64) {
        guard case .int64(var array) = values else { preconditionFailure("not an int64 column") }
        values = .int64([])
        array.append(value)
        values = .int64(array)
        appendedValue()
    }

    package mutating func append(string value: String) {
        guard case .bytes(var data, var offsets) = values else { preconditionFailure("not a byte-array column") }
        values = .int32([])  // release the storage so the arrays are uniquely referenced
        data.append(contentsOf: value.utf8)
        offsets.append(Int32(data.count))
        values = .bytes(bytes: data, offsets: offsets)
        appendedValue()
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
    package var count: Int {
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
