import Foundation
import IcebergCore
import Testing

@testable import IcebergIngest

/// Single-field integer partitions (`hour`, `day`, `identity`) are split by an integer key; every spec must
/// split exactly as the general path, which makes each row's partition value from its literals.
@Suite struct PartitionRouterTests {
    static let schema = try! SchemaText.schema("ts timestamptz, t timestamp, l long, n int, d date, s string")

    /// Rows in runs (as input usually comes) and scattered, before and after 1970, with nulls.
    static func batch(rows: Int, seed: UInt64) throws -> RecordBatch {
        let layout = try ColumnLayout(schema: schema)
        var batch = RecordBatch(layout: layout)
        var random = SplitMix64(seed: seed)
        var micros: Int64 = -3 * 3_600_000_000
        for _ in 0..<rows {
            _ = batch.beginRecord()
            micros += random.next() % 4 == 0 ? Int64(random.next() % 7_200_000_000) - 1_000_000_000 : 1
            for leaf in 0..<2 {
                if random.next() % 10 == 0 { batch.leaves[leaf].appendUndefined(definition: 0) } else { batch.leaves[leaf].append(micros) }
            }
            if random.next() % 10 == 0 { batch.leaves[2].appendUndefined(definition: 0) } else { batch.leaves[2].append(Int64(random.next() % 5) - 2) }
            if random.next() % 10 == 0 { batch.leaves[3].appendUndefined(definition: 0) } else { batch.leaves[3].append(Int32(random.next() % 5) - 2) }
            if random.next() % 10 == 0 { batch.leaves[4].appendUndefined(definition: 0) } else { batch.leaves[4].append(Int32(random.next() % 3)) }
            let text = Array("s\(random.next() % 3)".utf8)
            text.withUnsafeBufferPointer { batch.leaves[5].append(bytes: $0) }
            batch.endRecord()
        }
        return batch
    }

    @Test(arguments: ["hour(ts)", "day(ts)", "hour(t)", "day(t)", "l", "n", "d", "ts", "month(ts)", "year(t)", "bucket(4, l)", "s", "hour(ts), l", "truncate(2, l)"])
    func theIntegerKeySplitsAsTheLiteralsDo(_ spec: String) throws {
        let partitionSpec = try SchemaText.partitionSpec(spec, schema: Self.schema)
        for seed in 0..<4 as Range<UInt64> {
            let batch = try Self.batch(rows: 3_000, seed: seed)
            let router = try PartitionRouter(spec: partitionSpec, layout: batch.layout)
            let fast = router.split(batch), general = router.splitByLiterals(batch)
            #expect(fast.map(\.partition) == general.map(\.partition), "\(spec): partitions")
            #expect(fast.map(\.rows) == general.map(\.rows), "\(spec): rows")
            #expect(fast.reduce(0) { $0 + $1.rows.count } == 3_000)
            #expect(fast.count > 1, "\(spec): the rows fall in several partitions")
        }
    }

    /// A batch of one hour is one group of every row (seen in one pass), and one that leaves the hour at
    /// its last row, before 1970 or after it, is two groups, as the general path makes them.
    @Test(arguments: [-3 * 3_600_000_000 + 17, 494_000 * 3_600_000_000 + 5] as [Int64])
    func aBatchOfOneHourIsOneGroup(_ start: Int64) throws {
        let layout = try ColumnLayout(schema: Self.schema)
        let router = try PartitionRouter(spec: try SchemaText.partitionSpec("hour(ts)", schema: Self.schema), layout: layout)
        for leavesAtLast in [false, true] {
            var batch = RecordBatch(layout: layout)
            for row in 0..<1_000 {
                _ = batch.beginRecord()
                let micros = leavesAtLast && row == 999 ? start - 18 : start + Int64(row) * 3_000_000
                batch.leaves[0].append(micros)
                for leaf in 1..<layout.leaves.count { batch.leaves[leaf].appendUndefined(definition: 0) }
                batch.endRecord()
            }
            let fast = router.split(batch), general = router.splitByLiterals(batch)
            #expect(fast.map(\.partition) == general.map(\.partition))
            #expect(fast.map(\.rows) == general.map(\.rows))
            #expect(fast.count == (leavesAtLast ? 2 : 1))
        }
    }

    /// Batches the one-pass check must not take for one partition: values either side of 1970 (keys -1 and 0
    /// under a floor, both 0 under a division that rounds towards zero), for `hour`, `day` and `identity`
    /// of a long, and a null among zeros (its slot holds a placeholder 0).
    @Test func theOnePassCheckSeesTheFloorAndTheNulls() throws {
        let layout = try ColumnLayout(schema: Self.schema)
        func batch(_ values: [Int64?], leaf: Int) -> RecordBatch {
            var batch = RecordBatch(layout: layout)
            for value in values {
                _ = batch.beginRecord()
                for k in 0..<layout.leaves.count {
                    if k == leaf, let value { batch.leaves[k].append(value) } else { batch.leaves[k].appendUndefined(definition: 0) }
                }
                batch.endRecord()
            }
            return batch
        }
        for (spec, leaf, values) in [
            ("hour(ts)", 0, [-1, 1] as [Int64?]), ("day(ts)", 0, [-1, 1]), ("l", 2, [0, 0, nil]), ("l", 2, [nil, 0, 0]), ("hour(ts)", 0, [0, nil]),
        ] {
            let router = try PartitionRouter(spec: try SchemaText.partitionSpec(spec, schema: Self.schema), layout: layout)
            let rows = batch(values, leaf: leaf)
            let fast = router.split(rows), general = router.splitByLiterals(rows)
            #expect(fast.count == 2, "\(spec) of \(values)")
            #expect(fast.map(\.partition) == general.map(\.partition), "\(spec) of \(values)")
            #expect(fast.map(\.rows) == general.map(\.rows), "\(spec) of \(values)")
        }
    }
}
