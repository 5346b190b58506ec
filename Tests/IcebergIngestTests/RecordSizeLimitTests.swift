import Foundation
import IcebergCore
import Testing

@testable import IcebergIngest

/// `ingest.max_record_bytes`: a record past the bound is one bad record named by line and byte, the input
/// resumes at the next line, memory stays bounded, and every line is still accounted for.
@Suite struct RecordSizeLimitTests {
    static let schema = try! SchemaText.schema("id long not null, name string")

    /// Feeds `text` in pieces of `piece` bytes through a ``RecordStream`` bounded at `limit`; returns the ids
    /// parsed, the bad records, the counts, and the most bytes ever carried between pieces.
    static func stream(
        _ text: String, format: InputFormat, limit: Int, piece: Int
    ) throws -> (ids: [String], bad: [BadRecord], counts: ParseCounts, carried: Int) {
        let layout = try ColumnLayout(schema: schema)
        let parser = format.makeRecordParser(layout: layout, options: ConversionOptions(), source: "in", drift: .ignore)!
        var stream = RecordStream(parser: parser, maxRecordBytes: limit, source: "in")
        var batch = RecordBatch(layout: layout)
        var bad: [BadRecord] = []
        var carried = 0
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + piece)
            try stream.consume(bytes[offset..<end], isFinal: false, into: &batch) { bad.append($0) }
            carried = max(carried, stream.carriedBytes)
            offset = end
        }
        try stream.consume([][...], isFinal: true, into: &batch) { bad.append($0) }
        #expect(stream.carriedBytes == 0)
        let ids = (0..<batch.rowCount).map { batch.literal(leaf: 0, row: $0)?.description ?? "null" }
        return (ids, bad, stream.parser.counts, carried)
    }

    @Test(arguments: [1, 7, 64, 100_000]) func anOversizedJSONLineIsOneBadRecord(piece: Int) throws {
        let long = String(repeating: "x", count: 5_000)
        let text = "{\"id\": 1}\n{\"id\": 2, \"name\": \"\(long)\"}\n{\"id\": 3}\n\n{\"id\": 4}\n"
        let (ids, bad, counts, carried) = try Self.stream(text, format: .json, limit: 1_024, piece: piece)
        #expect(ids == ["1", "3", "4"])
        #expect(bad.count == 1)
        #expect(bad.first?.line == 2 && bad.first?.byteOffset == 10 && bad.first?.kind == .malformed)
        #expect(bad.first?.reason.contains("runs past 1024 bytes") == true)
        #expect(bad.first?.description.hasPrefix("in line 2, byte 10:") == true)
        #expect(counts.rows == 3 && counts.badRecords == 1)
        #expect(carried <= 1_024 + piece)
    }

    /// The case of the issue: a CSV quote that never closes, followed by many lines. Before the bound, the
    /// rest of the object was one record held in memory; now the record ends at the bound and the lines after
    /// its first line are parsed again as records.
    @Test(arguments: [3, 500, 100_000]) func anUnclosedCSVQuoteStopsAtTheBound(piece: Int) throws {
        var text = "id,name\n1,a\n2,\"x\n"
        for id in 3...400 { text += "\(id),row \(id)\n" }
        let (ids, bad, counts, carried) = try Self.stream(text, format: .csv(delimiter: UInt8(ascii: ",")), limit: 2_048, piece: piece)
        #expect(bad.count == 1)
        #expect(bad.first?.line == 3)
        #expect(ids.first == "1" && ids.count == 399 && ids.last == "400")
        #expect(counts.rows == 399 && counts.badRecords == 1 && counts.headerLines == 1)
        #expect(carried <= 2_048 + piece)
    }

    /// A line of megabytes with no line end inside the bound: skipped across pieces up to its line end.
    @Test func aLineLongerThanManyPiecesIsSkippedToItsEnd() throws {
        let text = "{\"id\": 1}\n" + String(repeating: "y", count: 300_000) + "\n{\"id\": 2}\n" + String(repeating: "z", count: 5_000)
        let (ids, bad, counts, carried) = try Self.stream(text, format: .json, limit: 1_024, piece: 4_096)
        #expect(ids == ["1", "2"])
        #expect(bad.map(\.line) == [2, 4])
        #expect(bad.map(\.byteOffset) == [10, 300_021])
        #expect(bad.allSatisfy { $0.raw.count > 1_024 && $0.raw.count <= 1 << 20 })
        #expect(counts.rows == 2 && counts.badRecords == 2)
        #expect(carried <= 1_024 + 4_096)
    }

    /// A CSV header longer than the bound cannot be skipped: the object stops, naming why.
    @Test func anOversizedCSVHeaderStopsTheObject() throws {
        let text = String(repeating: "h", count: 3_000) + "\n1\n"
        let error = #expect(throws: IngestError.self) {
            _ = try Self.stream(text, format: .csv(delimiter: UInt8(ascii: ",")), limit: 1_024, piece: 512)
        }
        #expect(error?.description.contains("the header line runs past 1024 bytes") == true)
    }

    @Test func theJobFileSetsTheBound() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("max-record-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("job.json").path
        func job(_ value: String) throws -> IngestJob {
            try Data(#"{"source": {"uri": "s3://b/p/"}, "table": {"name": "a.b", "schema": "id long"}, "ingest": {"max_record_bytes": \#(value)}}"#.utf8)
                .write(to: URL(fileURLWithPath: path))
            return try IngestJob(file: path)
        }
        #expect(try job("65536").maxRecordBytes == 65_536)
        #expect(try job("\"1048576\"").maxRecordBytes == 1 << 20)
        #expect(throws: IngestError.self) { try job("10") }
        #expect(IngestConfiguration.defaultMaxRecordBytes == 4 << 20 && IngestJob(sourceURI: "s3://b/", tableName: "a.b", schema: "id long").maxRecordBytes == 4 << 20)
    }
}

/// The progress bar's line: rates and the time left.
@Suite struct ProgressLineTests {
    @Test func theLineHasRatesAndAnETA() {
        var progress = IngestProgress(phase: .reading, objectsDone: 2, objectsTotal: 4, bytesDone: 100_000_000, bytesTotal: 200_000_000, rows: 1_000_000, badRecords: 0)
        #expect(progress.line(elapsed: 12.5) == "[###############...............]  50% 2/4 objects 100.0/200.0 MB 1000000 rows 8.0 MB/s 80000 rows/s ETA 13s reading")
        progress.bytesDone = 1_000_000
        progress.badRecords = 3
        #expect(progress.line(elapsed: 10).hasSuffix("0.1 MB/s 100000 rows/s ETA 33m10s 3 bad reading"))
        // No rate before half a second, none without bytes, no ETA once done.
        #expect(!progress.line(elapsed: 0.2).contains("MB/s"))
        progress.phase = .done
        progress.bytesDone = 200_000_000
        #expect(progress.line(elapsed: 20).hasSuffix("10.0 MB/s 50000 rows/s 3 bad done"))
    }
}
