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
/// var parser = CSVRecordParser(layout: layout, options: ConversionOptions(), source: "a.csv", delimiter: UInt8(ascii: ";"), drift: .ignore)
/// let used = try parser.parse(buffer, isFinal: true, into: &batch) { throw IngestError(.badRecord, $0.description) }
/// ```
package struct CSVRecordParser: RecordParser {
    package let layout: ColumnLayout
    package let options: ConversionOptions
    package private(set) var source: String
    package let delimiter: UInt8
    package private(set) var position = InputPosition()
    package private(set) var counts = ParseCounts()
    package private(set) var drift: DriftTracker
    /// Records longer than this are bad records (``RecordStream`` sets it).
    package var maxRecordBytes = Int.max
    /// For each CSV column, the schema field it fills (nil: not in the schema); nil before the header.
    private var columns: [Int?]?
    private var header: [String] = []
    /// Why the header cannot place the file's cells (not valid CSV, or a column named twice): every record
    /// of the file is then a bad record saying so, rather than one taken for the header or cells put in the
    /// wrong column.
    private var headerProblem: String?
    private var cells: [Cell] = []
    private var scratch: [UInt8] = []
    /// Which top-level fields the current record has filled (kept between records: no allocation per record).
    private var filled: [Bool] = []
    /// What ``append(_:_:field:batch:)`` needs of each top-level field, as plain values: reading a
    /// ``ColumnLayout/TopField`` per cell copies its name and type (reference counting on every value).
    private let targets: [Target]

    private struct Target {
        /// The column's type when it is a primitive (nil: nested, given as JSON text).
        var primitive: PrimitiveType?
        var isRequired: Bool
        /// Its first leaf column in the batch.
        var leaf: Int
    }

    /// One cell of a record: its text's range in the buffer, whether it was quoted, and whether it holds `""`.
    private struct Cell {
        var start: Int
        var end: Int
        var quoted: Bool
        var escaped: Bool
        var isEmpty: Bool { start == end }
    }

    /// One record split into ``cells``: where the next record starts, how many line breaks its quoted
    /// cells hold, and why it is not valid CSV, if it is not.
    private struct Split {
        var next: Int
        var lineBreaks = 0
        var syntax: (reason: String, at: Int)?
    }

    package init(
        layout: ColumnLayout, options: ConversionOptions, source: String, delimiter: UInt8 = UInt8(ascii: ","), drift: DriftPolicy = .ignore
    ) {
        self.layout = layout
        self.options = options
        self.source = source
        self.delimiter = delimiter
        self.drift = DriftTracker(policy: drift, layout: layout)
        targets = layout.topLevel.map { Target(primitive: $0.field.type.primitive, isRequired: $0.field.isRequired, leaf: $0.leaves.lowerBound) }
    }

    private func headerTooLong(line: Int) -> IngestError {
        IngestError(.badRecord, "\(source) line \(line): the header line runs past \(maxRecordBytes) bytes (ingest.max_record_bytes); is the format right?")
    }

    package mutating func abandonRecord() throws {
        guard columns != nil else { throw headerTooLong(line: position.line) }
        counts.badRecords += 1
    }

    package mutating func startInput(source: String) {
        self.source = source
        position = InputPosition()
        columns = nil
        header = []
        headerProblem = nil
    }

    package mutating func advance(bytes: Int, lines: Int) {
        position.byteOffset += Int64(bytes)
        position.line += lines
    }

    /// Parses every complete record in `buffer`; returns the bytes used (see ``RecordParser``).
    package mutating func parse(
        _ buffer: UnsafeBufferPointer<UInt8>, isFinal: Bool, into batch: inout RecordBatch,
        onBadRecord: (BadRecord) throws -> Void
    ) throws -> Int {
        var i = 0
        defer { position.byteOffset += Int64(i) }
        while i < buffer.count {
            let start = i
            guard let split = splitRecord(buffer, from: start, isFinal: isFinal) else { return i }
            i = split.next
            let line = position.line
            position.line += 1 + split.lineBreaks
            func bad(_ problem: RecordProblem) -> BadRecord {
                BadRecord(
                    kind: problem.kind, source: source, line: line, byteOffset: position.byteOffset + Int64(problem.at),
                    field: problem.field, reason: problem.reason, raw: Array(buffer[start..<min(i, start + 1 << 20)]))
            }
            if i - start > maxRecordBytes {
                guard columns != nil else { throw headerTooLong(line: line) }
                counts.badRecords += 1
                try onBadRecord(bad(RecordProblem(.malformed, field: nil, RecordStream.tooLong(maxRecordBytes), at: start)))
                continue
            }
            if let syntax = split.syntax, columns == nil {
                // The header itself: no line after it may be taken for it. It is a bad record too: an unclosed
                // quote makes the rest of the input part of it, and those rows must not vanish uncounted.
                readHeader(problem: "the header (line \(line)) is not valid CSV: \(syntax.reason)")
                counts.badRecords += 1
                try onBadRecord(bad(RecordProblem(.malformed, field: nil, "not valid CSV: \(syntax.reason) (the header)", at: syntax.at)))
                continue
            }
            if let syntax = split.syntax {
                counts.badRecords += 1
                try onBadRecord(bad(RecordProblem(.malformed, field: nil, "not valid CSV: \(syntax.reason)", at: syntax.at)))
                continue
            }
            // A blank line.
            if cells.count == 1, cells[0].isEmpty, !cells[0].quoted { continue }
            guard let columns else {
                try readHeader(buffer, line: line)
                continue
            }
            if let headerProblem {
                counts.badRecords += 1
                try onBadRecord(bad(RecordProblem(.malformed, field: nil, headerProblem, at: start)))
                continue
            }
            let mark = batch.beginRecord()
            drift.beginRecord()
            var needsWidening = false
            if let problem = fill(buffer, columns: columns, start: start, line: line, batch: &batch, needsWidening: &needsWidening) {
                batch.rollBack(to: mark)
                counts.badRecords += 1
                var record = bad(problem)
                record.needsWidening = needsWidening
                try onBadRecord(record)
            } else {
                batch.endRecord()
                counts.rows += 1
            }
        }
        return i
    }

    /// Splits the record starting at `start` into ``cells``. Nil when the buffer ends inside it and more
    /// input may follow. A record that is not valid CSV still ends somewhere: at its line end, or (an unclosed
    /// quote in the last input) at the end of the input, so that parsing always moves forward.
    private mutating func splitRecord(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int, isFinal: Bool) -> Split? {
        cells.removeAll(keepingCapacity: true)
        let n = buffer.count
        var split = Split(next: start)
        var k = start
        while true {
            if k < n, buffer[k] == UInt8(ascii: "\"") {
                guard let (close, escaped, breaks) = Self.closingQuote(buffer, after: k, isFinal: isFinal) else {
                    guard isFinal else { return nil }
                    // The quote never closes: the rest of the input is this one bad record.
                    split.syntax = ("a quoted field is not closed", k)
                    split.next = n
                    split.lineBreaks += Self.count(0x0a, in: buffer, from: k, to: n)
                    return split
                }
                split.lineBreaks += breaks
                cells.append(Cell(start: k + 1, end: close, quoted: true, escaped: escaped))
                k = close + 1
                if k < n, buffer[k] != delimiter, buffer[k] != 0x0a, buffer[k] != 0x0d {
                    split.syntax = ("unexpected character after a closing quote", k)
                    while k < n, buffer[k] != 0x0a { k += 1 }
                    guard k < n || isFinal else { return nil }
                    split.next = k < n ? k + 1 : k
                    return split
                }
            } else {
                var e = k
                while e < n, buffer[e] != delimiter, buffer[e] != 0x0a { e += 1 }
                var end = e
                if e < n || isFinal, end > k, buffer[end - 1] == 0x0d, e == n || buffer[e] == 0x0a { end -= 1 }
                cells.append(Cell(start: k, end: end, quoted: false, escaped: false))
                k = e
            }
            if k < n, buffer[k] == delimiter {
                k += 1
                continue
            }
            if k < n, buffer[k] == 0x0d, k + 1 < n, buffer[k + 1] == 0x0a { k += 1 }
            // A CR that ends the buffer (after a closing quote) may be half of a CRLF: taken alone, the LF
            // would read as a blank line of its own and every later line number would be one off.
            if k + 1 == n, buffer[k] == 0x0d, !isFinal { return nil }
            if k < n, buffer[k] == 0x0a || buffer[k] == 0x0d {
                split.next = k + 1
                return split
            }
            // k == n: the record ends with the input, or continues in the next chunk.
            guard isFinal else { return nil }
            split.next = k
            return split
        }
    }

    /// The closing quote of a quoted cell opened at `open`, whether the cell holds `""`, and how many line
    /// breaks it spans; nil when the buffer ends first (or ends right after a quote that more input might
    /// turn into `""`).
    private static func closingQuote(
        _ buffer: UnsafeBufferPointer<UInt8>, after open: Int, isFinal: Bool
    ) -> (close: Int, escaped: Bool, lineBreaks: Int)? {
        let n = buffer.count
        var q = open + 1
        var escaped = false
        var breaks = 0
        while q < n {
            if buffer[q] == UInt8(ascii: "\"") {
                if q + 1 < n, buffer[q + 1] == UInt8(ascii: "\"") {
                    escaped = true
                    q += 2
                    continue
                }
                if q + 1 == n && !isFinal { return nil }
                return (q, escaped, breaks)
            }
            if buffer[q] == 0x0a { breaks += 1 }
            q += 1
        }
        return nil
    }

    private static func count(_ byte: UInt8, in buffer: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int {
        var count = 0
        for k in from..<to where buffer[k] == byte { count += 1 }
        return count
    }

    /// The header line: matches its columns to the schema's fields; a column the schema lacks is drift
    /// (under `fail`, the run stops here naming it). A name given twice leaves its cells nowhere to go: every
    /// record of the file is then a bad record (``headerProblem``).
    private mutating func readHeader(_ buffer: UnsafeBufferPointer<UInt8>, line: Int) throws {
        header = cells.map { String(decoding: text(buffer, $0), as: UTF8.self) }
        var firstColumn: [String: Int] = [:]
        for (c, name) in header.enumerated() where !name.isEmpty {
            if let first = firstColumn[name] {
                readHeader(problem: "the header (line \(line)) names column '\(name)' twice (columns \(first + 1) and \(c + 1)): its cells cannot be told apart")
                return
            }
            firstColumn[name] = c
        }
        let columns = header.map { name in layout.topLevel.firstIndex { $0.name == name } }
        self.columns = columns
        counts.headerLines += 1
        for (c, name) in header.enumerated() where columns[c] == nil {
            drift.firstSeen(name, at: "\(source) line \(line)")
            if drift.policy == .fail {
                throw IngestError(
                    .schemaDrift,
                    "\(source) line \(line): column '\(name)' is not in the table's schema (drift policy 'fail'; use 'ignore', 'rescue' or 'add-columns')")
            }
        }
    }

    /// A header that cannot place the cells: the file's records are bad records giving `problem`.
    private mutating func readHeader(problem: String) {
        header = []
        columns = []
        headerProblem = problem
        counts.headerLines += 1
    }

    /// Appends the record's cells to their columns; returns its first problem, if any. Cells of columns the
    /// schema lacks are counted (and sampled or rescued) even in a bad record. `line` is the record's first.
    private mutating func fill(
        _ buffer: UnsafeBufferPointer<UInt8>, columns: [Int?], start: Int, line: Int, batch: inout RecordBatch, needsWidening: inout Bool
    ) -> RecordProblem? {
        guard cells.count == columns.count else {
            return RecordProblem(.malformed, field: nil, "the record has \(cells.count) fields, the header has \(columns.count)", at: start)
        }
        var problem: RecordProblem?
        if filled.count != targets.count { filled = [Bool](repeating: false, count: targets.count) }
        for f in filled.indices { filled[f] = false }
        for (c, cell) in cells.enumerated() {
            guard let field = columns[c] else {
                // An empty cell carries nothing.
                if cell.isEmpty, !cell.quoted { continue }
                drift.unknownField(header[c], at: "\(source) line \(line)")
                if problem != nil { continue }
                if drift.wantsSample(header[c]) { drift.sample(header[c], .string(String(decoding: text(buffer, cell), as: UTF8.self))) }
                if drift.rescues { drift.rescue(key: header[c], text: text(buffer, cell)) }
                continue
            }
            if problem != nil { continue }
            filled[field] = true
            guard let failure = append(buffer, cell, field: field, batch: &batch) else { continue }
            let top = layout.topLevel[field]
            if let wider = failure.widening {
                needsWidening = true
                drift.widen(top.name, to: wider)
            }
            if drift.rescues, !top.field.isRequired, top.field.type.primitive != nil {
                // Keep the cell in the rescued data; the column is null.
                drift.rescue(key: top.name, text: text(buffer, cell))
                batch.appendNull(field: field)
                continue
            }
            problem = RecordProblem(failure, field: top.name, at: cell.start)
        }
        if problem != nil { return problem }
        if let rescueField = drift.rescueField, !filled[rescueField] {
            filled[rescueField] = true
            drift.finishRecord(into: &batch)
        }
        for f in targets.indices where !filled[f] {
            if targets[f].isRequired {
                let name = layout.topLevel[f].name
                return RecordProblem(.missingRequired, field: name, "required field '\(name)' is not a column of the file", at: start)
            }
            batch.appendNull(field: f)
        }
        return nil
    }

    private func text(_ b: UnsafeBufferPointer<UInt8>, _ cell: Cell) -> [UInt8] {
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
    private mutating func append(_ b: UnsafeBufferPointer<UInt8>, _ cell: Cell, field: Int, batch: inout RecordBatch) -> ConversionFailure? {
        let target = targets[field]
        if cell.isEmpty, !cell.quoted || target.primitive != .string {
            if target.isRequired { return ConversionFailure(.missingRequired, "required field '\(layout.topLevel[field].name)' is empty") }
            batch.appendNull(field: field)
            return nil
        }
        guard let type = target.primitive else {
            do {
                let value = try JSONValue.parse(text(b, cell), source: source)
                try batch.appendNested(value, field: field, options: options)
                return nil
            } catch let failure as ConversionFailure {
                return failure
            } catch {
                return ConversionFailure("expected JSON for a \(layout.topLevel[field].field.type) column: \(error)")
            }
        }
        let leaf = target.leaf
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
                try batch.leaves[leaf].appendScalar(UnsafeBufferPointer(rebasing: b[cell.start..<cell.end]), kind: .text, type: type, options: options)
            }
        } catch {
            return error
        }
        return nil
    }
}
