import Codecs
import Foundation
import IcebergCore
import Testing
import TestSupport

@testable import IcebergIngest

/// JSON text held whole is parsed in parts on several threads: the parts together must give what one parser
/// reading it all gives (rows in order, bad records with their lines and bytes, counts, drift), and a cut that
/// falls inside a broken record must give the split up.
@Suite(.withinOneHour) struct SplitParseTests {
    static let schema = try! SchemaText.schema("id long not null, name string, tags list<string>, user struct<name string, age int>, t timestamptz")

    /// Records of every kind: plain, pretty-printed over lines, concatenated `}{`, CRLF, unknown fields, values
    /// that do not fit, broken JSON, blank lines; a byte-order mark first.
    static func text(records: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        var out: [UInt8] = [0xEF, 0xBB, 0xBF]
        for id in 0..<records {
            let line: String
            switch random.next() % 20 {
            case 0: line = "{\"id\": \(id),\n  \"name\": \"pretty\",\n  \"tags\": [\"a\",\n \"b\"]\n}\n"
            case 1: line = "{\"id\": \(id), \"name\": \"joined\"}{\"id\": \(id + 1_000_000)}\n"
            case 2: line = "{\"id\": \(id), \"extra\": {\"k\": \(id)}}\r\n"
            case 3: line = "{\"id\": \(id), \"user\": {\"age\": \"old\"}}\n"
            case 4: line = "{\"id\": \(id), \"name\": \"broken\n"
            case 5: line = "\n\n{\"id\": \(id), \"t\": \"2026-11-30T10:00:00Z\"}\n"
            case 6: line = "{\"id\": \"x\(id)\"}\n"
            default: line = "{\"id\": \(id), \"name\": \"n\(id)\", \"tags\": [\"t\(id % 7)\"], \"user\": {\"name\": \"u\", \"age\": \(id % 90)}}\n"
            }
            out += Array(line.utf8)
        }
        return out
    }

    struct Outcome {
        /// Per leaf, every slot as `definition/repetition/value`, over the batches in order.
        var slots: [[String]]
        var rows: Int
        var bad: [String]
        var counts: ParseCounts
        var unknown: [String: Int]
        var examples: [String: String]
        var position: InputPosition
    }

    static func slots(_ batches: [RecordBatch], layout: ColumnLayout) -> (slots: [[String]], rows: Int) {
        var out = Array(repeating: [String](), count: layout.leaves.count)
        for batch in batches {
            for (k, leaf) in batch.leaves.enumerated() {
                for slot in 0..<leaf.slotCount {
                    let value: String =
                        switch leaf.kind {
                        case .boolean: "\(leaf.booleans[slot])"
                        case .int32: "\(leaf.int32s[slot])"
                        case .int64: "\(leaf.int64s[slot])"
                        case .float: "\(leaf.floats[slot].bitPattern)"
                        case .double: "\(leaf.doubles[slot].bitPattern)"
                        case .bytes: String(decoding: leaf.bytes[Int(leaf.offsets[slot])..<Int(leaf.offsets[slot + 1])], as: UTF8.self)
                        }
                    let levels = leaf.definitionLevels()
                    let definition = levels.isEmpty ? "-" : "\(levels[slot])"
                    let repetition = leaf.repetition.isEmpty ? "-" : "\(leaf.repetition[slot])"
                    out[k].append("\(definition)/\(repetition)/\(value)")
                }
            }
        }
        return (out, batches.reduce(0) { $0 + $1.rowCount })
    }

    static func sequential(_ text: [UInt8], configuration: IngestConfiguration, layout: ColumnLayout) throws -> Outcome {
        let parser = JSONRecordParser(layout: layout, options: configuration.conversion, source: "in.json", drift: configuration.driftPolicy)
        var stream = RecordStream(parser: parser, maxRecordBytes: configuration.maxRecordBytes, source: "in.json")
        var batch = RecordBatch(layout: layout)
        var bad: [String] = []
        var at = 0
        while at < text.count {
            let end = min(text.count, at + 1_000)
            try stream.consume(text[at..<end], isFinal: false, into: &batch) { bad.append($0.description) }
            at = end
        }
        try stream.consume([][...], isFinal: true, into: &batch) { bad.append($0.description) }
        let json = stream.parser as! JSONRecordParser
        let (slots, rows) = Self.slots([batch], layout: layout)
        return Outcome(
            slots: slots, rows: rows, bad: bad, counts: json.counts, unknown: json.drift.unknownFields, examples: json.drift.unknownFieldExamples,
            position: json.position)
    }

    static func split(_ parts: [SplitParse.Part], configuration: IngestConfiguration, layout: ColumnLayout) -> Outcome {
        var stream = RecordStream(
            parser: JSONRecordParser(layout: layout, options: configuration.conversion, source: "in.json", drift: configuration.driftPolicy),
            maxRecordBytes: configuration.maxRecordBytes, source: "in.json")
        var bad: [String] = []
        for part in parts {
            stream.absorb(part.parser)
            bad += part.bad.map(\.description)
        }
        let json = stream.parser as! JSONRecordParser
        let (slots, rows) = Self.slots(parts.flatMap(\.batches), layout: layout)
        return Outcome(
            slots: slots, rows: rows, bad: bad, counts: json.counts, unknown: json.drift.unknownFields, examples: json.drift.unknownFieldExamples,
            position: json.position)
    }

    @Test(arguments: [2, 3, 5])
    func partsGiveWhatOneParserGives(_ parts: Int) throws {
        let layout = try ColumnLayout(schema: Self.schema)
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.t"), schema: Self.schema)
        configuration.batchRows = 500
        for seed in 0..<3 as Range<UInt64> {
            let text = Self.text(records: 3_000, seed: seed)
            let cuts = SplitParse.cuts(in: text, parts: parts, minimumPart: 20_000)
            #expect(cuts.count == parts + 1, "cuts: \(cuts)")
            let one = try Self.sequential(text, configuration: configuration, layout: layout)
            guard let split = SplitParse.parse(text, cuts: cuts, layout: layout, configuration: configuration, source: "in.json") else {
                Issue.record("seed \(seed): the split was given up at \(cuts)")
                continue
            }
            #expect(split.allSatisfy { $0.error == nil })
            let merged = Self.split(split, configuration: configuration, layout: layout)
            #expect(merged.rows == one.rows && merged.rows > 2_000)
            #expect(merged.bad == one.bad, "bad records and their places")
            #expect(merged.bad.count > 100)
            #expect(merged.counts == one.counts)
            #expect(merged.unknown == one.unknown && merged.examples == one.examples && !one.unknown.isEmpty, "\(merged.unknown) \(one.unknown) \(merged.examples) \(one.examples)")
            #expect(merged.position.byteOffset == one.position.byteOffset)
            #expect(merged.position.line == one.position.line && one.position.line == 1 + text.filter { $0 == 0x0a }.count)
            for (k, (a, b)) in zip(merged.slots, one.slots).enumerated() {
                #expect(a == b, "leaf \(layout.leaves[k].path)")
            }
        }
    }

    /// The parser's position counts every line end it passes, whatever the records' shapes (pretty-printed,
    /// CRLF, blank lines, broken), the chunks they come in and over-long records skipped (one on a line, one
    /// over several): a run's line count is taken from it, not from one more pass over the text.
    @Test func theParserCountsEveryLineEnd() throws {
        let layout = try ColumnLayout(schema: Self.schema)
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.t"), schema: Self.schema)
        configuration.maxRecordBytes = 2_000
        let long = "{\"id\": 1, \"name\": \"" + String(repeating: "x", count: 5_000) + "\"}\n"
        let longOverLines = "{\"id\": 2,\n" + (0..<40).map { "  \"k\($0)\": \"" + String(repeating: "y", count: 100) + "\",\n" }.joined() + "  \"id2\": 3}\n"
        for seed in 0..<3 as Range<UInt64> {
            let body = Self.text(records: 1_000, seed: seed)
            for tail in ["", "{\"id\": 9}"] {  // the last line with and without its line end
                let text = body + Array(long.utf8) + Self.text(records: 500, seed: seed + 10).dropFirst(3) + Array(longOverLines.utf8)
                    + Self.text(records: 500, seed: seed + 20).dropFirst(3) + Array(tail.utf8)
                let one = try Self.sequential(text, configuration: configuration, layout: layout)
                #expect(one.bad.contains { $0.contains("runs past 2000 bytes") }, "\(one.bad.prefix(3))")
                #expect(one.position.line == 1 + text.filter { $0 == 0x0a }.count, "seed \(seed), tail '\(tail)'")
            }
        }
    }

    /// The line a message names is its record's: a field the schema lacks first seen on line 304 (top level)
    /// and 601 (nested), bad records on lines 305 and 602, after a blank line and a record over two lines, in
    /// 1000-byte chunks.
    @Test func messagesNameTheRecordsLine() throws {
        let layout = try ColumnLayout(schema: Self.schema)
        let configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.t"), schema: Self.schema)
        var lines = (1...300).map { "{\"id\": \($0)}" }
        lines += ["", "{\"id\": 302,", "  \"name\": \"over two lines\"}", "{\"id\": 304, \"first_extra\": 1}", "{\"id\": \"bad\"}"]
        lines += (306...600).map { "{\"id\": \($0)}" }
        lines += ["{\"id\": 601, \"user\": {\"name\": \"u\", \"zzz\": 1}}", "{\"id\": \"bad2\"}", "{\"id\": 603}"]
        let one = try Self.sequential(Array(lines.joined(separator: "\n").utf8), configuration: configuration, layout: layout)
        #expect(one.examples["first_extra"] == "in.json line 304", "\(one.examples)")
        #expect(one.examples["user.zzz"] == "in.json line 601", "\(one.examples)")
        #expect(one.bad.count == 2 && one.bad.first?.hasPrefix("in.json line 305,") == true && one.bad.last?.hasPrefix("in.json line 602,") == true, "\(one.bad)")
        #expect(one.position.line == 603 && one.rows == 599)
    }

    /// A cut on a newline after a record that does not end there (a broken record) is no record boundary: the
    /// part ends inside it, and the split is given up rather than guessed.
    @Test func aCutInsideABrokenRecordGivesTheSplitUp() throws {
        let layout = try ColumnLayout(schema: Self.schema)
        let configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.t"), schema: Self.schema)
        let head = Array(#"{"id": 1, "tags": [1, 2}"#.utf8) + [0x0a]
        let text = head + Array(#"{"id": 2}"#.utf8) + [0x0a] + Array(#"{"id": 3}"#.utf8) + [0x0a]
        #expect(SplitParse.parse(text, cuts: [0, head.count, text.count], layout: layout, configuration: configuration, source: "in.json") == nil)
        // A cut between two whole records is taken.
        let whole = head.count + 10
        let parts = try #require(SplitParse.parse(text, cuts: [0, whole, text.count], layout: layout, configuration: configuration, source: "in.json"))
        #expect(parts.count == 2 && parts[1].parser.counts.rows == 1 && parts[1].parser.position.line == 4)
        // The newline-and-brace test finds that boundary, and only where `}` and `{` surround the newline.
        #expect(text.withUnsafeBufferPointer { SplitParse.boundary($0, from: 0, limit: text.count) } == head.count)
        #expect(Array("{\"a\": [\n{}]}".utf8).withUnsafeBufferPointer { SplitParse.boundary($0, from: 0, limit: $0.count) } == nil)
    }

    /// A record cut by a piece's end is read again with the next piece: its unknown fields count once.
    @Test func unknownFieldsCountOnceHoweverTheInputIsCut() throws {
        let text = (0..<200).map { "{\"id\": \($0), \"extra\": \($0), \"more\": [\($0)]}\n" }.joined()
        for chunk in [7, 64, Int.max] {
            let (_, _, counts, drift) = try RecordParserTests.parseJSONWithDrift(text, schema: Self.schema, chunk: chunk)
            #expect(counts.rows == 200)
            #expect(drift.unknownFields == ["extra": 200, "more": 200], "chunks of \(chunk)")
        }
    }

    /// A run's line count, which for JSON the parser keeps: a byte-order mark, a blank line, a record over the
    /// longest allowed (a bad record), one over two lines, and a last line without its line end, plain and gzip.
    @Test func aRunCountsEveryLine() async throws {
        let dir = try TestEnvironment.temporaryDirectory("split-lines")
        defer { TestEnvironment.cleanUp(dir) }
        let hour = PrefixLayout.hour(of: Date()) - 1
        let folder = try PipelineSupport.hourFolder(in: dir, hour: hour)
        let t = Int64(hour) * 3600
        let text = "\u{FEFF}{\"id\": 1, \"event_time\": \(t)}\n\n{\"id\": 2, \"page\": \"" + String(repeating: "x", count: 3_000)
            + "\"}\n{\"id\": 3,\n \"event_time\": \(t)}\n{\"id\": 4, \"event_time\": \(t)}"
        let bytes = Array(text.utf8)
        try Data(bytes).write(to: folder.appendingPathComponent("a.json"))
        try Data(try Deflate.compress(bytes, framing: .gzip, level: 1)).write(to: folder.appendingPathComponent("b.json.gz"))
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.lines"), schema: try SchemaText.schema("id long not null, event_time timestamptz, page string"))
        configuration.maxRecordBytes = 1_000
        configuration.badRecordPolicy = .skip
        let catalog = ObjectStoreCatalog(warehouse: dir.appendingPathComponent("wh").path, io: LocalFileIO())
        let summary = try await Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: dir.appendingPathComponent("in").path, layout: .firehose)).run()
        #expect(summary.lines == 2 * 6 && summary.rows == 2 * 3 && summary.badRecords == 2, "\(summary.lines) lines, \(summary.rows) rows, \(summary.badRecords) bad")
    }

    /// Through a run: one plain and one gzip object of about 5 MiB of text each, with bad records and a field
    /// the schema lacks, ingested with 1 thread (one parser per object) and with 3 (each object in parts):
    /// the same summary, bad records named at the same lines, and the same rows read back by PyIceberg.
    @Test func aRunInPartsEqualsARunInOnePiece() async throws {
        let dir = try TestEnvironment.temporaryDirectory("split-run")
        defer { TestEnvironment.cleanUp(dir) }
        let hour = PrefixLayout.hour(of: Date()) - 1
        let folder = try PipelineSupport.hourFolder(in: dir, hour: hour)
        for (o, gzip) in [false, true].enumerated() {
            var text = ""
            for id in 0..<60_000 {
                let t = Int64(hour) * 3600 + Int64(id % 3600)
                switch id % 997 {
                case 1: text += "{\"id\": \"bad\(id)\", \"event_time\": \(t)}\n"
                case 2: text += "{\"id\": \(o * 100_000 + id), \"event_time\": \(t), \"new_field\": \(id)\n"
                default: text += "{\"id\": \(o * 100_000 + id), \"event_time\": \(t), \"page\": \"/p/\(id % 50)\", \"new_field\": \(id % 3)}\n"
                }
            }
            let bytes = Array(text.utf8)
            #expect(bytes.count > 2 * ObjectParser.splitMinimumPart)
            let data = gzip ? try Deflate.compress(bytes, framing: .gzip, level: 1) : bytes
            try Data(data).write(to: folder.appendingPathComponent("part-\(o).json" + (gzip ? ".gz" : "")))
        }
        var tables: [[String]] = []
        var summaries: [RunSummary] = []
        for threads in [1, 3] {
            let schema = try SchemaText.schema("id long not null, event_time timestamptz, page string")
            var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "db.split"), schema: schema)
            configuration.partitionSpec = try SchemaText.partitionSpec("hour(event_time)", schema: schema)
            configuration.threads = threads
            configuration.badRecordPolicy = .skip
            let warehouse = dir.appendingPathComponent("wh-\(threads)").path
            let catalog = ObjectStoreCatalog(warehouse: warehouse, io: LocalFileIO())
            let summary = try await Ingestor(configuration: configuration, catalog: catalog, source: LocalFolderSource(root: dir.appendingPathComponent("in").path, layout: .firehose)).run()
            summaries.append(summary)
            let table = try await catalog.loadTable(try TableIdentifier(parsing: "db.split"))
            let report = try await TableValidation.check(metadataLocation: table.metadataLocation)
            #expect(report.problems.isEmpty, "\(report.problems)")
            tables.append(report.sortedRows)
        }
        let (one, parts) = (summaries[0], summaries[1])
        #expect(one.rows == 120_000 - 2 * 2 * 61 && parts.rows == one.rows, "rows: \(one.rows), \(parts.rows)")
        #expect(parts.badRecords == one.badRecords && one.badRecords == 2 * 2 * 61)
        #expect(parts.badRecordExamples == one.badRecordExamples && !one.badRecordExamples.isEmpty)
        #expect(parts.unknownFields == one.unknownFields && one.unknownFields["new_field"] == 120_000 - 2 * 61, "\(one.unknownFields)")
        #expect(tables[0] == tables[1] && tables[0].count == one.rows)
        #expect(one.objectsParsedInParts == 0 && parts.objectsParsedInParts == 2, "both objects in parts with 3 threads")
        #expect(one.lines == 120_000 && parts.lines == one.lines, "lines: \(one.lines), \(parts.lines)")
    }
}

