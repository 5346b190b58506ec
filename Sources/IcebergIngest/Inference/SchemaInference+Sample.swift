import Avro
import Codecs
import Foundation
import IcebergCore

extension SchemaInference {
    /// What ``sample(source:format:objects:records:bytesPerObject:)`` read.
    public struct Sample: Sendable {
        /// The inference over the records read.
        public var inference: SchemaInference
        /// The objects read (the newest ones of the source), as locations.
        public var objects: [String] = []
        /// Records that could not be parsed (a sample cut inside a record counts one).
        public var unparseable = 0
        /// Bytes read from the source.
        public var bytesRead: Int64 = 0
        /// Objects whose bytes are damaged (their compression, or their Avro container): what came out of
        /// them before the damage is in the sample, and a run leaves them out whole or stops on them (by its
        /// bad-record policy). With what is wrong.
        public var damaged: [String] = []
    }

    /// Reads the newest `objects` objects of `source` (at most `bytesPerObject` bytes of each, decompressed as
    /// a run would) and infers a schema from up to `records` records of them. JSON (lines or concatenated),
    /// CSV and TSV (cells typed from their text), text lines (one string column) and Avro (the file's own
    /// schema: Avro files are read whole) are inferred; Parquet carries its schema already and is refused.
    ///
    /// ```swift
    /// let sample = try await SchemaInference.sample(source: LocalFolderSource(root: "Fixtures/demo/events", layout: .firehose), format: .json)
    /// print(sample.inference.schemaText, sample.inference.partition(layout: .firehose) ?? "")
    /// ```
    public static func sample(
        source: any IngestSource, format: InputFormat, objects: Int = 10, records: Int = 10_000, bytesPerObject: Int = 16 << 20, now: Date = Date()
    ) async throws -> Sample {
        if case .parquet = format {
            throw IngestError(.invalidConfiguration, "Parquet files carry their schema: infer reads json, csv, tsv, text and avro")
        }
        let listing = try await source.list(firstOpenHour: nil, now: now)
        var sample = Sample(inference: SchemaInference())
        if format == .text {
            // Text lines have one shape whatever they hold: the objects are listed, not read.
            sample.inference.addLineColumn()
            sample.objects = listing.objects.suffix(max(1, objects)).map(\.location)
            return sample
        }
        for object in listing.objects.suffix(max(1, objects)) where object.size > 0 {
            guard sample.inference.records < records else { break }
            let whole = object.size <= Int64(bytesPerObject)
            if format == .avro, !whole {
                throw IngestError(.invalidConfiguration, "\(object.location) is \(object.size) bytes: infer reads Avro files whole, up to \(bytesPerObject) bytes")
            }
            let bytes = try await source.read(object, range: 0..<min(object.size, Int64(bytesPerObject)))
            sample.bytesRead += Int64(bytes.count)
            sample.objects.append(object.location)
            let current = sample.inference
            let (inference, unparseable, damage) = try await BlockingExecutor.run {
                var inference = current
                let (unparseable, damage) = try Self.read(bytes, whole: whole, location: object.location, format: format, until: records, into: &inference)
                return (inference, unparseable, damage)
            }
            sample.inference = inference
            sample.unparseable += unparseable
            if let damage { sample.damaged.append(damage) }
        }
        return sample
    }

    /// Decompresses one object (each ZIP entry an input of its own) and adds its records until the inference
    /// has `total`; returns how many could not be parsed, and what is wrong when the object's bytes are damaged.
    static func read(
        _ bytes: [UInt8], whole: Bool, location: String, format: InputFormat, until total: Int, into inference: inout SchemaInference
    ) throws -> (unparseable: Int, damage: String?) {
        if format == .avro {
            do {
                let reader = try AvroContainerReader(bytes, source: location)
                guard case .record(let record) = reader.schema.base else {
                    throw IngestError(.badRecord, "\(location): the Avro file's records are not Avro records")
                }
                inference.add(avro: record)
                return (0, nil)
            } catch let error as AvroError where error.code == .corruptData {
                return (0, error.message)
            } catch let error as AvroError {
                throw IngestError(.badRecord, "\(location) is not a readable Avro object container file: \(error.message)", cause: error)
            }
        }
        let (inputs, damage) = try texts(of: bytes, whole: whole, location: location)
        var unparseable = 0
        for text in inputs where !text.isEmpty && inference.records < total {
            let limit = total - inference.records
            switch format {
            case .json:
                let (values, invalid) = JSONValue.parseSequence(text, source: location, limit: limit)
                for value in values { inference.add(json: value) }
                unparseable += invalid
            case .csv(let delimiter):
                let rows = CSVSplitter.rows(text, delimiter: delimiter, limit: limit + 1)
                guard let header = rows.first else { continue }
                for row in rows.dropFirst() where !(row.count == 1 && row[0].isEmpty) {
                    guard row.count == header.count else {
                        unparseable += 1
                        continue
                    }
                    inference.add(text: zip(header, row).map { (name: $0, text: $1) })
                }
            case .text, .avro, .parquet:
                break
            }
        }
        return (unparseable, damage)
    }

    /// The decompressed text of an object read whole or in part (`whole` false: a prefix; a record cut at its
    /// end is left out), one text per ZIP entry (macOS metadata entries skipped), byte-order marks removed;
    /// at most 64 MiB of it, so that a decompression bomb stays small. Damaged compressed bytes give the text
    /// before the damage, as a prefix, and what is wrong (`damage`); what is not read here throws.
    static func texts(of bytes: [UInt8], whole: Bool, location: String) throws -> (texts: [[UInt8]], damage: String?) {
        var damage: String?
        var inputs: [[UInt8]] = [[]]
        // The text kept of one object, whatever its entries: decompression stops there (a bomb stays small).
        let cap = 64 << 20
        var total = 0
        var cut = !whole
        struct Enough: Error {}
        var skippingEntry = false
        do {
            let compression = CompressionFormat.detect(prefix: Array(bytes.prefix(64)))
            var decompressor = try compression.makeDecompressor(source: location)
            let emit: (ArraySlice<UInt8>) throws -> Void = { piece in
                if skippingEntry { return }
                let take = min(piece.count, cap - total)
                inputs[inputs.count - 1] += piece.prefix(take)
                total += take
                if total >= cap { throw Enough() }
            }
            if let zip = decompressor as? ZipStream {
                let entry: (ZipStream.EntryEvent) -> Void = { event in
                    switch event {
                    case .begin(let name): skippingEntry = ZipStream.isMetadataEntry(name)
                    case .end: inputs.append([])
                    }
                }
                try zip.feed(bytes[...], entry: entry, emit: emit)
                if whole { try zip.finish(entry: entry, emit: emit) }
            } else {
                try decompressor.feed(bytes[...], emit: emit)
                if whole { try decompressor.finish(emit: emit) }
            }
        } catch is Enough {
            cut = true
        } catch let error as CodecError {
            // A sample cut short ends inside the compressed stream; what came out before the damage still counts.
            if whole {
                guard error.kind == .damaged else { throw IngestError(.corruptCompressedInput, error.message, cause: error) }
                damage = error.message
                cut = true
            }
        }
        // A byte-order mark (Windows tools write one) is not part of the first record or header.
        for i in inputs.indices where inputs[i].starts(with: [0xEF, 0xBB, 0xBF]) { inputs[i].removeFirst(3) }
        if cut, let cut = inputs[inputs.count - 1].lastIndex(of: 0x0a) {
            // The sample ends inside a record: leave it out rather than count it unparseable.
            inputs[inputs.count - 1].removeSubrange((cut + 1)...)
        }
        return (inputs, damage)
    }
}

/// Splits CSV text (RFC 4180: quoted cells, `""` inside quotes, CRLF or LF) into rows of cells, for inference.
enum CSVSplitter {
    static func rows(_ text: [UInt8], delimiter: UInt8, limit: Int) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var cell: [UInt8] = []
        var quoted = false
        var i = 0
        func endCell() {
            row.append(String(decoding: cell, as: UTF8.self))
            cell.removeAll(keepingCapacity: true)
        }
        while i < text.count, rows.count < limit {
            let c = text[i]
            if quoted {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < text.count, text[i + 1] == UInt8(ascii: "\"") {
                        cell.append(c)
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    cell.append(c)
                }
            } else if c == UInt8(ascii: "\"") && cell.isEmpty {
                quoted = true
            } else if c == delimiter {
                endCell()
            } else if c == 0x0a {
                if cell.last == 0x0d { cell.removeLast() }
                endCell()
                rows.append(row)
                row = []
            } else {
                cell.append(c)
            }
            i += 1
        }
        // A last row without a line end (the sample may cut it: it is kept only when the input ended there).
        if rows.count < limit, !cell.isEmpty || !row.isEmpty, !quoted, i == text.count {
            endCell()
            rows.append(row)
        }
        return rows
    }
}
