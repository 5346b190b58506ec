import Avro
import Checkpoint
import Codecs
import Foundation
import IcebergCore
import IcebergIngest
import Parquet

/// The parsers that read bytes someone else wrote, each as one function of arbitrary bytes: the entry points
/// of the coverage-guided fuzzer (`scripts/fuzz.sh`, the `iceberg-fuzz` executable) and of the suite's replay
/// of the corpus (`Fuzz/corpus`, `Fuzz/regressions`). A target returns normally whether the input was valid
/// or rejected with the parser's typed error; anything else (a trap, an untyped error, a hang, unbounded
/// memory, a broken invariant) is a finding.
///
/// ```swift
/// let outcome = try FuzzTarget.json.run(Array(#"{"id": 1}"#.utf8))
/// print(outcome.rejected ?? "accepted with \(outcome.badRecords) bad records")
/// ```
package enum FuzzTarget: String, CaseIterable, Sendable {
    /// JSON lines and concatenated JSON records, fed in pieces through ``RecordStream``.
    case json
    /// CSV with the delimiter chosen by the first byte (`,`, tab, `;`, `|`), or text lines (a fifth of the
    /// first bytes), fed in pieces.
    case csv
    /// Compression detection and the streaming decompressors (gzip, zstd, snappy framed and Hadoop, ZIP).
    case decompress
    /// Parquet files: footer, every column of every row group, and the conversion of input Parquet to rows.
    case parquet
    /// Avro container files (manifests and manifest lists, and Avro input), every codec; the records are
    /// also converted to rows of the fuzz schema as Avro input is.
    case avro
    /// Checkpoint files (and archive segments, which share the format).
    case checkpoint
    /// Commit lineage files.
    case lineage
    /// Table metadata JSON (`metadata.json`).
    case metadata

    /// What a target made of an input: rejected with the parser's error, or accepted (the record targets
    /// count the records they found bad and went past).
    package struct Outcome: Equatable, Sendable {
        package var rejected: String?
        package var badRecords = 0
        /// The first bad records, described.
        package var examples: [String] = []
        /// Accepted with no bad record.
        package var isClean: Bool { rejected == nil && badRecords == 0 }
    }

    /// A finding of a target that is not a trap: an error of a type the parser must not throw.
    package struct Finding: Error, CustomStringConvertible {
        package let description: String
    }

    /// Runs the target on `bytes`. Throws ``Finding`` for an error that is not the parser's own.
    package func run(_ bytes: [UInt8]) throws -> Outcome {
        var outcome = Outcome()
        do {
            switch self {
            case .json: try Self.records(bytes, format: .json, into: &outcome)
            case .csv:
                let delimiters: [UInt8] = [UInt8(ascii: ","), 0x09, UInt8(ascii: ";"), UInt8(ascii: "|")]
                let choice = Int(bytes.first ?? 0) % 5
                let format: InputFormat = choice == 4 ? .text : .csv(delimiter: delimiters[choice])
                try Self.records(Array(bytes.dropFirst()), format: format, into: &outcome)
            case .decompress: try Self.decompress(bytes)
            case .parquet: try Self.parquet(bytes)
            case .avro:
                _ = try AvroContainerReader(bytes, source: "fuzz.avro").records()
                var input = AvroInput(layout: Self.layout, options: ConversionOptions(), source: "fuzz.avro", drift: .rescue)
                // Its records (manifests, mostly) do not fit the fuzz schema: the conversion is exercised, not judged.
                try input.read(bytes, batchRows: 1000, onBadRecord: { _ in }) { _ in }
            case .checkpoint: _ = try CheckpointCodec.decode(bytes, location: "fuzz.ckpt")
            case .lineage: _ = try LineageCodec.decode(bytes, location: "fuzz.lineage")
            case .metadata: _ = try TableMetadata(json: bytes, location: "fuzz.metadata.json")
            }
        } catch let error as IngestError {
            outcome.rejected = error.description
        } catch let error as CodecError {
            outcome.rejected = error.description
        } catch let error as ParquetError {
            outcome.rejected = error.description
        } catch let error as AvroError {
            outcome.rejected = error.description
        } catch let error as CheckpointError {
            outcome.rejected = error.description
        } catch let error as IcebergError {
            outcome.rejected = error.description
        } catch {
            throw Finding(description: "\(self.rawValue): an error of an unexpected type \(type(of: error)): \(error)")
        }
        return outcome
    }

    /// The table schema the record targets parse into: every kind of column the parsers fill.
    static let layout: ColumnLayout = {
        let schema = try! SchemaText.schema(
            "id long not null, t timestamptz, name string, price decimal(10,2), ok boolean, d date, score double, n int, "
                + "u uuid, f float, b binary, tags list<string>, attrs map<string, long>, user struct<name string, age int>")
        return try! ColumnLayout(schema: schema)
    }()

    /// Text lines go to a schema of one string column.
    static let textLayout = try! ColumnLayout(schema: try! SchemaText.schema("line string not null"))

    /// The record size bound in the targets: small, so that the fuzzer reaches the oversized-record path.
    static let maxRecordBytes = 512

    /// Parses `bytes` as the run loop does: in pieces (sized by the input's last byte, so the fuzzer explores
    /// every cut), under the record size bound; every record is a row or a bad record (counted in `outcome`).
    static func records(_ bytes: [UInt8], format: InputFormat, into outcome: inout Outcome) throws {
        let layout = format == .text ? textLayout : layout
        var options = ConversionOptions()
        if format == .json, (bytes.first ?? 0) % 4 == 1 {
            // Routing by a field: the route scan runs before each record (nested path for some inputs); a value
            // keeps, skips or refuses its record by its first byte.
            let path = bytes.count % 2 == 0 ? ["name"] : ["user", "name"]
            options.route = RouteFilter(
                path: path,
                decide: { value, record in
                    precondition(record.first == UInt8(ascii: "{") && record.last == UInt8(ascii: "}"), "a routed record is a whole object")
                    switch value.utf8.first.map({ $0 % 3 }) {
                    case 0?: return (.keep, value.count % 2 == 0)
                    case 1?: return (.elsewhere, value.count % 2 == 0)
                    default: return (.unroutable("fuzz"), value.count % 2 == 0)
                    }
                }, unroutable: { _ in false })
        }
        let drift: DriftPolicy = bytes.count % 3 == 0 ? .rescue : .ignore
        guard let parser = format.makeRecordParser(layout: layout, options: options, source: "fuzz", drift: drift) else { return }
        let batch = try records(bytes, parser: parser, layout: layout, into: &outcome)
        if format == .json {
            // The direct walk of struct and list values and the in-place key and scalar paths must give what the
            // tree path and the general conversion give, byte for byte.
            var tree = JSONRecordParser(layout: layout, options: options, source: "fuzz", drift: drift)
            tree.walksNestedValues = false
            tree.takesFastPaths = false
            var again = Outcome()
            let treeBatch = try records(bytes, parser: tree, layout: layout, into: &again)
            precondition(again.badRecords == outcome.badRecords && again.examples == outcome.examples, "the direct walk's bad records differ: \(outcome.examples) vs \(again.examples)")
            precondition(batch.rowCount == treeBatch.rowCount, "the direct walk made \(batch.rowCount) rows, the tree path \(treeBatch.rowCount)")
            for (leaf, (a, b)) in zip(batch.leaves, treeBatch.leaves).enumerated() {
                precondition(a.sameContents(as: b), "leaf \(layout.leaves[leaf].path) differs between the direct walk and the tree path")
            }
            if options.route == nil { try splitAgrees(bytes, drift: drift) }
        }
    }

    /// The text parsed in parts at its record boundaries (``SplitParse``) must give the rows and bad records of
    /// one parser reading it whole, or give the split up. (Both read their text in one piece: how a record
    /// past the size bound is skipped depends on where pieces end, by design.)
    private static func splitAgrees(_ bytes: [UInt8], drift: DriftPolicy) throws {
        var configuration = IngestConfiguration(table: try TableIdentifier(parsing: "fuzz.t"), schema: layout.schema)
        configuration.maxRecordBytes = maxRecordBytes
        configuration.driftPolicy = drift
        let cuts = SplitParse.cuts(in: bytes, parts: 3, minimumPart: 16)
        guard cuts.count > 2, let parts = SplitParse.parse(bytes, cuts: cuts, layout: layout, configuration: configuration, source: "fuzz"),
            !parts.contains(where: { $0.error != nil })
        else { return }
        var stream = RecordStream(
            parser: JSONRecordParser(layout: layout, options: configuration.conversion, source: "fuzz", drift: drift), maxRecordBytes: maxRecordBytes,
            source: "fuzz")
        var rows = RecordBatch(layout: layout)
        var bad = 0
        try stream.consume(bytes[...], isFinal: false, into: &rows) { _ in bad += 1 }
        try stream.consume([][...], isFinal: true, into: &rows) { _ in bad += 1 }
        var merged = RecordBatch(layout: layout)
        for part in parts { for batch in part.batches { merged.append(contentsOf: batch) } }
        let badInParts = parts.reduce(0) { $0 + $1.bad.count }
        precondition(badInParts == bad, "the parts found \(badInParts) bad records, one parser \(bad)")
        precondition(merged.rowCount == rows.rowCount, "the parts made \(merged.rowCount) rows, one parser \(rows.rowCount)")
        for (leaf, (a, b)) in zip(merged.leaves, rows.leaves).enumerated() {
            precondition(a.sameContents(as: b), "leaf \(layout.leaves[leaf].path) differs between the parts and one parser")
        }
    }

    /// Feeds `bytes` to `parser` as the run loop does; the rows it made.
    private static func records(_ bytes: [UInt8], parser: any RecordParser, layout: ColumnLayout, into outcome: inout Outcome) throws -> RecordBatch {
        var stream = RecordStream(parser: parser, maxRecordBytes: maxRecordBytes, source: "fuzz")
        var batch = RecordBatch(layout: layout)
        var bad = 0
        func onBad(_ record: BadRecord) {
            bad += 1
            if outcome.examples.count < 3 { outcome.examples.append(record.description) }
        }
        let piece = 1 + Int(bytes.last ?? 0) % 97
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + piece)
            try stream.consume(bytes[offset..<end], isFinal: false, into: &batch, onBadRecord: onBad)
            precondition(stream.carriedBytes <= maxRecordBytes, "carried \(stream.carriedBytes) bytes past the bound")
            offset = end
        }
        try stream.consume([][...], isFinal: true, into: &batch, onBadRecord: onBad)
        precondition(stream.carriedBytes == 0, "the final piece left \(stream.carriedBytes) bytes unparsed")
        precondition(stream.parser.counts.rows == batch.rowCount, "counted \(stream.parser.counts.rows) rows, the batch has \(batch.rowCount)")
        precondition(stream.parser.counts.badRecords == bad, "counted \(stream.parser.counts.badRecords) bad records, reported \(bad)")
        outcome.badRecords = bad
        return batch
    }

    /// Detects the compression and decompresses in pieces, stopping at 64 MiB of output (a bomb is not a
    /// finding: the run streams it into the parser, which bounds what it holds).
    static func decompress(_ bytes: [UInt8]) throws {
        let format = CompressionFormat.detect(prefix: Array(bytes.prefix(64)))
        var stream = try format.makeDecompressor(source: "fuzz")
        var produced = 0
        struct Enough: Error {}
        do {
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + 4096)
                try stream.feed(bytes[offset..<end]) { produced += $0.count; if produced > 64 << 20 { throw Enough() } }
                offset = end
            }
            try stream.finish { produced += $0.count; if produced > 64 << 20 { throw Enough() } }
        } catch is Enough {}
    }

    static func parquet(_ bytes: [UInt8]) throws {
        let file = try ParquetFileReader(bytes: bytes, source: "fuzz.parquet")
        for group in file.metadata.rowGroups.indices {
            for column in file.metadata.columns.indices { _ = try file.readColumn(column, rowGroup: group) }
        }
        let object = SourceObject(
            key: "fuzz.parquet", location: "fuzz.parquet", size: Int64(bytes.count), etag: "e", lastModifiedMillis: 0, hour: 0, partitionPrefix: "")
        _ = try ParquetInput.read(bytes, object: object, layout: layout, spec: .unpartitioned, allowRegister: true)
    }
}
