import IcebergCore

/// Splits a batch's rows by partition value, per the table's partition spec (Iceberg spec, "Partitioning":
/// each partition field is a transform of a source column).
///
/// ```swift
/// let router = try PartitionRouter(spec: spec, layout: layout)     // e.g. hour(event_time)
/// for (partition, rows) in router.split(batch) { ... }           // [.int(494_458)], [0, 1, 5, ...]
/// ```
package struct PartitionRouter: Sendable {
    package let spec: PartitionSpec
    /// For each partition field: the leaf holding its source column and the transform.
    private let sources: [(leaf: Int, transform: Transform)]

    package init(spec: PartitionSpec, layout: ColumnLayout) throws {
        self.spec = spec
        sources = try spec.fields.map { field in
            guard let leaf = layout.leaves.firstIndex(where: { $0.fieldID == field.sourceID }), layout.leaves[leaf].maxRepetition == 0 else {
                throw IngestError(
                    .invalidConfiguration,
                    "partition field '\(field.name)': its source column (field id \(field.sourceID)) is not a primitive column outside lists and maps")
            }
            guard field.transform.canTransform(layout.leaves[leaf].type) else {
                throw IngestError(.invalidConfiguration, "partition field '\(field.name)': \(field.transform) cannot apply to \(layout.leaves[leaf].type)")
            }
            return (leaf, field.transform)
        }
    }

    /// The partition of one row.
    package func partition(of batch: RecordBatch, row: Int) -> [Literal?] {
        sources.map { $0.transform.apply(batch.literal(leaf: $0.leaf, row: row)) }
    }

    /// The batch's rows grouped by partition, groups in order of first appearance, rows in input order.
    package func split(_ batch: RecordBatch) -> [(partition: [Literal?], rows: [Int])] {
        guard !sources.isEmpty else { return [([], Array(0..<batch.rowCount))] }
        if let key = integerKey { return split(batch, key: key) }
        return splitByLiterals(batch)
    }

    /// The common single-field specs whose partition is a function of one integer column: `hour` and `day` of a
    /// timestamp, `identity` of an int, long, date, time or timestamp. Rows are grouped by an integer key that
    /// maps one to one to the partition value, and the value is made once per group.
    private var integerKey: IntegerKey? {
        guard sources.count == 1 else { return nil }
        return switch sources[0].transform {
        case .hour: .hour
        case .day: .day
        case .identity: .identity
        default: nil
        }
    }

    /// A row's key under ``integerKey``, inlined into the loop over the rows. The floor division is spelled
    /// out here with the divisor a constant the compiler sees, so that it becomes a multiplication: a call
    /// to `CivilTime.floorDiv` per row (which divides twice) was 0.5% of the ingest benchmark's samples.
    private enum IntegerKey {
        case hour, day, identity

        @inline(__always)
        func callAsFunction(_ value: Int64) -> Int64 {
            switch self {
            case .hour: Self.floor(value, by: CivilTime.microsPerHour)
            case .day: Self.floor(value, by: CivilTime.microsPerDay)
            case .identity: value
            }
        }

        /// `CivilTime.floorDiv(value, divisor)` for a positive divisor.
        @inline(__always)
        static func floor(_ value: Int64, by divisor: Int64) -> Int64 {
            let q = value / divisor
            return value - q * divisor < 0 ? q - 1 : q
        }
    }

    private func split(_ batch: RecordBatch, key: IntegerKey) -> [(partition: [Literal?], rows: [Int])] {
        let (leaf, transform) = sources[0]
        let builder = batch.leaves[leaf]
        let type = batch.layout.leaves[leaf].type
        switch (transform, type) {
        case (.hour, .timestamp), (.hour, .timestamptz), (.day, .timestamp), (.day, .timestamptz), (.identity, .long), (.identity, .timestamp),
            (.identity, .timestamptz), (.identity, .time):
            guard builder.kind == .int64 else { return splitByLiterals(batch) }
        case (.identity, .int), (.identity, .date):
            guard builder.kind == .int32 else { return splitByLiterals(batch) }
        default:
            return splitByLiterals(batch)
        }
        let wide = builder.kind == .int64
        let rows = batch.rowCount
        var groups: [(partition: [Literal?], rows: [Int])] = []
        // nil: a null source value.
        var index: [Int64?: Int] = [:]
        var current = -1
        var currentKey: Int64?
        var from = 0
        if rows > 0, wide, !builder.tracksDefinition || builder.levelsImplicit {
            // Most batches are of one partition (an object of one hour): the leading run of row 0's key is found
            // in one pass over the values, without a row list growing row by row; the loop below takes the rest.
            let (first, run) = builder.int64s.withUnsafeBufferPointer { values in
                let first = key(values[0])
                var row = 1
                while row < rows, key(values[row]) == first { row += 1 }
                return (first, row)
            }
            groups = [([transform.apply(batch.literal(leaf: leaf, row: 0))], Array(0..<run))]
            index[first] = 0
            (current, currentKey, from) = (0, first, run)
        }
        for row in from..<rows {
            let rowKey: Int64? =
                !builder.isDefined(slot: row)
                ? nil : key(wide ? builder.int64s[row] : Int64(builder.int32s[row]))
            // Rows usually come in runs of one partition.
            if current >= 0, rowKey == currentKey {
                groups[current].rows.append(row)
                continue
            }
            currentKey = rowKey
            if let found = index[rowKey] {
                current = found
            } else {
                current = groups.count
                index[rowKey] = current
                groups.append(([transform.apply(batch.literal(leaf: leaf, row: row))], []))
            }
            groups[current].rows.append(row)
        }
        return groups
    }

    /// The general split: each row's partition value made from its literals.
    package func splitByLiterals(_ batch: RecordBatch) -> [(partition: [Literal?], rows: [Int])] {
        guard !sources.isEmpty else { return [([], Array(0..<batch.rowCount))] }
        var groups: [(partition: [Literal?], rows: [Int])] = []
        var index: [[Literal?]: Int] = [:]
        var current = -1
        var scratch = [Literal?](repeating: nil, count: sources.count)
        for row in 0..<batch.rowCount {
            for (k, source) in sources.enumerated() { scratch[k] = source.transform.apply(batch.literal(leaf: source.leaf, row: row)) }
            // Rows usually come in runs of one partition.
            if current >= 0, groups[current].partition == scratch {
                groups[current].rows.append(row)
                continue
            }
            if let found = index[scratch] {
                current = found
            } else {
                current = groups.count
                index[scratch] = current
                groups.append((scratch, []))
            }
            groups[current].rows.append(row)
        }
        return groups
    }
}
