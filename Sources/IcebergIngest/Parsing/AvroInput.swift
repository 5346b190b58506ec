import Avro
import Foundation
import IcebergCore

/// Avro object container files as input (`format: avro`): each record of the file becomes a row, its fields
/// matched to the table's columns by name (nested records to structs, arrays to lists, maps to maps, enums
/// to their symbol). Avro's logical types become the columns' types: `date`, `time-millis`/`time-micros`,
/// `timestamp-millis`/`-micros`/`-nanos` (UTC instants) and `local-timestamp-*`, `decimal` (bytes or fixed),
/// `uuid`; plain `bytes` and `fixed` fill binary columns. A value that does not fit its column is a bad record
/// (its `line` is the record's number in the file); fields the table lacks are schema drift, as for JSON.
///
/// ```swift
/// var avro = AvroInput(layout: layout, options: ConversionOptions(), source: "s3://raw/e/2026/11/24/10/a.avro", drift: .ignore)
/// try avro.read(bytes, batchRows: 100_000, onBadRecord: { bad in skipped.append(bad) }) { batch in
///     try pipeline.submit(batch, source: index)
/// }
/// ```
package struct AvroInput {
    package let layout: ColumnLayout
    package let options: ConversionOptions
    package let source: String
    package private(set) var counts = ParseCounts()
    package private(set) var drift: DriftTracker
    private var schema: AvroRecord?
    /// For each top-level column, the Avro field holding it (nil: the file has none).
    private var sources: [Int?] = []
    /// The Avro fields no column takes (drift).
    private var unmatched: [Int] = []

    package init(layout: ColumnLayout, options: ConversionOptions, source: String, drift: DriftPolicy) {
        self.layout = layout
        self.options = options
        self.source = source
        self.drift = DriftTracker(policy: drift, layout: layout)
    }

    /// Decodes the container into batches of up to `batchRows` rows (or 64 MiB), handed to `submit`.
    package mutating func read(
        _ bytes: [UInt8], batchRows: Int, onBadRecord: (BadRecord) throws -> Void, submit: (RecordBatch) throws -> Void
    ) throws {
        let reader: AvroContainerReader
        do { reader = try AvroContainerReader(bytes, source: source) } catch let error as AvroError {
            throw IngestError(.badRecord, "\(source) is not a readable Avro object container file: \(error.message)", cause: error)
        }
        guard case .record(let record) = reader.schema.base else {
            throw IngestError(.badRecord, "\(source): the Avro file's records are not Avro records (schema \(reader.schema.jsonText.prefix(200)))")
        }
        var seen = Set<String>()
        if let ambiguous = Self.ambiguousUnion(in: reader.schema, seen: &seen) {
            throw IngestError(
                .badRecord, "\(source): the Avro schema has \(ambiguous), whose values cannot be told apart once decoded; such files are not read")
        }
        schema = record
        sources = layout.topLevel.map { column in record.index(of: column.name) }
        unmatched = record.fields.indices.filter { !sources.contains($0) }
        let unknown = record.fields.map(\.name).filter { name in !layout.topLevel.contains { $0.name == name } }
        if drift.policy == .fail, let first = unknown.first {
            throw IngestError(
                .schemaDrift,
                "\(source): field '\(first)' of the Avro file's schema is not in the table's schema (drift policy 'fail'; use 'ignore', 'rescue' or 'add-columns')")
        }
        var number = 0
        var batch = RecordBatch(layout: layout)
        do {
            try reader.forEachRecord { value in
                number += 1
                try append(value, number: number, into: &batch, onBadRecord: onBadRecord)
                if batch.rowCount >= batchRows || batch.estimatedBytes >= 64 << 20 {
                    try submit(batch)
                    batch = RecordBatch(layout: layout)
                }
            }
        } catch let error as AvroError {
            throw IngestError(.badRecord, "\(source): the Avro file is damaged after record \(number): \(error.message)", cause: error)
        }
        if batch.rowCount > 0 { try submit(batch) }
    }

    /// Appends one record as a row, or hands it to `onBadRecord` when a value does not fit.
    mutating func append(_ value: AvroValue, number: Int, into batch: inout RecordBatch, onBadRecord: (BadRecord) throws -> Void) throws {
        guard let schema, case .record(let fields) = value, fields.count == schema.fields.count else {
            throw IngestError(.badRecord, "\(source): record \(number) does not have the fields of the file's schema")
        }
        let mark = batch.beginRecord()
        drift.beginRecord()
        var problem: (ConversionFailure, String)?
        for (f, column) in layout.topLevel.enumerated() where f != drift.rescueField {
            let json = sources[f].map { Self.json(fields[$0], schema.fields[$0].type) } ?? .null
            do throws(ConversionFailure) {
                try append(json, field: f, column: column, into: &batch)
            } catch {
                problem = (error, column.name)
                break
            }
        }
        for a in unmatched {
            let field = schema.fields[a]
            let json = Self.json(fields[a], field.type)
            drift.unknownField(field.name, at: "\(source) record \(number)")
            drift.sample(field.name, json)
            if problem == nil, drift.rescues { Array(json.serialized().utf8).withUnsafeBufferPointer { drift.rescue(key: field.name, json: $0) } }
        }
        if problem == nil { drift.finishRecord(into: &batch) }
        guard let (failure, field) = problem else {
            batch.endRecord()
            counts.rows += 1
            return
        }
        batch.rollBack(to: mark)
        counts.badRecords += 1
        if let wider = failure.widening { drift.widen(field, to: wider) }
        let whole = JSONValue.object(zip(schema.fields, fields).map { ($0.name, Self.json($1, $0.type)) }).serialized()
        var bad = BadRecord(
            kind: failure.kind, source: source, line: number, byteOffset: 0, field: field, reason: "record \(number): \(failure.reason)",
            raw: Array(whole.utf8.prefix(1 << 20)))
        bad.needsWidening = failure.widening != nil
        try onBadRecord(bad)
    }

    private func append(_ json: JSONValue, field f: Int, column: ColumnLayout.TopField, into batch: inout RecordBatch) throws(ConversionFailure) {
        guard case .primitive(let type) = column.field.type else {
            try batch.appendNested(json, field: f, options: options)
            return
        }
        var text: String
        let kind: ScalarKind
        switch json {
        case .null:
            if column.field.isRequired { throw ConversionFailure(.missingRequired, "required field '\(column.name)' is null or missing") }
            batch.appendNull(field: f)
            return
        case .string(let s): text = s; kind = .string
        case .int(let i): text = String(i); kind = .number
        case .double(let d): text = String(d); kind = .number
        case .bool(let b): text = String(b); kind = .boolean(b)
        case .array, .object: throw ConversionFailure("expected \(type), found an Avro \(json.kindName == "array" ? "array" : "record or map")")
        }
        var failure: ConversionFailure?
        text.withUTF8 { buffer in
            do throws(ConversionFailure) {
                try batch.leaves[column.leaves.lowerBound].appendScalar(buffer, kind: kind, type: type, options: options)
            } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// An Avro value of `schema` as the JSON value whose conversion to a column gives the same value.
    static func json(_ value: AvroValue, _ schema: AvroSchema) -> JSONValue {
        var properties: AvroProperties = [:]
        var base = schema
        while case .annotated(let inner, let more) = base {
            properties.merge(more) { a, _ in a }
            base = inner
        }
        if case .fixed(_, _, let more) = base { properties.merge(more) { a, _ in a } }
        if case .union(let branches) = base {
            guard let branch = branches.first(where: { matches(value, $0.base) }) else { return .null }
            return json(value, branch)
        }
        let logical: String? = if case .string(let l)? = properties["logicalType"] { l } else { nil }
        switch value {
        case .null: return .null
        case .boolean(let b): return .bool(b)
        case .int(let i):
            switch logical {
            case "date": return .string(CivilTime.dateString(days: Int64(i)))
            case "time-millis": return .string(CivilTime.timeString(micros: Int64(i) * 1000))
            default: return .int(Int64(i))
            }
        case .long(let l):
            switch logical {
            case "time-micros": return .string(CivilTime.timeString(micros: l))
            case "timestamp-micros", "local-timestamp-micros": return timestamp(l, unit: 1, logical: logical)
            case "timestamp-millis", "local-timestamp-millis": return timestamp(l, unit: 1000, logical: logical)
            case "timestamp-nanos", "local-timestamp-nanos": return timestamp(l, unit: -1000, logical: logical)
            default: return .int(l)
            }
        case .float(let f): return .double(Double(f))
        case .double(let d): return .double(d)
        case .bytes(let b), .fixed(let b):
            if logical == "decimal", case .int(let scale) = properties["scale"] ?? .int(0) {
                // A scale from the file's schema: Iceberg's decimals have at most 38 digits.
                guard (0...38).contains(scale) else { return .string("a decimal of scale \(scale) (out of range)") }
                return .string(decimalText(b, scale: Int(scale)))
            }
            return .string(Data(b).base64EncodedString())
        case .string(let s): return .string(s)
        case .record(let values):
            guard case .record(let record) = base, record.fields.count == values.count else { return .null }
            return .object(zip(record.fields, values).map { ($0.name, json($1, $0.type)) })
        case .enumSymbol(let index):
            guard case .enumeration(_, let symbols) = base, symbols.indices.contains(index) else { return .null }
            return .string(symbols[index])
        case .array(let items):
            guard case .array(let itemSchema, _) = base else { return .null }
            return .array(items.map { json($0, itemSchema) })
        case .map(let entries):
            guard case .map(let valueSchema, _) = base else { return .null }
            return .object(entries.map { ($0.0, json($0.1, valueSchema)) })
        }
    }

    /// Years 1 to 9999 in microseconds: the timestamps ISO-8601 text (and Iceberg's readers) can say.
    static let timestampRange: ClosedRange<Int64> = -62_135_596_800_000_000...253_402_300_799_999_999

    /// A `timestamp-*` value (`unit`: microseconds per value, or negative: values per microsecond) as text;
    /// a value outside years 1 to 9999 as text that says so, which fails its column's conversion.
    static func timestamp(_ value: Int64, unit: Int64, logical: String?) -> JSONValue {
        let (scaled, overflow) = unit > 0 ? value.multipliedReportingOverflow(by: unit) : (CivilTime.floorDiv(value, -unit), false)
        guard !overflow, timestampRange.contains(scaled) else { return .string("\(logical ?? "timestamp") \(value) (out of range)") }
        return .string(CivilTime.timestampString(micros: scaled, zone: !(logical ?? "").hasPrefix("local-")))
    }

    /// A union whose branches a decoded value cannot tell apart (two records, two enums ...): the value does
    /// not keep which branch it took, so such files are refused rather than read with the wrong field names.
    static func ambiguousUnion(in schema: AvroSchema, seen: inout Set<String>) -> String? {
        switch schema {
        case .annotated(let inner, _): return ambiguousUnion(in: inner, seen: &seen)
        case .record(let r):
            let name = r.namespace.map { "\($0).\(r.name)" } ?? r.name
            guard seen.insert(name).inserted else { return nil }
            for field in r.fields { if let found = ambiguousUnion(in: field.type, seen: &seen) { return "\(field.name): \(found)" } }
            return nil
        case .array(let items, _): return ambiguousUnion(in: items, seen: &seen)
        case .map(let values, _): return ambiguousUnion(in: values, seen: &seen)
        case .union(let branches):
            let kinds = branches.map { kind($0.base) }
            if Set(kinds).count != kinds.count { return "a union of \(kinds.joined(separator: ", "))" }
            for branch in branches { if let found = ambiguousUnion(in: branch, seen: &seen) { return found } }
            return nil
        default: return nil
        }
    }

    private static func kind(_ base: AvroSchema) -> String {
        switch base {
        case .null: "null"
        case .boolean: "boolean"
        case .int: "int"
        case .long: "long"
        case .float: "float"
        case .double: "double"
        case .bytes: "bytes"
        case .string: "string"
        case .record: "record"
        case .enumeration: "enum"
        case .array: "array"
        case .map: "map"
        case .union: "union"
        case .fixed: "fixed"
        case .annotated: "annotated"
        }
    }

    /// Whether `value` is a value of the (non-union) schema `base`: picks a union's branch.
    private static func matches(_ value: AvroValue, _ base: AvroSchema) -> Bool {
        switch (value, base) {
        case (.null, .null), (.boolean, .boolean), (.int, .int), (.long, .long), (.float, .float), (.double, .double), (.bytes, .bytes),
            (.string, .string), (.record, .record), (.enumSymbol, .enumeration), (.array, .array), (.map, .map), (.fixed, .fixed):
            true
        default: false
        }
    }

    /// A big-endian two's-complement unscaled value as decimal text with `scale` digits after the point.
    static func decimalText(_ bytes: [UInt8], scale: Int) -> String {
        guard !bytes.isEmpty else { return "0" }
        guard bytes.count <= 16 else { return "a decimal of \(bytes.count) bytes (out of range)" }
        var value: Int128 = bytes[0] & 0x80 != 0 ? -1 : 0
        for byte in bytes { value = value << 8 | Int128(byte) }
        let negative = value < 0
        var digits = value.magnitude.description
        if scale > 0 {
            if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
        }
        return (negative ? "-" : "") + digits
    }
}
