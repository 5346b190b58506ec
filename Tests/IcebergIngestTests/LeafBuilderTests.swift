import Foundation
import Parquet
import Testing

@testable import IcebergIngest

/// An optional flat column holds no definition level per slot while every slot has a value, and a level per
/// slot from its first null on; every operation gives what the same slots held as levels give.
@Suite struct LeafBuilderTests {
    /// The same appends into a builder, as levels: 1 for a value, 0 for a null.
    static func build(_ values: [Int64?]) -> LeafBuilder {
        var leaf = LeafBuilder(kind: .int64, maxDefinition: 1, maxRepetition: 0)
        for value in values {
            if let value { leaf.append(value) } else { leaf.appendUndefined(definition: 0) }
        }
        return leaf
    }

    static func levels(_ values: [Int64?]) -> [UInt16] { values.map { $0 == nil ? 0 : 1 } }

    @Test func levelsAreHeldFromTheFirstNull() {
        let full = Self.build([1, 2, 3])
        #expect(full.definition.isEmpty, "no level per value while all are defined")
        #expect(full.definitionLevels() == [1, 1, 1] && full.isDefined(slot: 2) && full.definedCount == 3)
        let withNull: [Int64?] = [1, 2, nil, 4]
        let mixed = Self.build(withNull)
        #expect(mixed.definition == Self.levels(withNull) && !mixed.isDefined(slot: 2) && mixed.definedCount == 3)
        let first = Self.build([nil, 5])
        #expect(first.definition == [0, 1])
        // The Parquet column: no validity without nulls, a validity with them.
        #expect(full.columnData().validity == nil)
        #expect(mixed.columnData().validity == [true, true, false, true])
    }

    @Test func truncateTakeAndAppendAgreeWithLevels() {
        let cases: [[Int64?]] = [[1, 2, 3, 4], [1, nil, 3, 4], [nil, nil], [], [7]]
        for a in cases {
            for b in cases {
                var joined = Self.build(a)
                joined.append(contentsOf: Self.build(b))
                let expected = Self.build(a + b)
                #expect(joined.sameContents(as: expected), "\(a) + \(b)")
                #expect(joined.definitionLevels() == Self.levels(a + b), "\(a) + \(b)")
                #expect(joined.definedCount == (a + b).compactMap { $0 }.count)
            }
            for cut in 0...a.count {
                var cutBack = Self.build(a)
                cutBack.truncate(slots: cut, rows: cut)
                #expect(cutBack.sameContents(as: Self.build(Array(a.prefix(cut)))), "\(a) cut at \(cut)")
                // The builder goes on correctly after a cut (a null after an implicit prefix, a value after nulls).
                cutBack.appendUndefined(definition: 0)
                cutBack.append(Int64(9))
                #expect(cutBack.definitionLevels() == Self.levels(Array(a.prefix(cut)) + [nil, 9]))
            }
            let rows = Array((0..<a.count).reversed())
            let taken = Self.build(a).taking(rows: rows, rowCount: a.count)
            #expect(taken.sameContents(as: Self.build(rows.map { a[$0] })), "\(a) taken in reverse")
        }
    }

    /// The next batch of a stream gets room for what the last one held (the next batch of an object, and
    /// through the pass's ``BatchRoom`` the first batch of the next object, in proportion to its size), so
    /// filling it as far grows no array: the storage it was given is the storage it ends with. Room for
    /// another layout is ignored.
    @Test func anEmptyBatchWithRoomFillsWithoutGrowing() throws {
        let schema = try SchemaText.schema("id long not null, name string, score double, tags list<string>")
        let layout = try ColumnLayout(schema: schema)
        let text = (0..<1000).map { #"{"id": \#($0), "name": "user-\#($0)", "score": \#(Double($0) / 4), "tags": ["a", "bc"]}"# }.joined(separator: "\n")
        func parse(into batch: inout RecordBatch) throws {
            var parser = JSONRecordParser(layout: layout, options: ConversionOptions(), source: "in.json")
            _ = try Array(text.utf8).withUnsafeBufferPointer { try parser.parse($0, isFinal: true, into: &batch) { Issue.record("bad: \($0)") } }
        }
        func storage(_ batch: RecordBatch) -> [[UnsafeRawPointer?]] {
            batch.leaves.map { leaf in
                [leaf.int64s.withUnsafeBytes(\.baseAddress), leaf.doubles.withUnsafeBytes(\.baseAddress), leaf.bytes.withUnsafeBytes(\.baseAddress),
                    leaf.offsets.withUnsafeBytes(\.baseAddress), leaf.definition.withUnsafeBytes(\.baseAddress),
                    leaf.repetition.withUnsafeBytes(\.baseAddress), leaf.rowStarts.withUnsafeBytes(\.baseAddress)]
            }
        }
        var first = RecordBatch(layout: layout)
        try parse(into: &first)
        let passRoom = BatchRoom()
        let bytes = Int64(text.utf8.count)
        passRoom.remember(first, fromBytes: bytes)
        // Made inside the loop: a copy held elsewhere would share the arrays, and the first append would copy them.
        let makers: [(String, () -> RecordBatch)] = [
            ("next in the object", { first.emptyWithRoom() }), ("first of the next object", { RecordBatch(layout: layout, room: passRoom.room(forObjectOf: bytes)) }),
        ]
        for (how, make) in makers {
            var next = make()
            #expect(next.rowCount == 0 && next.leaves.allSatisfy { $0.slotCount == 0 }, "\(how)")
            let given = storage(next)
            try parse(into: &next)
            #expect(storage(next) == given, "\(how): no array of the batch moved while it filled")
            #expect(next.rowCount == 1000 && next.leaves.indices.allSatisfy { next.leaves[$0].sameContents(as: first.leaves[$0]) }, "\(how)")
        }
        // A smaller object gets room in proportion (a quarter of the bytes: a quarter of the values).
        let quarter = RecordBatch(layout: layout, room: passRoom.room(forObjectOf: bytes / 4)).leaves[0].int64s.capacity
        #expect(quarter >= 250 && quarter < 500, "\(quarter)")
        let other = try ColumnLayout(schema: try SchemaText.schema("id long"))
        #expect(RecordBatch(layout: other, room: passRoom.room(forObjectOf: bytes)).leaves[0].int64s.capacity == 0, "another layout's room is not taken")
    }
}
