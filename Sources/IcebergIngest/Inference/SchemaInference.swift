import Avro
import Foundation
import IcebergCore

/// Proposes an Iceberg schema from sample records, as a starting point for a job's `table.schema`: types are
/// widened across the sample (int and long to long, with a fraction to double, a date and a timestamp to
/// timestamp, anything in conflict to string), ISO-8601 dates and timestamps are recognised in strings (with a
/// zone or `Z`: `timestamptz`), objects become structs, arrays lists, and every column is nullable. A field
/// only ever null, or an array only ever empty, becomes a string. Fields keep the order they were first seen in.
///
/// Two judgements keep one odd record from turning a column into a string: integers in the range of epoch
/// seconds, milliseconds, microseconds or nanoseconds of the years 2000 to 2100 beside ISO timestamps make a
/// timestamp column (a run converts both), and strings that are at most 1% of a column's values otherwise of
/// one type leave it that type; ``notes`` says which values will then be bad records.
///
/// ```swift
/// var inference = SchemaInference()
/// inference.add(json: try JSONValue.parse(#"{"id": 1, "at": "2026-11-24T10:00:00Z", "tags": ["a"]}"#))
/// inference.add(json: try JSONValue.parse(#"{"id": 2.5, "user": {"name": "ann"}}"#))
/// print(inference.schemaText)   // id double, at timestamptz, tags list<string>, user struct<name string>
/// print(inference.partition(layout: .firehose) ?? "unpartitioned")   // hour(at)
/// ```
public struct SchemaInference: Sendable {
    /// What the sample showed of one value's type.
    indirect enum Shape: Sendable, Equatable {
        /// Only nulls so far.
        case unknown
        case primitive(Scalars)
        case structure([Member])
        case list(Shape)
        case map(Shape)
    }

    /// How many values of each type a scalar field had.
    struct Scalars: Sendable, Equatable {
        var counts: [PrimitiveType: Int] = [:]
        /// Of the `long` values, those in the range of an epoch time of 2000 to 2100 in some unit.
        var epochLike = 0

        init(_ type: PrimitiveType, epochLike: Bool = false) {
            counts[type] = 1
            self.epochLike = epochLike ? 1 : 0
        }

        mutating func add(_ other: Scalars) {
            counts.merge(other.counts, uniquingKeysWith: +)
            epochLike += other.epochLike
        }

        /// The column type, and how many values will not fit it (strings left out as outliers).
        var resolved: (type: PrimitiveType, outliers: Int) {
            var counts = counts
            if let longs = counts[.long], longs == epochLike, counts[.timestamptz] != nil || counts[.timestamp] != nil {
                counts[.long] = nil
                counts[.timestamptz, default: 0] += longs
            }
            let types = counts.keys.sorted { $0.description < $1.description }
            let widened = types.dropFirst().reduce(types.first ?? .string, SchemaInference.widen)
            guard widened == .string, let strings = counts[.string], types.count > 1 else { return (widened, 0) }
            let others = types.filter { $0 != .string }
            let narrower = others.dropFirst().reduce(others[0], SchemaInference.widen)
            let total = counts.values.reduce(0, +)
            return narrower != .string && strings * 100 <= total ? (narrower, strings) : (.string, 0)
        }
    }

    struct Member: Sendable, Equatable {
        var name: String
        var shape: Shape
    }

    private var top: [Member] = []
    /// Records added.
    public private(set) var records = 0

    public init() {}

    /// Adds a JSON record (an object; anything else is ignored and not counted).
    public mutating func add(json record: JSONValue) {
        guard case .object(let members) = record else { return }
        records += 1
        Self.merge(into: &top, members.map { Member(name: $0.0, shape: Self.shape(of: $0.1)) })
    }

    /// Adds a record of text cells (a CSV row): each cell is typed from its text; an empty cell is null.
    public mutating func add(text cells: [(name: String, text: String)]) {
        records += 1
        Self.merge(into: &top, cells.map { Member(name: $0.name, shape: Self.shape(ofText: $0.text, quoted: false)) })
    }

    /// The one column of text lines (`format: text`): `line string`.
    mutating func addLineColumn() { Self.merge(into: &top, [Member(name: "line", shape: .primitive(Scalars(.string)))]) }

    /// Adds an Avro file's record schema: the Avro types, logical types included, give the columns' types.
    mutating func add(avro record: AvroRecord) {
        records += 1
        Self.merge(into: &top, record.fields.map { Member(name: $0.name, shape: Self.shape(ofAvro: $0.type)) })
    }

    /// The proposed schema: every column optional, field ids from 1 in order.
    public var schema: Schema {
        var nextID = 1
        let ids = top.map { _ -> Int in
            defer { nextID += 1 }
            return nextID
        }
        let fields = zip(top, ids).map { member, id in NestedField(id: id, name: member.name, type: Self.type(member.shape, nextID: &nextID)) }
        return Schema(id: 0, fields: fields)
    }

    /// The schema as a job's `table.schema` takes it: the short column list when every name is a plain word
    /// (letters, digits, `_`, `-`), else Iceberg's schema JSON.
    public var schemaText: String {
        let schema = schema
        guard Self.allPlainNames(schema.fields) else { return schema.json.serialized() }
        return schema.fields.map { "\($0.name) \(Self.text($0.type))" }.joined(separator: ", ")
    }

    /// A partition spec for the proposed schema: the time unit of the source's layout (`hour` under hourly
    /// prefixes, `day` under daily ones) over the timestamp column whose name says event time best (`event_time`,
    /// `timestamp`, `ts`, `time`, `created_at` ..., else the first timestamp column). Nil when there is none.
    public func partition(layout: PrefixLayout) -> String? {
        let timestamps = schema.fields.filter { $0.type == .primitive(.timestamptz) || $0.type == .primitive(.timestamp) }.map(\.name)
        let preferred = ["event_time", "eventtime", "event_timestamp", "timestamp", "ts", "time", "event_at", "created_at", "createdat", "at"]
        guard let column = preferred.lazy.compactMap({ p in timestamps.first { $0.lowercased() == p } }).first ?? timestamps.first else { return nil }
        return "\(layout.isHourly ? "hour" : "day")(\(column))"
    }

    /// Values of the sample that will be bad records under the proposed schema (a column kept numeric or a
    /// timestamp despite a few strings), one line per column: `id: 1 of 901 values are not long`.
    public var notes: [String] {
        var out: [String] = []
        func walk(_ shape: Shape, _ path: String) {
            switch shape {
            case .unknown: break
            case .primitive(let p):
                let (type, outliers) = p.resolved
                if outliers > 0 { out.append("\(path): \(outliers) of \(p.counts.values.reduce(0, +)) values are not \(type) (they would be bad records)") }
            case .structure(let members): for m in members { walk(m.shape, path + "." + m.name) }
            case .list(let element): walk(element, path + "[]")
            case .map(let value): walk(value, path + "{}")
            }
        }
        for m in top { walk(m.shape, m.name) }
        return out
    }

    // MARK: Shapes

    static func shape(of value: JSONValue) -> Shape {
        switch value {
        case .null: .unknown
        case .bool: .primitive(Scalars(.boolean))
        case .int(let i): .primitive(Scalars(.long, epochLike: isEpochLike(i)))
        case .double: .primitive(Scalars(.double))
        case .string(let s): shape(ofText: s, quoted: true)
        case .array(let elements): .list(elements.map(shape(of:)).reduce(.unknown, merge))
        case .object(let members):
            .structure(members.reduce(into: [Member]()) { merged, m in merge(into: &merged, [Member(name: m.0, shape: shape(of: m.1))]) })
        }
    }

    /// Whether an integer is an epoch time between 2000 and 2100 in seconds, milliseconds, microseconds or nanoseconds.
    static func isEpochLike(_ i: Int64) -> Bool {
        let seconds: ClosedRange<Int64> = 946_684_800...4_102_444_800
        return [Int64(1), 1_000, 1_000_000, 1_000_000_000].contains { unit in seconds.contains(i / unit) }
    }

    /// A text value's type: dates and timestamps always; numbers and booleans only when not quoted (CSV cells).
    static func shape(ofText text: String, quoted: Bool) -> Shape {
        switch primitive(ofText: text, quoted: quoted) {
        case nil: .unknown
        case .long?: .primitive(Scalars(.long, epochLike: Int64(text).map(isEpochLike) ?? false))
        case let type?: .primitive(Scalars(type))
        }
    }

    static func primitive(ofText text: String, quoted: Bool) -> PrimitiveType? {
        var text = text
        return text.withUTF8 { t -> PrimitiveType? in
            if t.isEmpty { return quoted ? .string : nil }
            if ScalarText.date(t) != nil { return .date }
            if t.count > 10, ScalarText.timestamp(t) != nil {
                // After the date, `Z` or a sign can only start a zone.
                let zoned = t[11...].contains { $0 == UInt8(ascii: "Z") || $0 == UInt8(ascii: "z") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") }
                return zoned ? .timestamptz : .timestamp
            }
            if !quoted {
                if ScalarText.integer(t) != nil { return .long }
                if ScalarText.double(t) != nil { return .double }
                let lower = String(decoding: t, as: UTF8.self).lowercased()
                if lower == "true" || lower == "false" { return .boolean }
            }
            return .string
        }
    }

    static func shape(ofAvro schema: AvroSchema) -> Shape {
        var properties: AvroProperties = [:]
        var base = schema
        while case .annotated(let inner, let more) = base {
            properties.merge(more) { a, _ in a }
            base = inner
        }
        let logical: String? = if case .string(let l)? = properties["logicalType"] { l } else { nil }
        func int(_ key: String) -> Int? { if case .int(let v)? = properties[key] { Int(v) } else { nil } }
        switch base {
        case .null: return .unknown
        case .boolean: return .primitive(Scalars(.boolean))
        case .int:
            return .primitive(Scalars(logical == "date" ? .date : logical == "time-millis" ? .time : .int))
        case .long:
            switch logical {
            case "time-micros": return .primitive(Scalars(.time))
            case "timestamp-millis", "timestamp-micros", "timestamp-nanos": return .primitive(Scalars(.timestamptz))
            case "local-timestamp-millis", "local-timestamp-micros", "local-timestamp-nanos": return .primitive(Scalars(.timestamp))
            default: return .primitive(Scalars(.long))
            }
        case .float: return .primitive(Scalars(.float))
        case .double: return .primitive(Scalars(.double))
        case .bytes:
            if logical == "decimal", let p = int("precision") { return .primitive(Scalars(.decimal(precision: p, scale: int("scale") ?? 0))) }
            return .primitive(Scalars(.binary))
        case .string: return .primitive(Scalars(logical == "uuid" ? .uuid : .string))
        case .fixed(_, let size, let more):
            properties.merge(more) { a, _ in a }
            if case .string("decimal")? = properties["logicalType"], let p = int("precision") {
                return .primitive(Scalars(.decimal(precision: p, scale: int("scale") ?? 0)))
            }
            return .primitive(Scalars(.fixed(length: size)))
        case .enumeration: return .primitive(Scalars(.string))
        case .record(let r): return .structure(r.fields.map { Member(name: $0.name, shape: shape(ofAvro: $0.type)) })
        case .array(let items, _): return .list(shape(ofAvro: items))
        case .map(let values, _): return .map(shape(ofAvro: values))
        case .union(let branches):
            return branches.filter { $0.base != .null }.map(shape(ofAvro:)).reduce(.unknown, merge)
        case .annotated: return .unknown
        }
    }

    /// The narrowest shape holding both.
    static func merge(_ a: Shape, _ b: Shape) -> Shape {
        switch (a, b) {
        case (.unknown, let x), (let x, .unknown): return x
        case (.primitive(var x), .primitive(let y)):
            x.add(y)
            return .primitive(x)
        case (.structure(var x), .structure(let y)):
            merge(into: &x, y)
            return .structure(x)
        case (.list(let x), .list(let y)): return .list(merge(x, y))
        case (.map(let x), .map(let y)): return .map(merge(x, y))
        default: return .primitive(Scalars(.string))
        }
    }

    static func merge(into members: inout [Member], _ more: [Member]) {
        for m in more {
            if let i = members.firstIndex(where: { $0.name == m.name }) {
                members[i].shape = merge(members[i].shape, m.shape)
            } else {
                members.append(m)
            }
        }
    }

    static func widen(_ a: PrimitiveType, _ b: PrimitiveType) -> PrimitiveType {
        if a == b { return a }
        let numbers: [PrimitiveType] = [.int, .long, .float, .double]
        if let i = numbers.firstIndex(of: a), let j = numbers.firstIndex(of: b) {
            let wider = numbers[max(i, j)]
            // long and float: only a double holds both.
            return (wider == .float && (a == .long || b == .long)) ? .double : wider
        }
        let times: [PrimitiveType] = [.date, .timestamp, .timestamptz]
        if let i = times.firstIndex(of: a), let j = times.firstIndex(of: b) { return times[max(i, j)] }
        return .string
    }

    // MARK: Output

    static func type(_ shape: Shape, nextID: inout Int) -> IcebergType {
        switch shape {
        case .unknown: return .primitive(.string)
        case .primitive(let p): return .primitive(p.resolved.type)
        case .structure(let members):
            let ids = members.map { _ -> Int in
                defer { nextID += 1 }
                return nextID
            }
            return .struct(StructType(zip(members, ids).map { m, id in NestedField(id: id, name: m.name, type: type(m.shape, nextID: &nextID)) }))
        case .list(let element):
            let id = nextID
            nextID += 1
            return .list(ListType(elementID: id, element: type(element, nextID: &nextID), elementRequired: false))
        case .map(let value):
            let keyID = nextID, valueID = nextID + 1
            nextID += 2
            return .map(MapType(keyID: keyID, key: .primitive(.string), valueID: valueID, value: type(value, nextID: &nextID), valueRequired: false))
        }
    }

    static func text(_ type: IcebergType) -> String {
        switch type {
        case .primitive(let p): p.description
        case .struct(let s): "struct<\(s.fields.map { "\($0.name) \(text($0.type))" }.joined(separator: ", "))>"
        case .list(let l): "list<\(text(l.element))>"
        case .map(let m): "map<\(text(m.key)), \(text(m.value))>"
        }
    }

    static func allPlainNames(_ fields: [NestedField]) -> Bool {
        func plain(_ type: IcebergType) -> Bool {
            switch type {
            case .primitive: true
            case .struct(let s): allPlainNames(s.fields)
            case .list(let l): plain(l.element)
            case .map(let m): plain(m.value)
            }
        }
        return fields.allSatisfy { field in
            !field.name.isEmpty
                && field.name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_" || $0 == "-" }
                && plain(field.type)
        }
    }
}
