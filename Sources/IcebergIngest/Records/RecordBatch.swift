import Foundation
import IcebergCore
import Parquet

/// Rows being built for one schema, column by column: parsers append each record's values straight into
/// the leaf builders (no dictionary per record), and a record that fails half way is rolled back.
///
/// ```swift
/// var batch = RecordBatch(layout: layout)
/// let mark = batch.beginRecord()
/// batch.leaves[0].append(Int64(42))            // id
/// batch.appendNull(field: 1)                   // name
/// batch.endRecord()                            // or batch.rollBack(to: mark) when a value was bad
/// let columns = batch.columnData()             // one ColumnData per leaf, for the Parquet writer
/// ```
package struct RecordBatch: Sendable {
    package let layout: ColumnLayout
    package var leaves: [LeafBuilder]
    package private(set) var rowCount = 0
    private let hasRepeatedLeaves: Bool

    package init(layout: ColumnLayout) {
        self.layout = layout
        leaves = layout.leaves.map { LeafBuilder(kind: $0.storage, maxDefinition: $0.maxDefinition, maxRepetition: $0.maxRepetition) }
        hasRepeatedLeaves = layout.leaves.contains { $0.maxRepetition > 0 }
    }

    /// A batch of rows built elsewhere (a Parquet input's row group), one builder per leaf.
    package init(layout: ColumnLayout, leaves: [LeafBuilder], rowCount: Int) {
        self.layout = layout
        self.leaves = leaves
        self.rowCount = rowCount
        hasRepeatedLeaves = layout.leaves.contains { $0.maxRepetition > 0 }
    }

    /// Where a record starts, to roll back to: the row count says it all (a flat leaf has one slot per
    /// row; a leaf inside a list or map records where each row's slots start).
    package struct Mark: Sendable {
        var rows: Int
    }

    /// Starts a record; returns the mark to roll back to if it fails.
    @inline(__always)
    package mutating func beginRecord() -> Mark {
        if hasRepeatedLeaves {
            for i in leaves.indices where leaves[i].isRepeated { leaves[i].beginRow() }
        }
        return Mark(rows: rowCount)
    }

    /// Ends a record whose every top-level field was appended (a value or a null).
    package mutating func endRecord() { rowCount += 1 }

    /// Drops whatever the failed record appended.
    package mutating func rollBack(to mark: Mark) {
        for i in leaves.indices {
            let slot = leaves[i].isRepeated ? (leaves[i].rowStarts.count > mark.rows ? Int(leaves[i].rowStarts[mark.rows]) : leaves[i].slotCount) : mark.rows
            leaves[i].truncate(slots: slot, rows: mark.rows)
        }
        rowCount = mark.rows
    }

    /// Appends a null for a whole top-level field (every leaf under it).
    package mutating func appendNull(field index: Int) {
        for leaf in layout.topLevel[index].leaves { leaves[leaf].appendUndefined(definition: 0) }
    }

    /// Appends the rows of `other` (a batch of the same layout) after these.
    package mutating func append(contentsOf other: RecordBatch) {
        for i in leaves.indices { leaves[i].append(contentsOf: other.leaves[i]) }
        rowCount += other.rowCount
    }

    /// Rows `rows` of this batch, in that order (for splitting by partition).
    package func taking(rows: [Int]) -> RecordBatch {
        var out = RecordBatch(layout: layout)
        out.leaves = leaves.map { $0.taking(rows: rows, rowCount: rowCount) }
        out.rowCount = rows.count
        return out
    }

    /// An empty batch with room for what a batch like it held (``room``, one entry per leaf; ignored when
    /// it does not fit the layout): a stream of like records then fills it without growing its arrays (each
    /// doubling copies what was appended so far and touches fresh memory). Room not used is never touched,
    /// so it costs address space, not memory.
    package init(layout: ColumnLayout, room: [LeafBuilder.Room]) {
        self.init(layout: layout)
        guard room.count == leaves.count else { return }
        for i in leaves.indices { leaves[i].reserve(room[i]) }
    }

    /// What the batch holds, leaf by leaf, as room for the next batch.
    package var room: [LeafBuilder.Room] { leaves.map(\.room) }

    /// An empty batch of the same layout with room for what this one holds.
    package func emptyWithRoom() -> RecordBatch { RecordBatch(layout: layout, room: room) }

    /// Whether the batch is due to go to the encoder: `batchRows` rows, or 64 MiB held.
    package func isFull(batchRows: Int) -> Bool { rowCount >= batchRows || estimatedBytes >= 64 << 20 }

    /// Approximate memory held, in bytes.
    package var estimatedBytes: Int { leaves.reduce(0) { $0 + $1.estimatedBytes } }

    /// One Parquet column per leaf.
    package func columnData() -> [ColumnData] { leaves.map { $0.columnData() } }

    /// The value of leaf `leaf` in `row` as a literal, for flat columns (partition sources); nil when null.
    package func literal(leaf index: Int, row: Int) -> Literal? {
        let builder = leaves[index]
        let leaf = layout.leaves[index]
        if !builder.isDefined(slot: row) { return nil }
        switch leaf.type {
        case .boolean: return .boolean(builder.booleans[row])
        case .int: return .int(builder.int32s[row])
        case .date: return .date(builder.int32s[row])
        case .long: return .long(builder.int64s[row])
        case .time: return .time(builder.int64s[row])
        case .timestamp: return .timestamp(builder.int64s[row])
        case .timestamptz: return .timestamptz(builder.int64s[row])
        case .float: return .float(builder.floats[row])
        case .double: return .double(builder.doubles[row])
        case .decimal(_, let s):
            switch builder.kind {
            case .int32: return .decimal(unscaled: Int128(builder.int32s[row]), scale: s)
            case .int64: return .decimal(unscaled: Int128(builder.int64s[row]), scale: s)
            default:
                let bytes = builder.bytes[Int(builder.offsets[row])..<Int(builder.offsets[row + 1])]
                var v: Int128 = (bytes.first ?? 0) & 0x80 != 0 ? -1 : 0
                for b in bytes { v = (v << 8) | Int128(b) }
                return .decimal(unscaled: v, scale: s)
            }
        case .string:
            return .string(String(decoding: builder.bytes[Int(builder.offsets[row])..<Int(builder.offsets[row + 1])], as: UTF8.self))
        case .binary: return .binary(Array(builder.bytes[Int(builder.offsets[row])..<Int(builder.offsets[row + 1])]))
        case .fixed: return .fixed(Array(builder.bytes[Int(builder.offsets[row])..<Int(builder.offsets[row + 1])]))
        case .uuid:
            let b = Array(builder.bytes[Int(builder.offsets[row])..<Int(builder.offsets[row + 1])])
            guard b.count == 16 else { return nil }
            return .uuid(UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])))
        }
    }
}
