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
