import IcebergCore

/// Parses CSV (RFC 4180: a header line naming the columns, fields in double quotes when they hold the
/// delimiter, quotes or line breaks, `""` for a quote) into a ``RecordBatch``. Columns are matched to the
/// schema's top-level fields by name; a field the file lacks is null. An empty unquoted cell is null;
/// nested columns take JSON text. A column the schema lacks is drift, handled per ``DriftPolicy``: `fail`
/// stops at the header naming the column, `ignore` counts it, `rescue` keeps its cells (and cells that do
/// not fit their column) as a JSON object of strings in `_rescued_data`, `add-columns` samples it (a new
/// column from CSV is a string column: text says nothing surer about its type) and notes values that need
/// a wider type.
///
/// ```swift
/// var parser = CSVRecordParser(layout: layout, options: ConversionOptions(), source: "a.csv", delimiter: UInt8(ascii: ";"))
/// let used = try parser.parse(buffer, isFinal: true, into: &batch) { throw IngestError(.badRecord, $0.description) }
/// ```
package struct CSVRecordParser {
    package let layout: ColumnLayout
    package let options: ConversionOptions
    package let source: String
    package let delimiter: UInt8
    package private(set) var position = InputPosition()
    package private(set) var counts = ParseCounts()
    /// For each CSV column, the schema field it fills (nil: not in the schema).
    private var columns: [Int?]?
    private var header: [String] = []
    private var cells: [(start: Int, end: Int, quoted: Bool, escaped: Bool)] = []
    private var scratch: [UInt8] = []
    /// What to do with columns the schema lacks (see ``setDrift(_:)``).
    package private(set) var drift: DriftPolicy = .ignore
    /// A sample value of each unknown column, to type the new column.
    package private(set) var samples: [String: JSONValue] = [:]
    /// Columns whose values need a wider type.
    package private(set) var widenings: [String: PrimitiveType] = [:]
    /// Where each unknown column was seen (the header line).
    package private(set) var unknownFieldExamples: [String: String] = [:]
    /// `rescue`: the `_rescued_data` field and the current record's rescued members.
    private var rescueField: Int?
    private var rescued: [UInt8] = []

    package init(layout: ColumnLayout, options: ConversionOptions, source: String, delimiter: UInt8 = UInt8(ascii: ",")) {
        self.layout = layout
        self.options = options
        self.source = source
        self.delimiter = delimiter
    }

    /// Sets the drift policy (with `rescue`, the schema must have a `_rescued_data` string column).
    package mutating func setDrift(_ policy: DriftPolicy) {
        drift = policy
        rescueField = policy == .rescue ? layout.topLevel.firstIndex { $0.name == RescuedData.column && $0.field.type == .primitive(.string) } : nil
    }

    /// Adds a member to the current record's rescued data, the cell's text as a JSON string.
    private mutating func rescue(column: String, text: [UInt8]) {
        rescued.append(rescued.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
        rescued += Array(JSONValue.string(column).serialized().utf8)
        rescued.append(UInt8(ascii: ":"))
        rescued += Array(JSONValue.string(String(decoding: text, as: UTF8.self)).serialized().utf8)
    }

    /// Parses every complete record in `buffer`; returns the bytes used (see ``JSONRecordParser``).
    package mutating func parse(
        _ buffer: UnsafeBufferPointer<UInt8>, isFinal: Bool, into batch: inout RecordBatch,
        onBadRecord: (BadRecord) throws -> Void
    ) throws -> Int {
        var i = 0
        let n = buffer.count
        defer { position.byteOffset += Int64(i) }
        while i < n {
            let start = i
            // Split one record into cells.
            cells.removeAll(keepingCapacity: true)
            var k = i
            var complete = false
            var syntax: (String, Int)?
            var lineBreaks = 0
            cellLoop: while true {
                if k < n, buffer[k] == UInt8(ascii: "\"") {
                    var q = k + 1
                    var escaped = false
                    var closed = false
                    while q < n {
                        if buffer[q] == UInt8(ascii: "\"") {
                            if q + 1 < n, buffer[q + 1] == UInt8(ascii: "\"") { escaped = true; q += 2; continue }
                            if q + 1 == n && !isFinal { break }
                            closed = true
                            break
                        }
                        if buffer[q] == 0x0a { lineBreaks += 1 }
                        q += 1
                    }
                    guard closed else {
                        if isFinal { syntax = ("a quoted field is not closed", k) }
                        break cellLoop
                    }
                    cells.append((k + 1, q, true, escaped))
                    k = q + 1
                    if k < n, buffer[k] != delimiter, buffer[k] != 0x0a, buffer[k] != 0x0d {
                        syntax = ("unexpected character after a closing quote", k)
                        while k < n, buffer[k] != 0x0a { k += 1 }
                        complete = k < n || isFinal
                        if k < n { k += 1 }
                        break cellLoop
                    }
                } else {
                    var e = k
                    while e < n, buffer[e] != delimiter, buffer[e] != 0x0a { e += 1 }
                    var end = e
                    if e < n || isFinal, end > k, buffer[end - 1] == 0x0d, e == n || buffer[e] == 0x0a { end -= 1 }
                    cells.append((k, end, false, false))
                    k = e
                }
                if k < n, buffer[k] == delimiter { k += 1; continue }
                if k < n, buffer[k] == 0x0d, k + 1 < n, buffer[k + 1] == 0x0a { k += 1 }
                if k < n, buffer[k] == 0x0a { k += 1; complete = true; break }
                if k >= n {
                    complete = isFinal
                    break
                }
                if buffer[k] == 0x0d { k += 1; complete = true; break }
            }
            guard complete || syntax != nil else { return i }
            i = k
            let line = position.line
            position.line += 1 + lineBreaks
            if let (why, at) = syntax {
                counts.badRecords += 1
                try onBadRecord(BadRecord(
                    source: source, line: line, byteOffset: position.byteOffset + Int64(at), field: nil,
                    reason: "not valid CSV: \(why)", raw: Array(buffer[start..<min(i, start + 1 << 20)])))
                continue
            }
            // A blank line.
            if cells.count == 1, cells[0].start == cells[0].end, !cells[0].quoted { continue }
            guard let columns else {
                header = cells.map { String(decoding: text(buffer, $0), as: UTF8.self) }
                let columns = header.map { name in layout.topLevel.firstIndex { $0.name == name } }
                self.columns = columns
                counts.headerLines += 1
                for (c, name) in header.enumerated() where columns[c] == nil && unknownFieldExamples[name] == nil {
                    unknownFieldExamples[name] = "\(source) line \(line)"
                    if drift == .fail {
                        throw IngestError(
                            .schemaDrift,
                            "\(source) line \(line): column '\(name)' is not in the table's schema (drift policy 'fail'; use 'ignore', 'rescue' or 'add-columns')")
                    }
                }
                continue
            }
            let mark = batch.beginRecord()
            var problem: (field: String?, reason: String, at: Int)?
            rescued.removeAll(keepingCapacity: true)
            var needsWidening = false
            if cells.count != columns.count {
                problem = (nil, "the record has \(cells.count) fields, the header has \(columns.count)", start)
            } else {
                var filled = [Bool](repeating: false, count: layout.topLevel.count)
                for (c, cell) in cells.enumerated() {
                    guard let field = columns[c] else {
                        // An empty cell carries nothing; the rest of a bad record is still counted.
                        if cell.start == cell.end, !cell.quoted { continue }
                        counts.unknownFields[header[c], default: 0] += 1
                        if problem != nil { continue }
                        if samples[header[c]] == nil { samples[header[c]] = .string(String(decoding: text(buffer, cell), as: UTF8.self)) }
                        if drift == .rescue, rescueField != nil { rescue(column: header[c], text: text(buffer, cell)) }
                        continue
                    }
                    if problem != nil { continue }
                    filled[field] = true
                    if let failure = append(buffer, cell, field: field, batch: &batch) {
                        let name = layout.topLevel[field].name
                        if let wider = failure.widening {
                            needsWidening = true
                            if let known = widenings[name], known.isWider(than: wider) {} else { widenings[name] = wider }
                        }
                        if drift == .rescue, rescueField != nil, !layout.topLevel[field].field.isRequired, layout.topLevel[field].field.type.primitive != nil {
                            // Keep the cell in the rescued data; the column is null.
                            rescue(column: name, text: text(buffer, cell))
                            batch.appendNull(field: field)
                            continue
                        }
                        problem = (name, failure.reason, cell.start)
                    }
                }
                if problem == nil, let rescueField, !filled[rescueField] {
                    filled[rescueField] = true
                    if rescued.isEmpty {
                        batch.appendNull(field: rescueField)
                    } else {
                        rescued.append(UInt8(ascii: "}"))
                        rescued.withUnsafeBufferPointer { batch.leaves[layout.topLevel[rescueField].leaves.lowerBound].append(bytes: $0) }
                    }
                }
                if problem == nil {
                    for (f, top) in layout.topLevel.enumerated() where !filled[f] {
                        if top.field.isRequired {
                            problem = (top.name, "required field '\(top.name)' is not a column of the file", start)
                            break
                        }
                        batch.appendNull(field: f)
                    }
                }
            }
            if let problem {
                batch.rollBack(to: mark)
                counts.badRecords += 1
                var bad = BadRecord(
                    source: source, line: line, byteOffset: position.byteOffset + Int64(problem.at), field: problem.field,
                    reason: problem.reason, raw: Array(buffer[start..<min(i, start + 1 << 20)]))
                bad.needsWidening = needsWidening
                try onBadRecord(bad)
            } else {
                batch.endRecord()
                counts.rows += 1
            }
        }
        return i
    }

    private mutating func text(_ b: UnsafeBufferPointer<UInt8>, _ cell: (start: Int, end: Int, quoted: Bool, escaped: Bool)) -> [UInt8] {
        guard cell.escaped else { return Array(b[cell.start..<cell.end]) }
        var out: [UInt8] = []
        var k = cell.start
        while k < cell.end {
            out.append(b[k])
            k += b[k] == UInt8(ascii: "\"") ? 2 : 1
        }
        return out
    }

    /// Appends one cell to its field; returns why it does not fit (and the wider type that would hold it),
    /// if it does not.
    private mutating func append(
        _ b: UnsafeBufferPointer<UInt8>, _ cell: (start: Int, end: Int, quoted: Bool, escaped: Bool), field: Int,
        batch: inout RecordBatch
    ) -> ConversionFailure? {
        let top = layout.topLevel[field]
        if cell.start == cell.end, !cell.quoted || top.field.type != .primitive(.string) {
            if top.field.isRequired { return ConversionFailure("required field '\(top.name)' is empty") }
            batch.appendNull(field: field)
            return nil
        }
        guard case .primitive(let type) = top.field.type else {
            do {
                let value = try JSONValue.parse(text(b, cell), source: source)
                try batch.appendNested(value, field: field, options: options)
                return nil
            } catch let failure as ConversionFailure {
                return failure
            } catch {
                return ConversionFailure("expected JSON for a \(top.field.type) column: \(error)")
            }
        }
        let leaf = top.leaves.lowerBound
        do throws(ConversionFailure) {
            if cell.escaped {
                scratch = text(b, cell)
                var failure: ConversionFailure?
                scratch.withUnsafeBufferPointer { t in
                    do throws(ConversionFailure) {
                        try batch.leaves[leaf].appendScalar(t, kind: .text, type: type, options: options)
                    } catch { failure = error }
                }
                if let failure { return failure }
            } else {
                let t = UnsafeBufferPointer(rebasing: b[cell.start..<cell.end])
                if type == .string, !ScalarText.isValidUTF8(t) { return ConversionFailure("the text is not valid UTF-8") }
                try batch.leaves[leaf].appendScalar(t, kind: .text, type: type, options: options)
            }
        } catch {
            return error
        }
        return nil
    }
}
